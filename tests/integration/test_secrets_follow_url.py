"""Credentials follow the shop (issue #9): whoever changes a channel's URL -- an
Odoo user who may edit channels but not read their secrets, or any SQL writer
-- cannot make the real stockrelayd send the stored token to the new host."""
from __future__ import annotations

import http.server
import threading
import time

import pytest

from harness import outbox
from harness.sidecar import Sidecar

pytestmark = [pytest.mark.shopify, pytest.mark.sidecar]


class Sink(http.server.ThreadingHTTPServer):
    """Someone else's host: records every request (headers and body), answers 401."""

    def __init__(self):
        self.requests: list[str] = []
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _record(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("latin-1") if length else ""
                sink.requests.append(f"{self.command} {self.path}\n{self.headers}\n{body}")
                self.send_response(401)
                self.send_header("Content-Length", "0")
                self.end_headers()

            do_GET = do_POST = do_PUT = _record

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        threading.Thread(target=self.serve_forever, daemon=True).start()

    def received(self, text: str) -> bool:
        return any(text in r for r in self.requests)


@pytest.fixture
def sink():
    s = Sink()
    yield s
    s.shutdown()
    s.server_close()


def test_the_running_daemon_never_sends_the_token_to_a_new_url(db, shop_factory, sink, tmp_path):
    shop = shop_factory(skus=["SF-1"])
    token = db.scalar("SELECT credentials->>'access_token' FROM stock_relay_channel WHERE id = %s", (shop.channel_id,))
    assert token
    sc = Sidecar(db.dsn, tmp_path / "logs")
    proc = sc.start("--poll-interval", "0.2", "--reload-interval", "0.5")
    shop.enqueue([(1, "SF-1", "Main", 4)])
    outbox.wait_until(lambda: shop.available("SF-1") == 4, timeout=20, message="the push to the real shop")

    # A raw UPDATE, as any writer could issue it: the credentials are not touched.
    db.query("UPDATE stock_relay_channel SET base_url = %s WHERE id = %s", (sink.url, shop.channel_id))
    assert db.scalar("SELECT credentials::text FROM stock_relay_channel WHERE id = %s", (shop.channel_id,)) == "{}"
    # The daemon notices the new settings and restarts the channel's worker.
    proc.wait_for_log(r"channel \d+: settings changed", timeout=10)
    shop.enqueue([(1, "SF-1", "Main", 5)])
    deadline = time.monotonic() + 4
    while time.monotonic() < deadline and not sink.requests:
        time.sleep(0.1)
    assert not sink.received(token), sink.requests
    assert proc.alive()
    assert proc.stop() == 0
    assert token not in proc.log()
    assert shop.available("SF-1") == 4
