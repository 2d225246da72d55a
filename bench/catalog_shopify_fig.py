"""Figure: catalogue publishing into the Shopify EMULATOR (issue #16; scripts/bench --only catalog-shopify).

Products per second for a whole catalogue sync (`stockrelayd catalog`, the same publisher the daemon
runs) and GraphQL calls per product for a first publish (one SKU lookup for adoption + one
productSet), a re-run of unchanged documents, and a price update (productVariantsBulkUpdate). The
emulator charges Shopify's query costs to a bucket of a standard shop (--bucket, 2,000 points
restoring 100/s), so products/s is the cost bucket's figure, not the emulator's speed.
Sizes: --catalog-shopify-products (default 100, --quick 30; 10000 for the full-catalogue figure)."""
from __future__ import annotations

from catalog_medusa_fig import _docs, _publish
from harness import catalog, outbox


def fig(env, a, row):
    label = "11b. Catalogue into Shopify (emulator)"
    n = a.catalog_shopify_products
    emu = env.shopify
    emu.reset()
    emu.config(token=emu.token, maximumAvailable=a.bucket[0], restoreRate=a.bucket[1])
    emu.seed(locations=[{"name": "Main"}], products=[])
    db = env.database("bench_catalog_shopify")
    try:
        cid = outbox.add_channel(db.conn, name="Shopify", channel_type="shopify", base_url=emu.base_url,
                                 api_version="2026-10", credentials={"access_token": emu.token},
                                 settings={"ca_file": env.ca["ca"]}, timeout_ms=60000)
        outbox.update_channel(db.conn, cid, catalog_enabled=True)
        sidecar = env.sidecar(db, "catalog_shopify")
        docs = _docs(n)
        bucket = f"bucket {a.bucket[0]} points restoring {a.bucket[1]}/s"
        secs, calls, _ = _publish(sidecar, db, cid, "product", docs)
        row(f"{label}: products/s, first publish", f"{n / secs:.1f}/s", "",
            f"{n} products x 3 variants in {secs:.1f} s ({bucket}); {calls / n:.2f} API calls per product")
        secs, calls, unchanged = _publish(sidecar, db, cid, "product", docs)
        row(f"{label}: API calls per product, unchanged re-run", f"{calls / n:.2f}", "0",
            f"{unchanged} of {n} unchanged (same document hash), {secs:.1f} s")
        price_docs = [catalog.prices(d, {d["variants"][0]["sku"]: "99.99"}) for d in docs]
        secs, calls, _ = _publish(sidecar, db, cid, "price", price_docs)
        row(f"{label}: API calls per product, price update", f"{calls / n:.2f}", "",
            f"one variant's price of each of {n} products, {n / secs:.1f} products/s ({bucket})")
    finally:
        env.drop(db)
