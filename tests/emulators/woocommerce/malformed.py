"""Malformed items for reconciliation tests (imported by server.py).

A real WooCommerce never answers ``"stock_quantity": "lots"``, but plugins
and broken meta data make stores return odd values; a reader must report such
an item, not fail on it. ``POST /_control/malform`` ``{id, fields: {name:
value}}`` makes every later answer about product or variation ``id`` carry
those raw values (``fields: {}`` clears them). The stored product is not
changed: writes still behave.
"""
from __future__ import annotations


def apply(item: dict, rendered: dict) -> dict:
    """The rendered answer with the item's raw overrides, if any."""
    raw = item.get("_malformed")
    if raw:
        rendered.update(raw)
    return rendered


def control(shop, method: str, name: str, payload: dict):
    """(status, body) for the control calls of this module, else None."""
    if (method, name) != ("POST", "malform"):
        return None
    with shop.lock:
        item = shop.products.get(int(payload["id"]))
        if item is None:
            return 404, {"error": f"no product or variation {payload['id']}"}
        fields = dict(payload.get("fields") or {})
        if fields:
            item["_malformed"] = fields
        else:
            item.pop("_malformed", None)
    return 200, {"ok": True, "id": item["id"], "fields": fields}
