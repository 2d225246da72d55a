"""The drain's fast path (issue 17): the ack of one batch claims the next in
the same transaction, and the daemon profiles each batch by phase. Against
the Shopify emulator (its latency setting holds a batch in flight on demand)."""
from __future__ import annotations

import re

import pytest

from harness import outbox

pytestmark = [pytest.mark.shopify, pytest.mark.sidecar]


def phases(stderr):
    m = re.search(r"drain phases: batches=(\d+) rows=(\d+) claimed_with_ack=(\d+) wall=[\d.]+ s; per batch:(.*)", stderr)
    assert m, stderr
    return int(m.group(1)), int(m.group(2)), int(m.group(3)), m.group(4)


def test_drain_claims_each_next_batch_with_the_previous_ack_and_profiles_its_phases(shop_factory, sidecar, db):
    skus = [f"D-{i}" for i in range(10)]
    shop = shop_factory(skus=skus, channel_kw={"batch_size": 2})
    shop.enqueue([(i + 1, s, "Main", 10 + i) for i, s in enumerate(skus)])
    r = sidecar.drain_once()
    assert "drained rows=10 done=10 failed=0 retried=0" in r.stdout, r.stdout + r.stderr
    assert [shop.available(s) for s in skus] == [10 + i for i in range(10)]
    batches, rows, ahead, per_batch = phases(r.stderr)
    # 5 batches of 2; every one after the first came with the previous ack.
    assert (batches, rows, ahead) == (5, 10, 4)
    for phase in ("claim", "resolve", "push", "decide", "ack", "next_claim", "commit", "metrics"):
        assert re.search(rf" {phase}=[\d.]+ ms \(\d+ %\)", per_batch), per_batch
    assert outbox.counts(db.conn) == {"done": 10}
    assert all(x["attempts"] == 1 for x in outbox.rows(db.conn))


def test_the_unfolded_path_stays_available_for_measuring(shop_factory, sidecar, db):
    shop = shop_factory(skus=["U-1", "U-2", "U-3"], channel_kw={"batch_size": 1})
    shop.enqueue([(1, "U-1", "Main", 1), (2, "U-2", "Main", 2), (3, "U-3", "Main", 3)])
    env = sidecar.env()
    env["STOCKRELAY_FOLD_CLAIM"] = "0"
    r = sidecar.cmd("drain", "--once", env=env)
    assert r.returncode == 0, r.stderr
    assert phases(r.stderr)[:3] == (3, 3, 0)
    assert [shop.available(s) for s in ("U-1", "U-2", "U-3")] == [1, 2, 3]


def test_newest_value_wins_while_the_next_batch_rides_on_the_ack(shop_factory, sidecar, db):
    skus = ["N-1", "N-2", "N-3", "N-4"]
    shop = shop_factory(skus=skus, channel_kw={"batch_size": 2})
    shop.emu.config(latencyMs=1500)
    proc = sidecar.start("--poll-interval", "0.2")
    shop.enqueue([(i + 1, s, "Main", 1) for i, s in enumerate(skus)])
    outbox.wait_until(lambda: outbox.counts(db.conn).get("in_flight") == 2, timeout=10, message="a batch in flight")
    # Newer values while one batch is in flight: one for a key in flight, one for a key still pending.
    shop.enqueue([(skus.index(s) + 1, s, "Main", 50 + skus.index(s)) for s in skus])
    outbox.wait_until(lambda: outbox.settled(db.conn), timeout=30, message="everything pushed")
    assert proc.stop() == 0, proc.log()
    assert [shop.available(s) for s in skus] == [50, 51, 52, 53]
    for s in skus:
        hist = shop.history(s)
        assert hist[-1] == 50 + skus.index(s) and hist == sorted(hist), (s, hist)  # never an older value last
    rows = outbox.rows(db.conn)
    assert {x["state"] for x in rows} == {"done"}
    newest = {s: max(x["version"] for x in rows if x["sku"] == s) for s in skus}
    assert all(int(x["quantity"]) == 50 + skus.index(x["sku"]) for x in rows if x["version"] == newest[x["sku"]])
