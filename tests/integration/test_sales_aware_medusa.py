"""Sales-aware pushes on a REAL Medusa 2.21 (issue 13): the lookup that
precedes every write reads the level (available = stocked - reserved), so an
order placed in the store that Odoo has not absorbed is never put back on
sale. Shop sales are real orders placed through the store API (they reserve
the units: available drops at once)."""
from __future__ import annotations

import os
import random

import pytest

from harness.sales_sim import SalesSim
from test_medusa_relay import medusa, medusa_shop  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.sidecar, pytest.mark.slow]


class MedusaSales:
    concurrent_sales = False  # read, then write: sales land between pushes

    def __init__(self, shop, medusa_server, location="Main"):  # noqa: F811
        from harness.medusa_orders import MedusaStore
        self.shop = shop
        self.srv = medusa_server
        self.loc = shop.locations[location]
        self.store = MedusaStore(medusa_server, self.loc)

    def level(self, sku):
        [item] = self.srv.admin("GET", "/admin/inventory-items", query={
            "sku": sku, "fields": "id,location_levels.location_id,location_levels.stocked_quantity,"
                                  "location_levels.reserved_quantity"})["inventory_items"]
        for lvl in item["location_levels"]:
            if lvl["location_id"] == self.loc:
                return int(lvl["stocked_quantity"]) - int(lvl.get("reserved_quantity") or 0)
        return 0

    def sell(self, sku, qty):
        return self.store.place_order(sku, quantity=qty)["id"]


def test_randomized_sales_and_stock_changes_never_oversell(medusa_shop, medusa, sidecar, db):  # noqa: F811
    seed = int(os.environ.get("STOCKRELAY_SALES_SEED") or random.randrange(1 << 30))
    print(f"\nsales-aware randomized test (real Medusa): seed {seed}")
    shop = medusa_shop(["RM1", "RM2"])
    skus = [shop.sku["RM1"], shop.sku["RM2"]]
    proc = sidecar.start("--poll-interval", "0.2")
    try:
        sim = SalesSim(db, shop.channel_id, MedusaSales(shop, medusa), skus, seed=seed,
                       location_key=shop.locations["Main"])
        figures = sim.run(steps=40)
    finally:
        proc.stop()
    print(f"figures: {figures}")
    assert figures["max_overshoot"] <= 0
