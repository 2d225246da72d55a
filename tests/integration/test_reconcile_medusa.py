"""Reconciliation, daemon side, against a REAL Medusa 2.21 server: levels
changed through Medusa's own Admin API behind stockrelay's back, a reservation,
a deleted inventory item; `stockrelayd run` reads every inventory item with
its location levels into the snapshot (available = stocked - reserved, the
number pushes make equal to Odoo's sellable) and refreshes the SKU cache.

Medusa itself refuses a second inventory item with an existing SKU and keeps
no "track stock" flag on inventory items (it lives on the variant), so the
duplicate and untracked cases are covered against WooCommerce
(test_reconcile_woocommerce.py) and in the unit tests."""
from __future__ import annotations

import os

import pytest

from emulators.medusa import MedusaServer, medusa_available
from harness import outbox, reconcile

pytestmark = [pytest.mark.sidecar, pytest.mark.slow]


@pytest.fixture(scope="module")
def medusa():
    ok, why = medusa_available()
    if not ok:
        pytest.skip(f"REAL MEDUSA NOT AVAILABLE, Medusa reconcile untested: {why}")
    server = MedusaServer().ensure_ready()
    try:
        server.start(f"medusa_reconcile_{os.getpid()}")
        server.secret_key = server.create_secret_key("stockrelay-reconcile-tests")
        yield server
    finally:
        server.stop()
        server.pg_stop()


def medusa_truth(srv) -> dict:
    """Every inventory item and level, read through the Admin API: {(item, location): (sku, available)}."""
    items = srv.admin("GET", "/admin/inventory-items", query={
        "fields": "id,sku,location_levels.location_id,location_levels.stocked_quantity,"
                  "location_levels.reserved_quantity", "limit": 100000})["inventory_items"]
    truth = {}
    for it in items:
        levels = it.get("location_levels") or []
        for lvl in levels:
            truth[(it["id"], lvl["location_id"])] = (
                it.get("sku") or None, int(lvl["stocked_quantity"]) - int(lvl.get("reserved_quantity") or 0))
        if not levels:
            truth[(it["id"], "")] = (it.get("sku") or None, None)
    return truth


def test_reconcile_reads_medusa_levels_net_of_reservations_and_refreshes_the_cache(medusa, db, sidecar):
    skus = ["MR-A", "MR-B", "MR-GONE", "MR-NOLEVEL"]
    items = medusa.create_product("Reconcile product", skus)
    main = medusa.create_stock_location("Reconcile Main")
    back = medusa.create_stock_location("Reconcile Back")
    for sku, qty in (("MR-A", 10), ("MR-B", 4), ("MR-GONE", 1)):
        medusa.set_level(sku, main, qty)
    medusa.set_level("MR-A", back, 2)
    cid = outbox.add_channel(db.conn, name="Medusa", channel_type="medusa", base_url=medusa.base_url,
                             credentials={"api_key": medusa.secret_key}, timeout_ms=10000)
    for sku in skus:
        reconcile.cache_sku(db.conn, cid, sku, items[sku], product_id=100 + skus.index(sku))
    # Behind stockrelay's back: a level changes, a customer reserves 3, an item is deleted.
    medusa.set_level("MR-B", main, 9)
    medusa.admin("POST", "/admin/reservations",
                 {"inventory_item_id": items["MR-A"], "location_id": main, "quantity": 3})
    medusa.admin("DELETE", f"/admin/inventory-items/{items['MR-GONE']}")

    before = medusa_truth(medusa)
    sidecar.start()
    r = sidecar.cmd("reconcile", "--channel", cid, "--wait", "120")
    assert r.returncode == 0, r.stdout + r.stderr
    rid = reconcile.latest_id(db.conn, cid)
    run = reconcile.run(db.conn, rid)
    assert run["state"] == "read" and run["malformed"] == 0, run
    snap = reconcile.snapshot(db.conn, rid)
    assert {k: (v[0], v[1]) for k, v in snap.items()} == before
    assert snap[(items["MR-A"], main)][:2] == ("MR-A", 7)  # stocked 10 - reserved 3
    assert snap[(items["MR-A"], back)][:2] == ("MR-A", 2)
    assert snap[(items["MR-B"], main)][:2] == ("MR-B", 9)
    assert snap[(items["MR-NOLEVEL"], "")][:2] == ("MR-NOLEVEL", None)  # listed, without a level
    assert not any(k[0] == items["MR-GONE"] for k in snap)
    cache = reconcile.sku_cache(db.conn, cid)
    assert "MR-GONE" not in cache
    assert cache["MR-A"] == (items["MR-A"], "", 100) and cache["MR-B"][2] == 101
    assert medusa_truth(medusa) == before  # a reconcile pushes nothing
    n_items = len({k[0] for k in before})
    assert run["api_calls"] == -(-n_items // 500)  # pages of 500 items
