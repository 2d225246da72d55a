"""A real Medusa 2.21.2 backend for the integration tests (not an emulator).

``scripts/medusa-server`` does the work (npm ci, private PostgreSQL 15, migrated
template database, one server per test database); this module drives it and adds
a few Admin API helpers for test setup. Only the standard library is used.

    ok, why = medusa_available()          # skip loudly with ``why`` when not ok
    srv = MedusaServer()
    srv.ensure_ready()                    # ~3-4 min the first time, instant afterwards
    srv.start("medusa_t1")                # fresh database cloned from medusa_template
    items = srv.create_product("T-Shirt", ["TS-S", "TS-M"])   # {sku: inventory item id}
    ...
    srv.stop(); srv.pg_stop()
"""
from __future__ import annotations

import base64
import functools
import json
import os
import pathlib
import re
import shutil
import socket
import subprocess
import urllib.error
import urllib.parse
import urllib.request

REPO = pathlib.Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "medusa-server"
PG_BIN = pathlib.Path("/usr/lib/postgresql/15/bin")

# Must match scripts/medusa-server (the admin user created by `prepare`).
ADMIN_EMAIL = "admin@example.com"
ADMIN_PASSWORD = "stockrelay-medusa-admin"

MIN_NODE = (20, 19)


class MedusaError(RuntimeError):
    """A non-2xx answer from the Admin API; ``status`` and ``body`` hold what Medusa said."""

    def __init__(self, method, path, status, body):
        super().__init__(f"{method} {path} -> {status}: {body}")
        self.status = status
        self.body = body


def _run_script(*args, timeout):
    return subprocess.run([str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout, check=False)


def _tail(text, lines=15):
    return "\n".join(text.strip().splitlines()[-lines:])


@functools.lru_cache(maxsize=1)
def medusa_available():
    """(True, "") when a real Medusa can run here, else (False, reason) for a loud skip.

    Runs ``scripts/medusa-server install`` (instant when already installed), so the
    first call may take a few minutes; the answer is cached for the process.
    """
    if os.environ.get("STOCKRELAY_SKIP_MEDUSA") == "1":
        return False, "STOCKRELAY_SKIP_MEDUSA=1"
    node = shutil.which("node")
    if not node or not shutil.which("npm"):
        return False, "node/npm not found on PATH (Medusa 2.21 needs Node >= 20.19)"
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=False).stdout.strip()
    match = re.match(r"v(\d+)\.(\d+)", version)
    if not match or tuple(map(int, match.groups())) < MIN_NODE:
        return False, f"node {version or '?'} is too old (Medusa 2.21 needs >= 20.19)"
    if not (PG_BIN / "initdb").exists():
        return False, f"PostgreSQL 15 server binaries missing in {PG_BIN} (apt-get install postgresql-15)"
    if not shutil.which("curl"):
        return False, "curl not found (scripts/medusa-server polls /health with it)"
    try:
        result = _run_script("install", timeout=900)
    except subprocess.TimeoutExpired:
        return False, "scripts/medusa-server install timed out after 900 s"
    if result.returncode != 0:
        return False, f"scripts/medusa-server install failed (npm registry unreachable?):\n{_tail(result.stderr)}"
    return True, ""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MedusaServer:
    """One real Medusa server on 127.0.0.1 with its own database."""

    def __init__(self):
        self.port = None
        self.dbname = None
        self.pidfile = None
        self.timings = {}  # step -> seconds, as reported by scripts/medusa-server
        self._jwt = None
        self._store = None

    # -- lifecycle -------------------------------------------------------
    def _script(self, *args, timeout):
        result = _run_script(*args, timeout=timeout)
        for line in result.stderr.splitlines():
            match = re.match(r"medusa-server: (.+) ([0-9.]+)s$", line)
            if match:
                self.timings[match.group(1)] = float(match.group(2))
        if result.returncode != 0:
            raise RuntimeError(f"scripts/medusa-server {' '.join(args)} failed ({result.returncode}):\n"
                               f"{_tail(result.stderr, 40)}")
        return result.stdout

    def ensure_ready(self):
        """npm ci + PostgreSQL + migrated template + admin user; each step skipped when done."""
        self._script("install", timeout=900)
        self._script("prepare", timeout=600)
        return self

    def start(self, dbname: str, port: int | None = None):
        """Start a server on a fresh database ``dbname`` (dropped and re-cloned if it exists)."""
        port = port or free_port()
        out = self._script("start", dbname, str(port), str(os.getpid()), timeout=300)
        for line in out.splitlines():
            if line.startswith("LISTENING "):
                self.port = int(line.split()[1])
            elif line.startswith("PIDFILE "):
                self.pidfile = line.split(maxsplit=1)[1]
        if self.port is None:
            raise RuntimeError(f"scripts/medusa-server start printed no LISTENING line:\n{out}")
        self.dbname = dbname
        self._jwt = None
        self._store = None
        return self

    def stop(self):
        """Stop the server and drop its database (STOCKRELAY_KEEP_TEST_DB=1 keeps it)."""
        if self.dbname:
            self._script("stop", self.dbname, timeout=60)
        self.port = self.dbname = self.pidfile = None

    @staticmethod
    def pg_stop():
        """Stop the PostgreSQL cluster unless another Medusa server still uses it."""
        _run_script("pg-stop", timeout=60)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_path(self) -> pathlib.Path:
        return pathlib.Path(self.pidfile).with_suffix(".log")

    # -- HTTP ------------------------------------------------------------
    def call(self, method, path, body=None, *, query=None, auth="jwt", timeout=30.0):
        """One Admin API call; returns (status, decoded JSON or None). Never raises on HTTP status.

        auth: "jwt" (admin user), None, or a ready ``Authorization`` header value.
        query: dict or list of pairs; list values repeat the key (``sku[]``).
        """
        url = self.base_url + path
        if query:
            url += "?" + urllib.parse.urlencode(query, doseq=True)
        headers = {"Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if auth == "jwt":
            headers["Authorization"] = f"Bearer {self.jwt()}"
        elif auth:
            headers["Authorization"] = auth
        req = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as err:
            with err:
                status, raw = err.code, err.read()
        try:
            return status, (json.loads(raw) if raw else None)
        except ValueError:
            return status, raw.decode(errors="replace")

    def admin(self, method, path, body=None, *, query=None):
        """Admin API call as the admin user; raises MedusaError unless 2xx."""
        status, answer = self.call(method, path, body, query=query)
        if not 200 <= status < 300:
            raise MedusaError(method, path, status, answer)
        return answer

    @staticmethod
    def basic(secret_key: str) -> str:
        """``Authorization`` value for a secret API key (Medusa wants Basic ``key:``)."""
        return "Basic " + base64.b64encode(f"{secret_key}:".encode()).decode()

    # -- admin helpers -----------------------------------------------------
    def jwt(self) -> str:
        if self._jwt is None:
            status, answer = self.call("POST", "/auth/user/emailpass",
                                       {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}, auth=None)
            if status != 200:
                raise MedusaError("POST", "/auth/user/emailpass", status, answer)
            self._jwt = answer["token"]
        return self._jwt

    def create_secret_key(self, title="stockrelay") -> str:
        """A new secret API key; returns the ``sk_…`` token."""
        answer = self.admin("POST", "/admin/api-keys", {"title": title, "type": "secret"})
        return answer["api_key"]["token"]

    def create_stock_location(self, name, metadata=None) -> str:
        body = {"name": name}
        if metadata:
            body["metadata"] = metadata
        return self.admin("POST", "/admin/stock-locations", body)["stock_location"]["id"]

    def store(self) -> dict:
        if self._store is None:
            self._store = self.admin("GET", "/admin/stores")["stores"][0]
        return self._store

    def default_shipping_profile_id(self) -> str:
        profiles = self.admin("GET", "/admin/shipping-profiles")["shipping_profiles"]
        default = [p for p in profiles if p.get("type") == "default"] or profiles
        return default[0]["id"]

    def create_product(self, title, skus, manage_inventory=True, external_id=None) -> dict:
        """A published product with one variant per SKU in the default sales channel.

        Returns {sku: inventory item id} (empty values when manage_inventory is False).
        """
        skus = list(skus)
        body = {
            "title": title,
            "status": "published",
            "shipping_profile_id": self.default_shipping_profile_id(),
            "sales_channels": [{"id": self.store()["default_sales_channel_id"]}],
            "options": [{"title": "Variant", "values": skus}],
            "variants": [{"title": sku, "sku": sku, "manage_inventory": manage_inventory,
                          "options": {"Variant": sku},
                          "prices": [{"currency_code": "eur", "amount": 10}]} for sku in skus],
        }
        if external_id:
            body["external_id"] = external_id
        self.admin("POST", "/admin/products", body)
        if not manage_inventory:
            return {sku: None for sku in skus}
        items = self.admin("GET", "/admin/inventory-items",
                           query={"sku[]": skus, "fields": "id,sku", "limit": len(skus) + 10})["inventory_items"]
        found = {item["sku"]: item["id"] for item in items}
        missing = [sku for sku in skus if sku not in found]
        if missing:
            raise RuntimeError(f"Medusa created no inventory item for {missing}")
        return found

    def inventory_item(self, sku) -> dict:
        items = self.admin("GET", "/admin/inventory-items", query={
            "sku": sku, "fields": "id,sku,location_levels.id,location_levels.location_id,"
                                  "location_levels.stocked_quantity"})["inventory_items"]
        if len(items) != 1:
            raise LookupError(f"{len(items)} inventory items with sku {sku!r}")
        return items[0]

    def levels(self, sku) -> dict:
        """{location_id: stocked_quantity} of the inventory item with this SKU."""
        return {lvl["location_id"]: lvl["stocked_quantity"] for lvl in self.inventory_item(sku)["location_levels"]}

    def set_level(self, sku, location_id, stocked_quantity):
        """Create or update one location level (test setup, not the code under test)."""
        item = self.inventory_item(sku)
        op = "update" if any(l["location_id"] == location_id for l in item["location_levels"]) else "create"
        return self.admin("POST", "/admin/inventory-items/location-levels/batch", {
            op: [{"inventory_item_id": item["id"], "location_id": location_id,
                  "stocked_quantity": stocked_quantity}]})
