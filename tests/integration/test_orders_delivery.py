"""Orders in, end to end against the Shopify emulator (it sends signed
webhooks with Shopify's headers and retries, and answers the orders query
validated against the pinned schema; a real shop cannot be made to re-deliver
or fail on demand): an order created in the shop reaches the daemon as a
signed webhook and is stored once even when the poll also sees it; a refused
delivery is retried and stored; polling pages and catches up on what arrived
while the daemon was down. Webhooks are registered with the same native code
Odoo's "Register webhooks" button calls. WooCommerce: test_orders_woocommerce.py."""
from __future__ import annotations

import pytest

from harness.orders import cursor_row, enable_orders, inbox_rows, listen_port, wait_for

import stockrelay_native

pytestmark = [pytest.mark.sidecar]

SHOPIFY_SECRET = "shpss_delivery_test_secret"


def channel_config(db, cid) -> dict:
    return db.scalar("SELECT row_to_json(c) FROM stock_relay_channel c WHERE id = %s", (cid,))


# --------------------------------------------------------------------------- Shopify
@pytest.mark.shopify
def test_shopify_order_arrives_by_signed_webhook_and_poll_stores_it_once(shop_factory, shopify, sidecar, db):
    shop = shop_factory(skus=["MUG-1"], levels=10)
    shopify.control("POST", "webhookconfig", {"clientSecret": SHOPIFY_SECRET, "retryBaseMs": 200})
    # The webhook, sent at once, must be what stores the order (with its delivery id), and a later poll must not
    # store it again: the order is placed right after a poll, with 5 s to the next one (with a 1 s or 3 s poll a
    # loaded machine let a poll store it first, delivery_id empty: 1 run in 3).
    enable_orders(db.conn, shop.channel_id, poll_seconds=5, client_secret=SHOPIFY_SECRET)
    sidecar.extra_args += ["--listen", "127.0.0.1:0"]
    proc = sidecar.start()
    port = listen_port(proc)

    # As Odoo registers them: the address names the database (the form a daemon serving several routes by).
    reg = stockrelay_native.Channel(channel_config(db, shop.channel_id)).register_webhooks(
        f"http://127.0.0.1:{port}/", db.name)
    address = f"http://127.0.0.1:{port}/webhooks/{db.name}/{shop.channel_id}"
    assert reg["address"] == address and reg["new_secret"] is None
    assert sorted(w["topic"] for w in reg["webhooks"]) == ["ORDERS_CANCELLED", "ORDERS_CREATE", "ORDERS_UPDATED"]
    # Registering again creates nothing new.
    again = stockrelay_native.Channel(channel_config(db, shop.channel_id)).register_webhooks(
        f"http://127.0.0.1:{port}", db.name)
    assert len(again["webhooks"]) == 3

    first = wait_for(lambda: (cursor_row(db.conn, shop.channel_id) or {}).get("polled_at"), what="the first poll")
    wait_for(lambda: (cursor_row(db.conn, shop.channel_id) or {}).get("polled_at") != first, what="a poll")
    created = shopify.control("POST", "orders", {"email": "ada@example.com", "lineItems": [
        {"sku": "MUG-1", "quantity": 2, "price": "12.50"}], "shippingLines": [{"title": "Standard", "price": "4.95"}]})
    wait_for(lambda: inbox_rows(db.conn, shop.channel_id), what="the order in the inbox")
    wait_for(lambda: (cursor_row(db.conn, shop.channel_id) or {}).get("updated_at"), what="a poll that saw it")
    rows = inbox_rows(db.conn, shop.channel_id)
    assert len(rows) == 1, rows
    row = rows[0]
    assert row["shop_order_id"] == str(created["num"]) and row["shop_order_name"] == created["name"]
    assert row["delivery_id"] and row["topic"] == "order_created"
    assert row["payload"]["order"]["lines"][0]["sku"] == "MUG-1"
    deliveries = shopify.control("GET", "deliveries")["deliveries"]
    assert [d["status"] for d in deliveries if d["topic"] == "orders/create"] == [200]

    # A cancellation is a new event (a later update time): an updated and a cancelled webhook, one row.
    shopify.control("POST", "orderupdate", {"id": created["num"], "cancel": True})
    rows = wait_for(lambda: [r for r in inbox_rows(db.conn, shop.channel_id) if r["topic"] == "order_cancelled"],
                    what="the cancellation")
    assert rows[0]["payload"]["order"]["status"] == "cancelled"


@pytest.mark.shopify
def test_shopify_retries_a_failed_delivery_and_the_retry_is_stored(shop_factory, shopify, sidecar, db):
    shop = shop_factory(skus=["MUG-1"], levels=10)
    shopify.control("POST", "webhookconfig", {"clientSecret": SHOPIFY_SECRET, "retryBaseMs": 300})
    # The channel's secret is wrong at first: the daemon answers 401, Shopify retries.
    enable_orders(db.conn, shop.channel_id, poll_seconds=3600, client_secret="stale-secret")
    sidecar.extra_args += ["--listen", "127.0.0.1:0"]
    proc = sidecar.start()
    port = listen_port(proc)
    stockrelay_native.Channel(channel_config(db, shop.channel_id)).register_webhooks(f"http://127.0.0.1:{port}")
    # The daemon's first poll (at start) is over: the order below can only come by webhook (on a loaded
    # machine that poll could list it and store it, which is not what this test is about).
    wait_for(lambda: (cursor_row(db.conn, shop.channel_id) or {}).get("polled_at"), what="the first poll")
    shopify.control("POST", "orders", {"lineItems": [{"sku": "MUG-1", "quantity": 1, "price": "3"}]})
    wait_for(lambda: any(d["status"] == 401 for d in shopify.control("GET", "deliveries")["deliveries"]),
             what="a refused delivery")
    assert inbox_rows(db.conn) == []
    enable_orders(db.conn, shop.channel_id, poll_seconds=3600, client_secret=SHOPIFY_SECRET)
    rows = wait_for(lambda: inbox_rows(db.conn, shop.channel_id), timeout=20, what="the retried delivery")
    assert len(rows) == 1 and rows[0]["received_via"] == "webhook"
    statuses = wait_for(lambda: (st := [d["status"] for d in shopify.control("GET", "deliveries")["deliveries"]])
                        and st[-1] is not None and st, what="the last attempt's answer")
    assert statuses[0] == 401 and statuses[-1] == 200


@pytest.mark.shopify
def test_shopify_poll_pages_through_orders_and_resumes_after_downtime(shop_factory, shopify, sidecar, db):
    shop = shop_factory(skus=["MUG-1"], levels=100)
    for n in range(5):  # (paging through a burst: test_orders_poll.py)
        shopify.control("POST", "orders", {"lineItems": [{"sku": "MUG-1", "quantity": 1, "price": f"{n}.10"}]})
    enable_orders(db.conn, shop.channel_id, poll_seconds=1)
    proc = sidecar.start()
    wait_for(lambda: len(inbox_rows(db.conn, shop.channel_id)) == 5, what="five polled orders")
    proc.stop()
    shopify.control("POST", "orders", {"lineItems": [{"sku": "MUG-1", "quantity": 3, "price": "1"}]})
    sidecar.start()
    rows = wait_for(lambda: (r := inbox_rows(db.conn, shop.channel_id)) and len(r) == 6 and r, what="the catch-up")
    assert {r["received_via"] for r in rows} == {"poll"}
    assert rows[-1]["payload"]["order"]["lines"][0]["quantity"] == 3
    ops = [r["operationName"] for r in shopify.requests() if r["operationName"]]
    assert "StockRelayOrders" in ops
