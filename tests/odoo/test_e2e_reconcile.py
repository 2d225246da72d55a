"""Reconciliation end to end through a real Odoo 18 (with its cron thread) and
the real stockrelayd against the Shopify emulator (verified HTTPS; the
emulator's control API changes the shop behind stockrelay's back, as a
merchant in the shop admin would).

Odoo's button writes a request row; the running daemon reads the whole shop
into the snapshot and wakes Odoo's compare cron (ir_cron_trigger + NOTIFY
cron_trigger on the postgres database); Odoo writes the drift report; Heal
drift pushes Odoo's numbers through the outbox; a second reconcile finds no
drift. Run by scripts/odoo-test after tests/odoo/test_e2e.py.
"""
from __future__ import annotations

import time

import pytest

from test_e2e import (API_VERSION, TOKEN, OdooServer, ca, sellable, set_stock, shop,  # noqa: F401 (fixtures)
                      sidecar, work)

pytestmark = pytest.mark.skipif(not __import__("os").environ.get("STOCKRELAY_ODOO_DB"),
                                reason="real-Odoo tier: run scripts/odoo-test [18|19] (needs ODOO_SRC or ODOO19_SRC)")


@pytest.fixture(scope="module")
def odoo(work):  # noqa: F811
    """Odoo's HTTP server with one cron thread: the daemon's wake-up reaches it."""
    server = OdooServer(work, cron_threads=1)
    server.start()
    yield server
    server.stop()


def wait_run(odoo, run_id, states=("done", "failed"), timeout=90.0):
    deadline = time.monotonic() + timeout
    while True:
        run = odoo.x("stock.relay.reconcile", "read", [run_id],
                     ["state", "items_compared", "drift_found", "healed", "last_error"])[0]
        if run["state"] in states:
            return run
        assert time.monotonic() < deadline, f"reconcile run {run_id} still {run['state']} after {timeout} s"
        time.sleep(0.2)


def report(odoo, run_id):
    """{(class, SKU)} of the run's report lines that count (not in motion), this test's SKUs only."""
    lines = odoo.x("stock.relay.drift", "search_read", [("reconcile_id", "=", run_id), ("in_motion", "=", False)],
                   fields=["drift_class", "sku"])
    return {(d["drift_class"], d["sku"]) for d in lines if (d["sku"] or "").startswith("REC-")}


def request_run(odoo, channel):
    action = odoo.x("stock.relay.channel", "action_reconcile_now", [channel])
    assert action["res_model"] == "stock.relay.reconcile"
    return action["res_id"]


def test_reconcile_reports_what_changed_behind_our_back_and_heal_converges(odoo, shop, ca, sidecar):  # noqa: F811
    skus = ("REC-1", "REC-2", "REC-3", "REC-4")
    seeded = shop.seed(locations=[{"name": "Main"}],
                       products=[{"title": f"Product {sku}", "variants": [{"sku": sku, "levels": {"Main": 99}}]}
                                 for sku in skus])
    main_gid = seeded["locations"]["Main"]
    wh = odoo.x("stock.warehouse", "search_read", [], fields=["lot_stock_id"], limit=1)[0]
    stock = wh["lot_stock_id"][0]
    products = {sku: odoo.x("product.product", "create", {"name": f"Product {sku}", "default_code": sku,
                                                          "type": "consu", "is_storable": True}) for sku in skus}
    channel = odoo.x("stock.relay.channel", "create", {
        "name": "Reconcile E2E", "channel_type": "shopify", "base_url": shop.base_url, "api_version": API_VERSION,
        "shopify_access_token": TOKEN, "ca_file": ca["ca"], "timeout_ms": 5000, "reconcile_scheduled": False})
    odoo.x("stock.relay.channel", "action_load_locations", [channel])
    line = odoo.x("stock.relay.channel.location", "search_read",
                  [("channel_id", "=", channel), ("location_key", "=", main_gid)], fields=["id"])[0]
    odoo.x("stock.relay.channel.location", "write", [line["id"]], {"location_ids": [(6, 0, [stock])]})
    for i, sku in enumerate(skus):
        set_stock(odoo, products[sku], stock, 10 + i)

    daemon = sidecar.start()
    try:
        deadline = time.monotonic() + 30
        while any(shop.state()["available"][sku][main_gid] != 10 + i for i, sku in enumerate(skus)):
            assert time.monotonic() < deadline, f"the daemon did not publish within 30 s:\n{daemon.log()}"
            time.sleep(0.1)

        # The shop and Odoo agree on this test's SKUs: a first reconcile reports none of them.
        # (Products of the other end-to-end tests are relayed too, and missing in this shop.)
        first = wait_run(odoo, request_run(odoo, channel))
        assert first["state"] == "done" and first["items_compared"] >= len(skus), first
        assert report(odoo, first["id"]) == set()

        # Behind stockrelay's back: a merchant edits a level, deletes an item,
        # stops tracking one, and another app creates an item Odoo does not relay.
        shop.control("POST", "level", {"sku": "REC-1", "location": "Main", "available": 3})
        shop.control("POST", "delete", {"sku": "REC-2"})
        shop.control("POST", "tracked", {"sku": "REC-3", "tracked": False})
        shop.seed(products=[{"title": "Stranger", "variants": [{"sku": "REC-STRANGER", "levels": {"Main": 5}}]}])

        run_id = request_run(odoo, channel)
        run = wait_run(odoo, run_id)
        assert run["state"] == "done", run
        lines = odoo.x("stock.relay.drift", "search_read", [("reconcile_id", "=", run_id)],
                       fields=["drift_class", "sku", "odoo_qty", "shop_qty", "in_motion", "location_name"])
        assert report(odoo, run_id) == {("drift", "REC-1"), ("missing_in_shop", "REC-2"),
                                        ("not_tracked_in_shop", "REC-3"), ("unknown_in_odoo", "REC-STRANGER")}, lines
        drift = next(d for d in lines if d["drift_class"] == "drift" and d["sku"] == "REC-1")
        assert (drift["odoo_qty"], drift["shop_qty"], drift["location_name"]) == (10, 3, "Main")
        assert run["drift_found"] >= 4

        # Heal: Odoo's number goes back through the outbox (trigger 'reconcile').
        odoo.x("stock.relay.channel", "action_heal_drift", [channel])
        healed = odoo.x("stock.relay.outbox", "search_read",
                        [("channel_id", "=", channel), ("trigger", "=", "reconcile")], fields=["sku", "quantity"])
        assert {(h["sku"], h["quantity"]) for h in healed} >= {("REC-1", 10)}, healed
        deadline = time.monotonic() + 30
        while shop.state()["available"]["REC-1"][main_gid] != 10:
            assert time.monotonic() < deadline, f"the heal did not land within 30 s:\n{daemon.log()}"
            time.sleep(0.1)
        assert shop.state()["available"]["REC-1"][main_gid] == sellable(odoo, products["REC-1"], stock)

        again = wait_run(odoo, request_run(odoo, channel))
        assert again["state"] == "done", again
        assert ("drift", "REC-1") not in report(odoo, again["id"])
    finally:
        assert daemon.stop() == 0
