"""Orders in, end to end: a sale in shop A reaches Odoo as a signed webhook,
becomes one confirmed sale order (stock reserved), and shop B shows the lower
number; a cancellation in shop A puts the units back on sale in shop B.

Real Odoo 18 (stock_relay + stock_relay_sale, HTTP server with a cron thread:
the daemon wakes the import cron through ir_cron_trigger + NOTIFY
cron_trigger), the real stockrelayd (`run --listen`), and two Shopify
emulators (verified HTTPS). The emulator sends webhooks the way Shopify does
(signed with the app's client secret, retried on non-2xx). Registration goes
through the channel's "Register webhooks" button. Run by scripts/odoo-test.
"""
from __future__ import annotations

import os
import time

import pytest

from emulators.shopify import ShopifyEmulator
from harness.orders import listen_port
from test_e2e import API_VERSION, TOKEN, OdooServer, ca, set_stock, sidecar, work  # noqa: F401 (fixtures)

pytestmark = pytest.mark.skipif(not os.environ.get("STOCKRELAY_ODOO_DB"),
                                reason="real-Odoo tier: run scripts/odoo-test [18|19] (needs ODOO_SRC or ODOO19_SRC)")

CLIENT_SECRET = "shpss_e2e_client_secret_77"


@pytest.fixture(scope="module")
def odoo(work):  # noqa: F811
    server = OdooServer(work, cron_threads=1)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def shops(work, ca):  # noqa: F811
    emus = [ShopifyEmulator(token=TOKEN, tls=ca, log_path=work / f"shopify-orders-{name}.log") for name in "AB"]
    for emu in emus:
        emu.start()
    yield emus
    for emu in emus:
        emu.stop()


def wait(predicate, what, timeout=60.0, explain=lambda: ""):
    deadline = time.monotonic() + timeout
    while not (value := predicate()):
        assert time.monotonic() < deadline, f"{what}: not within {timeout} s. {explain()}"
        time.sleep(0.1)
    return value


def add_channel(odoo, shop, name, stock, ca, **extra):  # noqa: F811
    main = shop.seed(locations=[{"name": "Main"}],
                     products=[{"title": "Mug", "variants": [{"sku": "ORD-MUG", "levels": {"Main": 50}}]}])
    channel = odoo.x("stock.relay.channel", "create", {
        "name": name, "channel_type": "shopify", "base_url": shop.base_url, "api_version": API_VERSION,
        "shopify_access_token": TOKEN, "ca_file": ca["ca"], "timeout_ms": 5000, "reconcile_scheduled": False,
        **extra})
    odoo.x("stock.relay.channel", "action_load_locations", [channel])
    line = odoo.x("stock.relay.channel.location", "search", [("channel_id", "=", channel)])
    odoo.x("stock.relay.channel.location", "write", line, {"location_ids": [(6, 0, [stock])]})
    return channel, main["locations"]["Main"]


def test_a_sale_in_one_shop_reaches_odoo_and_the_other_shop(odoo, shops, ca, sidecar):  # noqa: F811
    shop_a, shop_b = shops
    stock = odoo.x("stock.warehouse", "search_read", [], fields=["lot_stock_id"], limit=1)[0]["lot_stock_id"][0]
    mug = odoo.x("product.product", "create", {"name": "Mug", "default_code": "ORD-MUG", "type": "consu",
                                               "is_storable": True, "list_price": 12.5})
    set_stock(odoo, mug, stock, 10)
    shop_a.control("POST", "webhookconfig", {"clientSecret": CLIENT_SECRET, "retryBaseMs": 200})
    chan_a, _gid_a = add_channel(odoo, shop_a, "Orders A", stock, ca, orders_enabled=True,
                                 order_poll_seconds=600, shopify_client_secret=CLIENT_SECRET)
    chan_b, gid_b = add_channel(odoo, shop_b, "Shop B", stock, ca)

    sidecar.extra_args += ["--listen", "127.0.0.1:0"]
    daemon = sidecar.start()
    try:
        port = listen_port(daemon)
        odoo.x("stock.relay.channel", "write", [chan_a], {"sale_public_url": f"http://127.0.0.1:{port}"})
        odoo.x("stock.relay.channel", "action_register_webhooks", [chan_a])
        registered = odoo.x("stock.relay.channel", "read", [chan_a], ["sale_webhooks_registered"])[0]
        assert f"http://127.0.0.1:{port}/webhooks/{odoo.db}/{chan_a}" in registered["sale_webhooks_registered"], registered
        wait(lambda: shop_b.state()["available"]["ORD-MUG"][gid_b] == 10, "shop B shows Odoo's 10")

        # A customer buys 3 mugs in shop A.
        t0 = time.monotonic()
        created = shop_a.control("POST", "orders", {"email": "grace@example.com", "lineItems": [
            {"sku": "ORD-MUG", "quantity": 3, "price": "12.50"}]})
        def explain():
            inbox = odoo.x("stock.relay.inbox", "search_read", [], fields=["state", "received_via", "last_error"])
            return (f"shop A's webhook deliveries: {shop_a.control('GET', 'deliveries')['deliveries']}; "
                    f"inbox: {inbox}; daemon log:\n{daemon.log()[-3000:]}")
        wait(lambda: shop_b.state()["available"]["ORD-MUG"][gid_b] == 7, "shop B shows 10 - 3", explain=explain)
        window = time.monotonic() - t0

        orders = odoo.x("sale.order", "search_read", [("client_order_ref", "=", created["name"])],
                        fields=["state", "partner_id", "amount_untaxed"])
        assert len(orders) == 1 and orders[0]["state"] == "sale", orders
        inbox = odoo.x("stock.relay.inbox", "search_read", [("channel_id", "=", chan_a)],
                       fields=["state", "received_via", "odoo_id"])
        assert [(r["state"], r["received_via"], r["odoo_id"]) for r in inbox] == [("done", "webhook", orders[0]["id"])]

        # Cancelled in shop A: the reservation is released and shop B sells the 3 mugs again.
        shop_a.control("POST", "orderupdate", {"id": created["num"], "cancel": True})
        wait(lambda: shop_b.state()["available"]["ORD-MUG"][gid_b] == 10, "shop B back to 10 after the cancel")
        assert odoo.x("sale.order", "read", [orders[0]["id"]], ["state"])[0]["state"] == "cancel"
    finally:
        assert daemon.stop() == 0
    print(f"\norder in shop A -> shop B lowered in {window:.2f} s (webhook, Odoo import, relay)")
