"""Catalogue documents (contract v5 [catalogue], format 1) written as Odoo writes them:
through stock_relay_enqueue_documents."""
from __future__ import annotations

import json


def document(template_id, name, variants, *, options=None, currency="EUR", active=True, handle=None,
             description="", prefix="odoo"):
    """variants: [(product_id, sku, [option values], price or None)] (price a decimal string).

    options: [(name, [values])]; default: one "Color" option over the variants' first values."""
    if options is None:
        values = []
        for _pid, _sku, opts, _price in variants:
            if opts and opts[0] not in values:
                values.append(opts[0])
        options = [("Color", values)] if values else []
    return {
        "format": 1, "external_id": f"{prefix}:product.template:{template_id}", "template_id": template_id,
        "name": name, "description": description, "handle": handle or f"{prefix}-{name.lower().replace(' ', '-')}",
        "active": active, "currency": currency,
        "options": [{"name": n, "values": list(v)} for n, v in options],
        "variants": [{"external_id": f"{prefix}:product.product:{pid}", "product_id": pid, "sku": sku,
                      "barcode": None, "weight": None, "weight_unit": "kg", "options": list(opts),
                      "price": price, "active": True} for pid, sku, opts, price in variants],
    }


def prices(doc, new_prices):
    """A 'price' payload for `doc` with {sku: price}."""
    return {"format": 1, "external_id": doc["external_id"], "template_id": doc["template_id"],
            "currency": doc["currency"],
            "variants": [{"external_id": v["external_id"], "product_id": v["product_id"], "sku": v["sku"],
                          "price": new_prices.get(v["sku"], v["price"])} for v in doc["variants"]]}


def enqueue(conn, kind, channel_id, docs, trigger="catalog") -> int:
    """stock_relay_enqueue_documents for `docs` on one channel; returns rows written."""
    with conn.cursor() as cur:
        cur.execute(
            "SELECT stock_relay_enqueue_documents(%s, %s::integer[], %s::integer[], %s::varchar[], "
            "%s::jsonb[], %s)",
            (kind, [channel_id] * len(docs), [d["template_id"] for d in docs], [d["external_id"] for d in docs],
             [json.dumps(d) for d in docs], trigger))
        n = cur.fetchone()[0]
    if not conn.autocommit:
        conn.commit()
    return n


def catalog_map(conn, channel_id, template_id=None):
    """{external_id: row dict} of stock_relay_catalog_map."""
    with conn.cursor() as cur:
        cur.execute("SELECT external_id, object, template_id, product_id, remote_id, parent_remote_id, "
                    "document_hash, adopted FROM stock_relay_catalog_map WHERE channel_id = %s "
                    "AND (%s::integer IS NULL OR template_id = %s::integer)", (channel_id, template_id, template_id))
        cols = [c.name for c in cur.description]
        return {r[0]: dict(zip(cols, r)) for r in cur.fetchall()}
