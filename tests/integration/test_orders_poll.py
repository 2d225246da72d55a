"""Orders in, the polling path under a burst (issue #12: the poll fell behind).

Shopify (emulator): 300 orders placed within seconds are all imported once, in
pages as large as the 1000-point query-cost limit allows (the emulator charges
Shopify's documented cost: object 1, connection 2 + first x node), orders with
more line items than the list reads are read whole by a per-order query, and a
later poll lists again only the orders of the cursor's own second. The
emulator's bucket is set to Shopify Plus rates (restore 1000 points/s) so the
test measures the pages, not a standard shop's throttling; it records every
orders() page it serves (GET /_control/orderlistings).

WooCommerce (emulator): a burst spread over a few seconds is imported once,
also when an order is edited between two pages of a poll (the emulator's
/_control/orders/touch updates it right after a given listing, which a real
shop cannot do on demand): an offset-paged list then shifts an unread order
back onto a page already read, and the old poll lost it for good.

A channel whose settings do not load is not dropped silently: the poller logs
why and records it on the channel's cursor row."""
from __future__ import annotations

import datetime as dt
import time

import pytest

from emulators.woocommerce import WooEmulator
from harness import outbox
from harness.orders import cursor_row, enable_orders, inbox_rows, wait_for

pytestmark = [pytest.mark.sidecar]

BURST = 300


def shop_second(rest_time: str) -> int:
    """A Shopify REST time ("2026-11-30T20:00:05+01:00") as epoch seconds."""
    return int(dt.datetime.fromisoformat(rest_time).timestamp())


@pytest.mark.shopify
def test_shopify_burst_is_imported_once_in_few_pages_and_not_listed_again(shop_factory, shopify, sidecar, db):
    shop = shop_factory(skus=["MUG-1", "CUP-1"], levels=10000)
    shopify.config(maximumAvailable=10000, restoreRate=1000)
    placed = [shopify.control("POST", "orders", {"email": f"b{n}@example.com", "lineItems": [
        {"sku": "MUG-1", "quantity": 1, "price": "3.50"}]})["num"] for n in range(BURST)]
    # Longer than the list reads (3 line items, 1 shipping line): completed by the per-order query.
    big = shopify.control("POST", "orders", {"lineItems": [
        {"sku": "CUP-1", "quantity": k + 1, "price": "1.00"} for k in range(7)],
        "shippingLines": [{"title": "Parcel", "price": "4.00"}, {"title": "Insurance", "price": "1.00"}]})["num"]
    placed.append(big)
    enable_orders(db.conn, shop.channel_id, poll_seconds=1)
    sidecar.start()
    rows = wait_for(lambda: (r := inbox_rows(db.conn, shop.channel_id)) and len(r) >= len(placed) and r,
                    timeout=90, what=f"{len(placed)} polled orders")
    imported_at = time.time() * 1000
    assert sorted(int(r["shop_order_id"]) for r in rows) == sorted(placed), "each order exactly once"
    assert {r["state"] for r in rows} == {"pending"}
    order = next(r["payload"]["order"] for r in rows if int(r["shop_order_id"]) == big)
    assert [ln["quantity"] for ln in order["lines"]] == list(range(1, 8))
    assert [s["name"] for s in order["shipping"]] == ["Parcel", "Insurance"]

    listings = shopify.control("GET", "orderlistings")["listings"]
    catch_up = [x for x in listings if x["at"] <= imported_at]
    assert len(catch_up) <= 24, f"{len(catch_up)} order pages for {len(placed)} orders"  # 2 a page: 151
    assert max(x["returned"] for x in catch_up) >= 15

    # Later polls list again only the newest second's orders, and store nothing twice.
    polled = cursor_row(db.conn, shop.channel_id)["polled_at"]
    for _ in range(2):
        polled = wait_for(lambda: (p := cursor_row(db.conn, shop.channel_id)["polled_at"]) > polled and p,
                          timeout=10, what="another poll")
    shop_orders = shopify.control("GET", "orders")["orders"]
    newest = max(shop_second(o["updated_at"]) for o in shop_orders)
    last_second = {o["id"] for o in shop_orders if shop_second(o["updated_at"]) == newest}
    later = [x for x in shopify.control("GET", "orderlistings")["listings"] if x["at"] > imported_at + 500]
    assert later, "no poll after the import"
    for x in later:
        assert set(x["ids"]) <= last_second, f"a later poll listed {len(set(x['ids']) - last_second)} older orders"
    assert len(inbox_rows(db.conn, shop.channel_id)) == len(placed)


@pytest.fixture
def woo_emulator(tmp_path):
    with WooEmulator(log_path=str(tmp_path / "woo.log")) as shop:
        yield shop


def test_woocommerce_burst_imported_once_although_an_order_changes_mid_poll(db, woo_emulator, sidecar):
    woo = woo_emulator
    key = {"consumer_key": "ck_" + "5e6f" * 10, "consumer_secret": "cs_" + "8a9b" * 10, "permissions": "read_write"}
    woo.configure(keys=[key])
    woo.seed([{"name": "Burst mug", "sku": "BURST-1", "manage_stock": True, "stock_quantity": 10000,
               "regular_price": "2.00"}])
    cid = outbox.add_channel(db.conn, name="Woo", channel_type="woocommerce", base_url=woo.base_url,
                             credentials={k: key[k] for k in ("consumer_key", "consumer_secret")}, timeout_ms=15000)
    ids = []
    for batch in range(3):  # three seconds of orders: the list is ordered by modification time
        if batch:
            time.sleep(1.1)
        for _ in range(80):
            code, _, body = woo.call("POST", "/orders", body={
                "status": "processing", "line_items": [{"sku": "BURST-1", "quantity": 1}]}, auth="oauth")
            assert code == 201, body
            ids.append(body["id"])
    woo.control("POST", "orders/touch", {"after_listings": 1, "order_id": ids[3]})
    enable_orders(db.conn, cid, poll_seconds=1)
    sidecar.start()
    rows = wait_for(lambda: (r := inbox_rows(db.conn, cid)) and {int(x["shop_order_id"]) for x in r} >= set(ids) and r,
                    timeout=30, what=f"{len(ids)} polled orders")
    created = [int(r["shop_order_id"]) for r in rows if r["topic"] == "order_created"]
    assert sorted(created) == sorted(ids), "each order's creation exactly once"
    assert [int(r["shop_order_id"]) for r in rows if r["topic"] == "order_updated"] == [ids[3]]
    listing = [r for r in woo.requests() if r["method"] == "GET" and r["path"].startswith("/wp-json/wc/v3/orders")]
    assert len(listing) <= 8, f"{len(listing)} order pages for {len(ids)} orders"


def test_a_channel_that_cannot_be_polled_says_why_on_its_cursor_row(db, sidecar):
    """A channel with orders in whose settings do not load (no access token) used to be dropped silently."""
    cid = outbox.add_channel(db.conn, name="No token", channel_type="shopify", base_url="https://127.0.0.1:9",
                             api_version="2025-10", credentials={})
    enable_orders(db.conn, cid, poll_seconds=1)
    proc = sidecar.start()
    row = wait_for(lambda: (r := cursor_row(db.conn, cid)) and r["error_code"] and r, what="the error on the cursor row")
    assert row["error_code"] == "config"
    assert "credentials.access_token" in row["last_error"]
    proc.wait_for_log(rf"channel {cid}: orders cannot be polled: .*access_token", timeout=10)
    assert proc.alive()
