"""Shop setup shared by the chaos run and the fault, bad-input and security
tests: one channel per shop type, seeded with a list of SKUs, plus a uniform
view of each shop's levels and per-key write history.

The real Medusa server is started once per test session (``shared_medusa``,
harness/medusa_shared.py, ~15 s) and put behind a ``FaultProxy`` per test, because the real server
cannot fail on demand."""
from __future__ import annotations

import itertools
import os

from chaos.proxy import FaultProxy
from harness import outbox
from harness.medusa_shared import shared_medusa  # noqa: F401 (re-exported: the session's one server)

SHOPIFY_API_VERSION = "2025-10"

_seq = itertools.count(1)


def unique(prefix: str) -> str:
    """A prefix unique in this process (Medusa keeps SKUs across tests)."""
    return f"{prefix}{next(_seq)}-{os.getpid() % 10000}"


# --------------------------------------------------------------------------- adapters
class ShopView:
    """A channel row plus what the shop says: ``levels()`` and ``histories()``
    ({sku: [quantities applied, in order]}) for the SKUs given at creation."""

    kind = "?"

    def __init__(self, channel_id: int, location_key: str, skus):
        self.channel_id = channel_id
        self.location_key = location_key
        self.skus = list(skus)

    def rows(self, items):
        """items [(product_id, sku, qty)] -> outbox rows for this channel."""
        return [(self.channel_id, pid, sku, self.location_key, qty) for pid, sku, qty in items]

    def levels(self) -> dict:
        raise NotImplementedError

    def histories(self) -> dict:
        raise NotImplementedError

    def fault_count(self) -> int:
        raise NotImplementedError

    def push_faults(self, rules, seed=0):
        """Fault rules for the push call only (not SKU lookups), in the WooCommerce
        emulator's syntax: {action, status?, retry_after?, delay_ms?, times?, apply?, probability?}."""
        raise NotImplementedError

    def clear_faults(self):
        raise NotImplementedError

    def push_requests(self) -> list:
        """[(epoch seconds, HTTP status or None)] of the push calls, in order."""
        raise NotImplementedError


class ShopifyView(ShopView):
    kind = "shopify"

    def __init__(self, emu, seeded, channel_id, location="Main"):
        self.emu = emu
        self.loc = seeded["locations"][location]
        self.item_sku = {v["inventoryItemId"]: sku for sku, v in seeded["variants"].items()}
        super().__init__(channel_id, self.loc, seeded["variants"].keys())

    def levels(self):
        avail = self.emu.state()["available"]
        return {sku: avail.get(sku, {}).get(self.loc) for sku in self.skus}

    def histories(self):
        out = {}
        for e in self.emu.history()["entries"]:
            if e["locationId"] == self.loc and e["name"] == "available" and e["inventoryItemId"] in self.item_sku:
                out[self.item_sku[e["inventoryItemId"]]] = [v["quantity"] for v in e["values"]]
        return out

    def fault_count(self):
        return sum(1 for r in self.emu.requests() if r.get("fault") or r.get("throttled"))

    def push_faults(self, rules, seed=0):
        names = {"delay_ms": "delayMs", "retry_after": "retryAfter", "apply": "execute"}
        out = []
        for r in rules:
            r = {names.get(k, k): v for k, v in r.items()}
            if "retryAfter" in r:
                r["retryAfter"] = str(r["retryAfter"])
            out.append(dict(r, operation="inventorySetQuantities"))
        return self.emu.faults(out, seed=seed)

    def clear_faults(self):
        return self.emu.clear_faults()

    def push_requests(self):
        return [(r["time"] / 1000.0, r["status"] or None) for r in self.emu.requests()
                if "inventorySetQuantities" in r["rootFields"]]


class WooView(ShopView):
    kind = "woocommerce"

    def __init__(self, emu, channel_id, skus):
        self.emu = emu
        super().__init__(channel_id, "", skus)

    def levels(self):
        by_sku = self.emu.state()["by_sku"]
        return {sku: by_sku.get(sku) for sku in self.skus}

    def histories(self):
        by_sku = self.emu.history()["by_sku"]
        return {sku: [e["stock_quantity"] for e in by_sku.get(sku, []) if e["via"] in ("put", "batch")]
                for sku in self.skus}

    def fault_count(self):
        return sum(1 for r in self.emu.requests() if r.get("fault"))

    def push_faults(self, rules, seed=0):
        return self.emu.set_faults([dict(r, path_contains="/batch") for r in rules], seed=seed)

    def clear_faults(self):
        return self.emu.clear_faults()

    def push_requests(self):
        return [(r["at_ms"] / 1000.0, r["status"]) for r in self.emu.requests()
                if r["method"] == "POST" and r["path"].split("?")[0].endswith("/batch")]


class MedusaView(ShopView):
    """Levels from the real server; history from the proxy's forwarded writes."""

    kind = "medusa"

    def __init__(self, srv, proxy, channel_id, items, location_id, skus=None):
        self.srv = srv
        self.proxy = proxy
        self.items = items  # sku -> inventory item id
        self.item_sku = {v: k for k, v in items.items()}
        super().__init__(channel_id, location_id, skus if skus is not None else items.keys())

    def levels(self):
        out = {sku: None for sku in self.skus}
        for i in range(0, len(self.skus), 100):
            chunk = self.skus[i:i + 100]
            items = self.srv.admin("GET", "/admin/inventory-items", query={
                "sku[]": chunk, "limit": len(chunk) + 10,
                "fields": "sku,location_levels.location_id,location_levels.stocked_quantity"})["inventory_items"]
            for it in items:
                for lvl in it["location_levels"]:
                    if lvl["location_id"] == self.location_key and it["sku"] in out:
                        out[it["sku"]] = lvl["stocked_quantity"]
        return out

    def histories(self):
        out = {}
        for w in self.proxy.writes():
            if "/location-levels/batch" not in w["path"] or not isinstance(w["body"], dict):
                continue
            for op in ("create", "update"):
                for lv in w["body"].get(op) or []:
                    sku = self.item_sku.get(lv.get("inventory_item_id"))
                    if sku and lv.get("location_id") == self.location_key:
                        out.setdefault(sku, []).append(lv["stocked_quantity"])
        return out

    def fault_count(self):
        return sum(1 for r in self.proxy.requests() if r.get("fault"))

    def push_faults(self, rules, seed=0):
        return self.proxy.faults([dict(r, path_contains="/location-levels/batch") for r in rules], seed=seed)

    def clear_faults(self):
        return self.proxy.clear_faults()

    def push_requests(self):
        return [(r["at"], r["status"]) for r in self.proxy.requests() if "/location-levels/batch" in r["path"]]


# --------------------------------------------------------------------------- builders
def shopify_shop(db, emu, test_ca, skus, *, channel_kw=None, levels=0):
    """Seeds ``skus`` (one variant each) at location Main; returns a ShopifyView."""
    products = [{"title": f"Product {s}", "variants": [{"sku": s, "levels": {"Main": levels}}]} for s in skus]
    seeded = emu.seed(locations=[{"name": "Main"}], products=products)
    kw = dict(name="Shopify", channel_type="shopify", base_url=emu.base_url, api_version=SHOPIFY_API_VERSION,
              credentials={"access_token": emu.token}, settings={"ca_file": test_ca["ca"]}, timeout_ms=5000)
    kw.update(channel_kw or {})
    cid = outbox.add_channel(db.conn, **kw)
    return ShopifyView(emu, seeded, cid)


def woo_shop(db, emu, test_ca, skus, key, *, channel_kw=None):
    emu.seed([{"name": f"Product {s}", "sku": s, "manage_stock": True, "stock_quantity": 0} for s in skus])
    kw = dict(name="WooCommerce", channel_type="woocommerce", base_url=emu.base_url,
              credentials={"consumer_key": key["consumer_key"], "consumer_secret": key["consumer_secret"]},
              settings={"ca_file": test_ca["ca"]} if test_ca else {}, timeout_ms=5000)
    kw.update(channel_kw or {})
    cid = outbox.add_channel(db.conn, **kw)
    return WooView(emu, cid, skus)


def medusa_inventory(srv, skus, location_name, per_product=100):
    """Products (``per_product`` variants each) for ``skus`` and one stock location."""
    items = {}
    skus = list(skus)
    for i in range(0, len(skus), per_product):
        items.update(srv.create_product(f"Chaos {location_name} {i}", skus[i:i + per_product]))
    return items, srv.create_stock_location(location_name)


def medusa_shop(db, srv, proxy, skus, *, channel_kw=None):
    items, loc = medusa_inventory(srv, skus, unique("WH-"))
    kw = dict(name="Medusa", channel_type="medusa", base_url=proxy.base_url,
              credentials={"api_key": srv.secret_key}, timeout_ms=10000)
    kw.update(channel_kw or {})
    cid = outbox.add_channel(db.conn, **kw)
    return MedusaView(srv, proxy, cid, items, loc, skus)
