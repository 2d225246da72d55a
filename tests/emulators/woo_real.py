"""A real WooCommerce shop behind the interface the relay tests use from ``WooEmulator``.

scripts/woo-test runs WordPress + WooCommerce 7.9 on 127.0.0.1 and sets

    STOCKRELAY_WOO_REAL        the site's home URL (http://127.0.0.1:PORT)
    STOCKRELAY_WOO_REAL_KEYS   keys.json with the Read/Write REST key it created
    STOCKRELAY_WOO_REAL_STATE  the folder where the site's test observer
                               (scripts/woo-site/stockrelay-test-observer.php)
                               writes requests.jsonl and history.jsonl and reads
                               config.json

``RealWoo`` seeds and reads the shop through the real REST API (HTTP Basic,
with ``X-Forwarded-Proto: https`` so WordPress treats the loopback request as
HTTPS, and marked as the test client so it stays out of the request log).
Request log and stock history come from the observer, which records what
WooCommerce itself saved; ``batch_limit`` is WooCommerce's own
``woocommerce_rest_batch_items_limit`` filter. Fault injection has no
counterpart on a real server: ``set_faults`` skips the calling test.

``RealWoo(url, tls=ca)`` also starts ``HttpsFront``, a TLS-terminating proxy
(certificate from the test CA) that adds ``X-Forwarded-Proto: https``: the
sidecar then talks HTTPS + Basic to a real WooCommerce, as it would behind a
production TLS proxy. Without ``tls`` the sidecar talks plain loopback HTTP and
signs with OAuth 1.0a.
"""
from __future__ import annotations

import base64
import http.client
import json
import os
import pathlib
import ssl
import threading
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlencode, urlsplit

import pytest

API_PREFIX = "/wp-json/wc/v3"
SKIP_FAULTS = "needs fault injection: emulator only"
# Hop-by-hop headers (RFC 9110 7.6.1) plus the ones the proxy sets itself.
_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
        "transfer-encoding", "upgrade", "expect", "host", "content-length"}


def real_woo_url() -> str | None:
    """The real shop's home URL when the real-WooCommerce tier is on, else None."""
    return os.environ.get("STOCKRELAY_WOO_REAL") or None


def real_woo_key() -> dict:
    """The REST key scripts/woo-test created: consumer_key, consumer_secret, permissions."""
    path = os.environ.get("STOCKRELAY_WOO_REAL_KEYS")
    if path:
        return json.loads(pathlib.Path(path).read_text())
    ck, cs = os.environ.get("STOCKRELAY_WOO_REAL_CONSUMER_KEY"), os.environ.get("STOCKRELAY_WOO_REAL_CONSUMER_SECRET")
    if not (ck and cs):
        raise RuntimeError("STOCKRELAY_WOO_REAL is set but neither STOCKRELAY_WOO_REAL_KEYS nor "
                           "STOCKRELAY_WOO_REAL_CONSUMER_KEY/_SECRET is: run the tier through scripts/woo-test")
    return {"consumer_key": ck, "consumer_secret": cs, "permissions": "read_write"}


class HttpsFront:
    """HTTPS on 127.0.0.1:<ephemeral> in front of a plain-HTTP site, adding X-Forwarded-Proto: https."""

    def __init__(self, upstream: str, tls: dict):
        self.upstream = urlsplit(upstream)
        self.tls = tls
        self.server = None
        self.thread = None

    def start(self):
        upstream = self.upstream

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # keep-alive towards the client, and 100-continue

            def forward(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                headers = {k: v for k, v in self.headers.items() if k.lower() not in _HOP}
                headers["Host"] = upstream.netloc
                headers["X-Forwarded-Proto"] = "https"
                conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=300)
                try:
                    conn.request(self.command, self.path, body=body, headers=headers)
                    resp = conn.getresponse()
                    data = resp.read()
                except OSError as e:
                    self.send_error(502, f"upstream: {e}")
                    return
                finally:
                    conn.close()
                self.send_response(resp.status, resp.reason)
                for k, v in resp.getheaders():
                    if k.lower() not in _HOP:
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = forward

            def log_message(self, *args):  # quiet: the site's own log has the requests
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(self.tls["cert"], self.tls["key"])
        self.server.socket = ctx.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(target=self.server.serve_forever, name="woo-https-front", daemon=True)
        self.thread.start()
        return self

    @property
    def base_url(self) -> str:
        return f"https://127.0.0.1:{self.server.server_address[1]}"

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.thread.join(5)
            self.server = None


class RealWoo:
    """A real WooCommerce site, offering the ``WooEmulator`` methods the relay tests use."""

    # Per-request timeout for channels pointed at this site. PHP's single-threaded
    # built-in server takes 3-6 s for a 100-item products/batch on the 2-core CI
    # machine (every item is a full WC_Product save); the emulator answers in ms,
    # so tests keep their short 5 s there. 15 s is also the production default.
    request_timeout_ms = 15000

    def __init__(self, home_url: str, *, tls: dict | None = None, key: dict | None = None,
                 state_dir: str | os.PathLike | None = None, log_path=None):
        self.home_url = home_url.rstrip("/")
        self.tls = tls
        self.key = key or real_woo_key()
        self.keys = [self.key]
        state = state_dir or os.environ.get("STOCKRELAY_WOO_REAL_STATE")
        if not state:
            raise RuntimeError("STOCKRELAY_WOO_REAL_STATE is not set: run the tier through scripts/woo-test")
        self.state_dir = pathlib.Path(state)
        self.front = None
        self.scheme = "https" if tls else "http"
        self.ca_file = tls["ca"] if tls else None
        self.log_path = log_path  # accepted for symmetry with WooEmulator; the site logs under STATE

    # -- lifecycle -------------------------------------------------------------
    def start(self):
        status, _, body = self._request("GET", "/wp-json/", full_path=True)
        if status != 200 or "wc/v3" not in (body or {}).get("namespaces", []):
            raise RuntimeError(f"{self.home_url}/wp-json/ answered {status} without wc/v3: is WooCommerce active?")
        if self.tls:
            self.front = HttpsFront(self.home_url, self.tls).start()
        return self

    def stop(self):
        if self.front:
            self.front.stop()
            self.front = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- addresses -------------------------------------------------------------
    @property
    def base_url(self) -> str:
        """What a channel's base_url points at: the HTTPS front when there is one."""
        return self.front.base_url if self.front else self.home_url

    @property
    def api_url(self) -> str:
        return self.base_url + API_PREFIX

    # -- the emulator's control API, done for real -------------------------------
    def reset(self, everything: bool = False):
        """Delete every product (WooCommerce deletes a variable product's variations with it) and forget the logs."""
        if everything:
            self._write_config({})
        while True:
            # Ordered by id: the default (date) order is unstable across pages for products made in one second.
            ids = sorted({p["id"] for p in self._get_all("/products", {"_fields": "id", "orderby": "id"})})
            if not ids:
                break
            for i in range(0, len(ids), 100):
                self._batch("/products/batch", {"delete": ids[i:i + 100]})
        for name in ("requests.jsonl", "history.jsonl"):
            (self.state_dir / name).write_text("")
        return {"ok": True}

    def configure(self, *, keys=None, batch_limit=None, latency_ms=None, per_item_latency_ms=None,
                  home_url=None, trust_forwarded_proto=None):
        if keys is not None:
            known = self.key["consumer_key"]
            if any(k["consumer_key"] != known for k in keys):
                raise ValueError("the real shop has only the REST key scripts/woo-test created (use real_woo_key())")
            self.keys = list(keys)
        if home_url is not None or trust_forwarded_proto is not None or per_item_latency_ms is not None:
            raise NotImplementedError("home_url/trust_forwarded_proto/per_item_latency_ms are emulator-only settings")
        config = self._read_config()
        if batch_limit is not None:
            config["batch_limit"] = int(batch_limit)
        if latency_ms is not None:
            config["latency_ms"] = int(latency_ms)
        self._write_config(config)
        return config

    def seed(self, products: list) -> dict:
        """Create products (and variations) via the REST API; returns ``{"ids": {sku: id or [ids]}, "products": [...]}``."""
        skus = [p.get("sku") for p in products if p.get("sku")]
        skus += [v.get("sku") for p in products for v in p.get("variations", []) if v.get("sku")]
        # Real shops end up with duplicate SKUs through imports; the observer lets the test client make them.
        dup = len(skus) != len(set(skus))
        ids: dict = {}
        created = []

        def note(obj, type_, parent=0):
            created.append({"id": obj["id"], "sku": obj.get("sku", ""), "type": type_, "parent_id": parent})
            sku = obj.get("sku")
            if sku:
                prev = ids.get(sku)
                ids[sku] = obj["id"] if prev is None else (prev if isinstance(prev, list) else [prev]) + [obj["id"]]

        bodies = []
        for spec in products:
            type_ = spec.get("type", "simple")
            body = {"name": spec.get("name") or spec.get("sku") or "Product", "type": type_, "status": "publish",
                    "regular_price": spec.get("regular_price", "9.90")}
            if spec.get("sku"):
                body["sku"] = spec["sku"]
            if type_ == "variable":
                options = [v.get("sku") or f"option-{i}" for i, v in enumerate(spec.get("variations", []))]
                body["attributes"] = [{"name": "Option", "visible": True, "variation": True, "options": options}]
            else:
                body.update(self._stock_fields(spec))
            bodies.append(body)
        results = []
        for i in range(0, len(bodies), 100):
            results += self._batch("/products/batch", {"create": bodies[i:i + 100]}, allow_duplicates=dup)["create"]
        for spec, obj in zip(products, results):
            type_ = spec.get("type", "simple")
            note(obj, type_)
            variations = spec.get("variations", []) if type_ == "variable" else []
            vbodies = []
            for i, v in enumerate(variations):
                vb = {"regular_price": v.get("regular_price", "9.90"), **self._stock_fields(v),
                      "attributes": [{"name": "Option", "option": v.get("sku") or f"option-{i}"}]}
                if v.get("sku"):
                    vb["sku"] = v["sku"]
                vbodies.append(vb)
            for i in range(0, len(vbodies), 100):
                made = self._batch(f"/products/{obj['id']}/variations/batch", {"create": vbodies[i:i + 100]},
                                   allow_duplicates=dup)["create"]
                for v in made:
                    note(v, "variation", obj["id"])
        return {"ids": ids, "products": created}

    def stock(self, sku: str):
        """Current stock for a SKU, read through the API (a list when the SKU is duplicated)."""
        found = [p for p in self._get_all("/products", {"sku": sku, "_fields": "id,sku,stock_quantity", "orderby": "id"})
                 if p.get("sku") == sku]
        found.sort(key=lambda p: p["id"])
        if not found:
            return None
        return found[0]["stock_quantity"] if len(found) == 1 else [p["stock_quantity"] for p in found]

    def set_stock(self, *, stock_quantity: int, sku: str | None = None, id: int | None = None):
        """Change stock as the shop would after a sale (through the API, as the test client)."""
        if id is None:
            hits = self._get_all("/products", {"sku": sku, "_fields": "id,sku,parent_id"})
            hit = next(p for p in hits if p.get("sku") == sku)
            id, parent = hit["id"], hit.get("parent_id") or 0
        else:
            _, _, p = self._request("GET", f"/products/{id}", params={"_fields": "id,parent_id"})
            parent = p.get("parent_id") or 0
        path = f"/products/{parent}/variations/{id}" if parent else f"/products/{id}"
        status, _, body = self._request("PUT", path, body={"manage_stock": True, "stock_quantity": stock_quantity})
        if status != 200:
            raise RuntimeError(f"setting stock of {sku or id}: HTTP {status}: {body}")
        return body

    def history(self) -> dict:
        """Stock the shop saved through the API: ``{"entries": [...], "by_sku": {sku: [...]}}``."""
        entries = self._read_jsonl("history.jsonl")
        by_sku: dict = {}
        for e in entries:
            if e.get("sku"):
                by_sku.setdefault(e["sku"], []).append(e)
        return {"entries": entries, "by_sku": by_sku}

    def requests(self, since: int = 0) -> list:
        """REST requests other clients (the sidecar) made: method, path, status, auth, items."""
        return self._read_jsonl("requests.jsonl")[since:]

    def set_faults(self, rules: list, seed=None):
        pytest.skip(SKIP_FAULTS)

    def clear_faults(self):
        return None

    # -- plumbing ------------------------------------------------------------------
    def call(self, method: str, path: str, *, params: dict | None = None, body=None, **_client_options):
        """One REST call as the test client (Basic over the forwarded-HTTPS loopback); like WooEmulator.call."""
        return self._request(method, path, params=params, body=body)

    def allow_webhook_port(self, port: int, *, synchronous: bool = True):
        """Lets WooCommerce deliver webhooks to 127.0.0.1:<port> (the site filter http_allowed_safe_ports; by
        default only 80, 443 and 8080) and, with ``synchronous``, deliver at the end of the request that changed
        the order (woocommerce_webhook_deliver_async: false) instead of queueing on the Action Scheduler, which
        nothing runs on this site (DISABLE_WP_CRON)."""
        config = self._read_config()
        config["webhook_ports"] = sorted(set(config.get("webhook_ports", [])) | {int(port)})
        config["webhooks_sync"] = bool(synchronous)
        self._write_config(config)

    @staticmethod
    def _stock_fields(spec: dict) -> dict:
        if not spec.get("manage_stock"):
            return {"manage_stock": False}
        return {"manage_stock": True, "stock_quantity": int(spec.get("stock_quantity") or 0)}

    def _read_config(self) -> dict:
        try:
            return json.loads((self.state_dir / "config.json").read_text() or "{}")
        except FileNotFoundError:
            return {}

    def _write_config(self, config: dict):
        tmp = self.state_dir / "config.json.tmp"
        tmp.write_text(json.dumps(config))
        tmp.replace(self.state_dir / "config.json")  # atomic: PHP workers read it per request

    def _read_jsonl(self, name: str) -> list:
        try:
            text = (self.state_dir / name).read_text()
        except FileNotFoundError:
            return []
        return [json.loads(line) for line in text.splitlines() if line.strip()]

    def _request(self, method: str, path: str, *, params: dict | None = None, body=None, full_path: bool = False,
                 allow_duplicates: bool = False, timeout: float = 300.0):
        url = self.home_url + (path if full_path else API_PREFIX + path)
        if params:
            url += "?" + urlencode(params)
        token = base64.b64encode(f"{self.key['consumer_key']}:{self.key['consumer_secret']}".encode()).decode()
        headers = {"Authorization": "Basic " + token, "X-Forwarded-Proto": "https", "X-Stockrelay-Test-Client": "1",
                   "Accept": "application/json"}
        if allow_duplicates:
            headers["X-Stockrelay-Test-Allow-Duplicate-Sku"] = "1"
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                status, rh, payload = resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as e:
            status, rh, payload = e.code, e.headers, e.read()
        try:
            decoded = json.loads(payload) if payload else None
        except ValueError:
            decoded = payload
        return status, rh, decoded

    def _get_all(self, path: str, params: dict) -> list:
        out, page = [], 1
        while True:
            status, headers, body = self._request("GET", path, params={**params, "per_page": 100, "page": page})
            if status != 200 or not isinstance(body, list):
                raise RuntimeError(f"GET {path} {params}: HTTP {status}: {body!r:.300}")
            out += body
            if page >= int(headers.get("X-WP-TotalPages") or 1):
                return out
            page += 1

    def _batch(self, path: str, body: dict, *, allow_duplicates: bool = False) -> dict:
        status, _, answer = self._request("POST", path, body=body, allow_duplicates=allow_duplicates)
        if status != 200 or not isinstance(answer, dict):
            raise RuntimeError(f"POST {path}: HTTP {status}: {answer!r:.500}")
        for op in ("create", "update", "delete"):
            for item in answer.get(op, []):
                if isinstance(item, dict) and "error" in item:
                    raise RuntimeError(f"POST {path} {op}: {item['error']}")
        return answer
