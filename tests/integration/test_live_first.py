"""Live changes first (issue #10): a resync flood never delays a live stock
change, and a new value for a row that is backing off waits out its backoff."""
from __future__ import annotations

import time

import pytest

from harness import outbox

pytestmark = [pytest.mark.shopify, pytest.mark.sidecar]

FLOOD = 100_000


def test_a_live_change_behind_a_100k_full_sync_flood_lands_within_seconds(shop_factory, sidecar, db):
    shop = shop_factory(skus=["LIVE-1"])
    # The flood: 100,000 full-sync rows for SKUs the shop does not carry (each
    # batch costs a real lookup call, as a resync of a big catalogue does).
    rows = [(shop.channel_id, 1000 + k, f"BULK-{k}", shop.locations["Main"], 5) for k in range(FLOOD)]
    assert outbox.enqueue(db.dsn, rows, trigger="full_sync") == FLOOD
    proc = sidecar.start("--poll-interval", "0.2")
    proc.wait_for_log(r"batch rows=\d+", timeout=30)  # the flood is being drained
    shop.enqueue([(1, "LIVE-1", "Main", 7)])
    started = time.monotonic()
    outbox.wait_until(lambda: shop.available("LIVE-1") == 7, timeout=15,
                      message="the live change to reach the shop ahead of the flood")
    latency = time.monotonic() - started
    left = db.scalar("SELECT count(*) FROM stock_relay_outbox WHERE state = 'pending' AND trigger = 'full_sync'")
    print(f"live change landed in {latency:.2f} s with {left} full-sync rows still queued")
    assert left > FLOOD // 2, "the flood was drained first: the live row did not overtake it"
    assert proc.stop() == 0


def test_the_claim_reads_only_the_rows_it_takes_even_behind_a_flood(shop_factory, db):
    shop = shop_factory(skus=["LIVE-1"])
    rows = [(shop.channel_id, 1000 + k, f"BULK-{k}", shop.locations["Main"], 5) for k in range(FLOOD)]
    outbox.enqueue(db.dsn, rows, trigger="full_sync")
    shop.enqueue([(1, "LIVE-1", "Main", 7)])
    db.query("ANALYZE stock_relay_outbox")
    plan = "\n".join(r[0] for r in db.query(
        "EXPLAIN (ANALYZE, BUFFERS) SELECT p.id FROM stock_relay_outbox p "
        " WHERE p.state = 'pending' AND p.channel_id = %s AND p.kind = 'stock' "
        "   AND p.next_attempt_at <= (now() AT TIME ZONE 'UTC') "
        " ORDER BY p.priority DESC, p.next_attempt_at, p.id LIMIT 250 FOR UPDATE SKIP LOCKED",
        (shop.channel_id,)))
    assert "Sort" not in plan and "stock_relay_outbox_claim_priority" in plan, plan


def test_a_new_value_for_a_backing_off_row_keeps_its_backoff_and_newest_wins(shop_factory, db):
    shop = shop_factory(skus=["BO-1"])
    shop.enqueue([(1, "BO-1", "Main", 3)])
    # The row failed twice and waits 10 minutes before its third attempt.
    db.query("UPDATE stock_relay_outbox SET attempts = 2, error_code = 'transient', last_error = 'HTTP 503', "
             "next_attempt_at = (now() AT TIME ZONE 'UTC') + interval '10 minutes'")
    due_before = db.scalar("SELECT next_attempt_at FROM stock_relay_outbox")
    shop.enqueue([(1, "BO-1", "Main", 9)])
    [row] = outbox.rows(db.conn)
    assert row["state"] == "pending" and int(row["quantity"]) == 9
    assert row["attempts"] == 2 and row["next_attempt_at"] == due_before
    assert row["error_code"] == "transient"  # why it is still waiting


def test_a_live_change_lifts_a_pending_full_sync_row_and_a_resync_never_lowers_a_live_one(shop_factory, db):
    shop = shop_factory(skus=["P-1", "P-2"])
    shop.enqueue([(1, "P-1", "Main", 1)], trigger="full_sync")
    shop.enqueue([(2, "P-2", "Main", 1)], trigger="quant")
    assert dict(db.query("SELECT sku, priority FROM stock_relay_outbox")) == {"P-1": 0, "P-2": 1}
    shop.enqueue([(1, "P-1", "Main", 2)], trigger="quant")
    shop.enqueue([(2, "P-2", "Main", 2)], trigger="full_sync")
    assert dict(db.query("SELECT sku, priority FROM stock_relay_outbox")) == {"P-1": 1, "P-2": 1}
    # New triggers (added on the Odoo side later) are live; only bulk triggers are low.
    assert db.query("SELECT stock_relay_trigger_priority('full_sync'), stock_relay_trigger_priority('reconcile'), "
                    "stock_relay_trigger_priority('quant'), stock_relay_trigger_priority('bom')") == [(0, 0, 1, 1)]
