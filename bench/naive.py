"""The baselines: how other connectors push stock to Shopify, one item at a
time.

NaiveClient: webhook-style connectors — look the variant up by SKU, read the
level, adjust it by the delta (3 sequential Admin GraphQL calls per item).

OcaClient: OCA connector-shopify 19.0's export of stock levels — the variant's
inventory item is already bound (no lookup); per (variant, location) one
queue job reads the current level, then sets it with
`inventorySetQuantities` of one item carrying that level as
`compareQuantity`, and re-reads and retries when Shopify answers
COMPARE_QUANTITY_STALE (2 calls per item when nobody else writes).

Both They behave well under
the rate limit (on THROTTLED it waits for the bucket to refill, using the
throttleStatus Shopify reports) so the comparison is about the method, not
about a client that ignores 'slow down'.

Used by bench/run.py; runnable alone against a seeded emulator:
    /usr/bin/python3 bench/naive.py URL TOKEN CA_FILE LOCATION_GID SKU...
(the naive method; OcaClient needs the SKU -> inventory item map, see bench/run.py).
"""
from __future__ import annotations

import json
import ssl
import sys
import time
import http.client
import urllib.parse

LOOKUP = """query NaiveLookup($q: String!) {
  productVariants(first: 1, query: $q) { nodes { id inventoryItem { id } } }
}"""
READ = """query NaiveRead($item: ID!, $loc: ID!) {
  inventoryItem(id: $item) { inventoryLevel(locationId: $loc) { quantities(names: ["available"]) { name quantity } } }
}"""
ADJUST = """mutation NaiveAdjust($input: InventoryAdjustQuantitiesInput!) {
  inventoryAdjustQuantities(input: $input) { userErrors { field message } }
}"""


SET_COMPARED = """mutation OcaSet($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) { userErrors { field message code } }
}"""


class NaiveClient:
    def __init__(self, graphql_url: str, token: str, ca_file: str | None):
        u = urllib.parse.urlsplit(graphql_url)
        self.path = u.path
        ctx = ssl.create_default_context(cafile=ca_file) if u.scheme == "https" else None
        cls = http.client.HTTPSConnection if ctx else http.client.HTTPConnection
        kw = {"context": ctx} if ctx else {}
        self.conn = cls(u.hostname, u.port, timeout=30, **kw)  # one keep-alive connection, like a small web service
        self.token = token
        self.calls = 0
        self.throttled = 0
        self.waited = 0.0

    def close(self):
        self.conn.close()

    def _post(self, query, variables):
        body = json.dumps({"query": query, "variables": variables})
        self.conn.request("POST", self.path, body=body, headers={
            "Content-Type": "application/json", "X-Shopify-Access-Token": self.token})
        resp = self.conn.getresponse()
        data = json.loads(resp.read())
        self.calls += 1
        return data

    def call(self, query, variables, deadline):
        while True:
            data = self._post(query, variables)
            errs = data.get("errors") or []
            if any((e.get("extensions") or {}).get("code") == "THROTTLED" for e in errs):
                self.throttled += 1
                cost = data.get("extensions", {}).get("cost", {})
                st = cost.get("throttleStatus") or {}
                need = (cost.get("requestedQueryCost") or 10) - st.get("currentlyAvailable", 0)
                wait = max(0.05, need / max(1.0, st.get("restoreRate", 50)))
                if time.monotonic() + wait > deadline:
                    return None
                time.sleep(wait)
                self.waited += wait
                continue
            if errs:
                raise RuntimeError(f"naive client: {errs[0].get('message')}")
            return data["data"]

    def push(self, sku: str, location: str, quantity: int, deadline: float) -> bool:
        """One item, the webhook way. False when the deadline came first."""
        d = self.call(LOOKUP, {"q": f"sku:'{sku}'"}, deadline)
        if d is None:
            return False
        nodes = d["productVariants"]["nodes"]
        if not nodes:
            raise RuntimeError(f"naive client: no variant for {sku}")
        item = nodes[0]["inventoryItem"]["id"]
        d = self.call(READ, {"item": item, "loc": location}, deadline)
        if d is None:
            return False
        level = d["inventoryItem"]["inventoryLevel"]
        current = level["quantities"][0]["quantity"] if level else 0
        d = self.call(ADJUST, {"input": {"reason": "correction", "name": "available", "changes": [
            {"inventoryItemId": item, "locationId": location, "delta": quantity - current}]}}, deadline)
        if d is None:
            return False
        ue = d["inventoryAdjustQuantities"]["userErrors"]
        if ue:
            raise RuntimeError(f"naive client: {ue[0]['message']}")
        return True


class OcaClient(NaiveClient):
    """OCA connector-shopify 19.0's method (see the module docstring); `items`: {sku: {"inventoryItemId": gid, ...}}
    (bench/env.py seed_shopify: the binding OCA keeps)."""

    def __init__(self, graphql_url: str, token: str, ca_file: str | None, items: dict):
        super().__init__(graphql_url, token, ca_file)
        self.items = items
        self.stale = 0

    def read(self, item: str, location: str, deadline: float):
        d = self.call(READ, {"item": item, "loc": location}, deadline)
        if d is None:
            return None
        level = d["inventoryItem"]["inventoryLevel"]
        return level["quantities"][0]["quantity"] if level else 0

    def set_compared(self, item: str, location: str, quantity: int, compare: int, deadline: float):
        """The user errors' codes ([] = applied), or None when the deadline came first."""
        d = self.call(SET_COMPARED, {"input": {"name": "available", "reason": "correction", "quantities": [
            {"inventoryItemId": item, "locationId": location, "quantity": quantity, "compareQuantity": compare}]}},
            deadline)
        return None if d is None else [e.get("code") for e in d["inventorySetQuantities"]["userErrors"]]

    def push(self, sku: str, location: str, quantity: int, deadline: float) -> bool:
        """One queue job: read, set with compareQuantity, again on a stale compare."""
        item = self.items[sku]["inventoryItemId"]
        for _ in range(5):
            current = self.read(item, location, deadline)
            if current is None:
                return False
            codes = self.set_compared(item, location, quantity, current, deadline)
            if codes is None:
                return False
            if not codes:
                return True
            if codes != ["COMPARE_QUANTITY_STALE"]:
                raise RuntimeError(f"OCA-style client: {codes}")
            self.stale += 1
        raise RuntimeError(f"OCA-style client: {sku} stayed stale after 5 tries")

    def check_compare_enforced(self, sku: str, location: str, deadline: float):
        """The shop must refuse a stale compareQuantity (as Shopify does up to 2026-01), or this baseline
        would measure a shop that skips the check: a deliberately wrong compare must come back STALE."""
        item = self.items[sku]["inventoryItemId"]
        current = self.read(item, location, deadline)
        codes = self.set_compared(item, location, current + 1, current + 12345, deadline)
        if codes != ["COMPARE_QUANTITY_STALE"]:
            raise RuntimeError(f"the shop did not refuse a stale compareQuantity: {codes}")


def run_for(client: NaiveClient, items, location: str, seconds: float):
    """Pushes (sku, qty) items one after another for `seconds`; returns (items done, elapsed)."""
    t0 = time.monotonic()
    deadline = t0 + seconds
    done = 0
    for sku, qty in items:
        if time.monotonic() >= deadline or not client.push(sku, location, qty, deadline):
            break
        done += 1
    return done, time.monotonic() - t0


if __name__ == "__main__":
    url, token, ca, loc, *skus = sys.argv[1:]
    c = NaiveClient(url, token, ca or None)
    n, dt = run_for(c, [(s, 7) for s in skus], loc, 60)
    print(f"{n} items in {dt:.2f} s = {n / dt:.2f} items/s ({c.calls} calls, {c.throttled} throttled)")
