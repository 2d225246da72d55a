"""stockrelayd under operational trouble: PostgreSQL restarts, channels that
appear, change or disappear while it runs, bad credentials, replicas racing
each other, stale SKU caches and flaky shop transports."""
from __future__ import annotations

import signal
import threading
import time

import psycopg2
import pytest

from harness import outbox

pytestmark = [pytest.mark.shopify, pytest.mark.sidecar]


def fresh_counts(db, channel_id=None):
    conn = psycopg2.connect(db.dsn)
    try:
        return outbox.counts(conn, channel_id)
    finally:
        conn.close()


def test_postgres_restart_is_survived_and_nothing_is_missed(pg_cluster, shop_factory, sidecar, db):
    shop = shop_factory(skus=["PG-1", "PG-2"])
    proc = sidecar.start("--poll-interval", "30")
    shop.enqueue([(1, "PG-1", "Main", 1)])
    outbox.wait_until(lambda: shop.available("PG-1") == 1, timeout=10, message="the first push")
    mark = len(proc.log())
    pg_cluster.restart()
    db.reconnect()
    # Written while the sidecar may still be reconnecting: its NOTIFY can be
    # lost, so only the drain-after-reconnect can deliver it (poll is 30 s).
    shop.enqueue([(1, "PG-1", "Main", 2), (2, "PG-2", "Main", 3)])
    outbox.wait_until(lambda: shop.available("PG-1") == 2 and shop.available("PG-2") == 3, timeout=20,
                      message="pushes after the restart")
    assert proc.alive()
    assert "reconnect" in proc.log()[mark:]
    assert proc.stop() == 0
    assert fresh_counts(db) == {"done": 3}


def test_channels_added_changed_and_disabled_while_running(shop_factory, sidecar, db, shopify, test_ca):
    proc = sidecar.start("--poll-interval", "0.5", "--reload-interval", "1")
    shop = shop_factory(skus=["LIVE-1"])
    shop.enqueue([(1, "LIVE-1", "Main", 4)])
    outbox.wait_until(lambda: shop.available("LIVE-1") == 4, timeout=15, message="the new channel's first push")
    outbox.update_channel(db.conn, shop.channel_id, enabled=False)
    proc.wait_for_log(rf"channel {shop.channel_id}: disabled or removed; stopping its worker", timeout=10)
    shop.enqueue([(1, "LIVE-1", "Main", 5)])
    time.sleep(2)
    assert shop.available("LIVE-1") == 4
    assert outbox.counts(db.conn, shop.channel_id).get("pending") == 1
    outbox.update_channel(db.conn, shop.channel_id, enabled=True)
    outbox.wait_until(lambda: shop.available("LIVE-1") == 5, timeout=15, message="the re-enabled channel")
    assert proc.stop() == 0


# Bad credentials: rows are held, never failed, and heal by themselves; see
# test_channel_health.py (test_refused_credentials_hold_rows_and_a_rotated_token_heals_without_a_button).


def test_two_replicas_share_the_work_without_regressions(shop_factory, sidecar, db):
    skus = [f"REP-{i}" for i in range(6)]
    shop = shop_factory(skus=skus, channel_kw={"batch_size": 2})
    shop.emu.config(latencyMs=15)
    a = sidecar.start("--poll-interval", "0.3", "--worker-id", "replica-a")
    b = sidecar.start("--poll-interval", "0.3", "--worker-id", "replica-b")
    last = 60
    conn = psycopg2.connect(db.dsn)
    for q in range(1, last + 1):
        outbox.enqueue(conn, [(shop.channel_id, k + 1, sku, shop.locations["Main"], q) for k, sku in enumerate(skus)])
    conn.close()
    outbox.wait_until(lambda: outbox.settled(db.conn), timeout=60, message="the replicas to drain")
    assert a.stop() == 0 and b.stop() == 0
    for sku in skus:
        applied = shop.history(sku)
        assert applied == sorted(applied) and applied[-1] == last, f"{sku}: {applied}"
    workers = {r[0] for r in db.query("SELECT DISTINCT leased_by FROM stock_relay_outbox WHERE state = 'done'")}
    assert workers <= {"replica-a", "replica-b"}
    assert outbox.counts(db.conn).get("failed", 0) == 0


def test_a_stale_sku_cache_entry_is_dropped_and_resolved_again(shop_factory, sidecar, db):
    shop = shop_factory(skus=["STALE-1"])
    db.query("INSERT INTO stock_relay_sku_cache (channel_id, sku, remote_id) VALUES (%s, 'STALE-1', "
             "'gid://shopify/InventoryItem/987654321')", (shop.channel_id,))
    shop.enqueue([(1, "STALE-1", "Main", 9)])
    deadline = time.monotonic() + 30
    while not outbox.settled(db.conn) and time.monotonic() < deadline:
        sidecar.drain_once()
        time.sleep(0.3)
    assert outbox.counts(db.conn) == {"done": 1}
    assert shop.available("STALE-1") == 9
    assert db.scalar("SELECT remote_id FROM stock_relay_sku_cache WHERE sku = 'STALE-1'") == shop.item("STALE-1")


@pytest.mark.parametrize("fault", [{"action": "garbage"}, {"action": "timeout"}, {"action": "close"},
                                   {"action": "http429", "retryAfter": "1"}])
def test_flaky_transport_is_retried(shop_factory, sidecar, db, fault):
    shop = shop_factory(skus=["FLAKY-1"], channel_kw={"timeout_ms": 1500})
    shop.emu.faults([dict(fault, operation="inventorySetQuantities", times=1)])
    proc = sidecar.start("--poll-interval", "0.3")
    shop.enqueue([(1, "FLAKY-1", "Main", 7)])
    outbox.wait_until(lambda: outbox.counts(db.conn) == {"done": 1}, timeout=30, message="the row after the fault")
    assert proc.stop() == 0
    assert shop.available("FLAKY-1") == 7
    assert shop.history("FLAKY-1")[-1] == 7


def test_a_push_slower_than_the_lease_keeps_its_rows(shop_factory, sidecar, db):
    shop = shop_factory(skus=["SLOW-1"])
    shop.emu.config(latencyMs=2500)  # every call outlasts the 1 s lease
    a = sidecar.start("--lease-seconds", "1", "--poll-interval", "0.2", "--worker-id", "slow-a")
    shop.enqueue([(1, "SLOW-1", "Main", 3)])
    outbox.wait_until(lambda: outbox.counts(db.conn).get("in_flight") == 1, timeout=10, message="the row in flight")
    b = sidecar.start("--lease-seconds", "1", "--poll-interval", "0.2", "--worker-id", "slow-b")
    outbox.wait_until(lambda: outbox.counts(db.conn) == {"done": 1}, timeout=40, message="the slow push")
    assert a.stop() == 0 and b.stop() == 0
    row = outbox.rows(db.conn)[0]
    # The heartbeat kept the lease: the other replica never took the row over.
    assert row["attempts"] == 1 and row["leased_by"] == "slow-a"
    assert "expired lease" not in b.log()
    assert shop.history("SLOW-1") == [3]


def test_drain_once_recovers_the_rows_of_a_dead_worker(shop_factory, sidecar, db):
    shop = shop_factory(skus=["DEAD-1"])
    shop.emu.config(latencyMs=3000)
    dead = sidecar.start("--lease-seconds", "1", "--poll-interval", "0.2")
    shop.enqueue([(1, "DEAD-1", "Main", 12)])
    outbox.wait_until(lambda: outbox.counts(db.conn).get("in_flight") == 1, timeout=10, message="the row in flight")
    dead.kill(signal.SIGKILL)
    dead.wait(10)
    shop.emu.config(latencyMs=0)
    time.sleep(1.5)  # past the lease
    r = sidecar.drain_once("--lease-seconds", "1")
    assert "drained rows=1 done=1" in r.stdout, r.stdout + r.stderr
    assert "came back after an expired lease" in r.stderr
    assert shop.available("DEAD-1") == 12
