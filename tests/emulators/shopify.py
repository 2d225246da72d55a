"""Shopify Admin GraphQL emulator (Node.js, ``tests/emulators/shopify/server.js``).

It validates every document against Shopify's own introspection schema for the
requested API version (shared/specs/shopify/), executes inventory operations over
in-memory state, charges query cost against a leaky bucket and can inject faults.
Its npm dependency is installed with ``npm ci --no-audit --no-fund`` in
``tests/emulators/shopify/``.
"""
from __future__ import annotations

import json
import os
import pathlib
import shutil
import ssl
import urllib.error
import urllib.request

from .base import EmulatorProcess, shared_dir

SERVER_DIR = pathlib.Path(__file__).resolve().parent / "shopify"
DEFAULT_TOKEN = "shpat_emulator_token"


def node_binary() -> str:
    return os.environ.get("STOCKRELAY_NODE") or shutil.which("node") or "/usr/bin/node"


class ShopifyEmulator(EmulatorProcess):
    """``with ShopifyEmulator(tls=make_test_ca(dir)) as shop: shop.seed(...)``."""

    def __init__(self, *, token: str = DEFAULT_TOKEN, tls: dict | None = None, specs_dir=None,
                 log_path=None, startup_timeout: float = 30.0):
        specs = pathlib.Path(specs_dir) if specs_dir else shared_dir() / "specs" / "shopify"
        if not (SERVER_DIR / "node_modules" / "graphql").is_dir():
            raise RuntimeError(f"graphql npm package missing: run `npm ci --no-audit --no-fund` in {SERVER_DIR}")
        argv = [node_binary(), str(SERVER_DIR / "server.js"), "--port", "0", "--specs", str(specs), "--token", token]
        if tls:
            argv += ["--tls-cert", str(tls["cert"]), "--tls-key", str(tls["key"])]
        if log_path:
            # The server appends its own log; the base class would leave an open file handle behind.
            argv += ["--log", str(log_path)]
        super().__init__(argv, scheme="https" if tls else "http", ca_file=tls["ca"] if tls else None,
                         startup_timeout=startup_timeout)
        self.token = token

    def stop(self):
        proc = self.proc
        super().stop()
        if proc is not None and proc.stdout is not None:
            proc.stdout.close()

    # -- addresses -------------------------------------------------------
    def graphql_url(self, version: str) -> str:
        return f"{self.base_url}/admin/api/{version}/graphql.json"

    # -- control API -----------------------------------------------------
    def reset(self):
        """Forget all shop data, faults, history and the request log; restore the start-up config."""
        return self.control("POST", "reset", {})

    def config(self, **settings):
        """token, maximumAvailable, restoreRate, currentlyAvailable, latencyMs, maxQueryCost, shopName."""
        if "token" in settings:
            self.token = settings["token"]
        return self.control("POST", "config", settings)

    def seed(self, locations=(), products=()):
        """Create locations and products; returns ``{locations: {name: gid}, variants: {sku: {...ids}}}``."""
        return self.control("POST", "seed", {"locations": list(locations), "products": list(products)})

    def rename_sku(self, variant_id: str, sku):
        """The merchant sets a variant's SKU in the admin (None clears it)."""
        return self.control("POST", "rename", {"variantId": variant_id, "sku": sku})

    def state(self):
        """``{available: {sku: {locationGid: n}}, levels: {sku: {locationGid: {name: n}}}, items, locations}``."""
        return self.control("GET", "state")

    def history(self):
        """``{entries: [{inventoryItemId, locationId, name, sku, values: [{seq, quantity, at, idempotencyKey}]}]}``."""
        return self.control("GET", "history")

    def requests(self):
        """The request log (never contains the token)."""
        return self.control("GET", "requests")["requests"]

    def faults(self, rules, seed=None):
        payload = {"rules": list(rules)}
        if seed is not None:
            payload["seed"] = seed
        return self.control("POST", "faults", payload)

    def clear_faults(self):
        return self.control("DELETE", "faults")

    # -- client helper for tests -----------------------------------------
    def graphql(self, version: str, query: str, variables=None, *, token: str | None = None,
                operation_name: str | None = None, raw_body: bytes | None = None, timeout: float = 30.0):
        """POST a GraphQL request; returns ``(http_status, headers, decoded_json_or_text)``."""
        body = raw_body
        if body is None:
            doc = {"query": query}
            if variables is not None:
                doc["variables"] = variables
            if operation_name:
                doc["operationName"] = operation_name
            body = json.dumps(doc).encode()
        headers = {"Content-Type": "application/json"}
        tok = self.token if token is None else token
        if tok:
            headers["X-Shopify-Access-Token"] = tok
        req = urllib.request.Request(self.graphql_url(version), data=body, method="POST", headers=headers)
        ctx = ssl.create_default_context(cafile=self.ca_file) if self.scheme == "https" else None
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=ctx) as resp:
                status, hdrs, text = resp.status, dict(resp.headers), resp.read()
        except urllib.error.HTTPError as e:
            status, hdrs, text = e.code, dict(e.headers), e.read()
        try:
            return status, hdrs, json.loads(text)
        except ValueError:
            return status, hdrs, text.decode(errors="replace")
