"""Regenerate wc79_routes.json from the captured WooCommerce 7.9 route dumps.

The emulator validates request arguments with the JSON-Schema ``args`` that a
real WooCommerce 7.9.0 published for each route (see shared/specs/woocommerce/
SOURCE.md). Only the routes the emulator serves are kept, without descriptions,
so the emulator does not depend on the shared/ folder at run time.

    /usr/bin/python3 tests/emulators/woocommerce/extract_schema.py [SPEC_DIR]
"""
from __future__ import annotations

import json
import pathlib
import sys

HERE = pathlib.Path(__file__).resolve().parent
ROUTES = [
    "/wc/v3",
    "/wc/v3/products",
    "/wc/v3/products/(?P<id>[\\d]+)",
    "/wc/v3/products/batch",
    "/wc/v3/products/(?P<product_id>[\\d]+)/variations",
    "/wc/v3/products/(?P<product_id>[\\d]+)/variations/(?P<id>[\\d]+)",
    "/wc/v3/products/(?P<product_id>[\\d]+)/variations/batch",
]


def strip(node):
    if isinstance(node, dict):
        return {k: strip(v) for k, v in node.items() if k not in ("description", "_links")}
    if isinstance(node, list):
        return [strip(v) for v in node]
    return node


def main(argv):
    spec = pathlib.Path(argv[1]) if len(argv) > 1 else HERE.parents[2].parent / "shared" / "specs" / "woocommerce"
    index = json.loads((spec / "wc-v3-route-index.wc-7.9.0.json").read_text())
    out = {"source": "WooCommerce 7.9.0 route index (GET /wp-json/wc/v3), descriptions removed", "routes": {}}
    for route in ROUTES:
        entry = index["routes"][route]
        out["routes"][route] = {
            "methods": entry["methods"],
            "endpoints": [{"methods": e["methods"], "args": strip(e["args"])} for e in entry["endpoints"]],
        }
    (HERE / "wc79_routes.json").write_text(json.dumps(out, indent=1, sort_keys=False) + "\n")


if __name__ == "__main__":
    main(sys.argv)
