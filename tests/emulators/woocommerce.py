"""Test-side handle on the WooCommerce 7.9 emulator (tests/emulators/woocommerce/server.py).

    with WooEmulator(tls=make_test_ca(tmp)) as woo:
        woo.configure(keys=[{"consumer_key": "ck_x", "consumer_secret": "cs_x"}])
        ids = woo.seed([{"name": "Mug", "sku": "MUG-1", "manage_stock": True, "stock_quantity": 3}])["ids"]
        status, headers, body = woo.call("GET", "/products", params={"sku": "MUG-1"}, auth="basic")

``oauth1_sign`` builds the one-legged OAuth 1.0a query parameters WooCommerce
expects over plain HTTP, so tests can speak to the emulator the way the
sidecar must.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import ssl
import time
import urllib.error
import urllib.request
from urllib.parse import quote, urlencode, urlsplit

from .base import REPO, EmulatorProcess

SERVER = REPO / "tests" / "emulators" / "woocommerce" / "server.py"
PYTHON = "/usr/bin/python3"
API_PREFIX = "/wp-json/wc/v3"


def _enc(value) -> str:
    return quote(str(value), safe="~")


def oauth1_sign(method: str, url: str, params: dict | None, consumer_key: str, consumer_secret: str,
                algo: str = "HMAC-SHA256", *, timestamp: int | None = None, nonce: str | None = None) -> dict:
    """Return ``params`` plus the ``oauth_*`` parameters (signature included).

    ``url`` is the request URL without query string, with the scheme and host
    of the shop's home URL; ``params`` are the other query parameters. The
    base string is ``METHOD&enc(url)&enc(k=v&...)`` over every query
    parameter sorted by name; the key is ``consumer_secret + "&"``.
    """
    out = {k: str(v) for k, v in (params or {}).items()}
    out.update({
        "oauth_consumer_key": consumer_key,
        "oauth_timestamp": str(int(time.time()) if timestamp is None else timestamp),
        "oauth_nonce": nonce or secrets.token_hex(16),
        "oauth_signature_method": algo,
    })
    pairs = "&".join(f"{_enc(k)}={_enc(out[k])}" for k in sorted(out, key=lambda s: s.encode()))
    base = f"{method.upper()}&{_enc(url)}&{_enc(pairs)}"
    digest = hashlib.sha256 if algo == "HMAC-SHA256" else hashlib.sha1
    sig = hmac.new((consumer_secret + "&").encode(), base.encode(), digest).digest()
    out["oauth_signature"] = base64.b64encode(sig).decode()
    return out


class WooEmulator(EmulatorProcess):
    """The WooCommerce emulator as a process; ``tls`` is the dict from ``make_test_ca``."""

    def __init__(self, *, tls: dict | None = None, home_url: str | None = None,
                 trust_forwarded_proto: bool = False, log_path=None, env=None, verbose: bool = False):
        argv = [PYTHON, str(SERVER), "--port", "0"]
        if tls:
            argv += ["--tls-cert", tls["cert"], "--tls-key", tls["key"]]
        if home_url:
            argv += ["--home-url", home_url]
        if trust_forwarded_proto:
            argv.append("--trust-forwarded-proto")
        if verbose:
            argv.append("--verbose")
        super().__init__(argv, scheme="https" if tls else "http", ca_file=tls["ca"] if tls else None,
                         env=env, log_path=log_path)
        self.tls = tls
        self.keys: list[dict] = []

    # -- addresses -------------------------------------------------------------
    @property
    def api_url(self) -> str:
        """Base of the REST API, e.g. https://127.0.0.1:PORT/wp-json/wc/v3."""
        return self.base_url + API_PREFIX

    # -- control API -------------------------------------------------------------
    def reset(self, everything: bool = False):
        """Forget products, history, requests, faults and nonces (and keys/config if ``everything``)."""
        return self.control("POST", "reset", {"all": everything})

    def configure(self, *, keys=None, batch_limit=None, latency_ms=None, per_item_latency_ms=None,
                  home_url=None, trust_forwarded_proto=None):
        body = {}
        if keys is not None:
            body["keys"] = keys
            self.keys = list(keys)
        for name, value in (("batch_limit", batch_limit), ("latency_ms", latency_ms),
                            ("per_item_latency_ms", per_item_latency_ms), ("home_url", home_url),
                            ("trust_forwarded_proto", trust_forwarded_proto)):
            if value is not None:
                body[name] = value
        return self.control("POST", "config", body)

    def add_key(self, consumer_key: str, consumer_secret: str, permissions: str = "read_write"):
        self.keys = [k for k in self.keys if k["consumer_key"] != consumer_key]
        self.keys.append({"consumer_key": consumer_key, "consumer_secret": consumer_secret,
                          "permissions": permissions})
        return self.configure(keys=self.keys)

    def seed(self, products: list) -> dict:
        """Create products; returns ``{"ids": {sku: id or [ids]}, "products": [...]}``."""
        return self.control("POST", "seed", {"products": products})

    def state(self) -> dict:
        return self.control("GET", "state")

    def stock(self, sku: str):
        """Current stock for a SKU (a list when the SKU is duplicated)."""
        return self.state()["by_sku"].get(sku)

    def history(self) -> dict:
        return self.control("GET", "history")

    def requests(self, since: int = 0) -> list:
        return self.control("GET", f"requests?since={since}")["requests"]

    def set_faults(self, rules: list, seed=None):
        return self.control("POST", "faults", {"rules": rules, "seed": seed})

    def clear_faults(self):
        return self.control("DELETE", "faults")

    def set_stock(self, *, stock_quantity: int, sku: str | None = None, id: int | None = None):
        """Change stock behind the API's back (a sale in the shop)."""
        body = {"stock_quantity": stock_quantity}
        if id is not None:
            body["id"] = id
        else:
            body["sku"] = sku
        return self.control("POST", "stock", body)

    def allow_webhook_port(self, port: int, *, synchronous: bool = False):
        """The site filter http_allowed_safe_ports: WooCommerce delivers only to 80, 443, 8080 otherwise."""
        self.control("POST", "webhooks", {"allowed_ports": [int(port)], "async": not synchronous})

    def webhook_deliveries(self) -> list:
        """Every delivery attempt (pings included): webhook_id, topic, status, error, signature."""
        return self.control("GET", "webhooks/deliveries")["deliveries"]

    # -- talking to the REST API like a client -----------------------------------
    def call(self, method: str, path: str, *, params: dict | None = None, body=None, auth: str | None = "basic",
             key: dict | None = None, headers: dict | None = None, raw_body: bytes | None = None,
             algo: str = "HMAC-SHA256", timeout: float = 30.0, full_path: bool = False):
        """Send one request; returns ``(status, headers, decoded JSON or raw bytes)``.

        ``path`` is relative to /wp-json/wc/v3 unless ``full_path``; ``auth`` is
        "basic", "query", "oauth" or None; ``key`` defaults to the first configured key.
        """
        key = key or (self.keys[0] if self.keys else {"consumer_key": "", "consumer_secret": ""})
        url_path = path if full_path else API_PREFIX + path
        params = dict(params or {})
        hdrs = dict(headers or {})
        if auth == "basic":
            token = base64.b64encode(f"{key['consumer_key']}:{key['consumer_secret']}".encode()).decode()
            hdrs["Authorization"] = "Basic " + token
        elif auth == "query":
            params.update(consumer_key=key["consumer_key"], consumer_secret=key["consumer_secret"])
        elif auth == "oauth":
            home = self.base_url
            params = oauth1_sign(method, home + urlsplit(url_path).path, params, key["consumer_key"],
                                 key["consumer_secret"], algo)
        url = self.base_url + url_path + ("?" + urlencode(params) if params else "")
        data = raw_body
        if body is not None:
            data = json.dumps(body).encode()
            hdrs.setdefault("Content-Type", "application/json")
        req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
        ctx = ssl.create_default_context(cafile=self.ca_file) if self.scheme == "https" else None
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=ctx) as resp:
                status, rh, payload = resp.status, resp.headers, resp.read()
        except urllib.error.HTTPError as e:
            status, rh, payload = e.code, e.headers, e.read()
        try:
            decoded = json.loads(payload) if payload else None
        except ValueError:
            decoded = payload
        return status, rh, decoded
