"""Figure: catalogue publishing into a real Medusa 2.21 (issue #16).

Products per second for a whole catalogue sync (`stockrelayd catalog`, the same
publisher the daemon runs), and HTTP calls per product for a first publish, a
re-run of unchanged documents, and a price update. Sizes: --catalog-products
(default 300, --quick 40; 10000 for the full-catalogue figure)."""
from __future__ import annotations

import contextlib
import os
import re
import time

from harness import catalog, outbox

STATS = re.compile(r"catalogue rows=(\d+) done=(\d+) failed=(\d+) retried=(\d+) unchanged=(\d+) calls=(\d+)")


def _docs(n, variants=3):
    colors = ["Red", "Blue", "Green", "Black"][:variants]
    return [catalog.document(10_000 + i, f"Bench tee {i}",
                             [(100_000 + i * 10 + k, f"CB-{i:05d}-{c[0]}", [c], f"{10 + k}.50")
                              for k, c in enumerate(colors)], prefix="bench")
            for i in range(n)]


def _publish(sidecar, db, cid, kind, docs):
    for i in range(0, len(docs), 1000):
        catalog.enqueue(db.conn, kind, cid, docs[i:i + 1000], trigger="catalog_sync")
    t = time.monotonic()
    r = sidecar.cmd("catalog", timeout=24 * 3600)
    secs = time.monotonic() - t
    if os.environ.get("STOCKRELAY_BENCH_CATALOG_LOG"):  # the daemon's log: per-batch shop/database times
        with open(f"{os.environ['STOCKRELAY_BENCH_CATALOG_LOG']}.{kind}.{len(docs)}", "a") as f:
            f.write(r.stderr)
    m = STATS.search(r.stdout)
    if r.returncode != 0 or not m:
        raise RuntimeError(f"stockrelayd catalog failed ({r.returncode}): {r.stdout[-300:]} {r.stderr[-500:]}")
    rows, done, failed, _retried, unchanged, calls = map(int, m.groups())
    if done != len(docs):
        raise RuntimeError(f"{kind}: {done} of {len(docs)} rows done ({failed} failed): {r.stderr[-500:]}")
    return secs, calls, unchanged


def fig(env, a, row):
    from emulators.medusa import MedusaServer, medusa_available
    label = "11. Catalogue into Medusa 2.21 (real)"
    ok, why = medusa_available()
    if not ok:
        return row(label, "SKIPPED", "", why)
    n = a.catalog_products
    srv = MedusaServer().ensure_ready()
    try:
        srv.start(f"bench_catalog_{os.getpid()}")
        key = srv.create_secret_key("stockrelay-bench-catalog")
        db = env.database("bench_catalog")
        cid = outbox.add_channel(db.conn, name="Medusa", channel_type="medusa", base_url=srv.base_url,
                                 credentials={"api_key": key}, timeout_ms=60000)
        outbox.update_channel(db.conn, cid, catalog_enabled=True)
        sidecar = env.sidecar(db, "catalog")
        docs = _docs(n)
        secs, calls, _ = _publish(sidecar, db, cid, "product", docs)
        row(f"{label}: products/s, first publish", f"{n / secs:.1f}/s", "",
            f"{n} products x 3 variants in {secs:.1f} s; {calls / n:.2f} API calls per product")
        secs, calls, unchanged = _publish(sidecar, db, cid, "product", docs)
        row(f"{label}: API calls per product, unchanged re-run", f"{calls / n:.2f}", "0",
            f"{unchanged} of {n} unchanged (same document hash), {secs:.1f} s")
        price_docs = [catalog.prices(d, {d["variants"][0]["sku"]: "99.99"}) for d in docs]
        secs, calls, _ = _publish(sidecar, db, cid, "price", price_docs)
        row(f"{label}: API calls per product, price update", f"{calls / n:.2f}", "",
            f"one variant's price of each of {n} products, {n / secs:.1f} products/s")
    finally:
        with contextlib.suppress(Exception):
            srv.stop()
        with contextlib.suppress(Exception):
            srv.pg_stop()
