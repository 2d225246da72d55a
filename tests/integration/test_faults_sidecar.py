"""stockrelayd's own failures: SIGKILL in the middle of pushes, again and
again; PostgreSQL restarting under it with no NOTIFY to rely on; two
replicas on one database (no key ever in flight twice, work adds up)."""
from __future__ import annotations

import signal
import threading
import time

import psycopg2
import pytest

from harness import outbox

pytestmark = [pytest.mark.shopify, pytest.mark.sidecar]


def fresh_counts(dsn):
    conn = psycopg2.connect(dsn)
    try:
        return outbox.counts(conn)
    finally:
        conn.close()


@pytest.mark.parametrize("batches_in_flight", [1, 4])  # issue 17: every lane's rows come back
def test_repeated_kill_9_mid_push_loses_nothing_and_leaves_nothing_in_flight(shop_factory, sidecar, db,
                                                                             batches_in_flight):
    skus = ["KK-1", "KK-2", "KK-3"]
    # With lanes, one row per batch: three batches in flight when the kill comes.
    shop = shop_factory(skus=skus, channel_kw={"batch_size": 1} if batches_in_flight > 1 else None)
    outbox.update_channel(db.conn, shop.channel_id, batches_in_flight=batches_in_flight)
    shop.emu.config(latencyMs=1500)  # every push is still on the wire when the kill comes
    args = ("--lease-seconds", "2", "--poll-interval", "0.2")
    proc = sidecar.start(*args)
    kills_in_flight = 0
    for rnd in range(1, 5):
        shop.enqueue([(k + 1, sku, "Main", rnd * 10 + k) for k, sku in enumerate(skus)])
        # This round's rows (not the last round's, still leased by the dead worker).
        outbox.wait_until(lambda: db.scalar("SELECT count(*) FROM stock_relay_outbox WHERE state = 'in_flight' "
                                            "AND quantity >= %s", (rnd * 10,)) == len(skus), timeout=15,
                          message=f"round {rnd}'s push in flight")
        time.sleep(0.3)
        kills_in_flight += 1
        proc.kill(signal.SIGKILL)
        proc.wait(10)
        proc = sidecar.start(*args)
    shop.emu.config(latencyMs=0)
    outbox.wait_until(lambda: outbox.settled(db.conn), timeout=40, message="the outbox to drain after the kills")
    assert proc.stop() == 0
    counts = outbox.counts(db.conn)
    assert counts.get("in_flight", 0) == 0 and counts.get("pending", 0) == 0 and counts.get("failed", 0) == 0
    for k, sku in enumerate(skus):
        assert shop.available(sku) == 40 + k
        h = shop.history(sku)
        assert h == sorted(h), f"{sku} regressed: {h}"
    logs = "".join(p.log() for p in sidecar.processes)
    assert "came back after an expired lease" in logs
    # The last round's killed push came back and was sent once more (absolute
    # values make that safe); the earlier rounds' were superseded by newer values.
    by_state = {}
    for r in outbox.rows(db.conn):
        by_state.setdefault(r["state"], []).append(r)
    assert sorted(int(r["quantity"]) for r in by_state["done"]) == [40, 41, 42]
    assert all(r["attempts"] == 2 for r in by_state["done"])
    assert len(by_state["superseded"]) == 9
    assert kills_in_flight == 4


def test_rows_committed_while_postgres_restarts_are_caught_up_without_notify(pg_cluster, shop_factory, sidecar, db):
    shop = shop_factory(skus=["NN-1", "NN-2", "NN-3"])
    # No NOTIFY at all, and a poll interval far beyond the test: rows committed
    # while the sidecar sleeps are only delivered by the catch-up drain that
    # follows its reconnect after the restart.
    db.query("ALTER TABLE stock_relay_outbox DISABLE TRIGGER stock_relay_outbox_notify_ins")
    db.query("ALTER TABLE stock_relay_outbox DISABLE TRIGGER stock_relay_outbox_notify_upd")
    proc = sidecar.start("--poll-interval", "120", "--reload-interval", "120")
    time.sleep(1.0)  # the worker did its start-up drain and now sleeps for 120 s
    shop.enqueue([(1, "NN-1", "Main", 5)])
    time.sleep(0.5)
    shop.enqueue([(2, "NN-2", "Main", 6), (3, "NN-3", "Main", 7)])
    time.sleep(1.0)
    # No NOTIFY, no push: the sidecar does not know these rows exist.
    assert shop.available("NN-1") == 0 and outbox.counts(db.conn) == {"pending": 3}
    mark = len(proc.log())
    pg_cluster.restart()
    db.reconnect()
    started = time.monotonic()
    try:
        outbox.wait_until(lambda: [shop.available(s) for s in ("NN-1", "NN-2", "NN-3")] == [5, 6, 7], timeout=30,
                          message="the catch-up after the restart")
    except AssertionError as e:
        raise AssertionError(f"{e}; outbox {fresh_counts(db.dsn)}; sidecar log:\n{proc.log()}") from None
    assert time.monotonic() - started < 20  # far below the 120 s poll
    assert proc.alive()
    assert "reconnected to PostgreSQL" in proc.log()[mark:]
    assert proc.stop() == 0
    assert fresh_counts(db.dsn) == {"done": 3}


def _drain_time(db, shop, sidecar, skus, qty, workers):
    shop.enqueue([(k + 1, sku, "Main", qty) for k, sku in enumerate(skus)])
    started = time.monotonic()
    procs = [sidecar.start("--poll-interval", "0.2", "--worker-id", f"{w}-{qty}") for w in workers]
    outbox.wait_until(lambda: outbox.settled(db.conn), timeout=90, interval=0.05, message="the drain")
    elapsed = time.monotonic() - started
    for p in procs:
        assert p.stop() == 0
    return elapsed


def test_two_replicas_never_hold_a_key_twice_and_their_throughput_adds_up(shop_factory, sidecar, db):
    skus = [f"TW-{i:03d}" for i in range(80)]
    shop = shop_factory(skus=skus, channel_kw={"batch_size": 4})
    _drain_time(db, shop, sidecar, skus, 1, ["warm-up"])  # SKU lookups out of the way
    shop.emu.config(latencyMs=150)  # the shop, not the database, is the bottleneck
    single = _drain_time(db, shop, sidecar, skus, 2, ["solo"])

    doubled, stop, errors = [], threading.Event(), []
    samples = [0]

    def sampler():
        conn = psycopg2.connect(db.dsn)
        conn.autocommit = True
        try:
            with conn.cursor() as cur:
                while not stop.is_set():
                    # Without the unique index as a safety net: count it ourselves.
                    cur.execute("SELECT product_id, location_key, array_agg(leased_by), count(*) "
                                "FROM stock_relay_outbox WHERE state = 'in_flight' "
                                "GROUP BY channel_id, kind, product_id, location_key HAVING count(*) > 1")
                    doubled.extend(cur.fetchall())
                    samples[0] += 1
                    time.sleep(0.01)
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)
        finally:
            conn.close()

    t = threading.Thread(target=sampler)
    t.start()
    try:
        pair = _drain_time(db, shop, sidecar, skus, 3, ["rep-a", "rep-b"])
    finally:
        stop.set()
        t.join(10)
    assert not errors, errors
    assert samples[0] > 20 and doubled == [], doubled[:5]
    # Both replicas did a fair share, and together they were clearly faster.
    share = dict(db.query("SELECT leased_by, count(*) FROM stock_relay_outbox WHERE quantity = 3 GROUP BY 1"))
    assert set(share) == {"rep-a-3", "rep-b-3"} and min(share.values()) >= len(skus) // 4, share
    print(f"\n80 rows, batch 4, 150 ms per call: one replica {single:.1f}s, two replicas {pair:.1f}s")
    assert pair < single * 0.75, (single, pair)
    for sku in skus:
        assert shop.available(sku) == 3
        assert shop.history(sku) == [1, 2, 3]
