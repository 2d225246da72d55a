"""Figure "multidb": one stockrelayd serving 20 databases x 1 Shopify channel
each (zero-latency emulator, SKU caches warm, as the drain figure), rows
flowing in all of them at once (issue 15).

Reports: CPU seconds per 1,000 rows pushed (20 databases); idle CPU% of the
daemon with 20 quiet databases; RSS with 1 database (the single-DSN daemon)
and with 20; rows/s overall; and that every database's rows landed (done in
its own outbox, the emulator holding its quantities).
"""
from __future__ import annotations

import os
import time

from env import (SHOPIFY_TOKEN, CpuRss, add_shopify_channel, enqueue_bulk, fill_sku_cache, log, median, now,  # noqa: F401
                 outbox, seed_shopify)

from harness.sidecar import Sidecar

N_DATABASES = 20


def _wait_done(dbs, channels, n, timeout):
    deadline = now() + timeout
    while True:
        left = [db.name for db, cid in zip(dbs, channels) if outbox.counts(db.conn, cid).get("done", 0) < n]
        if not left:
            return
        if now() > deadline:
            raise RuntimeError(f"{len(left)} database(s) did not land their rows in {timeout} s: {left[:3]}")
        time.sleep(0.05)


def _load(dbs, channels, loc, per_db, k):
    for j, (db, cid) in enumerate(zip(dbs, channels)):
        db.query("TRUNCATE stock_relay_outbox")
        enqueue_bulk(db, [(cid, i + 1, f"M{j:02d}-{i:06d}", loc, (i + k) % 997) for i in range(per_db)])


def _run(env, a, dbs, channels, loc, per_db, sidecar, k, idle_seconds):
    """One daemon over `dbs`: idle CPU, then every database's rows at once."""
    proc = sidecar.start("--metrics-listen", "off", "--poll-interval", "1")
    try:
        for db in dbs if len(dbs) > 1 else []:
            proc.wait_for_log(rf"serving database {db.name}\b", timeout=60)
        meter = CpuRss(proc.pid)
        time.sleep(3)  # every unit connected, LISTENing, first polls done
        c0, t0 = meter.cpu_seconds(), now()
        time.sleep(idle_seconds)
        idle_pct = 100 * (meter.cpu_seconds() - c0) / max(now() - t0, 1e-3)
        rss_idle = meter.status("VmRSS") / 1024
        # The rows are committed while the daemon runs: NOTIFY wakes each database's worker.
        c1, t1 = meter.cpu_seconds(), now()
        _load(dbs, channels, loc, per_db, k)
        _wait_done(dbs, channels, per_db, timeout=900)
        elapsed = now() - t1
        cpu = meter.cpu_seconds() - c1
        rss_peak = meter.status("VmHWM") / 1024
    finally:
        proc.stop()
    rows = per_db * len(dbs)
    return {"idle_pct": idle_pct, "rss_idle": rss_idle, "rss_peak": rss_peak, "cpu_per_1000": 1000 * cpu / rows,
            "rows_per_s": rows / elapsed}


def fig(env, a, row):
    per_db = a.multidb_rows
    log(f"multidb: {N_DATABASES} databases x {per_db:,} rows each")
    loc, items = seed_shopify(env.shopify, 0)
    dbs, channels = [], []
    for j in range(N_DATABASES):
        out = env.shopify.seed(products=[{"title": f"M{j}-{i}", "variants": [{"sku": f"M{j:02d}-{i:06d}",
                                                                                "levels": {"Main": 0}}]}
                                         for i in range(per_db)])
        db = env.database(f"bench_mdb{j:02d}")
        cid = add_shopify_channel(db, env.shopify, env.ca, batch_size=250)
        fill_sku_cache(db, cid, out["variants"])
        dbs.append(db)
        channels.append(cid)
    pattern = f"^bench_mdb[0-9]{{2}}_{os.getpid()}_"  # these 20 only (harness.pg names them so)
    # Untimed warm-up, as the drain figure: the emulator's JIT and PostgreSQL's buffers
    # (the first batch into a fresh emulator takes seconds).
    _run(env, a, dbs[:1], channels[:1], loc, per_db, Sidecar(dbs[0].dsn, env.tmp / "multidb-warm"), -1, 0)
    one, many = [], []
    idle = a.multidb_idle_seconds
    for k in range(a.runs):
        single = Sidecar(dbs[0].dsn, env.tmp / "multidb-1")
        one.append(_run(env, a, dbs[:1], channels[:1], loc, per_db, single, 2 * k, idle))
        several = Sidecar(env.cluster.dsn("postgres"), env.tmp / "multidb-20",
                          extra_args=["--database-pattern", pattern])
        many.append(_run(env, a, dbs, channels, loc, per_db, several, 2 * k + 1, idle))
        landed = sum(1 for db, cid in zip(dbs, channels) if outbox.counts(db.conn, cid).get("done", 0) == per_db)
        if landed != N_DATABASES:
            raise RuntimeError(f"only {landed} of {N_DATABASES} databases landed every row")
    # Spot-check the shop itself: the last run's quantity of one SKU per database.
    state = env.shopify.state()["available"]
    k = 2 * (a.runs - 1) + 1
    for j in range(N_DATABASES):
        if state.get(f"M{j:02d}-{per_db - 1:06d}", {}).get(loc) != (per_db - 1 + k) % 997:
            raise RuntimeError(f"database {j}: the shop does not hold its last quantity")

    def m(runs, key):
        return median([r[key] for r in runs])

    n = N_DATABASES
    row("multidb: databases landed", f"{n}/{n}", "all", f"{per_db:,} rows each, one daemon, --database-pattern")
    row("multidb: rows/s, 20 databases", f"{m(many, 'rows_per_s'):,.0f} rows/s", "",
        f"from the first commit to the last ack (the 20 loads are sequential); 1 database: "
        f"{m(one, 'rows_per_s'):,.0f} rows/s")
    row("multidb: CPU per 1,000 rows, 20 databases", f"{m(many, 'cpu_per_1000'):.3f} s", "",
        f"1 database: {m(one, 'cpu_per_1000'):.3f} s")
    row("multidb: idle CPU, 20 quiet databases", f"{m(many, 'idle_pct'):.2f} %", "",
        f"1 database: {m(one, 'idle_pct'):.2f} % ({a.multidb_idle_seconds} s each)")
    row("multidb: RSS idle, 1 vs 20 databases", f"{m(one, 'rss_idle'):.1f} / {m(many, 'rss_idle'):.1f} MiB", "",
        f"peak while pushing: {m(one, 'rss_peak'):.1f} / {m(many, 'rss_peak'):.1f} MiB")
