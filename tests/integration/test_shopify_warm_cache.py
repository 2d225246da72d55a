"""A cold resync warms the SKU cache from one inventory read instead of a
search per 50 SKUs (sidecar/src/warm_cache.hpp), against the Shopify emulator
and the real stockrelayd."""
from __future__ import annotations

import pytest

from conftest import SHOPIFY_TOKEN
from harness import outbox

pytestmark = [pytest.mark.shopify, pytest.mark.sidecar]

N = 600  # per channel: three batches of 250 would each search 50 SKUs at a time without a warm-up


def lookups(emu, since):
    return [r for r in emu.requests() if r["seq"] > since and r["operationName"] == "ResolveSkus"]


def add(db, emu, test_ca, name, **settings):
    return outbox.add_channel(db.conn, name=name, channel_type="shopify", base_url=emu.base_url, api_version="2025-10",
                              credentials={"access_token": SHOPIFY_TOKEN}, batch_size=250, timeout_ms=5000,
                              settings={"ca_file": test_ca["ca"], "inventory_read": "bulk", **settings})


def test_a_cold_resync_after_a_warm_up_lands_every_item_with_far_fewer_lookups(shopify, test_ca, db, sidecar):
    products = [{"title": f"P{i}", "variants": [{"sku": f"W-{i:04d}", "levels": {"Main": 0}}]} for i in range(2 * N)]
    products += [{"title": f"dup {k}", "variants": [{"sku": "W-DUP", "levels": {"Main": 0}}]} for k in range(2)]
    seeded = shopify.seed(locations=[{"name": "Main"}], products=products)
    main = seeded["locations"]["Main"]
    cold = add(db, shopify, test_ca, "cold", warm_cache_min_missing=0)  # today's behaviour: lookups only
    warm = add(db, shopify, test_ca, "warm")
    outbox.enqueue(db.dsn, [(cold, i + 1, f"W-{i:04d}", main, i % 50 + 1) for i in range(N)])
    seq = max((r["seq"] for r in shopify.requests()), default=0)
    r = sidecar.drain_once(timeout=240)
    assert outbox.counts(db.conn, cold) == {"done": N}, r.stdout + r.stderr
    cold_lookups = len(lookups(shopify, seq))

    rows = [(warm, 10_000 + i, f"W-{i:04d}", main, i % 40 + 2) for i in range(N, 2 * N)]
    rows.append((warm, 99_999, "W-DUP", main, 5))
    outbox.enqueue(db.dsn, rows)
    seq = max(r["seq"] for r in shopify.requests())
    r = sidecar.drain_once(timeout=240)
    out = r.stdout + r.stderr
    assert outbox.counts(db.conn, warm) == {"done": N, "failed": 1}, out
    warm_lookups = len(lookups(shopify, seq))
    runs = [x for x in shopify.requests() if x["seq"] > seq and x["operationName"] == "BulkInventory"]
    assert len(runs) == 1, "one shop read warms the cache for every batch"
    # Only the duplicate SKU is still searched (two pages: its second item spills onto the next one).
    assert cold_lookups >= N // 50 and warm_lookups <= 2, (cold_lookups, warm_lookups)
    assert "SKU cache warm-up" in out
    state = shopify.state()["available"]
    assert all(state[f"W-{i:04d}"][main] == i % 40 + 2 for i in range(N, 2 * N))
    # The duplicate is still refused as before; the warm-up did not pick one of its items.
    dup = outbox.rows(db.conn, warm, sku="W-DUP")[0]
    assert dup["state"] == "failed" and dup["error_code"] == "duplicate_sku"
    assert not db.query("SELECT 1 FROM stock_relay_sku_cache WHERE channel_id = %s AND sku = 'W-DUP'", (warm,))
    # Ownership is recorded by the pushes that landed, never by the warm-up itself.
    owners = dict(db.query("SELECT sku, product_id FROM stock_relay_sku_cache WHERE channel_id = %s AND sku = ANY(%s)",
                           (warm, [f"W-{i:04d}" for i in range(N, 2 * N)])))
    assert all(owners[f"W-{i:04d}"] == 10_000 + i for i in range(N, 2 * N))
    unowned = db.query("SELECT count(*) FROM stock_relay_sku_cache WHERE channel_id = %s AND product_id IS NULL "
                       "AND sku LIKE 'W-%%'", (warm,))[0][0]
    assert unowned == N, "SKUs cached by the warm-up but never pushed have no owner"
