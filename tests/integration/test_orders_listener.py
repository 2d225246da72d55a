"""Orders in, the daemon's webhook listener (stockrelayd --listen): signed shop
webhooks go into stock_relay_inbox once; forged, oversized, unknown and slow
requests store nothing and leave the daemon serving. The shop side is this
test acting as Shopify / WooCommerce (captured-shape bodies, the shops' own
signature construction); emulators and real shops deliver in
test_orders_delivery.py and the real-WooCommerce tier."""
from __future__ import annotations

import json
import pathlib
import select
import socket
import time

import pytest

from harness import outbox
from harness.orders import enable_orders, inbox_rows, listen_port, post, sign, wait_for

pytestmark = [pytest.mark.sidecar]

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "orders"
SHOPIFY_SECRET = "shpss_listener_test_secret_42"
WOO_SECRET = "woo-listener-secret-7"


def body_of(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def shopify_headers(body: bytes, *, topic="orders/create", webhook_id="b54557e4-bdd9-4b37-8a5f-bf7d70bcd043",
                    secret=SHOPIFY_SECRET):
    return {"X-Shopify-Topic": topic, "X-Shopify-Hmac-Sha256": sign(body, secret),
            "X-Shopify-Shop-Domain": "example.myshopify.com", "X-Shopify-Webhook-Id": webhook_id,
            "X-Shopify-API-Version": "2025-10"}


@pytest.fixture
def listening(db, sidecar):
    """A Shopify and a WooCommerce channel receiving orders, and a daemon listening on a free port."""
    shop = outbox.add_channel(db.conn, name="Shopify", channel_type="shopify",
                              credentials={"access_token": "shpat_x"})
    woo = outbox.add_channel(db.conn, name="Woo", channel_type="woocommerce", base_url="https://127.0.0.1:9",
                             credentials={"consumer_key": "ck_x", "consumer_secret": "cs_x"})
    # Poll rarely: these tests are about the listener alone.
    enable_orders(db.conn, shop, poll_seconds=3600, client_secret=SHOPIFY_SECRET)
    enable_orders(db.conn, woo, poll_seconds=3600, webhook_secret=WOO_SECRET)
    sidecar.extra_args += ["--listen", "127.0.0.1:0", "--webhook-max-body", "65536"]
    proc = sidecar.start()
    return {"shopify": shop, "woo": woo, "port": listen_port(proc), "proc": proc}


def test_signed_shopify_webhook_is_stored_once_whatever_the_redelivery(listening, db):
    port, cid = listening["port"], listening["shopify"]
    body = body_of("shopify_webhook_orders_create.json")
    status, answer = post(port, f"/webhooks/{cid}", body, shopify_headers(body))
    assert status == 200 and answer["message"] == "stored", answer
    # Shopify re-delivers the same event (a retry after a slow answer) ...
    assert post(port, f"/webhooks/{cid}", body, shopify_headers(body))[0] == 200
    # ... and someone replays the signed body under another topic header: same event, same key.
    status, answer = post(port, f"/webhooks/{cid}", body, shopify_headers(body, topic="orders/cancelled",
                                                                           webhook_id="other-id"))
    assert status == 200 and answer["message"].startswith("duplicate"), answer
    rows = inbox_rows(db.conn, cid)
    assert len(rows) == 1
    row = rows[0]
    assert (row["shop_order_id"], row["shop_order_name"], row["topic"]) == ("450789469", "#1001", "order_created")
    assert row["event_key"] == "450789469@2026-11-30T19:02:05Z"
    assert str(row["shop_updated_at"]) == "2026-11-30 19:02:05"
    assert (row["received_via"], row["state"], row["delivery_id"]) == ("webhook", "pending",
                                                                        "b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")
    assert row["payload"]["order"]["lines"][0]["unit_price"] == "12.50"
    assert row["payload"]["raw"] == json.loads(body)


def test_forged_or_missing_signature_is_401_and_stores_nothing(listening, db):
    port, cid = listening["port"], listening["shopify"]
    body = body_of("shopify_webhook_orders_create.json")
    forged = shopify_headers(body, secret="not-the-client-secret")
    assert post(port, f"/webhooks/{cid}", body, forged)[0] == 401
    unsigned = {k: v for k, v in shopify_headers(body).items() if k != "X-Shopify-Hmac-Sha256"}
    assert post(port, f"/webhooks/{cid}", body, unsigned)[0] == 401
    tampered = body.replace(b'"quantity":2', b'"quantity":20')
    assert tampered != body
    assert post(port, f"/webhooks/{cid}", tampered, shopify_headers(body))[0] == 401
    # A WooCommerce signature presented to the Shopify channel is not Shopify's.
    woo_sig = {"X-WC-Webhook-Signature": sign(body, WOO_SECRET), "X-WC-Webhook-Topic": "order.created"}
    assert post(port, f"/webhooks/{cid}", body, woo_sig)[0] == 401
    assert inbox_rows(db.conn) == []
    assert "bad signature" in listening["proc"].log() and SHOPIFY_SECRET not in listening["proc"].log()


def test_woocommerce_ping_and_signed_order(listening, db):
    port, cid = listening["port"], listening["woo"]
    # The ping WooCommerce sends when the webhook is created: form-encoded, unsigned.
    status, _ = post(port, f"/webhooks/{cid}", b"webhook_id=12",
                     {"Content-Type": "application/x-www-form-urlencoded"})
    assert status == 200
    assert post(port, f"/webhooks/{cid}", b"webhook_id=12; DROP", {"Content-Type": "application/x-www-form-urlencoded"})[0] == 401
    body = body_of("woocommerce_order.json")
    headers = {"X-WC-Webhook-Topic": "order.updated", "X-WC-Webhook-Resource": "order", "X-WC-Webhook-Event": "updated",
               "X-WC-Webhook-Signature": sign(body, WOO_SECRET), "X-WC-Webhook-ID": "3",
               "X-WC-Webhook-Delivery-ID": "e3b0c442"}
    assert post(port, f"/webhooks/{cid}", body, headers)[0] == 200
    rows = inbox_rows(db.conn, cid)
    assert [(r["event_key"], r["topic"], r["delivery_id"]) for r in rows] == [("727@2026-11-30T19:02:07Z",
                                                                               "order_updated", "e3b0c442")]
    # Topics that are not orders are acknowledged (so WooCommerce does not disable the hook) and ignored.
    product = {**headers, "X-WC-Webhook-Topic": "product.updated"}
    assert post(port, f"/webhooks/{cid}", body, product)[0] == 200
    assert len(inbox_rows(db.conn, cid)) == 1


def test_unknown_channel_or_orders_off_is_404(listening, db):
    port = listening["port"]
    body = body_of("shopify_webhook_orders_create.json")
    assert post(port, "/webhooks/999999", body, shopify_headers(body))[0] == 404
    off = outbox.add_channel(db.conn, name="Off", channel_type="shopify",
                             credentials={"access_token": "shpat_y", "client_secret": SHOPIFY_SECRET})
    assert post(port, f"/webhooks/{off}", body, shopify_headers(body))[0] == 404
    outbox.update_channel(db.conn, listening["shopify"], enabled=False)  # the whole channel off: no orders either
    time.sleep(1.1)  # the listener re-reads a channel at most once a second
    assert post(port, f"/webhooks/{listening['shopify']}", body, shopify_headers(body))[0] == 404
    assert post(port, "/webhooks/abc", body, shopify_headers(body))[0] == 404
    assert inbox_rows(db.conn) == []


def test_malformed_signed_order_is_kept_as_a_failed_row(listening, db):
    port, cid = listening["port"], listening["shopify"]
    order = json.loads(body_of("shopify_webhook_orders_create.json"))
    order["line_items"][0]["quantity"] = "two"
    body = json.dumps(order).encode()
    assert post(port, f"/webhooks/{cid}", body, shopify_headers(body))[0] == 200
    [row] = inbox_rows(db.conn, cid)
    assert (row["state"], row["error_code"], row["shop_order_id"]) == ("failed", "malformed_order", "450789469")
    assert "line_items[0].quantity" in row["last_error"]
    assert row["payload"]["order"] is None and row["payload"]["raw"] == order


def test_huge_body_is_413_and_the_daemon_keeps_serving(listening, db):
    port, cid = listening["port"], listening["shopify"]
    huge = b'{"pad": "' + b"x" * 200_000 + b'"}'
    status, _ = post(port, f"/webhooks/{cid}", huge, shopify_headers(huge))
    assert status == 413
    body = body_of("shopify_webhook_orders_create.json")
    assert post(port, f"/webhooks/{cid}", body, shopify_headers(body))[0] == 200
    assert len(inbox_rows(db.conn)) == 1 and listening["proc"].alive()


def test_slow_clients_do_not_block_others(listening, db):
    port, cid = listening["port"], listening["shopify"]
    slow = []
    for _ in range(3):  # send half a request and stall
        s = socket.create_connection(("127.0.0.1", port))
        s.sendall(f"POST /webhooks/{cid} HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\n\r\n{{\"id\":".encode())
        slow.append(s)
    body = body_of("shopify_webhook_orders_create.json")
    t0 = time.monotonic()
    assert post(port, f"/webhooks/{cid}", body, shopify_headers(body), timeout=5)[0] == 200
    assert time.monotonic() - t0 < 2.0
    # The stalled connections are dropped after the read timeout (5 s), without an answer that stores anything.
    for s in slow:
        s.settimeout(10)
        try:
            s.recv(1024)
        except (ConnectionResetError, TimeoutError, OSError):
            pass
        s.close()
    assert len(inbox_rows(db.conn)) == 1 and listening["proc"].alive()


def test_stored_order_wakes_odoos_cron_workers_on_the_postgres_database(listening, db, pg_cluster):
    # Odoo's cron workers LISTEN on cron_trigger in the maintenance database, payload = the database name.
    listener = pg_cluster.connect("postgres")
    with listener.cursor() as cur:
        cur.execute("LISTEN cron_trigger")
    port, cid = listening["port"], listening["shopify"]
    body = body_of("shopify_webhook_orders_create.json")
    assert post(port, f"/webhooks/{cid}", body, shopify_headers(body))[0] == 200

    def notified():
        if select.select([listener], [], [], 0.2)[0]:
            listener.poll()
        return listener.notifies

    got = wait_for(notified, timeout=5, what="NOTIFY cron_trigger")
    assert got[0].channel == "cron_trigger" and got[0].payload == db.name
    listener.close()


def test_database_outage_answers_503_so_the_shop_retries(listening, db, pg_cluster):
    port, cid = listening["port"], listening["shopify"]
    body = body_of("shopify_webhook_orders_create.json")
    with db.conn.cursor() as cur:  # take the table away for a moment: every insert fails
        cur.execute("ALTER TABLE stock_relay_inbox RENAME TO stock_relay_inbox_away")
    try:
        assert post(port, f"/webhooks/{cid}", body, shopify_headers(body))[0] == 503
    finally:
        with db.conn.cursor() as cur:
            cur.execute("ALTER TABLE stock_relay_inbox_away RENAME TO stock_relay_inbox")
    assert post(port, f"/webhooks/{cid}", body, shopify_headers(body))[0] == 200
    assert len(inbox_rows(db.conn)) == 1 and listening["proc"].alive()


def test_medusa_subscriber_notification_signed_with_the_shared_secret(db, sidecar):
    """Medusa has no signed webhooks: a project's subscriber (README) posts the
    order with X-Stockrelay-Hmac-Sha256 over the body, key credentials.webhook_secret."""
    cid = outbox.add_channel(db.conn, name="Medusa", channel_type="medusa", base_url="http://127.0.0.1:9",
                             credentials={"api_key": "sk_x"})
    enable_orders(db.conn, cid, poll_seconds=3600, webhook_secret="medusa-shared-secret")
    sidecar.extra_args += ["--listen", "127.0.0.1:0"]
    port = listen_port(sidecar.start())
    order = json.loads(body_of("medusa_admin_order.json"))
    body = json.dumps({"event": "order.placed", "order": order}).encode()
    assert post(port, f"/webhooks/{cid}", body, {"X-Stockrelay-Hmac-Sha256": sign(body, "other")})[0] == 401
    status, _ = post(port, f"/webhooks/{cid}", body, {"X-Stockrelay-Hmac-Sha256": sign(body, "medusa-shared-secret"),
                                                      "X-Stockrelay-Delivery-Id": "evt_1"})
    assert status == 200
    [row] = inbox_rows(db.conn, cid)
    assert (row["shop_order_id"], row["shop_order_name"], row["delivery_id"]) == (order["id"], "#12", "evt_1")
    assert row["payload"]["raw"] == order and row["payload"]["order"]["lines"][0]["sku"] == "TSHIRT-S"
