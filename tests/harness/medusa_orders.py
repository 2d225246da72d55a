"""Placing an order in a REAL Medusa 2.21 through its store API, exactly the
sequence verified in shared/specs/medusa.md ("Orders through the store API"):

admin setup (once per server): a region with pp_system_default; the stock
location gets the manual_manual fulfillment provider, a shipping fulfillment
set with a service zone for the country, a flat shipping option enabled in
store; a publishable key linked to the default sales channel (the location is
linked to it too, so the variant's stock there counts).

store: POST /store/carts (region, email, addresses, items) -> shipping-methods
-> payment-collections -> payment-sessions (pp_system_default) -> complete
-> {"type": "order", "order": {..., "status": "pending"}}.

    shop = MedusaStore(server, location_id)
    order = shop.place_order(sku, quantity=2, email="ada@example.com")
"""
from __future__ import annotations

import json
import urllib.error
import urllib.request

COUNTRY = "de"


class MedusaStore:
    def __init__(self, server, location_id: str):
        self.server = server
        self.location_id = location_id
        self.region_id = self._region()
        self.sales_channel = server.store()["default_sales_channel_id"]
        self.publishable = self._publishable_key()
        self.shipping_option = self._shipping_option()

    # -- admin setup ----------------------------------------------------------
    def _region(self) -> str:
        cached = getattr(self.server, "_order_region", None)
        if cached:
            return cached
        regions = self.server.admin("GET", "/admin/regions", query={"fields": "id,countries.iso_2"})["regions"]
        for r in regions:
            if any(c.get("iso_2") == COUNTRY for c in r.get("countries") or []):
                self.server._order_region = r["id"]
                return r["id"]
        rid = self.server.admin("POST", "/admin/regions", {
            "name": "Orders test region", "currency_code": "eur", "countries": [COUNTRY],
            "payment_providers": ["pp_system_default"]})["region"]["id"]
        self.server._order_region = rid
        return rid

    def _publishable_key(self) -> str:
        cached = getattr(self.server, "_order_publishable", None)
        if cached:
            return cached
        key = self.server.admin("POST", "/admin/api-keys", {"title": "orders-test store", "type": "publishable"})["api_key"]
        self.server.admin("POST", f"/admin/api-keys/{key['id']}/sales-channels", {"add": [self.sales_channel]})
        self.server._order_publishable = key["token"]
        return key["token"]

    def _shipping_option(self) -> str:
        srv, loc = self.server, self.location_id
        srv.admin("POST", f"/admin/stock-locations/{loc}/sales-channels", {"add": [self.sales_channel]})
        srv.admin("POST", f"/admin/stock-locations/{loc}/fulfillment-providers", {"add": ["manual_manual"]})
        srv.admin("POST", f"/admin/stock-locations/{loc}/fulfillment-sets",
                  {"name": f"Shipping {loc}", "type": "shipping"})
        # The create answer does not carry the set's id: read it back.
        sets = srv.admin("GET", f"/admin/stock-locations/{loc}",
                         query={"fields": "*fulfillment_sets"})["stock_location"]["fulfillment_sets"]
        fs = sets[0]["id"]
        zones = srv.admin("POST", f"/admin/fulfillment-sets/{fs}/service-zones", {
            "name": f"Zone {loc}", "geo_zones": [{"type": "country", "country_code": COUNTRY}]})
        zone = zones["fulfillment_set"]["service_zones"][0]["id"]
        option = srv.admin("POST", "/admin/shipping-options", {
            "name": "Flat", "price_type": "flat", "service_zone_id": zone,
            "shipping_profile_id": srv.default_shipping_profile_id(), "provider_id": "manual_manual",
            "type": {"label": "Standard", "description": "Standard shipping", "code": "standard"},
            "prices": [{"currency_code": "eur", "amount": 5}],
            "rules": [{"attribute": "enabled_in_store", "value": "true", "operator": "eq"},
                      {"attribute": "is_return", "value": "false", "operator": "eq"}]})
        return option["shipping_option"]["id"]

    # -- the store API ----------------------------------------------------------
    def store(self, method: str, path: str, body=None):
        req = urllib.request.Request(self.server.base_url + path, method=method,
                                     data=None if body is None else json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json", "Accept": "application/json",
                                              "x-publishable-api-key": self.publishable})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return json.loads(resp.read())
        except urllib.error.HTTPError as e:
            raise RuntimeError(f"{method} {path}: HTTP {e.code}: {e.read()[:500]!r}") from None

    def variant_id(self, sku: str) -> str:
        variants = self.server.admin("GET", "/admin/product-variants",
                                     query={"sku": sku, "fields": "id,sku"})["variants"]
        return variants[0]["id"]

    def place_order(self, sku: str, quantity: int = 1, email: str = "guest@example.com") -> dict:
        address = {"first_name": "Grace", "last_name": "Hopper", "address_1": "Main St 1", "city": "Berlin",
                   "postal_code": "10115", "country_code": COUNTRY}
        cart = self.store("POST", "/store/carts", {
            "region_id": self.region_id, "email": email, "shipping_address": address, "billing_address": address,
            "items": [{"variant_id": self.variant_id(sku), "quantity": quantity}]})["cart"]
        self.store("POST", f"/store/carts/{cart['id']}/shipping-methods", {"option_id": self.shipping_option})
        pc = self.store("POST", "/store/payment-collections", {"cart_id": cart["id"]})["payment_collection"]
        self.store("POST", f"/store/payment-collections/{pc['id']}/payment-sessions",
                   {"provider_id": "pp_system_default"})
        done = self.store("POST", f"/store/carts/{cart['id']}/complete")
        if done.get("type") != "order":
            raise RuntimeError(f"cart {cart['id']} did not complete: {json.dumps(done)[:500]}")
        return done["order"]
