"""Orders in (contract v3 [orders]): inbox reads, channel switches and a
signed-webhook client for the daemon's listener."""
from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import re
import time

INBOX_COLUMNS = ("id", "channel_id", "shop_order_id", "shop_order_name", "topic", "event_key", "delivery_id",
                 "shop_updated_at", "payload", "received_via", "state", "error_code", "last_error")


def inbox_rows(conn, channel_id=None) -> list[dict]:
    with conn.cursor() as cur:
        cur.execute(f"SELECT {', '.join(INBOX_COLUMNS)} FROM stock_relay_inbox "
                    "WHERE %s::integer IS NULL OR channel_id = %s ORDER BY id", (channel_id, channel_id))
        rows = [dict(zip(INBOX_COLUMNS, r)) for r in cur.fetchall()]
    if not conn.autocommit:
        conn.commit()
    return rows


def cursor_row(conn, channel_id) -> dict | None:
    with conn.cursor() as cur:
        cur.execute("SELECT updated_at, polled_at, error_code, last_error FROM stock_relay_order_cursor "
                    "WHERE channel_id = %s", (channel_id,))
        r = cur.fetchone()
    if not conn.autocommit:
        conn.commit()
    return dict(zip(("updated_at", "polled_at", "error_code", "last_error"), r)) if r else None


def enable_orders(conn, channel_id, poll_seconds=1, **credentials):
    """Turns orders in on; merges ``credentials`` (client_secret, webhook_secret) into the channel's."""
    with conn.cursor() as cur:
        cur.execute("UPDATE stock_relay_channel SET orders_enabled = true, order_poll_seconds = %s, "
                    "credentials = credentials || %s::jsonb WHERE id = %s",
                    (poll_seconds, json.dumps(credentials), channel_id))
    if not conn.autocommit:
        conn.commit()


def sign(body: bytes, secret: str) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def post(port: int, path: str, body: bytes, headers: dict | None = None, timeout: float = 10.0):
    """POST to the daemon's listener; returns (status, decoded JSON body or text)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("POST", path, body=body, headers={"Content-Type": "application/json", **(headers or {})})
        resp = conn.getresponse()
        text = resp.read().decode(errors="replace")
    finally:
        conn.close()
    try:
        return resp.status, json.loads(text)
    except ValueError:
        return resp.status, text


def listen_port(proc) -> int:
    """The port a ``stockrelayd --listen 127.0.0.1:0 run`` bound (from its log)."""
    m = proc.wait_for_log(r"listening for shop webhooks on http://127\.0\.0\.1:(\d+)/", timeout=10)
    return int(m.group(1))


def wait_for(predicate, timeout=15.0, interval=0.1, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


def log_has(proc, pattern: str) -> bool:
    return re.search(pattern, proc.log()) is not None
