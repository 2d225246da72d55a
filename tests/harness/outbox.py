"""Writes and reads the outbox exactly as the Odoo addon does: one
``SELECT stock_relay_enqueue(...)`` per transaction, under REPEATABLE READ
(Odoo's isolation level), replayed on serialization failures."""
from __future__ import annotations

import json
import time
from decimal import Decimal

import psycopg2
import psycopg2.extensions
import psycopg2.errors
import psycopg2.extras

ENQUEUE = ("SELECT stock_relay_enqueue(%s::integer[], %s::integer[], %s::varchar[], %s::varchar[], "
           "%s::numeric[], %s, 'stock')")


def add_channel(conn, *, name="Shop", channel_type="shopify", base_url="https://127.0.0.1:1", api_version=None,
                credentials=None, settings=None, batch_size=None, max_attempts=10, timeout_ms=5000, enabled=True,
                tls_verify=True, retry_window_hours=24) -> int:
    with conn.cursor() as cur:
        cur.execute(
            "INSERT INTO stock_relay_channel (name, channel_type, enabled, base_url, api_version, credentials, "
            "settings, batch_size, max_attempts, timeout_ms, tls_verify, retry_window_hours) "
            "VALUES (%s, %s, %s, %s, %s, %s::jsonb, %s::jsonb, %s, %s, %s, %s, %s) RETURNING id",
            (name, channel_type, enabled, base_url, api_version, json.dumps(credentials or {}),
             json.dumps(settings or {}), batch_size, max_attempts, timeout_ms, tls_verify, retry_window_hours))
        cid = cur.fetchone()[0]
    if not conn.autocommit:
        conn.commit()
    return cid


def update_channel(conn, channel_id: int, **fields):
    sets, values = [], []
    for k, v in fields.items():
        if k in ("credentials", "settings"):
            sets.append(f"{k} = %s::jsonb")
            v = json.dumps(v)
        else:
            sets.append(f"{k} = %s")
        values.append(v)
    sets.append("write_date = now() AT TIME ZONE 'UTC'")
    with conn.cursor() as cur:
        cur.execute(f"UPDATE stock_relay_channel SET {', '.join(sets)} WHERE id = %s", (*values, channel_id))
    if not conn.autocommit:
        conn.commit()


def _arrays(rows):
    cids, pids, skus, locs, qtys = [], [], [], [], []
    for r in rows:
        cid, pid, sku, loc, qty = r
        cids.append(cid)
        pids.append(pid)
        skus.append(sku)
        locs.append(loc)
        qtys.append(Decimal(str(qty)))
    return cids, pids, skus, locs, qtys


def enqueue_in(cur, rows, trigger="quant") -> int:
    """Enqueue inside the caller's open transaction (the caller commits or rolls back)."""
    cur.execute(ENQUEUE, (*_arrays(rows), trigger))
    return cur.fetchone()[0]


def enqueue(dsn_or_conn, rows, trigger="quant", retries=20) -> int:
    """One committed transaction enqueuing ``rows`` = [(channel_id, product_id, sku, location_key, quantity)]."""
    own = isinstance(dsn_or_conn, str)
    conn = psycopg2.connect(dsn_or_conn) if own else dsn_or_conn
    try:
        conn.autocommit = False
        conn.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ)
        for attempt in range(retries):
            try:
                with conn.cursor() as cur:
                    n = enqueue_in(cur, rows, trigger)
                conn.commit()
                return n
            except (psycopg2.errors.SerializationFailure, psycopg2.errors.DeadlockDetected):
                conn.rollback()
                time.sleep(0.005 * (attempt + 1))
        raise RuntimeError("enqueue kept failing with serialization errors")
    finally:
        if own:
            conn.close()
        else:
            conn.rollback()
            conn.autocommit = True


def rows(conn, channel_id=None, state=None, sku=None):
    sql = "SELECT * FROM stock_relay_outbox WHERE true"
    params = []
    if channel_id is not None:
        sql += " AND channel_id = %s"
        params.append(channel_id)
    if state is not None:
        sql += " AND state = %s"
        params.append(state)
    if sku is not None:
        sql += " AND sku = %s"
        params.append(sku)
    sql += " ORDER BY id"
    with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
        cur.execute(sql, params)
        return [dict(r) for r in cur.fetchall()]


def counts(conn, channel_id=None) -> dict:
    with conn.cursor() as cur:
        if channel_id is None:
            cur.execute("SELECT state, count(*) FROM stock_relay_outbox GROUP BY state")
        else:
            cur.execute("SELECT state, count(*) FROM stock_relay_outbox WHERE channel_id = %s GROUP BY state",
                        (channel_id,))
        return {s: n for s, n in cur.fetchall()}


def wait_until(predicate, timeout=20.0, interval=0.05, message="condition"):
    """Polls ``predicate`` until it returns a truthy value; returns that value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {message}")
        time.sleep(interval)


def settled(conn, channel_id=None) -> bool:
    """No row pending or in flight."""
    c = counts(conn, channel_id)
    return c.get("pending", 0) == 0 and c.get("in_flight", 0) == 0
