"""stockrelay benchmarks: one invocation prints the whole table (scripts/bench).

Figures (docs/BENCHMARKS.md explains each one and how to read it):
  drain      items/s draining N pending rows over N SKUs into a zero-latency
             Shopify emulator (SKU cache warm; and cold, with SKU resolution),
             plus stockrelayd's peak RSS and CPU seconds per 10,000 pushes
  latency    commit-to-shop latency at a steady 500 commits/s (p50/p99/max)
  ratelimit  sustained items/s under a Standard-plan cost bucket vs the
             theoretical ceiling, and the naive per-item method (bench/naive.py)
  woo        items/s into the WooCommerce emulator, batch 10/25/50/100
  medusa     items/s into a real Medusa 2.21 server, batch 50/250/1000
  reconcile  Shopify snapshot of 100k items via bulk, and a cold resync under a
             Standard-plan bucket with and without a SKU cache warm-up
             (bench/reconcile_shopify.py)
  odoo       cost to Odoo (ODOO_SRC): delivery of 100 lines, inventory
             adjustment of 1,000 quants, with and without stock_relay; resync
             of 10,000 products (bench/odoo_cost.py)
  orders     shop orders imported per second into real Odoo (ODOO_SRC): inbox
             rows -> confirmed sale orders by the import cron (bench/odoo_orders.py)
  woo-real   the sales-aware read before write on a REAL WooCommerce site (DELETES its products):
             items/s before/after and the ratio, batch 50/100
             (bench/woo_real_fig.py; skipped without STOCKRELAY_WOO_REAL)
  multidb    one daemon, 20 databases x 1 channel, rows flowing in all: CPU s per
             1,000 rows, idle CPU%, RSS at 1 vs 20 databases (bench/multidb_fig.py)
  oversell   cross-channel oversell window through real Odoo with its cron
             thread (ODOO_SRC): order placed in shop A -> shop B lowered,
             webhooks and polling, p50/p99 (bench/oversell.py)
  plans      the claim and ack statements on a 1M-row outbox: EXPLAIN ANALYZE, and
             the drain cycle replayed by pgbench (the PostgreSQL ceiling), 1 and 2
             clients, split vs folded ack + claim (bench/plans.py)
  odoo-concurrency  8 JSON-RPC users validating overlapping deliveries/receipts in real
             Odoo (ODOO_SRC), with and without stock_relay: pickings/s, serialization
             retries, user-visible errors, correct newest row per key (bench/odoo_concurrency.py)
  catalog    catalogue publishing into a real Medusa 2.21: products/s, API calls
             per product for a first publish, an unchanged re-run and a price
             update (bench/catalog_medusa_fig.py; --catalog-products 10000)
  catalog-woo (also part of `catalog`) the same into the WooCommerce emulator (--catalog-products) and, with
             STOCKRELAY_WOO_REAL, a real WooCommerce site (--woo-catalog-products,
             default 50) (bench/catalog_woo_fig.py)
  catalog-shopify (also part of `catalog`) the same into the Shopify emulator (standard shop's cost bucket)
             (bench/catalog_shopify_fig.py; --catalog-shopify-products 10000)

Every figure is the median of several runs (--runs, default 3); ratios are
computed within one run. Everything started here listens on 127.0.0.1 and is
stopped before exit.
"""
from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import random
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from env import (REPO, SHOPIFY_TOKEN, WORK, Env, add_shopify_channel, clear_outbox, enqueue_bulk,  # noqa: E402
                 fill_sku_cache, log, median, now, outbox, seed_shopify)

import psycopg2  # noqa: E402
import psycopg2.errors  # noqa: E402
import psycopg2.extensions  # noqa: E402

ROWS = []  # (figure, value, target, note)


def row(figure, value, target="", note=""):
    ROWS.append((figure, value, target, note))
    log(f"{figure}: {value}  {note}")


def fmt_rate(x):
    return f"{x:,.0f} items/s"


# ----------------------------------------------------------------------------- drain
def timed_drain(sc, drainers=1, timeout=900):
    """Like drain_processes but collects rusage (peak RSS, CPU) of each drainer via wait4."""
    t0 = now()
    procs = []
    logs = []
    for k in range(drainers):
        f = open(sc.log_dir / f"drain-{time.time_ns()}-{k}.log", "w+")
        logs.append(f)
        procs.append(subprocess.Popen(sc.argv("drain", "--once"), env=sc.env(), stdout=f, stderr=subprocess.STDOUT))
    usages = []
    hwm = {p.pid: 0 for p in procs}
    deadline = t0 + timeout
    for p in procs:
        while True:
            # Peak RSS from /proc/<pid>/status VmHWM (monotonic; the last read before exit is the peak).
            # Not ru_maxrss: Linux carries the forking parent's pre-exec RSS into the child's ru_maxrss.
            for q in procs:
                if q.returncode is None:
                    with contextlib.suppress(OSError, ValueError, IndexError):
                        with open(f"/proc/{q.pid}/status") as f:
                            for line in f:
                                if line.startswith("VmHWM:"):
                                    hwm[q.pid] = max(hwm[q.pid], int(line.split()[1]))
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                p.returncode = os.waitstatus_to_exitcode(status)
                usages.append((ru, hwm[p.pid] / 1024))
                break
            if now() > deadline:
                for q in procs:
                    with contextlib.suppress(Exception):
                        q.kill()
                raise RuntimeError("drain --once did not finish in time")
            time.sleep(0.005)
    elapsed = now() - t0
    texts = []
    for f in logs:
        f.seek(0)
        texts.append(f.read())
        f.close()
    for p, t in zip(procs, texts):
        if p.returncode != 0:
            raise RuntimeError(f"drain --once failed ({p.returncode}):\n{t[-3000:]}")
    return elapsed, usages, texts


def baseline_sidecars(env, db, name, a):
    """[(label, Sidecar)]: this build, then --baseline-stockrelayd (e.g. built from main) when given."""
    out = [("current", env.sidecar(db, name))]
    exe = a.baseline_stockrelayd or os.environ.get("STOCKRELAY_BASELINE_STOCKRELAYD")
    if exe:
        out.append(("baseline", env.sidecar(db, name + "-baseline", exe=exe)))
    return out


def phase_profile(texts):
    """The 'drain phases:' line stockrelayd >= issue 17 logs per channel (batch_phases.hpp), or ''."""
    for t in texts:
        for line in t.splitlines():
            if "drain phases:" in line:
                return line.split("drain phases:", 1)[1].strip()
    return ""


def fig_drain(env, a):
    n = a.drain_rows
    log(f"drain: seeding {n:,} SKUs into the Shopify emulator")
    loc, items = seed_shopify(env.shopify, n)
    db = env.database("bench_drain")
    # warm_cache_min_missing 0: the cold figures measure SKU lookups (figure "reconcile" measures the warm-up).
    cid = add_shopify_channel(db, env.shopify, env.ca, batch_size=250,
                              settings={"ca_file": env.ca["ca"], "warm_cache_min_missing": 0})
    sidecars = baseline_sidecars(env, db, "drain", a)
    sc = sidecars[0][1]
    skus = [f"B-{i:06d}" for i in range(n)]

    def load(k):
        clear_outbox(db)
        enqueue_bulk(db, [(cid, i + 1, s, loc, (i + k) % 997) for i, s in enumerate(skus)])
        db.query("VACUUM ANALYZE stock_relay_outbox")

    def check_done():
        c = outbox.counts(db.conn, cid)
        if c.get("done", 0) != n:
            raise RuntimeError(f"drain left rows behind: {c}")

    # One untimed drain first (per binary): the emulator's JIT and per-key history, PostgreSQL's buffers and
    # the SKU cache pages all warm up on the first pass (it runs at about half the speed of later ones).
    for label, s in sidecars:
        fill_sku_cache(db, cid, items)
        load(-1)
        secs, _, _ = timed_drain(s, 1)
        check_done()
        log(f"drain warm-up {label} (untimed): {secs:.2f} s, {n / secs:,.0f} items/s")
    results = {}
    profiles = []
    for drainers in a.drainers:
        for k in range(a.runs):
            for label, s in sidecars:  # alternately, so both see the same machine load
                fill_sku_cache(db, cid, items)
                load(k)
                secs, usages, texts = timed_drain(s, drainers)
                check_done()
                r = results.setdefault((label, drainers), ([], [], []))
                r[0].append(n / secs)
                r[1].append(max(peak for _, peak in usages))
                r[2].append(sum(ru.ru_utime + ru.ru_stime for ru, _ in usages) / n * 10000)
                if label == "current" and drainers == 1 and phase_profile(texts):
                    profiles.append(phase_profile(texts))
                log(f"drain warm {label} x{drainers} run {k + 1}: {secs:.2f} s, {n / secs:,.0f} items/s, "
                    f"peak RSS {r[1][-1]:.1f} MB, CPU {r[2][-1]:.2f} s/10k, load {os.getloadavg()[0]:.1f}")
    drain_rows(results, sidecars, a, n)
    if profiles:
        row("1. Batch phases, warm, 1 worker (stockrelayd's own profile)", "see note", "",
            profiles[len(profiles) // 2])
    drain_cold(env, a, db, sc, cid, n, load, check_done)
    env.drop(db)


def drain_rows(results, sidecars, a, n):
    targets = {1: ">= 20,000 items/s", 2: ">= 35,000 items/s"}
    for drainers in a.drainers:
        for label, _ in sidecars:
            rates, rss, cpu = (median(x) for x in results[(label, drainers)])
            who = "" if label == "current" else " [baseline binary]"
            what = (f"warm SKU cache ({n:,} rows, 1 worker)" if drainers == 1
                    else f"warm, {drainers} stockrelayd replicas")
            row(f"1. Drain throughput, {what}{who}", fmt_rate(rates), targets.get(drainers, "") if not who else "",
                "runs: " + ", ".join(f"{r:,.0f}" for r in results[(label, drainers)][0]))
        if len(sidecars) > 1:
            cur, base = results[("current", drainers)][0], results[("baseline", drainers)][0]
            ratios = [c / b for c, b in zip(cur, base)]
            row(f"1. Drain x{drainers}: current / baseline (same run, alternating)", f"{median(ratios):.2f}x", "",
                "runs: " + ", ".join(f"{r:.2f}" for r in ratios))
    for label, _ in sidecars:
        _, rss, cpu = (median(x) for x in results[(label, a.drainers[0])])
        who = "" if label == "current" else " [baseline binary]"
        row(f"6. stockrelayd peak RSS (VmHWM) while draining{who}", f"{rss:.1f} MB", "<= 30 MB" if not who else "",
            f"{n:,} rows pending, 1 worker")
        row(f"6. stockrelayd CPU per 10,000 pushes{who}", f"{cpu:.2f} CPU s", "", "user+sys of the drain process")


def drain_cold(env, a, db, sc, cid, n, load, check_done):
    # Cold: the SKU cache is empty, every SKU is looked up (productVariants search, 50 SKUs a query).
    cold_runs = a.cold_runs
    rates, costs = [], []
    for k in range(cold_runs):
        db.query("DELETE FROM stock_relay_sku_cache")
        load(100 + k)
        seen = max((q["seq"] for q in env.shopify.requests()), default=0)
        secs, usages, texts = timed_drain(sc, 1, timeout=1800)
        check_done()
        rates.append(n / secs)
        costs.append(resolve_cost(env.shopify, seen, n))
        log(f"drain cold run {k + 1}: {secs:.2f} s, {n / secs:,.0f} items/s, SKU lookups cost "
            f"{costs[-1][0]:.2f} requested / {costs[-1][1]:.2f} actual points per SKU")
    row(f"1. Drain throughput, cold (SKU resolution included, {n:,} rows)", fmt_rate(median(rates)), "",
        f"{cold_runs} run(s): " + ", ".join(f"{r:,.0f}" for r in rates))
    row("1. Cold resync: Shopify query cost of SKU resolution per SKU",
        f"{median([c[0] for c in costs]):.2f} pts requested, {median([c[1] for c in costs]):.2f} actual", "",
        "ResolveSkus (productVariants search) points / SKUs; the bucket is charged the requested cost up front")


def resolve_cost(emu, after_seq, skus):
    """(requested, actual) query-cost points per SKU spent by ResolveSkus calls after request `after_seq`."""
    calls = [q for q in emu.requests() if q["seq"] > after_seq and q["operationName"] == "ResolveSkus"]
    return (sum(q["requestedCost"] or 0 for q in calls) / skus, sum(q["actualCost"] or 0 for q in calls) / skus)


# ----------------------------------------------------------------------------- latency
def fig_latency(env, a):
    n_skus = 1000
    loc, items = seed_shopify(env.shopify, n_skus, prefix="L")
    db = env.database("bench_latency")
    cid = add_shopify_channel(db, env.shopify, env.ca, batch_size=250)
    fill_sku_cache(db, cid, items)
    sidecars = baseline_sidecars(env, db, "latency", a)
    rate, secs = a.latency_rate, a.latency_seconds
    figs = {label: ([], [], []) for label, _ in sidecars}  # p50s, p99s, maxs
    conn = psycopg2.connect(db.dsn)
    conn.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ)
    state = {"seq": 0}
    try:
        # Untimed warm-up: the emulator's first push after seeding takes seconds on a loaded box; without it
        # that stall lands in whichever binary runs first.
        proc = sidecars[0][1].start()
        try:
            outbox.wait_until(lambda: "worker started" in proc.log(), timeout=60, message="the worker started")
            latency_run(env, db, conn, cid, loc, n_skus, 50.0, 1.0, random.Random(-1), state)
        finally:
            proc.stop()
        for run in range(a.runs):
            for label, sc in sidecars:  # alternately, so both see the same machine load
                proc = sc.start()
                try:
                    # Ready (/readyz) comes before the channel's worker: time commits only once it runs.
                    outbox.wait_until(lambda: "worker started" in proc.log(), timeout=60, message="the worker started")
                    lat, achieved = latency_run(env, db, conn, cid, loc, n_skus, rate, secs, random.Random(run), state)
                finally:
                    proc.stop()
                p50, p99, mx = lat[len(lat) // 2], lat[min(len(lat) - 1, int(len(lat) * 0.99))], lat[-1]
                for lst, v in zip(figs[label], (p50, p99, mx)):
                    lst.append(v)
                log(f"latency {label} run {run + 1}: {len(lat)} commits at {achieved:.0f}/s: p50 {p50:.1f} ms, "
                    f"p99 {p99:.1f} ms, max {mx:.1f} ms, load {os.getloadavg()[0]:.1f}")
    finally:
        conn.close()
    note = f"{a.runs} runs x {int(rate * secs)} commits at {rate:.0f}/s; medians of per-run percentiles"
    for label, _ in sidecars:
        who = "" if label == "current" else " [baseline binary]"
        p50s, p99s, maxs = figs[label]
        row(f"2. Commit-to-shop latency p50{who}", f"{median(p50s):.1f} ms", "", note)
        row(f"2. Commit-to-shop latency p99{who}", f"{median(p99s):.1f} ms", "<= 50 ms" if not who else "",
            "runs: " + ", ".join(f"{x:.1f}" for x in p99s))
        row(f"2. Commit-to-shop latency max{who}", f"{median(maxs):.1f} ms", "",
            "runs: " + ", ".join(f"{x:.1f}" for x in maxs))
    env.drop(db)


def latency_run(env, db, conn, cid, loc, n_skus, rate, secs, rng, state):
    """One run of `rate` commits/s for `secs` against a running daemon: (sorted latencies in ms, achieved rate)."""
    commits = []  # (sku, quantity, t_ms)
    t0 = now()
    total = int(rate * secs)
    for i in range(total):
        d = t0 + i / rate - now()
        if d > 0:
            time.sleep(d)
        k = rng.randrange(n_skus)
        sku = f"L-{k:06d}"
        state["seq"] += 1
        for attempt in range(20):  # as Odoo does: a serialization failure (the daemon claimed the row) is retried
            try:
                with conn.cursor() as cur:
                    outbox.enqueue_in(cur, [(cid, k + 1, sku, loc, state["seq"])])
                conn.commit()
                break
            except psycopg2.errors.SerializationFailure:
                conn.rollback()
        else:
            raise RuntimeError("latency: enqueue kept failing with serialization errors")
        commits.append((sku, state["seq"], time.time() * 1000.0))
    achieved = total / (now() - t0)
    outbox.wait_until(lambda: outbox.settled(db.conn, cid), timeout=60, message="latency rows settled")
    hist = {}
    for e in env.shopify.history()["entries"]:
        if e["name"] == "available":
            hist[e["sku"]] = [(v["quantity"], v["at"]) for v in e["values"]]
    lat = []
    for sku, q, t in commits:
        applied = [at for qq, at in hist.get(sku, []) if qq >= q]
        if not applied:
            raise RuntimeError(f"latency: {sku}={q} never reached the shop")
        lat.append(min(applied) - t)
    lat.sort()
    return lat, achieved


# ----------------------------------------------------------------------------- rate limit
def fig_ratelimit(env, a):
    import naive as naive_mod
    n = a.ratelimit_rows
    bucket, restore = a.bucket
    emu = env.shopify
    loc, items = seed_shopify(emu, n + 5000, prefix="R")
    db = env.database("bench_ratelimit")
    cid = add_shopify_channel(db, emu, env.ca, batch_size=250)
    sc = env.sidecar(db, "ratelimit")
    skus = [f"R-{i:06d}" for i in range(n)]
    effs, relay_rates, naive_rates, ratios, ceilings = [], [], [], [], []
    oca_rates, oca_ratios = [], []
    for run in range(a.runs):
        fill_sku_cache(db, cid, items)
        clear_outbox(db)
        enqueue_bulk(db, [(cid, i + 1, s, loc, (i + run + 1) % 991) for i, s in enumerate(skus)])
        db.query("VACUUM ANALYZE stock_relay_outbox")
        # An empty bucket at the start: what is measured is the sustained rate, not the initial burst.
        emu.config(maximumAvailable=bucket, restoreRate=restore, currentlyAvailable=0)
        seq0 = max((r["seq"] for r in emu.requests()), default=0)
        secs, _, _ = timed_drain(sc, 1)
        reqs = [r for r in emu.requests() if r["seq"] > seq0 and r.get("operationName") == "SetQty"]
        ok = [r for r in reqs if not r["throttled"] and r.get("actualCost") is not None]
        cost = median([r["actualCost"] for r in ok])
        per_call = median([r["items"] for r in ok])
        ceiling = restore / cost * 250
        rate = n / secs
        # The naive method, same bucket, same emulator, fresh empty bucket.
        emu.config(maximumAvailable=bucket, restoreRate=restore, currentlyAvailable=0)
        client = naive_mod.NaiveClient(emu.graphql_url("2025-10"), SHOPIFY_TOKEN, env.ca["ca"])
        try:
            naive_items = [(f"R-{i:06d}", 5 + run) for i in range(n, n + 5000)]
            done, nsecs = naive_mod.run_for(client, naive_items, loc, a.naive_seconds)
        finally:
            client.close()
        nrate = done / nsecs
        orate, oca = oca_run(emu, env, a, items, loc, n, run)
        effs.append(rate / ceiling)
        relay_rates.append(rate)
        naive_rates.append(nrate)
        ratios.append(rate / nrate if nrate else float("inf"))
        oca_rates.append(orate)
        oca_ratios.append(rate / orate if orate else float("inf"))
        ceilings.append(ceiling)
        log(f"ratelimit run {run + 1}: relay {rate:,.0f} items/s in {secs:.1f} s ({len(reqs)} calls, "
            f"{sum(r['throttled'] for r in reqs)} throttled, cost {cost} pts, {per_call} items/call); ceiling "
            f"{ceiling:,.0f}; naive {done} items in {nsecs:.1f} s = {nrate:.2f} items/s "
            f"({client.calls} calls, {client.throttled} throttled); OCA-style {orate:.2f} items/s "
            f"({oca.calls} calls, {oca.throttled} throttled, {oca.stale} stale compares)")
    emu.config(maximumAvailable=10**9, restoreRate=10**9)
    plan = f"bucket {bucket} pts, restore {restore} pts/s"
    row("3. Rate-limited relay throughput", fmt_rate(median(relay_rates)), "",
        f"{plan}; ceiling {median(ceilings):,.0f} items/s ({n:,} rows from an empty bucket)")
    row("3. Rate-limit efficiency (relay / ceiling)", f"{100 * median(effs):.1f} %", ">= 90 %",
        "runs: " + ", ".join(f"{100 * e:.1f}" for e in effs))
    row("3. Naive per-item baseline (lookup, read, adjust)", f"{median(naive_rates):.2f} items/s", "",
        f"{plan}; {a.naive_seconds:.0f} s per run")
    row("3. Relay / naive ratio (same run)", f"{median(ratios):,.0f}x", "", "runs: " + ", ".join(f"{r:,.0f}" for r in ratios))
    row("3. OCA connector-shopify 19.0 baseline (read, set with compareQuantity)", f"{median(oca_rates):.2f} items/s",
        "", f"{plan}; {a.naive_seconds:.0f} s per run; one job per (variant, location), retried on a stale compare")
    row("3. Relay / OCA ratio (same run)", f"{median(oca_ratios):,.0f}x", "",
        "runs: " + ", ".join(f"{r:,.0f}" for r in oca_ratios))
    env.drop(db)


def oca_run(emu, env, a, items, loc, n, run):
    """OCA connector-shopify 19.0's method (bench/naive.py OcaClient), same bucket, fresh empty bucket,
    on SKUs the relay and the naive client did not touch in this run: (items/s, client)."""
    import naive as naive_mod
    client = naive_mod.OcaClient(emu.graphql_url("2025-10"), SHOPIFY_TOKEN, env.ca["ca"], items)
    try:
        client.check_compare_enforced(f"R-{n + 4999:06d}", loc, time.monotonic() + 60)
        emu.config(maximumAvailable=a.bucket[0], restoreRate=a.bucket[1], currentlyAvailable=0)
        oca_items = [(f"R-{i:06d}", 5 + run) for i in range(n + 2500, n + 4999)]
        done, secs = naive_mod.run_for(client, oca_items, loc, a.naive_seconds)
    finally:
        client.close()
    return done / secs, client


# ----------------------------------------------------------------------------- WooCommerce
WOO_KEY = {"consumer_key": "ck_" + "1a2b" * 10, "consumer_secret": "cs_" + "9f8e" * 10, "permissions": "read_write"}


def sweep(env, a, name, batches, n, make_channel, figure_no):
    """Items/s per batch size: a cold drain fills the SKU cache, then `runs` warm drains are timed."""
    db, cid, skus, location = make_channel()
    sc = env.sidecar(db, name)
    out = {}
    try:
        # One untimed drain resolves every SKU (fills the SKU cache); the timed runs measure pushing.
        clear_outbox(db)
        enqueue_bulk(db, [(cid, i + 1, s, location, 1) for i, s in enumerate(skus)])
        timed_drain(sc, 1, timeout=1800)
        for b in batches:
            outbox.update_channel(db.conn, cid, batch_size=b)
            rates = []
            for run in range(1, a.runs + 1):
                clear_outbox(db)
                enqueue_bulk(db, [(cid, i + 1, s, location, (i + run * 7 + b) % 500) for i, s in enumerate(skus)])
                secs, _, texts = timed_drain(sc, 1, timeout=1800)
                c = outbox.counts(db.conn, cid)
                if c.get("done", 0) != n:
                    raise RuntimeError(f"{name} batch {b}: rows not done: {c}\n{texts[0][-2000:]}")
                rates.append(n / secs)
                log(f"{name} batch {b} run {run}: {secs:.2f} s, {n / secs:,.1f} items/s")
            out[b] = (median(rates), rates)
    finally:
        env.drop(db)
    best = max(out, key=lambda b: out[b][0])
    for b in batches:
        row(f"{figure_no}. {name} items/s, batch {b} ({n:,} items)", f"{out[b][0]:,.1f} items/s", "",
            ("best; " if b == best else "") + "runs: " + ", ".join(f"{r:,.1f}" for r in out[b][1]))
    return out


def fig_woo(env, a):
    from emulators.woocommerce import WooEmulator
    n = a.woo_rows
    emu = WooEmulator(tls=env.ca, log_path=str(env.tmp / "woo.log"))
    emu.start()
    try:
        def make():
            emu.reset(everything=True)
            emu.configure(keys=[WOO_KEY], latency_ms=a.woo_latency_ms, per_item_latency_ms=a.woo_item_latency_ms)
            skus = [f"W-{i:05d}" for i in range(n)]
            for i in range(0, n, 1000):
                emu.seed([{"name": f"Product {s}", "sku": s, "manage_stock": True, "stock_quantity": 0}
                          for s in skus[i:i + 1000]])
            db = env.database("bench_woo")
            cid = outbox.add_channel(db.conn, name="Woo", channel_type="woocommerce", base_url=emu.base_url,
                                     credentials={k: WOO_KEY[k] for k in ("consumer_key", "consumer_secret")},
                                     settings={"ca_file": env.ca["ca"]}, timeout_ms=30000)
            return db, cid, skus, ""
        sweep(env, a, "WooCommerce emulator", [10, 25, 50, 100], n, make, 4)
    finally:
        emu.stop()


def fig_medusa(env, a):
    from emulators.medusa import MedusaServer, medusa_available
    ok, why = medusa_available()
    if not ok:
        row("4. Medusa items/s", "SKIPPED", "", why)
        return
    n = a.medusa_rows
    srv = MedusaServer().ensure_ready()
    try:
        srv.start(f"bench_medusa_{os.getpid()}")
        key = srv.create_secret_key("stockrelay-bench")

        def make():
            skus = [f"MB-{i:05d}" for i in range(n)]
            t = now()
            for i in range(0, n, 100):
                srv.create_product(f"Bench product {i // 100}", skus[i:i + 100])
            sloc = srv.create_stock_location("Bench WH")
            log(f"medusa: created {n} variants in {now() - t:.1f} s")
            db = env.database("bench_medusa")
            cid = outbox.add_channel(db.conn, name="Medusa", channel_type="medusa", base_url=srv.base_url,
                                     credentials={"api_key": key}, timeout_ms=60000)
            return db, cid, skus, sloc
        sweep(env, a, "Medusa 2.21 (real)", [50, 250, 1000], n, make, 4)
    finally:
        with contextlib.suppress(Exception):
            srv.stop()
        with contextlib.suppress(Exception):
            srv.pg_stop()


# ----------------------------------------------------------------------------- Odoo
def fig_odoo(env, a):
    src = os.environ.get("ODOO_SRC")
    labels = ["5. Odoo: validate a 100-line delivery, overhead", "5. Odoo: apply 1,000-quant inventory adjustment, overhead",
              "5. Odoo: enqueue a full resync of 10,000 products"]
    if not src or not os.path.isfile(os.path.join(src, "odoo-bin")):
        for l in labels:
            row(l, "SKIPPED", "<= 5 %" if "overhead" in l else "", "ODOO_SRC not set")
        return
    out = WORK / "odoo-cost.json"
    # Odoo's timings are noisier than the rest (a 1,000-quant apply takes seconds): at least 5 runs.
    cmd = [str(REPO / "bench" / "odoo-cost"), str(out), str(a.runs if a.quick else max(5, a.runs)), "1" if a.quick else "0"]
    log("odoo: " + " ".join(cmd))
    r = subprocess.run(cmd, text=True, timeout=3000)
    if r.returncode != 0 or not out.exists():
        for l in labels:
            row(l, "FAILED", "", f"bench/odoo-cost exited {r.returncode}; see build/bench/odoo/")
        return
    res = json.loads(out.read_text())
    for key, label in (("delivery", labels[0]), ("adjustment", labels[1])):
        d = res[key]
        row(label, f"{d['overhead_pct']:+.1f} %", "<= 5 %",
            f"median of per-run ratios; with {d['with_s']:.3f} s vs without {d['without_s']:.3f} s "
            f"(medians of {d['runs']} runs; {d['lines']} lines); runs with/without: "
            + ", ".join(f"{w:.2f}/{wo:.2f}" for w, wo in zip(d["with_all"], d["without_all"])))
    s = res["resync"]
    row(labels[2], f"{s['seconds']:.2f} s", "", f"{s['rows']:,} outbox rows (median of {s['runs']})")


def fig_orders(env, a):
    label = "7. Odoo: shop orders imported per second (confirmed, stock reserved)"
    src = os.environ.get("ODOO_SRC")
    if not src or not os.path.isfile(os.path.join(src, "odoo-bin")):
        return row(label, "SKIPPED", ">= 50/s", "ODOO_SRC not set")
    out = WORK / "odoo-orders.json"
    r = subprocess.run([str(REPO / "bench" / "odoo-orders"), str(out), str(a.runs), "1" if a.quick else "0"],
                       text=True, timeout=3000)
    if r.returncode != 0 or not out.exists():
        return row(label, "FAILED", ">= 50/s", f"bench/odoo-orders exited {r.returncode}; see build/bench/odoo-orders/")
    res = json.loads(out.read_text())
    row(label, f"{res['per_second']:.1f}/s", ">= 50/s",
        f"median of {len(res['runs'])} runs of {res['orders_per_run']} orders (4 lines each, 21 % tax, shipping), "
        "the import cron's batches committed one by one: " + ", ".join(f"{x['per_second']:.1f}" for x in res["runs"])
        + f"; {res['per_odoo_cpu_second']:.1f} orders per CPU-second of the Odoo process (PostgreSQL not counted), "
        f"load average {res['runs'][-1]['load_average']:.1f}")


def fig_reconcile(env, a):
    import reconcile_shopify
    reconcile_shopify.fig_reconcile(env, a, row, timed_drain)


# ----------------------------------------------------------------------------- main
FIGURES = {"drain": fig_drain, "latency": fig_latency, "ratelimit": fig_ratelimit, "woo": fig_woo,
           "medusa": fig_medusa, "odoo": fig_odoo, "orders": fig_orders,
           "reconcile": fig_reconcile}
FIGURES["reconcile_rest"] = lambda env, a: __import__("reconcile_rest").fig(env, a, row)  # bench/reconcile_rest.py
FIGURES["oversell"] = lambda env, a: __import__("oversell_fig").fig(a, row)  # bench/oversell_fig.py
# bench/woo_real_fig.py: the sales-aware read on a real WooCommerce site (skipped without one)
FIGURES["woo-real"] = lambda env, a: __import__("woo_real_fig").fig(env, a, row, timed_drain)
# bench/multidb_fig.py: one daemon, 20 databases x 1 channel, rows flowing in all (issue 15)
FIGURES["multidb"] = lambda env, a: __import__("multidb_fig").fig(env, a, row)
# bench/plans.py: claim/ack plans on 1M rows and the PostgreSQL ceiling by pgbench (issue 17)
FIGURES["plans"] = lambda env, a: __import__("plans").fig(env, a, row)
# bench/catalog_medusa_fig.py: catalogue publishing into a real Medusa (issue #16)
# bench/catalog_woo_fig.py: the same into WooCommerce (emulator; a real site with STOCKRELAY_WOO_REAL),
# its lines printed after Medusa's
FIGURES["catalog-woo"] = lambda env, a: __import__("catalog_woo_fig").fig(env, a, row)
# bench/catalog_shopify_fig.py: the same into the Shopify emulator (issue #16)
FIGURES["catalog-shopify"] = lambda env, a: __import__("catalog_shopify_fig").fig(env, a, row)
FIGURES["catalog"] = lambda env, a: (__import__("catalog_medusa_fig").fig(env, a, row), FIGURES["catalog-woo"](env, a),
                                     FIGURES["catalog-shopify"](env, a))
# bench/inflight_fig.py: 1, 2, 4, 8 batches in flight, real WooCommerce and real Medusa (issue 17)
FIGURES["inflight"] = lambda env, a: __import__("inflight_fig").fig(env, a, row)
# bench/odoo_concurrency_fig.py: 8 users validating overlapping pickings in real Odoo (issue 17)
FIGURES["odoo-concurrency"] = lambda env, a: __import__("odoo_concurrency_fig").fig(a, row)


def machine():
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with contextlib.suppress(OSError):
        for line in open("/proc/meminfo"):
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    pg = subprocess.run(["sh", "-c", "ls /usr/lib/postgresql"], capture_output=True, text=True).stdout.split()
    node = subprocess.run(["node", "--version"], capture_output=True, text=True).stdout.strip()
    return (f"{os.cpu_count()} CPUs ({cpu}), {mem} RAM, {platform.platform()}, PostgreSQL {','.join(pg)}, "
            f"node {node}, load average at start {os.getloadavg()[0]:.2f}")


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--quick", action="store_true", help="small sizes, one run each: a smoke test of the bench itself")
    p.add_argument("--only", default="", help="comma-separated figures: " + ",".join(FIGURES))
    p.add_argument("--runs", type=int, default=None, help="runs per figure (default 3, --quick 1)")
    p.add_argument("--baseline-stockrelayd", default="",
                   help="drain, latency, woo-real: stockrelayd to compare with in the same run, e.g. built from main "
                        "(else env STOCKRELAY_BASELINE_STOCKRELAYD)")
    p.add_argument("--catalog-products", "--products", dest="catalog_products", type=int, default=None,
                   help="catalog: products published (default 300, --quick 40; e.g. 10000)")
    p.add_argument("--woo-catalog-products", type=int, default=None,
                   help="catalog-woo: products published into a real WooCommerce site (default 50, --quick 10)")
    p.add_argument("--catalog-shopify-products", type=int, default=None,
                   help="catalog-shopify: products published (default 100, --quick 30; e.g. 10000)")
    p.add_argument("--json", default=str(WORK / "results.json"), help="where to write the results")
    a = p.parse_args()
    q = a.quick
    a.runs = a.runs or (1 if q else 3)
    a.drain_rows = 10_000 if q else 100_000
    a.drainers = [1, 2]
    a.cold_runs = 1
    a.latency_rate = 500.0
    a.latency_seconds = 5 if q else 20
    a.ratelimit_rows = 10_000 if q else 40_000
    a.bucket = (2000, 100)
    a.naive_seconds = 5 if q else 15
    a.pgbench_seconds = 3 if q else 8
    a.woo_rows = 300 if q else 2000
    a.woo_latency_ms = 0
    a.woo_item_latency_ms = 0
    a.medusa_rows = 300 if q else 2000
    a.woo_real_rows = 100 if q else 200
    a.woo_real_batches = [50, 100]
    a.multidb_rows = 200 if q else 1000
    a.multidb_idle_seconds = 5 if q else 10
    a.catalog_products = a.catalog_products or (40 if q else 300)
    a.woo_catalog_products = a.woo_catalog_products or (10 if q else 50)
    a.catalog_shopify_products = a.catalog_shopify_products or (30 if q else 100)
    a.inflight_woo_rows = 100 if q else 400
    a.inflight_medusa_rows = 400 if q else 2000
    only = [f for f in a.only.split(",") if f] or list(FIGURES)
    for f in only:
        if f not in FIGURES:
            p.error(f"unknown figure {f!r}")

    import signal
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # run the finally blocks: stop what we started
    started = datetime.datetime.now(datetime.timezone.utc)
    env = Env()
    failed = []
    try:
        for f in only:
            t = now()
            try:
                FIGURES[f](env, a)
            except Exception as e:  # one broken figure must not hide the others
                import traceback
                traceback.print_exc()
                failed.append(f)
                row(f"{f}", "FAILED", "", str(e).splitlines()[0][:120] if str(e) else type(e).__name__)
            log(f"{f}: {now() - t:.0f} s")
    finally:
        env.close()

    header = (f"stockrelay benchmarks, {started:%Y-%m-%d %H:%M} UTC, {'quick' if q else 'full'} run, "
              f"{a.runs} run(s) per figure\nmachine: {machine()}\ncommand: scripts/bench {' '.join(sys.argv[1:])}")
    w1 = max(len(r[0]) for r in ROWS)
    w2 = max(len(r[1]) for r in ROWS)
    w3 = max(len(r[2]) for r in ROWS)
    lines = [header, "", f"| {'figure':<{w1}} | {'value':>{w2}} | {'target':<{w3}} | notes |",
             f"|{'-' * (w1 + 2)}|{'-' * (w2 + 2)}:|{'-' * (w3 + 2)}|-------|"]
    for fig, val, tgt, note in ROWS:
        lines.append(f"| {fig:<{w1}} | {val:>{w2}} | {tgt:<{w3}} | {note} |")
    print("\n".join(lines), flush=True)
    os.makedirs(os.path.dirname(a.json), exist_ok=True)
    with open(a.json, "w") as f:
        json.dump({"started": started.isoformat(), "machine": machine(), "argv": sys.argv[1:],
                   "rows": [dict(zip(("figure", "value", "target", "note"), r)) for r in ROWS]}, f, indent=1)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
