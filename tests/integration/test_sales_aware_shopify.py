"""Sales-aware pushes on Shopify (issue 13), against the Shopify emulator: the
real stockrelayd sends the value it set last as the compare value
(changeFromQuantity from 2026-01, compareQuantity before); when a shop sale
changed the level, Shopify refuses (…_STALE), the daemon reads the level,
holds the sold units back and sets again against the level it read. Shop
sales are orders created in the emulator (its /_control/orders commits the
units at once, as Shopify does)."""
from __future__ import annotations

import os
import random
import re

import pytest

from harness import outbox
from harness.sales_sim import SalesSim

pytestmark = [pytest.mark.sidecar, pytest.mark.shopify]


class ShopifySales:
    concurrent_sales = True  # compare-and-set: a sale may land while a push runs

    def __init__(self, shop):
        self.shop = shop

    def level(self, sku):
        return int(self.shop.available(sku))

    def sell(self, sku, qty):
        return self.shop.emu.control("POST", "orders", {"lineItems": [{"sku": sku, "quantity": qty, "price": "1.00"}]})["num"]


@pytest.mark.parametrize("version,field", [("2025-10", "compareQuantity"), ("2026-04", "changeFromQuantity")])
def test_a_sale_between_two_pushes_is_a_compare_conflict_resolved_once(shop_factory, sidecar, db, version, field):
    shop = shop_factory(skus=["CAS-1"], channel_kw={"api_version": version})
    shop.enqueue([(1, "CAS-1", "Main", 10)])
    assert "done=1" in sidecar.drain_once().stdout
    ShopifySales(shop).sell("CAS-1", 3)
    assert shop.available("CAS-1") == 7
    shop.enqueue([(1, "CAS-1", "Main", 12)])           # Odoo has not seen the sale
    r = sidecar.drain_once()
    assert "done=1" in r.stdout, r.stdout + r.stderr
    assert shop.available("CAS-1") == 9                # 12 - 3 held back
    assert "the shop holds 7 instead of our last 10; setting 9 against it" in r.stdout + r.stderr
    sets = [q for q in shop.emu.requests() if (q["operationName"] or "").startswith("SetQty")]
    stale = "COMPARE_QUANTITY_STALE" if field == "compareQuantity" else "CHANGE_FROM_QUANTITY_STALE"
    assert [q["errorCodes"] for q in sets[-2:]] == [[stale], []]
    row = outbox.rows(db.conn, state="done")[-1]
    assert f'"{field}":7' in row["request_excerpt"], row["request_excerpt"]  # set against the level read
    assert '"quantity":9' in row["request_excerpt"]


def test_randomized_sales_and_stock_changes_never_oversell(shop_factory, sidecar, db):
    seed = int(os.environ.get("STOCKRELAY_SALES_SEED") or random.randrange(1 << 30))
    print(f"\nsales-aware randomized test (Shopify emulator, 2026-04): seed {seed}")
    skus = ["RSH-1", "RSH-2", "RSH-3"]
    shop = shop_factory(skus=skus, channel_kw={"api_version": "2026-04"})
    proc = sidecar.start("--poll-interval", "0.2")
    try:
        sim = SalesSim(db, shop.channel_id, ShopifySales(shop), skus, seed=seed,
                       location_key=shop.locations["Main"])
        figures = sim.run(steps=120)
    finally:
        proc.stop()
    figures["compare_conflicts_resolved"] = len(re.findall("instead of our last", proc.log()))
    print(f"figures: {figures}")
    assert figures["max_overshoot"] <= 0
