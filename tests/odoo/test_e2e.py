"""End to end through a real Odoo 18 or 19: Odoo's external API -> stock.quant -> precommit outbox
rows -> COMMIT -> the real stockrelayd -> the Shopify emulator (verified HTTPS).

Run by scripts/odoo-test, which installs `stock` and `stock_relay` into a
database of its private PostgreSQL cluster and passes its whereabouts in
STOCKRELAY_ODOO_* variables. Everything a user does goes through Odoo's public
API (JSON-RPC on 18, the JSON-2 API with an API key on 19: odoo_api.py), so every
change is a real, committed Odoo transaction.
"""
from __future__ import annotations

import math
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest
import requests

from emulators.shopify import SERVER_DIR as SHOPIFY_DIR, ShopifyEmulator
from emulators.tls import make_test_ca
from harness.sidecar import Sidecar
from odoo_api import RpcError, client, common_args, move_vals, odoo_command

ENV = os.environ
pytestmark = [
    pytest.mark.skipif(not ENV.get("STOCKRELAY_ODOO_DB"),
                       reason="real-Odoo tier: run scripts/odoo-test [18|19] (needs ODOO_SRC "
                              "or ODOO19_SRC)"),
    pytest.mark.sidecar,
]

REPO = pathlib.Path(__file__).resolve().parents[2]
TOKEN = "shpat_odoo_e2e_token_4242"
API_VERSION = "2025-10"
ADMIN = ("admin", "admin")


class OdooServer:
    """Odoo's HTTP server on the test database (a subprocess, stopped at the end)."""

    def __init__(self, work: pathlib.Path, cron_threads: int = 0):
        self.db = ENV["STOCKRELAY_ODOO_DB"]
        self.port = int(ENV.get("STOCKRELAY_ODOO_HTTP_PORT", "28069"))
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = work / "odoo-e2e-server.log"
        self.src = pathlib.Path(ENV["STOCKRELAY_ODOO_SRC"])
        self.work = work
        argv, self.env, _addons = odoo_command(self.src)
        self.argv = [*argv, *common_args(self.src, self.db), "--db-filter", f"^{self.db}$",
                     "--http-interface=127.0.0.1", f"--http-port={self.port}",
                     f"--max-cron-threads={cron_threads}", "--workers=0", "--log-level=info"]
        self.proc = None
        self.api = None
        self.uid = None
        self.session = requests.Session()

    def start(self, timeout=90.0):
        self._log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.argv, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True,
                                     env={**ENV, **self.env})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Odoo exited ({self.proc.returncode}); see {self.log_path}")
            try:
                if self.session.get(f"{self.url}/web/login", timeout=2).status_code == 200:
                    break
            except (requests.ConnectionError, requests.Timeout):  # a busy machine answers late
                pass
            time.sleep(0.2)
        else:
            self.stop()
            raise RuntimeError(f"Odoo did not answer on {self.url} within {timeout}s; see {self.log_path}")
        self.api = client(self.url, self.db, *ADMIN, src=self.src, work=self.work)
        self.uid = self.api.uid
        assert self.uid, "admin could not log in"
        return self

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=5)
        if self.proc:
            self._log.close()
        self.session.close()

    def x(self, model, method, *args, **kw):
        """`execute_kw` in the series' recommended API (odoo_api.py)."""
        return self.api.x(model, method, *args, **kw)


@pytest.fixture(scope="module")
def work():
    path = pathlib.Path(ENV.get("STOCKRELAY_ODOO_WORK") or REPO / "build" / "odoo-test") / "e2e"
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="module")
def ca(work):
    return make_test_ca(work / "ca")


@pytest.fixture(scope="module")
def shop(work, ca):
    if not (SHOPIFY_DIR / "node_modules" / "graphql").is_dir():
        pytest.fail(f"the Shopify emulator's npm dependencies are missing in {SHOPIFY_DIR}; run scripts/bootstrap")
    emu = ShopifyEmulator(token=TOKEN, tls=ca, log_path=work / "shopify.log")
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture(scope="module")
def odoo(work):
    server = OdooServer(work)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def sidecar(work):
    """stockrelayd with its own least-privilege role (native/sql/stock_relay_sidecar_grants.sql)."""
    port, db = ENV["STOCKRELAY_ODOO_PG_PORT"], ENV["STOCKRELAY_ODOO_DB"]
    psql = ["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1", "-p", port, "-U", "postgres", "-d", db]
    subprocess.run([*psql, "-c", "DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'stockrelayd') "
                    "THEN CREATE ROLE stockrelayd LOGIN; END IF; END $$;"], check=True)
    subprocess.run([*psql, "-v", "role=stockrelayd", "-f", str(REPO / "native/sql/stock_relay_sidecar_grants.sql")],
                   check=True)
    s = Sidecar(f"host=127.0.0.1 port={port} dbname={db} user=stockrelayd", work / "sidecar")
    yield s
    s.cleanup()


def sellable(odoo, product_id, location_id, buffer=0.0):
    """Odoo's sellable quantity, computed here from the quants (not by the addon)."""
    quants = odoo.x("stock.quant", "search_read",
                    [("product_id", "=", product_id), ("location_id", "child_of", location_id)],
                    fields=["quantity", "reserved_quantity"])
    free = max(0.0, sum(q["quantity"] for q in quants) - sum(q["reserved_quantity"] for q in quants)) - buffer
    return max(0, math.floor(round(free, 6)))


def set_stock(odoo, product_id, location_id, qty):
    """An inventory adjustment, as the Physical Inventory screen applies it."""
    found = odoo.x("stock.quant", "search", [("product_id", "=", product_id), ("location_id", "=", location_id)])
    ctx = {"context": {"inventory_mode": True}}
    if found:
        odoo.x("stock.quant", "write", found, {"inventory_quantity": qty}, **ctx)
        quant_id = found[0]
    else:
        quant_id = odoo.x("stock.quant", "create", {"product_id": product_id, "location_id": location_id,
                                                     "inventory_quantity": qty}, **ctx)
    odoo.x("stock.quant", "action_apply_inventory", [quant_id])


def delivery(odoo, wh, product_id, qty, validate=True):
    customers = odoo.x("ir.model.data", "check_object_reference", "stock", "stock_location_customers")[1]
    partner = odoo.x("res.partner", "create", {"name": "E2E customer"})
    picking = odoo.x("stock.picking", "create", {
        "picking_type_id": wh["out_type_id"][0], "partner_id": partner,
        "location_id": wh["lot_stock_id"][0], "location_dest_id": customers,
        "move_ids": [(0, 0, move_vals({"name": "E2E", "product_id": product_id, "product_uom_qty": qty,
                                       "location_id": wh["lot_stock_id"][0], "location_dest_id": customers}))]})
    odoo.x("stock.picking", "action_confirm", [picking])
    odoo.x("stock.picking", "action_assign", [picking])
    if validate:
        moves = odoo.x("stock.move", "search", [("picking_id", "=", picking)])
        odoo.x("stock.move", "write", moves, {"picked": True})
        assert odoo.x("stock.picking", "button_validate", [picking]) is True
        assert odoo.x("stock.picking", "read", [picking], ["state"])[0]["state"] == "done"
    return picking


def test_odoo_to_shopify(odoo, shop, ca, sidecar, work):
    t0 = time.monotonic()
    # The shop: two locations, the SKUs with stale levels that Odoo must overwrite.
    seeded = shop.seed(
        locations=[{"name": "Main"}, {"name": "Outlet"}],
        products=[{"title": f"Product {sku}", "variants": [{"sku": sku, "levels": {"Main": 99, "Outlet": 99}}]}
                  for sku in ("E2E-1", "E2E-2", "E2E-3")])
    gid = seeded["locations"]

    wh = odoo.x("stock.warehouse", "search_read", [], fields=["lot_stock_id", "out_type_id", "view_location_id"],
                limit=1)[0]
    stock = wh["lot_stock_id"][0]
    shelf = odoo.x("stock.location", "create", {"name": "Shelf E2E", "location_id": stock})
    outlet = odoo.x("stock.location", "create", {"name": "Outlet E2E", "location_id": wh["view_location_id"][0],
                                                  "usage": "internal"})
    products = {sku: odoo.x("product.product", "create", {"name": f"Product {sku}", "default_code": sku,
                                                          "type": "consu", "is_storable": True})
                for sku in ("E2E-1", "E2E-2", "E2E-3", "E2E-MISSING")}
    nosku = odoo.x("product.product", "create", {"name": "No SKU", "type": "consu", "is_storable": True})

    # A channel, configured the way the form does it: write-only token, private CA.
    channel = odoo.x("stock.relay.channel", "create", {
        "name": "E2E Shopify", "channel_type": "shopify", "base_url": shop.base_url, "api_version": API_VERSION,
        "shopify_access_token": TOKEN, "ca_file": ca["ca"], "timeout_ms": 5000})
    read = odoo.x("stock.relay.channel", "read", [channel], ["shopify_access_token", "credentials_status"])[0]
    assert read["shopify_access_token"] is False and read["credentials_status"] == "access_token: set"

    ok = odoo.x("stock.relay.channel", "action_test_connection", [channel])
    assert ok["params"]["type"] == "success", ok
    odoo.x("stock.relay.channel", "action_load_locations", [channel])
    lines = odoo.x("stock.relay.channel.location", "search_read", [("channel_id", "=", channel)],
                   fields=["location_key", "location_name"])
    assert sorted(line["location_name"] for line in lines) == ["Main", "Outlet"]
    key_line = {line["location_key"]: line["id"] for line in lines}
    odoo.x("stock.relay.channel.location", "write", [key_line[gid["Main"]]], {"location_ids": [(6, 0, [stock])]})
    odoo.x("stock.relay.channel.location", "write", [key_line[gid["Outlet"]]], {"location_ids": [(6, 0, [outlet])]})

    lookup = odoo.x("stock.relay.sku.lookup", "create", {"channel_id": channel, "sku": "E2E-1"})
    odoo.x("stock.relay.sku.lookup", "action_lookup", [lookup])
    assert "Product E2E-1" in odoo.x("stock.relay.sku.lookup", "read", [lookup], ["result"])[0]["result"]

    bad = odoo.x("stock.relay.channel", "create", {
        "name": "Wrong token", "channel_type": "shopify", "base_url": shop.base_url, "api_version": API_VERSION,
        "shopify_access_token": "shpat_wrong", "ca_file": ca["ca"], "enabled": False})
    with pytest.raises(RpcError) as refused:
        odoo.x("stock.relay.channel", "action_test_connection", [bad])
    assert refused.value.name == "odoo.exceptions.UserError" and "auth" in refused.value.message

    # Stock changes, each its own committed transaction, the way users make them.
    set_stock(odoo, products["E2E-1"], stock, 10)
    set_stock(odoo, products["E2E-1"], shelf, 2)          # a child of WH/Stock: counts for Main
    set_stock(odoo, products["E2E-2"], stock, 4)
    set_stock(odoo, products["E2E-2"], outlet, 3)
    set_stock(odoo, products["E2E-3"], outlet, 7)
    set_stock(odoo, products["E2E-MISSING"], stock, 1)
    set_stock(odoo, nosku, stock, 5)
    delivery(odoo, wh, products["E2E-1"], 5)               # validated: 12 -> 7
    delivery(odoo, wh, products["E2E-2"], 1, validate=False)   # reserved only: 4 - 1 -> 3

    pending = odoo.x("stock.relay.outbox", "search_count", [("channel_id", "=", channel), ("state", "=", "pending")])
    assert pending == 8, "mapping a shop location publishes every relayed product there: one coalesced row " \
                         "per (SKU, shop location); none for the product without SKU"

    r = sidecar.drain_once()
    print(r.stdout)

    # Every (SKU, shop location) that changed now shows Odoo's sellable quantity.
    touched = [("E2E-1", "Main", stock), ("E2E-2", "Main", stock), ("E2E-2", "Outlet", outlet),
               ("E2E-3", "Outlet", outlet)]
    state = shop.state()["available"]
    got = {(sku, name): state[sku][gid[name]] for sku, name, _loc in touched}
    expected = {(sku, name): sellable(odoo, products[sku], loc) for sku, name, loc in touched}
    assert got == expected
    assert expected[("E2E-1", "Main")] == 7 and expected[("E2E-2", "Main")] == 3
    assert state["E2E-1"][gid["Outlet"]] == 0, "mapping the Outlet published what Odoo has there (nothing)"
    assert state["E2E-3"][gid["Main"]] == 0

    # Preview: Odoo's explanation of the number, next to what the shop now has.
    preview = odoo.x("stock.relay.preview", "create", {"channel_id": channel, "product_id": products["E2E-1"]})
    odoo.x("stock.relay.preview", "action_preview", [preview])
    html = odoo.x("stock.relay.preview", "read", [preview], ["result"])[0]["result"]
    assert "floor(max(0, 7.0 − 0.0) − buffer 0.0) = <b>7</b>" in html, html
    # The shop's levels by the mapped locations' names, not raw JSON keyed by shop ids (issue 14).
    assert "Product E2E-1" in html and "Main: 7 · Outlet: 0" in html and gid["Main"] not in html, html

    # What Odoo shows about it: the log, the statistics, the unmatched report.
    stats = odoo.x("stock.relay.channel", "read", [channel], ["pending_count", "failed_count", "last_success_at"])[0]
    assert stats["pending_count"] == 0 and stats["last_success_at"]
    failed = odoo.x("stock.relay.outbox", "search_read", [("channel_id", "=", channel), ("state", "=", "failed")],
                    fields=["sku", "error_code", "last_error"])
    assert [(f["sku"], f["error_code"]) for f in failed] == [("E2E-MISSING", "sku_not_found")] * 2, failed
    assert stats["failed_count"] == 2, "one failed row per shop location"
    unmatched = odoo.x("stock.relay.unmatched", "search_read", [], fields=["product_id", "reason"])
    reasons = {u["product_id"][0]: u["reason"] for u in unmatched}
    assert reasons.get(nosku) == "no_sku" and reasons.get(products["E2E-MISSING"]) == "sku_not_found"

    # The shop gets the SKU; Retry (mass action) re-queues the failed row.
    shop.seed(products=[{"title": "Late", "variants": [{"sku": "E2E-MISSING", "levels": {"Main": 50, "Outlet": 50}}]}])
    odoo.x("stock.relay.outbox", "action_retry", [f["id"] for f in failed])
    sidecar.drain_once()
    assert shop.state()["available"]["E2E-MISSING"][gid["Main"]] == 1
    assert shop.state()["available"]["E2E-MISSING"][gid["Outlet"]] == 0
    assert odoo.x("stock.relay.channel", "read", [channel], ["failed_count"])[0]["failed_count"] == 0
    # A safety buffer and a full resync, then the live daemon (NOTIFY path).
    odoo.x("stock.relay.channel", "write", [channel], {"safety_buffer": 1})
    odoo.x("stock.relay.channel", "action_resync_all", [channel])
    sidecar.drain_once()
    # After a full sync every key of every relayed product equals Odoo's number.
    state = shop.state()["available"]
    assert state["E2E-MISSING"][gid["Main"]] == sellable(odoo, products["E2E-MISSING"], stock, 1) == 0
    for sku in ("E2E-1", "E2E-2", "E2E-3"):
        for name, loc in (("Main", stock), ("Outlet", outlet)):
            assert state[sku][gid[name]] == sellable(odoo, products[sku], loc, 1), (sku, name)

    daemon = sidecar.start()
    try:
        t_change = time.monotonic()
        set_stock(odoo, products["E2E-3"], stock, 30)
        deadline = time.monotonic() + 15
        want = sellable(odoo, products["E2E-3"], stock, 1)
        while shop.state()["available"]["E2E-3"][gid["Main"]] != want:
            assert time.monotonic() < deadline, f"the running daemon did not publish within 15 s:\n{daemon.log()}"
            time.sleep(0.05)
        latency = time.monotonic() - t_change
    finally:
        assert daemon.stop() == 0
    print(f"\nrunning daemon published a committed change {latency:.2f} s after the JSON-RPC call returned "
          f"(scenario {time.monotonic() - t0:.1f} s)", file=sys.stderr)
    assert odoo.x("stock.relay.outbox", "search_count", [("state", "in", ("pending", "in_flight"))]) == 0
