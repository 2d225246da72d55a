"""Reconciliation figures for Shopify (issue 11), hooked into bench/run.py as figure "reconcile":

  - snapshot rate: a 100,000-item shop read through a bulk operation on the emulator by the native
    channel (the code the daemon's reconcile runs), in its own process: items/s, API calls, cost points,
    and that process's peak RSS against its RSS before the read (the read streams; it must not grow
    with the shop);
  - cold resync under a Standard-plan bucket (2,000 points, 100/s restore, from empty): items/s with
    per-50-SKU lookups (warm-up off, a smaller sample: it is slow by nature) and with the SKU cache
    warmed from one bulk read (sidecar/src/warm_cache.hpp).
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
import textwrap

from env import REPO, SHOPIFY_TOKEN, add_shopify_channel, clear_outbox, enqueue_bulk, log, median, now

READER = textwrap.dedent("""
    import json, sys, time
    import stockrelay_native
    def hwm():
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    cfg = json.loads(sys.argv[1])
    ch = stockrelay_native.Channel(cfg)
    before = hwm()
    seen = [0]
    def page(records, cursor):
        seen[0] += len(records)
        return True
    t0 = time.monotonic()
    out = ch.read_inventory([], None, page)
    secs = time.monotonic() - t0
    print(json.dumps({"secs": secs, "records": seen[0], "report": out["report"], "error": out["error"],
                      "rss_before": before, "rss_peak": hwm()}))
""")


def snapshot(env, a, row):
    emu = env.shopify
    emu.reset()
    emu.config(token=SHOPIFY_TOKEN, maximumAvailable=2000, restoreRate=100)
    emu.seed(locations=[{"name": "Main"}], products=[])
    t0 = now()
    emu.control("POST", "generate", {"count": a.reconcile_items, "locations": ["Main"]})
    log(f"reconcile: seeded {a.reconcile_items:,} items in {now() - t0:.1f} s")
    cfg = {"channel_type": "shopify", "base_url": emu.base_url, "api_version": "2026-01",
           "credentials": {"access_token": SHOPIFY_TOKEN}, "timeout_ms": 15000,
           "settings": {"ca_file": env.ca["ca"], "inventory_read": "bulk"}}
    env_vars = {"PYTHONPATH": f"{REPO / 'build' / 'python'}:{REPO}", "PATH": "/usr/bin:/bin"}
    results = []
    for run in range(a.runs):
        p = subprocess.run([sys.executable, "-c", READER, json.dumps(cfg)], capture_output=True, text=True,
                           env=env_vars, timeout=900)
        if p.returncode != 0:
            raise RuntimeError(f"reader failed: {p.stderr[-2000:]}")
        r = json.loads(p.stdout.strip().splitlines()[-1])
        if r["error"]:
            raise RuntimeError(f"read failed: {r['error']}")
        results.append(r)
        log(f"reconcile snapshot run {run + 1}: {r['records']:,} records in {r['secs']:.1f} s, "
            f"{r['report']['api_calls']} calls, {r['report']['cost_points']} points, RSS {r['rss_before']:.1f} -> "
            f"{r['rss_peak']:.1f} MB")
    rate = median([r["records"] / r["secs"] for r in results])
    mid = sorted(results, key=lambda r: r["secs"])[len(results) // 2]
    row(f"R1. Shopify snapshot via bulk operation ({a.reconcile_items:,} items, emulator)", f"{rate:,.0f} items/s", "",
        f"{mid['report']['api_calls']} API calls, {mid['report']['cost_points']} cost points (median run)")
    growth = max(r["rss_peak"] - r["rss_before"] for r in results)
    row("R1. Reader process RSS growth during the 100k read", f"{growth:.1f} MB", "<= 30 MB + constant",
        f"peak {max(r['rss_peak'] for r in results):.1f} MB incl. the Python interpreter "
        f"({min(r['rss_before'] for r in results):.1f} MB before the read); records streamed, not kept")


def cold_resync(env, a, row, sidecar_drain):
    emu = env.shopify
    n_warm, n_cold = a.resync_skus, a.resync_cold_skus
    emu.reset()
    emu.config(token=SHOPIFY_TOKEN, maximumAvailable=10**9, restoreRate=10**9)
    loc = emu.seed(locations=[{"name": "Main"}], products=[])["locations"]["Main"]
    emu.control("POST", "generate", {"count": n_warm + n_cold, "locations": ["Main"], "skuPrefix": "C-", "quantity": 0})
    db = env.database("bench_reconcile")
    sc = env.sidecar(db, "reconcile")
    rates = {}
    for label, n, start, settings in (("lookups", n_cold, n_warm, {"warm_cache_min_missing": 0}),
                                      ("warm-up", n_warm, 0, {"inventory_read": "bulk"})):
        cid = add_shopify_channel(db, emu, env.ca, name=f"resync {label}", batch_size=250,
                                  settings={"ca_file": env.ca["ca"], **settings})
        clear_outbox(db)
        enqueue_bulk(db, [(cid, i + 1, f"C-{start + i}", loc, i % 97 + 1) for i in range(n)])
        emu.config(maximumAvailable=a.bucket[0], restoreRate=a.bucket[1], currentlyAvailable=0)
        seq0 = max((r["seq"] for r in emu.requests()), default=0)
        secs, usages, texts = sidecar_drain(sc, 1)
        warm = re.search(r"SKU cache warm-up: (\d+) records read in (\d+) ms", "".join(texts))
        warm_s = int(warm.group(2)) / 1000 if warm else 0.0
        reqs = [r for r in emu.requests() if r["seq"] > seq0]
        done = db.query("SELECT count(*) FROM stock_relay_outbox WHERE channel_id = %s AND state = 'done'", (cid,))[0][0]
        lookups = sum(r["operationName"] == "ResolveSkus" for r in reqs)
        rates[label] = (done / secs, lookups, len(reqs), n, max(peak for _, peak in usages), warm_s, done / (secs - warm_s))
        log(f"reconcile cold resync ({label}): {done:,}/{n:,} done in {secs:.1f} s = {done / secs:,.1f} items/s, "
            f"{lookups} lookups, {len(reqs)} calls")
        emu.config(maximumAvailable=10**9, restoreRate=10**9)
    plan = f"bucket {a.bucket[0]} pts, restore {a.bucket[1]} pts/s, from empty"
    r = rates["lookups"]
    row(f"R2. Cold resync, SKU lookups per 50 ({r[3]:,} SKUs)", f"{r[0]:,.1f} items/s", "", f"{plan}; {r[1]} lookup calls")
    w = rates["warm-up"]
    row(f"R2. Cold resync after a cache warm-up ({w[3]:,} SKUs)", f"{w[0]:,.0f} items/s", ">= 2,000 items/s",
        f"{plan}; the one bulk read included ({w[5]:.1f} s); {w[1]} lookup calls, {w[2]} calls in all; "
        f"stockrelayd peak RSS {w[4]:.1f} MB")
    row("R2. ... of which pushes after the warm-up read", f"{w[6]:,.0f} items/s", ">= 2,000 items/s",
        "the drain's time minus the warm-up read's (the plan's limit is 2,500 items/s at 10 points a call)")
    env.drop(db)


def fig_reconcile(env, a, row, sidecar_drain):
    a.reconcile_items = 20_000 if a.quick else 100_000
    a.resync_skus = 5_000 if a.quick else 20_000
    a.resync_cold_skus = 500 if a.quick else 2_000
    snapshot(env, a, row)
    cold_resync(env, a, row, sidecar_drain)
