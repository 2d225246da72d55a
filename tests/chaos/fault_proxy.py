#!/usr/bin/python3
"""A fault-injecting reverse proxy, for shops that cannot fail on demand.

The real Medusa server used by the tests answers correctly every time; to make
it return 5xx, time out, drop connections, answer garbage or half a body, rate
limit (429 + Retry-After) or redirect elsewhere, the sidecar talks to this
proxy, which forwards to the real server unless a fault rule fires.

    /usr/bin/python3 fault_proxy.py --upstream http://127.0.0.1:9000 [--port 0]
                                    [--tls-cert F --tls-key F] [--upstream-ca F]
    /usr/bin/python3 fault_proxy.py --sink [--port 0]   # records requests, answers 200 {}

It listens on 127.0.0.1, prints ``LISTENING <port>``, and exits on SIGTERM or
when the process that started it goes away. Control API (``/_control/``, JSON):

- ``POST faults {rules:[{path_contains?, method?, action, status?, retry_after?,
  delay_ms?, times?, probability?, apply?, location?}], seed?}`` replaces the
  rules; the first matching rule fires. Actions: ``status`` (HTTP ``status``,
  default 503, with ``body`` as HTML when given), ``http429`` (``Retry-After``), ``timeout`` (hold ``delay_ms``,
  default 30 s, then drop), ``close`` (drop the connection), ``garbage`` (200
  with HTML), ``truncated`` (the upstream answer cut in half), ``redirect``
  (``status`` 302 by default, ``Location: location``). ``apply: true`` forwards
  first, so the shop applies the write and only the answer is lost (default
  for ``truncated``). ``DELETE faults`` removes them.
- ``GET requests?since=N``: ``[{seq, at, method, path, status, upstream_status, fault}]`` (``at``
  in epoch seconds, when the request arrived).
- ``GET writes?since=N``: forwarded non-GET requests the upstream answered
  2xx, in completion order: ``[{seq, method, path, body}]`` (``body`` decoded
  JSON when it is JSON). This is the shop's write history as seen on the wire.
- ``GET sink``: in ``--sink`` mode, every request received, headers and body
  included (so a test can prove a credential never arrived there).
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
              "transfer-encoding", "upgrade", "content-length", "host"}


class State:
    def __init__(self, upstream: str | None, upstream_ca: str | None):
        self.lock = threading.Lock()
        self.rules: list[dict] = []
        self.rng = random.Random(0)
        self.requests: list[dict] = []
        self.writes: list[dict] = []
        self.sink: list[dict] = []
        self.seq = 0
        self.upstream = urlsplit(upstream) if upstream else None
        self.upstream_ca = upstream_ca
        self.local = threading.local()

    def next_seq(self) -> int:
        with self.lock:
            self.seq += 1
            return self.seq

    def pick(self, method: str, path: str):
        with self.lock:
            for r in self.rules:
                if r.get("path_contains") and r["path_contains"] not in path:
                    continue
                if r.get("method") and r["method"].upper() != method:
                    continue
                if r.get("times") is not None and r["fired"] >= int(r["times"]):
                    continue
                if r.get("probability") is not None and self.rng.random() >= float(r["probability"]):
                    continue
                r["fired"] += 1
                return dict(r)
        return None

    # One keep-alive connection to the upstream per handler thread.
    def connection(self, fresh=False):
        conn = getattr(self.local, "conn", None)
        if conn is not None and not fresh:
            return conn
        if conn is not None:
            conn.close()
        u = self.upstream
        if u.scheme == "https":
            ctx = ssl.create_default_context(cafile=self.upstream_ca)
            conn = http.client.HTTPSConnection(u.hostname, u.port or 443, timeout=120, context=ctx)
        else:
            conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=120)
        self.local.conn = conn
        return conn


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "fault-proxy/1"

    def log_message(self, fmt, *args):  # quiet
        pass

    # -- plumbing ---------------------------------------------------------
    def body(self) -> bytes:
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def reply(self, status: int, body: bytes = b"", headers=None, ctype="application/json; charset=utf-8"):
        self.send_response(status)
        sent = set()
        for k, v in (headers or []):
            if k.lower() in HOP_BY_HOP:
                continue
            self.send_header(k, v)
            sent.add(k.lower())
        if "content-type" not in sent and ctype:
            self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.wfile.flush()

    def drop(self):
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def forward(self, method: str, body: bytes):
        st: State = self.server.state
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        u = st.upstream
        headers["Host"] = f"{u.hostname}:{u.port}" if u.port else u.hostname
        for attempt in range(2):
            conn = st.connection(fresh=attempt > 0)
            try:
                conn.request(method, self.path, body=body if body or method not in ("GET", "HEAD") else None,
                             headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                out_headers = [(k, v) for k, v in resp.getheaders()]
                if resp.will_close:
                    conn.close()
                    st.local.conn = None
                return resp.status, out_headers, data
            except (http.client.HTTPException, OSError):
                if attempt:
                    raise
        raise AssertionError("unreachable")

    def record_write(self, method, body, status):
        st: State = self.server.state
        if method == "GET" or not 200 <= status < 300:
            return
        try:
            decoded = json.loads(body) if body else None
        except ValueError:
            decoded = body.decode(errors="replace")
        with st.lock:
            st.writes.append({"seq": len(st.writes) + 1, "method": method, "path": self.path, "body": decoded})

    # -- control ------------------------------------------------------------
    def control(self, method: str, body: bytes):
        st: State = self.server.state
        url = urlsplit(self.path)
        name = url.path[len("/_control/"):]
        since = int(parse_qs(url.query).get("since", ["0"])[0])
        if name == "faults" and method == "POST":
            doc = json.loads(body or b"{}")
            with st.lock:
                st.rules = [dict(r, fired=0) for r in doc.get("rules", [])]
                st.rng = random.Random(doc.get("seed", 0))
            return self.reply(200, json.dumps({"rules": len(st.rules)}).encode())
        if name == "faults" and method == "DELETE":
            with st.lock:
                st.rules = []
            return self.reply(200, b'{"rules": 0}')
        if name == "faults" and method == "GET":
            with st.lock:
                return self.reply(200, json.dumps({"rules": st.rules}).encode())
        if name in ("requests", "writes", "sink") and method == "GET":
            with st.lock:
                items = list(getattr(st, name))
            items = [x for x in items if x["seq"] > since]
            return self.reply(200, json.dumps({name: items}).encode())
        if name == "reset" and method == "POST":
            with st.lock:
                st.rules, st.requests, st.writes, st.sink = [], [], [], []
            return self.reply(200, b"{}")
        return self.reply(404, b'{"error": "unknown control call"}')

    # -- requests -------------------------------------------------------------
    def handle_any(self):
        st: State = self.server.state
        method = self.command.upper()
        body = self.body()
        if self.path.startswith("/_control/"):
            return self.control(method, body)
        if st.upstream is None:  # sink mode
            with st.lock:
                st.sink.append({"seq": len(st.sink) + 1, "method": method, "path": self.path,
                                "headers": dict(self.headers.items()), "body": body.decode(errors="replace")})
            return self.reply(200, b"{}")
        entry = {"seq": st.next_seq(), "at": time.time(), "method": method, "path": self.path, "status": None,
                 "upstream_status": None, "fault": None}
        try:
            rule = st.pick(method, self.path)
            if rule is None:
                status, headers, data = self.forward(method, body)
                entry["status"] = entry["upstream_status"] = status
                self.record_write(method, body, status)
                return self.reply(status, data, headers, ctype=None)
            entry["fault"] = action = rule["action"]
            result = None
            if rule.get("apply", action == "truncated"):
                result = self.forward(method, body)
                entry["upstream_status"] = result[0]
                self.record_write(method, body, result[0])
            delay = rule.get("delay_ms")
            if action == "timeout":
                time.sleep((delay if delay is not None else 30000) / 1000.0)
                return self.drop()
            if delay:
                time.sleep(delay / 1000.0)
            if action == "close":
                return self.drop()
            if action == "status":
                st_code = int(rule.get("status", 503))
                entry["status"] = st_code
                hdrs = [("Retry-After", str(rule["retry_after"]))] if "retry_after" in rule else []
                if "body" in rule:
                    return self.reply(st_code, str(rule["body"]).encode(), hdrs, ctype="text/html; charset=utf-8")
                return self.reply(st_code, json.dumps({"type": "unexpected_state", "message":
                                                       f"injected HTTP {st_code}"}).encode(), hdrs)
            if action == "http429":
                entry["status"] = 429
                return self.reply(429, b'{"type": "too_many_requests", "message": "Too many requests"}',
                                  [("Retry-After", str(rule.get("retry_after", 1)))])
            if action == "garbage":
                entry["status"] = 200
                return self.reply(200, b"<html><body><h1>502 Bad Gateway</h1>nginx</body></html>")
            if action == "truncated":
                status, headers, data = result
                entry["status"] = status
                headers = [(k, v) for k, v in headers if k.lower() != "content-encoding"]
                if any(k.lower() == "content-encoding" for k, _ in result[1]):
                    data = b'{"inventory_items": [{"id": "iitem_'  # a cut-short JSON body either way
                self.reply(status, data[: max(1, len(data) // 2)], headers, ctype=None)
                return self.drop()
            if action == "redirect":
                code = int(rule.get("status", 302))
                entry["status"] = code
                return self.reply(code, b"", [("Location", rule["location"])])
            entry["status"] = 500
            return self.reply(500, json.dumps({"message": f"unknown fault action {action}"}).encode())
        except (ConnectionError, http.client.HTTPException, OSError) as e:
            entry["status"] = 502
            try:
                self.reply(502, json.dumps({"message": f"proxy: upstream failed: {e}"}).encode())
            except OSError:
                pass
        finally:
            with st.lock:
                st.requests.append(entry)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--upstream")
    ap.add_argument("--sink", action="store_true")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--upstream-ca")
    args = ap.parse_args()
    if not args.sink and not args.upstream:
        ap.error("--upstream or --sink is required")
    srv = Server(("127.0.0.1", args.port), Handler)
    srv.state = State(None if args.sink else args.upstream, args.upstream_ca)
    if args.tls_cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.tls_cert, args.tls_key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    parent = os.getppid()

    def watchdog():
        while os.getppid() == parent:
            time.sleep(1)
        os._exit(0)

    threading.Thread(target=watchdog, daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    print(f"LISTENING {srv.server_address[1]}", flush=True)
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
