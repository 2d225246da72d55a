"""Figure: catalogue publishing into WooCommerce (issue #16), next to Medusa's
(scripts/bench --only catalog).

Products per second for a whole catalogue sync (`stockrelayd catalog`, the
publisher the daemon runs) and HTTP calls per product for a first publish
(variable product, 3 variations), an unchanged re-run and a price update:

- into the WooCommerce 7.9 EMULATOR (tests/emulators/woocommerce): --catalog-products
  (default 300, --quick 40; 10000 for the full-catalogue figure);
- into a REAL WooCommerce 7.9 site when STOCKRELAY_WOO_REAL is set (the site
  `STOCKRELAY_WOO_KEEP=1 scripts/woo-test -k <one test>` leaves running; it
  DELETES the site's products): --woo-catalog-products (default 50). Every
  product is a full WC_Product save per variation in PHP: the per-product cost
  is stated in the row.

Plain loopback HTTP with OAuth 1.0a in both cases."""
from __future__ import annotations

import contextlib
import time

from catalog_medusa_fig import STATS
from harness import catalog, outbox

KEY = {"consumer_key": "ck_" + "b3c4" * 10, "consumer_secret": "cs_" + "d5e6" * 10, "permissions": "read_write"}


def _docs(n, currency, variants=3):
    colors = ["Red", "Blue", "Green", "Black"][:variants]
    return [catalog.document(20_000 + i, f"Woo bench tee {i}",
                             [(200_000 + i * 10 + k, f"WB-{i:05d}-{c[0]}", [c], f"{10 + k}.50")
                              for k, c in enumerate(colors)], prefix="wbench", currency=currency)
            for i in range(n)]


def _publish(sidecar, db, cid, kind, docs):
    for i in range(0, len(docs), 1000):
        catalog.enqueue(db.conn, kind, cid, docs[i:i + 1000], trigger="catalog_sync")
    t = time.monotonic()
    r = sidecar.cmd("catalog", timeout=24 * 3600)
    secs = time.monotonic() - t
    m = STATS.search(r.stdout)
    if r.returncode != 0 or not m:
        raise RuntimeError(f"stockrelayd catalog failed ({r.returncode}): {r.stdout[-300:]} {r.stderr[-500:]}")
    _rows, done, failed, _retried, unchanged, calls = map(int, m.groups())
    if done != len(docs):
        raise RuntimeError(f"{kind}: {done} of {len(docs)} rows done ({failed} failed): {r.stderr[-500:]}")
    return secs, calls, unchanged


def _measure(env, label, shop, key, n, row, per_product_cost):
    _, _, cur = shop.call("GET", "/settings/general/woocommerce_currency", auth="oauth")  # plain HTTP
    db = env.database("bench_catalog_woo")
    try:
        cid = outbox.add_channel(db.conn, name="Woo", channel_type="woocommerce", base_url=shop.base_url,
                                 credentials={k: key[k] for k in ("consumer_key", "consumer_secret")},
                                 timeout_ms=60000)
        outbox.update_channel(db.conn, cid, catalog_enabled=True)
        sidecar = env.sidecar(db, "catalog_woo")
        docs = _docs(n, cur["value"])
        secs, calls, _ = _publish(sidecar, db, cid, "product", docs)
        cost = f"; {secs / n:.2f} s per product (a PHP save per product and per variation)" if per_product_cost else ""
        row(f"{label}: products/s, first publish", f"{n / secs:.1f}/s", "",
            f"{n} products x 3 variations in {secs:.1f} s; {calls / n:.2f} API calls per product{cost}")
        secs, calls, unchanged = _publish(sidecar, db, cid, "product", docs)
        row(f"{label}: API calls per product, unchanged re-run", f"{calls / n:.2f}", "0",
            f"{unchanged} of {n} unchanged (same document hash), {secs:.1f} s")
        price_docs = [catalog.prices(d, {d["variants"][0]["sku"]: "99.99"}) for d in docs]
        secs, calls, _ = _publish(sidecar, db, cid, "price", price_docs)
        row(f"{label}: API calls per product, price update", f"{calls / n:.2f}", "",
            f"one variation's price of each of {n} products (one variations/batch each), {n / secs:.1f} products/s")
    finally:
        with contextlib.suppress(Exception):
            env.drop(db)


def fig(env, a, row):
    from emulators.woocommerce import WooEmulator
    with WooEmulator() as emu:
        emu.reset(everything=True)
        emu.configure(keys=[KEY])
        _measure(env, "12. Catalogue into WooCommerce 7.9 (emulator)", emu, KEY, a.catalog_products, row, False)
    fig_real(env, a, row)


def fig_real(env, a, row):
    from emulators.woo_real import RealWoo, real_woo_key, real_woo_url
    label = "13. Catalogue into WooCommerce 7.9 (real site)"
    url = real_woo_url()
    if not url:
        row(label, "SKIPPED", "", "STOCKRELAY_WOO_REAL is unset (start a site: STOCKRELAY_WOO_KEEP=1 "
                                  "scripts/woo-test -k <one test>)")
        return
    key = real_woo_key()
    shop = RealWoo(url, key=key).start()
    try:
        shop.reset(everything=True)
        _measure(env, label, shop, key, a.woo_catalog_products, row, True)
    finally:
        shop.stop()
