"""Reconcile snapshot rate of the REST shops (scripts/bench --only reconcile_rest).

`stockrelayd run` takes a reconcile request and reads the whole shop into
stock_relay_snapshot: 10,000 products on the WooCommerce emulator (pages of
100) and 10,000 inventory items with one level each on a real Medusa 2.21
(pages of 500). The figure is items/s from the request row to state 'read'
(pickup, every page and the SKU cache refresh included), with the API calls
the run used. --quick reads 1,000 of each.
"""
from __future__ import annotations

import contextlib
import os
import time

from env import log, median, outbox
from harness import reconcile

WOO_KEY = {"consumer_key": "ck_" + "4d4d" * 10, "consumer_secret": "cs_" + "6e6e" * 10, "permissions": "read"}


def timed_reads(env, a, db, cid, name, n, row, figure):
    sc = env.sidecar(db, name)
    daemon = sc.start()
    rates, calls = [], []
    try:
        for run in range(a.runs):
            t = time.monotonic()
            rid = reconcile.request(db.conn, cid, requested_by="bench")
            r = reconcile.wait_for(db.conn, rid, timeout=900)
            secs = time.monotonic() - t
            if r["state"] != "read" or r["items_read"] < n:
                raise RuntimeError(f"{name}: run {rid} {r['state']} with {r['items_read']} items: {r['last_error']}")
            rates.append(r["items_read"] / secs)
            calls.append(r["api_calls"])
            log(f"{name} reconcile run {run + 1}: {r['items_read']} items in {secs:.2f} s, {r['api_calls']} API calls")
    finally:
        daemon.stop()
    row(figure, f"{median(rates):,.0f} items/s", "",
        f"{n:,} items, {median(calls):.0f} API calls per read; runs: " + ", ".join(f"{x:,.0f}" for x in rates))


def woo(env, a, row):
    from emulators.woocommerce import WooEmulator
    n = 1000 if a.quick else 10_000
    emu = WooEmulator(tls=env.ca, log_path=str(env.tmp / "woo-reconcile.log"))
    emu.start()
    try:
        emu.reset(everything=True)
        emu.configure(keys=[WOO_KEY])
        for i in range(0, n, 1000):
            emu.seed([{"name": f"P{k}", "sku": f"WR-{k:05d}", "manage_stock": True, "stock_quantity": k % 50}
                      for k in range(i, min(n, i + 1000))])
        db = env.database("bench_reconcile_woo")
        cid = outbox.add_channel(db.conn, name="Woo", channel_type="woocommerce", base_url=emu.base_url,
                                 credentials={k: WOO_KEY[k] for k in ("consumer_key", "consumer_secret")},
                                 settings={"ca_file": env.ca["ca"]}, timeout_ms=30000)
        try:
            timed_reads(env, a, db, cid, "woo", n, row, "8. Reconcile snapshot, WooCommerce emulator")
        finally:
            env.drop(db)
    finally:
        emu.stop()


def medusa(env, a, row):
    from emulators.medusa import MedusaServer, medusa_available
    ok, why = medusa_available()
    if not ok:
        row("8. Reconcile snapshot, Medusa 2.21 (real)", "SKIPPED", "", why)
        return
    n = 1000 if a.quick else 10_000
    srv = MedusaServer().ensure_ready()
    try:
        srv.start(f"bench_reconcile_{os.getpid()}")
        key = srv.create_secret_key("stockrelay-bench-reconcile")
        t = time.monotonic()
        sloc = srv.create_stock_location("Reconcile WH")
        for i in range(0, n, 100):
            items = srv.create_product(f"Reconcile bench {i // 100}", [f"MRB-{k:05d}" for k in range(i, min(n, i + 100))])
            srv.admin("POST", "/admin/inventory-items/location-levels/batch", {"create": [
                {"inventory_item_id": iid, "location_id": sloc, "stocked_quantity": 5} for iid in items.values()]})
        log(f"medusa reconcile: created {n} items with levels in {time.monotonic() - t:.0f} s")
        db = env.database("bench_reconcile_medusa")
        cid = outbox.add_channel(db.conn, name="Medusa", channel_type="medusa", base_url=srv.base_url,
                                 credentials={"api_key": key}, timeout_ms=60000)
        try:
            timed_reads(env, a, db, cid, "medusa", n, row, "8. Reconcile snapshot, Medusa 2.21 (real)")
        finally:
            env.drop(db)
    finally:
        with contextlib.suppress(Exception):
            srv.stop()
        with contextlib.suppress(Exception):
            srv.pg_stop()


def fig(env, a, row):
    woo(env, a, row)
    medusa(env, a, row)
