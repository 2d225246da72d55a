"""Cost of the sales-aware read before write on a REAL WooCommerce 7.9 site
(scripts/bench --only woo-real; issue 13).

Needs the site scripts/woo-test leaves running with STOCKRELAY_WOO_KEEP=1:
STOCKRELAY_WOO_REAL (home URL), STOCKRELAY_WOO_REAL_KEYS, STOCKRELAY_WOO_REAL_STATE
(see tests/emulators/woo_real.py); without them the figure is skipped with a
printed reason. The baseline binary (stockrelayd built before the sales-aware
read) comes from --baseline-stockrelayd or STOCKRELAY_BASELINE_STOCKRELAYD.

It DELETES every product of that site, seeds N simple products, then drains N
rows at batch 50 and 100 with the baseline and the current binary alternately
(ABBA order over the runs), on the same site, database and channel; the ratio
current / baseline is taken within the run. Plain loopback HTTP with OAuth
1.0a (no TLS proxy in the path, so the per-request overhead is the site's own).

Every drain sets a quantity higher than the one before, so the shop's level
never looks like a presumed sale to the current binary (a rise since its last
write is drift at once): it reads, then writes Odoo's number, as in steady state.
"""
from __future__ import annotations

import os
import time

from env import clear_outbox, enqueue_bulk, log, median, outbox
from harness.sidecar import Sidecar


def fig(env, a, row, timed_drain):
    from emulators.woo_real import RealWoo, real_woo_key, real_woo_url
    url = real_woo_url()
    base_exe = a.baseline_stockrelayd or os.environ.get("STOCKRELAY_BASELINE_STOCKRELAYD")
    reason = ("STOCKRELAY_WOO_REAL is unset (start a site: STOCKRELAY_WOO_KEEP=1 scripts/woo-test -k <one test>)"
              if not url else "no baseline binary (--baseline-stockrelayd or STOCKRELAY_BASELINE_STOCKRELAYD)"
              if not base_exe else "")
    if reason:
        log(f"woo-real: SKIPPED: {reason}")
        row("10. WooCommerce real site, read before write", "skipped", "", reason)
        return
    n = a.woo_real_rows
    key = real_woo_key()
    shop = RealWoo(url, key=key).start()
    db = None
    try:
        log(f"woo-real: deleting every product of {url}, seeding {n} simple products")
        shop.reset(everything=True)
        skus = [f"WR-{i:05d}" for i in range(n)]
        shop.seed([{"name": f"Bench {s}", "sku": s, "manage_stock": True, "stock_quantity": 0} for s in skus])
        db = env.database("bench_woo_real")
        cid = outbox.add_channel(db.conn, name="Woo real", channel_type="woocommerce", base_url=shop.base_url,
                                 credentials={k: key[k] for k in ("consumer_key", "consumer_secret")},
                                 timeout_ms=60000)
        bins = {"before": Sidecar(db.dsn, env.tmp / "woo-real-before", exe=base_exe),
                "after": Sidecar(db.dsn, env.tmp / "woo-real-after")}
        measure(a, db, cid, skus, bins, row, timed_drain)
        request_costs(a, shop, row)
    finally:
        if db is not None:
            env.drop(db)
        shop.stop()


def measure(a, db, cid, skus, bins, row, timed_drain):
    n = len(skus)
    level = [0]

    def drain(sc, b, label):
        level[0] += 1  # always higher than the last drain's value (see the module doc)
        clear_outbox(db)
        enqueue_bulk(db, [(cid, i + 1, s, "", level[0] * 10 + i % 7) for i, s in enumerate(skus)])
        secs, _, texts = timed_drain(sc, 1, timeout=1200)
        c = outbox.counts(db.conn, cid)
        if c.get("done", 0) != n:
            raise RuntimeError(f"woo-real {label} batch {b}: rows not done: {c}\n{texts[0][-2000:]}")
        log(f"woo-real batch {b} {label}: {secs:.2f} s, {n / secs:,.1f} items/s")
        return n / secs

    # Untimed: resolves every SKU into the cache and leaves a last-set value per key
    # (without one the current binary has nothing to compare with and skips the read).
    outbox.update_channel(db.conn, cid, batch_size=100)
    drain(bins["after"], 100, "warm-up (after)")
    for b in a.woo_real_batches:
        outbox.update_channel(db.conn, cid, batch_size=b)
        rates = {"before": [], "after": []}
        for run in range(a.runs):
            order = ("before", "after") if run % 2 == 0 else ("after", "before")
            for label in order:
                rates[label].append(drain(bins[label], b, label))
        ratios = [x / y for x, y in zip(rates["after"], rates["before"])]
        before, after = median(rates["before"]), median(rates["after"])
        runs = lambda xs: ", ".join(f"{x:,.1f}" for x in xs)  # noqa: E731
        row(f"10. WooCommerce real site, batch {b}, before (no read)", f"{before:,.1f} items/s", "",
            f"{n} items; runs: {runs(rates['before'])}")
        row(f"10. WooCommerce real site, batch {b}, after (read + write)", f"{after:,.1f} items/s", "",
            f"{n} items; runs: {runs(rates['after'])}")
        row(f"10. WooCommerce real site, batch {b}, after / before", f"{after / before:.2f}", ">= 0.67",
            "per-run ratios: " + ", ".join(f"{r:.2f}" for r in ratios))


def request_costs(a, shop, row):
    """The two requests on their own (the drains above are noisy on a shared machine):
    the read the current binary adds per batch, and the batch write both binaries send."""
    ids = sorted(p["id"] for p in shop._get_all("/products", {"_fields": "id", "orderby": "id"}))

    def timed(method, path, **kw):
        t = time.monotonic()
        status, _, body = shop._request(method, path, **kw)
        if status != 200:
            raise RuntimeError(f"{method} {path}: HTTP {status}: {body!r:.300}")
        return time.monotonic() - t

    for b in a.woo_real_batches:
        part = ids[:b]
        reads, writes = [], []
        for run in range(a.runs):
            reads.append(timed("GET", "/products", params={"include": ",".join(map(str, part)), "per_page": 100,
                                                           "_fields": "id,manage_stock,stock_quantity"}))
            writes.append(timed("POST", "/products/batch",
                                body={"update": [{"id": i, "stock_quantity": 5000 + run} for i in part]}))
        r, w = median(reads), median(writes)
        row(f"10. WooCommerce real site, batch {b}: one read / one write", f"{r * 1000:,.0f} / {w * 1000:,.0f} ms",
            "", f"write alone / (read + write) = {w / (r + w):.2f}; reads: "
            + ", ".join(f"{x * 1000:.0f}" for x in reads) + " ms")
