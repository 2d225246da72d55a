"""Several batches in flight per channel (scripts/bench --only inflight; issue 17).

Items/s for 1, 2, 4 and 8 batches in flight (the channel's batches_in_flight),
against a REAL WooCommerce 7.9 site and a REAL Medusa 2.21, with the daemon
(`stockrelayd run`: `drain --once` drives one batch at a time).

WooCommerce: the site scripts/woo-test leaves running with STOCKRELAY_WOO_KEEP=1
(STOCKRELAY_WOO_REAL, STOCKRELAY_WOO_REAL_KEYS, STOCKRELAY_WOO_REAL_STATE; see
tests/emulators/woo_real.py), served by PHP's built-in server with
PHP_CLI_SERVER_WORKERS workers (scripts/woo-test: STOCKRELAY_WOO_PHP_WORKERS,
default 4): without several PHP workers a second batch only queues. It DELETES
every product of that site and seeds its own. Without a site the WooCommerce
rows are skipped with the reason.

Per shop: one untimed round fills the SKU cache; then, per setting, the same
items get a new, higher quantity (never a presumed sale), the daemon is started
for that channel and the time from the enqueue to the last row done is taken.
"""
from __future__ import annotations

import contextlib
import os
import time

from env import clear_outbox, enqueue_bulk, log, median, outbox
from harness.sidecar import Sidecar

SETTINGS = [1, 2, 4, 8]


def timed_round(db, sc, cid, rows, timeout):
    """Starts the daemon, enqueues `rows`, returns seconds until every row is done."""
    proc = sc.start("--channel", str(cid), "--poll-interval", "0.5")
    try:
        t0 = time.monotonic()
        enqueue_bulk(db, rows)
        while outbox.counts(db.conn, cid).get("done", 0) < len(rows):
            if time.monotonic() - t0 > timeout:
                raise RuntimeError(f"not drained in {timeout} s: {outbox.counts(db.conn, cid)}")
            c = outbox.counts(db.conn, cid)
            if c.get("failed", 0):
                raise RuntimeError(f"rows failed: {c}\n{proc.log()[-2000:]}")
            time.sleep(0.02)
        return time.monotonic() - t0
    finally:
        proc.stop()


def measure(env, a, db, cid, skus, location, name, row, batch):
    sc = Sidecar(db.dsn, env.tmp / f"inflight-{name.split()[0].lower()}")
    outbox.update_channel(db.conn, cid, batch_size=batch)
    clear_outbox(db)
    qty = 1
    timed_round(db, sc, cid, [(cid, i + 1, s, location, qty) for i, s in enumerate(skus)], 1800)
    rates = {}
    for n in SETTINGS:
        outbox.update_channel(db.conn, cid, batches_in_flight=n)
        runs = []
        for _ in range(a.runs):
            qty += 1
            clear_outbox(db)
            secs = timed_round(db, sc, cid, [(cid, i + 1, s, location, qty) for i, s in enumerate(skus)], 1800)
            runs.append(len(skus) / secs)
            log(f"inflight {name}: {n} in flight: {secs:.2f} s, {len(skus) / secs:,.1f} items/s")
        rates[n] = (median(runs), runs)
    for n in SETTINGS:
        row(f"13. {name} items/s, {n} batch(es) in flight (batch {batch}, {len(skus)} items)",
            f"{rates[n][0]:,.1f} items/s", "",
            f"x{rates[n][0] / rates[1][0]:.2f} vs 1; runs: " + ", ".join(f"{r:,.1f}" for r in rates[n][1]))


def fig_woo(env, a, row):
    from emulators.woo_real import RealWoo, real_woo_key, real_woo_url
    url = real_woo_url()
    if not url:
        reason = "STOCKRELAY_WOO_REAL is unset (start a site: STOCKRELAY_WOO_KEEP=1 scripts/woo-test -k <one test>)"
        log(f"inflight: WooCommerce SKIPPED: {reason}")
        row("13. WooCommerce real site, batches in flight", "skipped", "", reason)
        return
    key = real_woo_key()
    shop = RealWoo(url, key=key).start()
    db = None
    try:
        n = a.inflight_woo_rows
        log(f"inflight: deleting every product of {url}, seeding {n} simple products")
        shop.reset(everything=True)
        skus = [f"IF-{i:05d}" for i in range(n)]
        shop.seed([{"name": f"Bench {s}", "sku": s, "manage_stock": True, "stock_quantity": 0} for s in skus])
        db = env.database("bench_inflight_woo")
        cid = outbox.add_channel(db.conn, name="Woo real", channel_type="woocommerce", base_url=shop.base_url,
                                 credentials={k: key[k] for k in ("consumer_key", "consumer_secret")},
                                 timeout_ms=120000)
        workers = os.environ.get("STOCKRELAY_WOO_PHP_WORKERS", "4 (scripts/woo-test's default)")
        measure(env, a, db, cid, skus, "", f"WooCommerce 7.9 real, {workers} PHP workers", row, 25)
    finally:
        if db is not None:
            env.drop(db)
        shop.stop()


def fig_medusa(env, a, row):
    from emulators.medusa import MedusaServer, medusa_available
    ok, why = medusa_available()
    if not ok:
        row("13. Medusa real, batches in flight", "SKIPPED", "", why)
        return
    n = a.inflight_medusa_rows
    srv = MedusaServer().ensure_ready()
    db = None
    try:
        srv.start(f"bench_inflight_{os.getpid()}")
        key = srv.create_secret_key("stockrelay-bench")
        skus = [f"IM-{i:05d}" for i in range(n)]
        for i in range(0, n, 100):
            srv.create_product(f"Bench product {i // 100}", skus[i:i + 100])
        sloc = srv.create_stock_location("Bench WH")
        db = env.database("bench_inflight_medusa")
        cid = outbox.add_channel(db.conn, name="Medusa", channel_type="medusa", base_url=srv.base_url,
                                 credentials={"api_key": key}, timeout_ms=60000)
        measure(env, a, db, cid, skus, sloc, "Medusa 2.21 real", row, 100)
    finally:
        if db is not None:
            env.drop(db)
        with contextlib.suppress(Exception):
            srv.stop()
        with contextlib.suppress(Exception):
            srv.pg_stop()


def fig(env, a, row):
    fig_woo(env, a, row)
    fig_medusa(env, a, row)
