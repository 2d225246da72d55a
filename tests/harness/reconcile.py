"""Reconcile runs as the tests see them: request rows, waiting for a state,
the snapshot a run stored, the SKU cache."""
from __future__ import annotations

import time

FINISHED = ("read", "done", "failed", "cancelled")


def request(conn, channel_id: int, heal: bool = False, requested_by: str = "odoo") -> int:
    """A request row, as Odoo's button writes it."""
    with conn.cursor() as cur:
        cur.execute("INSERT INTO stock_relay_reconcile (channel_id, heal, requested_by) VALUES (%s, %s, %s) "
                    "RETURNING id", (channel_id, heal, requested_by))
        rid = cur.fetchone()[0]
    if not conn.autocommit:
        conn.commit()
    return rid


def run(conn, run_id: int) -> dict:
    with conn.cursor() as cur:
        cur.execute("SELECT * FROM stock_relay_reconcile WHERE id = %s", (run_id,))
        cols = [d[0] for d in cur.description]
        return dict(zip(cols, cur.fetchone()))


def wait_for(conn, run_id: int, states=FINISHED, timeout: float = 60.0) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        r = run(conn, run_id)
        if r["state"] in states:
            return r
        if time.monotonic() > deadline:
            raise AssertionError(f"reconcile {run_id} still {r['state']} after {timeout} s: {r}")
        time.sleep(0.1)


def snapshot(conn, run_id: int) -> dict:
    """{(remote_id, location_key): (sku, quantity as int or None, tracked, problem)}"""
    with conn.cursor() as cur:
        cur.execute("SELECT remote_id, location_key, sku, quantity, tracked, problem FROM stock_relay_snapshot "
                    "WHERE reconcile_id = %s", (run_id,))
        return {(r[0], r[1]): (r[2], None if r[3] is None else int(r[3]), r[4], r[5]) for r in cur.fetchall()}


def sku_cache(conn, channel_id: int) -> dict:
    """{sku: (remote_id, parent_id, product_id)}"""
    with conn.cursor() as cur:
        cur.execute("SELECT sku, remote_id, parent_id, product_id FROM stock_relay_sku_cache WHERE channel_id = %s",
                    (channel_id,))
        return {r[0]: (r[1], r[2], r[3]) for r in cur.fetchall()}


def cache_sku(conn, channel_id: int, sku: str, remote_id: str, parent_id: str = "", product_id=None):
    with conn.cursor() as cur:
        cur.execute("INSERT INTO stock_relay_sku_cache (channel_id, sku, remote_id, parent_id, product_id) "
                    "VALUES (%s, %s, %s, %s, %s)", (channel_id, sku, remote_id, parent_id, product_id))
    if not conn.autocommit:
        conn.commit()


def latest_id(conn, channel_id: int) -> int:
    with conn.cursor() as cur:
        cur.execute("SELECT max(id) FROM stock_relay_reconcile WHERE channel_id = %s", (channel_id,))
        return cur.fetchone()[0]
