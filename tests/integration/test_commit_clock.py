"""Contract v6 [commit-clock] (issue 17): a capture that meets the commit clock defers its keys to
stock_relay_recheck instead of failing the user's transaction, and the newest row of every key
still carries the quantity computed from all committed stock once the rechecks ran.

Real PostgreSQL, concurrent REPEATABLE READ connections (Odoo's isolation). "Stock" here is an
insert-only table of moves, so that the only conflicts are the contract's own."""
from __future__ import annotations

import random
import threading
from decimal import Decimal

import psycopg2
import psycopg2.errors
import pytest

from harness import outbox

pytestmark = pytest.mark.sidecar

ARGS = "%s::int[], %s::int[], %s::varchar[], %s::varchar[], %s::numeric[], %s, 'stock'"
DEFER = f"SELECT stock_relay_enqueue_or_defer({ARGS})"
STRICT = f"SELECT stock_relay_enqueue({ARGS})"


def rr(db):
    conn = db.connect(autocommit=False)
    conn.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ)
    return conn


def call(cur, sql, cid, pid, qty, trigger="quant"):
    cur.execute(sql, ([cid], [pid], [f"SKU-{pid}"], ["L"], [Decimal(qty)], trigger))
    return cur.fetchone()[0]


def newest(db, cid):
    """{product_id: quantity of the key's newest row}"""
    return {p: float(q) for p, q in db.query(
        "SELECT DISTINCT ON (product_id) product_id, quantity FROM stock_relay_outbox "
        "WHERE channel_id = %s ORDER BY product_id, version DESC", [cid])}


def test_a_conflicting_capture_commits_and_defers_its_stale_keys(db):
    cid = outbox.add_channel(db.conn)
    late, strict = rr(db), rr(db)
    with late.cursor() as b, strict.cursor() as s:
        b.execute("SELECT 1")  # both snapshots are taken before the other transaction commits
        s.execute("SELECT 1")
        outbox.enqueue(db.dsn, [(cid, 7, "SKU-7", "L", 5)])
        db.query("UPDATE stock_relay_outbox SET state = 'in_flight'")  # the daemon claimed it
        # Before v6 the capture called the strict function: the user's transaction failed.
        with pytest.raises(psycopg2.errors.SerializationFailure):
            call(s, STRICT, cid, 7, 2)
        strict.rollback()
        # Now: no error, nothing computed from the stale snapshot is written, the key is recorded.
        assert call(b, DEFER, cid, 7, 2) == -1
        late.commit()
    assert [(float(r["quantity"]), r["state"]) for r in outbox.rows(db.conn, cid)] == [(5.0, "in_flight")]
    assert db.query("SELECT channel_id, product_id, location_key, trigger FROM stock_relay_recheck") == \
        [(cid, 7, "L", "quant")]


def test_without_a_concurrent_publisher_the_capture_writes_its_row(db):
    cid = outbox.add_channel(db.conn)
    conn = rr(db)
    with conn.cursor() as cur:
        assert call(cur, DEFER, cid, 7, 3) == 1
    conn.commit()
    assert newest(db, cid) == {7: 3.0}
    assert db.scalar("SELECT count(*) FROM stock_relay_recheck") == 0


def test_a_rolled_back_deferred_capture_leaves_nothing(db):
    cid = outbox.add_channel(db.conn)
    late = rr(db)
    with late.cursor() as b:
        b.execute("SELECT 1")
        outbox.enqueue(db.dsn, [(cid, 7, "SKU-7", "L", 5)])
        assert call(b, DEFER, cid, 7, 2) == -1
    late.rollback()
    assert db.scalar("SELECT count(*) FROM stock_relay_recheck") == 0
    assert newest(db, cid) == {7: 5.0}


def recheck(conn, cid):
    """What the addon does after a deferred commit: recompute the recorded keys from a fresh
    snapshot through the strict function (a conflict here is retried, it is a small transaction)."""
    for _attempt in range(50):
        try:
            with conn.cursor() as cur:
                cur.execute("DELETE FROM stock_relay_recheck WHERE id IN (SELECT id FROM stock_relay_recheck "
                            "FOR UPDATE SKIP LOCKED) RETURNING product_id")
                for pid in sorted({p for (p,) in cur.fetchall()}):
                    cur.execute("SELECT coalesce(sum(delta), 0) FROM moves WHERE product_id = %s", [pid])
                    call(cur, STRICT, cid, pid, cur.fetchone()[0], "quant")
            conn.commit()
            return
        except (psycopg2.errors.SerializationFailure, psycopg2.errors.DeadlockDetected):
            conn.rollback()
    raise AssertionError("the recheck kept conflicting")


def test_a_storm_of_overlapping_captures_never_fails_and_ends_with_one_correct_value_per_key(db):
    cid = outbox.add_channel(db.conn)
    db.query("CREATE TABLE moves (product_id int NOT NULL, delta int NOT NULL)")
    products, errors, deferred = [1, 2, 3], [], []

    def user(seed):
        rnd, conn, daemon = random.Random(seed), rr(db), db.connect()
        try:
            for _ in range(25):
                mine = rnd.sample(products, 2)
                with conn.cursor() as cur:
                    qty = {}
                    for pid in sorted(mine):  # the stock move, then precommit computes from the snapshot
                        cur.execute("INSERT INTO moves VALUES (%s, %s)", [pid, rnd.randint(-3, 5)])
                        cur.execute("SELECT sum(delta) FROM moves WHERE product_id = %s", [pid])
                        qty[pid] = cur.fetchone()[0]
                    pids = sorted(qty)
                    cur.execute(DEFER, ([cid] * 2, pids, [f"SKU-{p}" for p in pids], ["L"] * 2,
                                        [Decimal(qty[p]) for p in pids], "quant"))
                    n = cur.fetchone()[0]
                conn.commit()  # never a serialization failure: the user's transaction always commits
                if n == -1:
                    deferred.append(seed)
                    recheck(conn, cid)
                if rnd.random() < 0.3:  # the daemon claims rows now and then (a new pending row follows)
                    daemon.cursor().execute("UPDATE stock_relay_outbox SET state = 'done' "
                                                  "WHERE state = 'pending' AND channel_id = %s", [cid])
        except Exception as e:  # noqa: BLE001 -- reported below
            errors.append(repr(e))
            conn.rollback()

    threads = [threading.Thread(target=user, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert deferred, "the storm must have produced conflicts, or it proves nothing"
    assert db.scalar("SELECT count(*) FROM stock_relay_recheck") == 0
    committed = {p: float(q) for p, q in db.query("SELECT product_id, sum(delta) FROM moves GROUP BY 1")}
    assert newest(db, cid) == committed
    assert db.scalar("SELECT count(*) FROM (SELECT 1 FROM stock_relay_outbox WHERE state = 'pending' "
                     "GROUP BY product_id HAVING count(*) > 1) d") == 0


def test_a_transaction_that_confirmed_a_shop_order_is_never_deferred(db):
    """The v4 rule (a number computed in a transaction started at or after absorbed_at contains the
    order) needs the confirming transaction to serialize: its conflict still reaches Odoo."""
    cid = outbox.add_channel(db.conn)
    db.query("INSERT INTO stock_relay_inbox (channel_id, shop_order_id, topic, event_key, payload, received_via)"
             " VALUES (%s, 'o1', 'order_created', 'o1:1', '{}', 'webhook')", [cid])
    late = rr(db)
    with late.cursor() as b:
        b.execute("SELECT 1")
        outbox.enqueue(db.dsn, [(cid, 7, "SKU-7", "L", 5)])
        b.execute("UPDATE stock_relay_inbox SET state = 'done'")  # the order is confirmed here
        with pytest.raises(psycopg2.errors.SerializationFailure):
            call(b, DEFER, cid, 7, 2)
    late.rollback()
    assert db.scalar("SELECT count(*) FROM stock_relay_recheck") == 0
