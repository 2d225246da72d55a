"""Orders in from WooCommerce: an order created through WooCommerce's REST API
reaches the daemon's listener as a signed WooCommerce webhook (registered by
the native code behind Odoo's "Register webhooks", with a generated secret)
and lands in the inbox once although the poll sees it too; polling catches up
after downtime and records shop errors on the cursor row.

Runs against the WooCommerce 7.9 emulator by default and, under
scripts/woo-test (STOCKRELAY_WOO_REAL), against a real WooCommerce 7.9 site:
there the site filter http_allowed_safe_ports lets WooCommerce deliver to the
daemon's port (it allows 80, 443, 8080 only) and deliveries run at the end of
the request that changed the order (nothing runs the Action Scheduler queue on
the test site). Tests that need the emulator's control API say so."""
from __future__ import annotations

import time

import pytest

from emulators.woo_real import RealWoo, real_woo_key, real_woo_url
from emulators.woocommerce import WooEmulator
from harness import outbox
from harness.orders import cursor_row, enable_orders, inbox_rows, listen_port, wait_for

import stockrelay_native

pytestmark = [pytest.mark.sidecar]

REAL_WOO = real_woo_url()
KEY = real_woo_key() if REAL_WOO else {
    "consumer_key": "ck_" + "3c4d" * 10, "consumer_secret": "cs_" + "7a6b" * 10, "permissions": "read_write"}
EMULATOR_ONLY = "needs the emulator's control API (key rotation, delivery log): emulator only"


@pytest.fixture(scope="module")
def woo(tmp_path_factory):
    log = str(tmp_path_factory.mktemp("woo-orders") / "woo.log")
    with (RealWoo(REAL_WOO, log_path=log) if REAL_WOO else WooEmulator(log_path=log)) as shop:
        yield shop


@pytest.fixture
def woo_channel(db, woo):
    woo.reset(everything=True)
    woo.configure(keys=[KEY])
    sku = f"ORD-{int(time.time() * 1000) % 10**8}"
    woo.seed([{"name": "Order mug", "sku": sku, "manage_stock": True, "stock_quantity": 10, "regular_price": "12.50"}])
    cid = outbox.add_channel(db.conn, name="Woo", channel_type="woocommerce", base_url=woo.base_url,
                             credentials={k: KEY[k] for k in ("consumer_key", "consumer_secret")}, timeout_ms=15000)
    created = []
    yield cid, sku, created
    for hook_id in created:  # a real site keeps webhooks: do not leave them pointing at a dead port
        woo.call("DELETE", f"/webhooks/{hook_id}", params={"force": "true"})


def config_of(db, cid) -> dict:
    return db.scalar("SELECT row_to_json(c) FROM stock_relay_channel c WHERE id = %s", (cid,))


def new_order(woo, sku, qty=2, status="processing"):
    code, _, body = woo.call("POST", "/orders", body={
        "status": status, "billing": {"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
        "line_items": [{"sku": sku, "quantity": qty}],
        "shipping_lines": [{"method_id": "flat_rate", "method_title": "Flat", "total": "4.95"}]}, auth="oauth")
    assert code == 201, body
    return body


def test_order_created_in_woocommerce_arrives_as_a_signed_webhook_once(db, woo, woo_channel, sidecar):
    cid, sku, created = woo_channel
    enable_orders(db.conn, cid, poll_seconds=3600)  # webhooks only at first: the row must come from one
    sidecar.extra_args += ["--listen", "127.0.0.1:0"]
    proc = sidecar.start()
    port = listen_port(proc)
    woo.allow_webhook_port(port, synchronous=bool(REAL_WOO))
    reg = stockrelay_native.Channel(config_of(db, cid)).register_webhooks(f"http://127.0.0.1:{port}")
    created += [w["id"] for w in reg["webhooks"]]
    assert reg["new_secret"] and len(reg["new_secret"]) == 64
    assert sorted(w["topic"] for w in reg["webhooks"]) == ["order.created", "order.updated"]
    assert {w["address"] for w in reg["webhooks"]} == {f"http://127.0.0.1:{port}/webhooks/{cid}"}
    enable_orders(db.conn, cid, poll_seconds=3600, webhook_secret=reg["new_secret"])  # what Odoo does with new_secret
    time.sleep(1.2)  # the listener re-reads a channel at most once a second

    order = new_order(woo, sku)
    assert woo.stock(sku) == 8  # a processing order takes its stock at once
    rows = wait_for(lambda: inbox_rows(db.conn, cid), timeout=20, what="the order in the inbox")
    assert rows[0]["received_via"] == "webhook" and rows[0]["delivery_id"], rows
    enable_orders(db.conn, cid, poll_seconds=1)  # now the poll lists the same order too
    wait_for(lambda: (cursor_row(db.conn, cid) or {}).get("updated_at"), timeout=20, what="a poll that saw it")
    rows = inbox_rows(db.conn, cid)
    assert len(rows) == 1, rows
    o = rows[0]["payload"]["order"]
    # Real WooCommerce may also deliver order.updated for the new order (its stock reduction saves the
    # order again), sometimes after order.created: the order's one row then carries the later topic.
    assert rows[0]["shop_order_id"] == str(order["id"])
    assert rows[0]["topic"] in (("order_created", "order_updated") if REAL_WOO else ("order_created",)), rows
    assert [(li["sku"], li["quantity"], li["unit_price"]) for li in o["lines"]] == [(sku, 2, "12.50")]
    assert o["shipping"][0]["price"] == "4.95" and o["customer"]["last_name"] == "Lovelace"
    assert rows[0]["payload"]["raw"]["id"] == order["id"]
    assert "bad signature" not in proc.log()


def test_poll_catches_up_after_downtime_and_records_shop_errors(db, woo, woo_channel, sidecar):
    if REAL_WOO:
        pytest.skip(EMULATOR_ONLY)
    cid, sku, _ = woo_channel
    first = new_order(woo, sku, qty=1)
    enable_orders(db.conn, cid, poll_seconds=1)
    proc = sidecar.start()
    wait_for(lambda: len(inbox_rows(db.conn, cid)) == 1, what="the first order")
    proc.stop()
    time.sleep(1.1)  # WooCommerce keeps update times to the second
    woo.call("PUT", f"/orders/{first['id']}", body={"status": "cancelled"}, auth="oauth")
    second = new_order(woo, sku, qty=4, status="pending")
    sidecar.start()
    rows = wait_for(lambda: (r := inbox_rows(db.conn, cid)) and len(r) == 3 and r, what="the catch-up")
    assert {(r["shop_order_id"], r["topic"]) for r in rows[1:]} == {(str(first["id"]), "order_cancelled"),
                                                                     (str(second["id"]), "order_created")}
    assert {r["received_via"] for r in rows} == {"poll"}
    listing = [r for r in woo.requests() if r["method"] == "GET" and r["path"].startswith("/wp-json/wc/v3/orders")]
    assert listing and all("dates_are_gmt=true" in r["path"] and "modified_after=" in r["path"] for r in listing)
    # The shop refuses the key: recorded on the cursor row, the daemon keeps running.
    woo.configure(keys=[{**KEY, "consumer_secret": "cs_rotated"}])
    err = wait_for(lambda: (cursor_row(db.conn, cid) or {}).get("error_code"), what="the poll error")
    assert err == "auth"
    assert KEY["consumer_secret"] not in (cursor_row(db.conn, cid)["last_error"] or "")
    assert sidecar.processes[-1].alive()
