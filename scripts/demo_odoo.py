"""scripts/demo --odoo: the whole product in one command.

A private PostgreSQL cluster, a real Odoo 18 (ODOO_SRC, default
/opt/stockrelay/odoo-18.0) with `stock` and the stock_relay addon and a small
demo catalogue, two channels configured through Odoo itself (the Shopify
emulator over verified HTTPS, and the real Medusa server when it can run
here), the real stockrelayd with its metrics endpoint, and a background
trickle of stock changes made through Odoo's JSON-RPC API, as a person or a
picking would. Prints the URLs and the login; Ctrl-C stops everything it
started. `--duration N` stops by itself after N seconds and checks that stock
reached the shops (the smoke test).
"""
from __future__ import annotations

import argparse
import os
import pathlib
import random
import subprocess
import sys
import tempfile
import time
import urllib.request

import requests

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "tests" / "odoo"), str(ROOT / "build" / "python")]

from emulators.shopify import ShopifyEmulator  # noqa: E402
from emulators.tls import make_test_ca  # noqa: E402
from harness.pg import PgCluster, free_port  # noqa: E402
from harness.sidecar import Sidecar  # noqa: E402

TOKEN = "shpat_demo_token_not_a_secret"
API_VERSION = "2025-10"
CATALOGUE = {"MUG-RED": "Red mug", "MUG-BLUE": "Blue mug", "TEE-S": "T-shirt S", "TEE-M": "T-shirt M",
             "TEE-L": "T-shirt L", "CAP-ONE": "Cap"}
DB = "stockrelay_demo"


def say(text):
    print(f"demo: {text}", flush=True)


class Odoo:
    """Odoo's server on the demo database, driven through JSON-RPC."""

    def __init__(self, src: pathlib.Path, pg_port: int, http_port: int, work: pathlib.Path):
        self.src, self.port, self.work = src, http_port, work
        self.url = f"http://127.0.0.1:{http_port}"
        self.base = ["/usr/bin/python3", str(src / "odoo-bin"), f"--addons-path={src / 'addons'},{ROOT / 'odoo_addon'}",
                     "--db_host=127.0.0.1", f"--db_port={pg_port}", "--db_user=odoo", "-d", DB,
                     "--db-filter", f"^{DB}$", "--http-interface=127.0.0.1", f"--http-port={http_port}"]
        self.proc = None
        self.session = requests.Session()
        self._ids = 0
        self.uid = None
        self.log = open(work / "odoo.log", "ab")
        self.env = {"PYTHONPATH": str(ROOT / "build" / "python"), "PATH": "/usr/bin:/bin"}

    def install(self):
        subprocess.run([*self.base, "-i", "stock,stock_relay", "--without-demo=all", "--stop-after-init",
                        "--max-cron-threads=0", "--log-level=warn"], stdout=self.log, stderr=subprocess.STDOUT,
                       env=self.env, check=True, timeout=1800)

    def start(self):
        self.proc = subprocess.Popen([*self.base, "--max-cron-threads=1", "--workers=0", "--log-level=warn"],
                                     stdout=self.log, stderr=subprocess.STDOUT, env=self.env, start_new_session=True)
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"Odoo exited ({self.proc.returncode}); see {self.work / 'odoo.log'}")
            try:
                with urllib.request.urlopen(f"{self.url}/web/login", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            time.sleep(0.5)
        else:
            raise RuntimeError(f"Odoo did not answer on {self.url}; see {self.work / 'odoo.log'}")
        self.uid = self.call("common", "login", DB, "admin", "admin")
        return self

    def call(self, service, method, *args):
        self._ids += 1
        payload = {"jsonrpc": "2.0", "method": "call", "id": self._ids,
                   "params": {"service": service, "method": method, "args": list(args)}}
        answer = self.session.post(f"{self.url}/jsonrpc", json=payload, timeout=120).json()
        if "error" in answer:
            data = answer["error"].get("data") or {}
            raise RuntimeError(f"Odoo: {data.get('name', '')}: {data.get('message') or answer['error'].get('message')}")
        return answer.get("result")

    def x(self, model, method, *args, **kw):
        return self.call("object", "execute_kw", DB, self.uid, "admin", model, method, list(args), kw)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def set_stock(odoo, product_id, location_id, qty):
    """An inventory adjustment, as the Physical Inventory screen applies it."""
    found = odoo.x("stock.quant", "search", [("product_id", "=", product_id), ("location_id", "=", location_id)])
    ctx = {"context": {"inventory_mode": True}}
    if found:
        odoo.x("stock.quant", "write", found, {"inventory_quantity": qty}, **ctx)
        quant = found[0]
    else:
        quant = odoo.x("stock.quant", "create", {"product_id": product_id, "location_id": location_id,
                                                  "inventory_quantity": qty}, **ctx)
    odoo.x("stock.quant", "action_apply_inventory", [quant])


def map_locations(odoo, channel, stock_location):
    """Load the shop's locations into the channel and map them all to WH/Stock."""
    odoo.x("stock.relay.channel", "action_load_locations", [channel])
    lines = odoo.x("stock.relay.channel.location", "search", [("channel_id", "=", channel)])
    odoo.x("stock.relay.channel.location", "write", lines, {"location_ids": [(6, 0, [stock_location])]})


def shopify_channel(odoo, work, ca):
    emu = ShopifyEmulator(token=TOKEN, tls=ca, log_path=work / "shopify.log").start()
    emu.seed(locations=[{"name": "Main"}],
             products=[{"title": name, "variants": [{"sku": sku, "levels": {"Main": 0}}]}
                       for sku, name in CATALOGUE.items()])
    channel = odoo.x("stock.relay.channel", "create", {
        "name": "Shopify (emulator)", "channel_type": "shopify", "base_url": emu.base_url,
        "api_version": API_VERSION, "shopify_access_token": TOKEN, "ca_file": ca["ca"]})
    return emu, channel


def medusa_channel(odoo):
    from emulators.medusa import MedusaServer, medusa_available
    ok, why = medusa_available()
    if not ok:
        say(f"no Medusa channel: {why}")
        return None, None
    srv = MedusaServer().ensure_ready().start("stockrelay_demo_medusa")
    srv.create_product("Demo catalogue", list(CATALOGUE))
    srv.create_stock_location("Demo warehouse")
    channel = odoo.x("stock.relay.channel", "create", {
        "name": "Medusa", "channel_type": "medusa", "base_url": srv.base_url,
        "medusa_api_key": srv.create_secret_key("stockrelay demo")})
    return srv, channel


def grant_sidecar_role(cluster):
    psql = [str(cluster.bindir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", "127.0.0.1",
            "-p", str(cluster.port), "-U", "postgres", "-d", DB]
    subprocess.run([*psql, "-c", "CREATE ROLE stockrelayd LOGIN"], check=True, capture_output=True)
    subprocess.run([*psql, "-v", "role=stockrelayd", "-f", str(ROOT / "native/sql/stock_relay_sidecar_grants.sql")],
                   check=True, capture_output=True)
    return f"host=127.0.0.1 port={cluster.port} dbname={DB} user=stockrelayd"


def metrics_total(port, name, outcome):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        text = r.read().decode()
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith(name + "{") and f'outcome="{outcome}"' in line)


def trickle(odoo, products, stock, rng, until, every):
    """Random inventory adjustments through Odoo until `until` (monotonic) or Ctrl-C."""
    n = 0
    while time.monotonic() < until:
        sku = rng.choice(list(products))
        qty = rng.randint(0, 40)
        set_stock(odoo, products[sku], stock, qty)
        n += 1
        print(f"\rdemo: {n} stock changes made in Odoo (last: {sku} -> {qty})   ", end="", flush=True)
        time.sleep(every)
    print()


def run(args, work, started):
    say(f"work directory {work} (logs: odoo.log, shopify.log, sidecar/)")
    cluster = PgCluster(work).start()
    started.append(cluster.stop)
    admin = cluster.connect()
    admin.cursor().execute("CREATE ROLE odoo LOGIN CREATEDB")
    odoo_port = args.port or free_port()
    odoo = Odoo(pathlib.Path(args.odoo_src), cluster.port, odoo_port, work)
    t = time.monotonic()
    say("installing stock and stock_relay into a fresh Odoo database (a few minutes on a busy machine) ...")
    odoo.install()
    say(f"installed in {time.monotonic() - t:.0f} s; starting Odoo")
    odoo.start()
    started.append(odoo.stop)

    wh = odoo.x("stock.warehouse", "search_read", [], fields=["lot_stock_id"], limit=1)[0]
    stock = wh["lot_stock_id"][0]
    products = {sku: odoo.x("product.product", "create", {"name": name, "default_code": sku, "type": "consu",
                                                          "is_storable": True, "list_price": 12.5})
                for sku, name in CATALOGUE.items()}
    ca = make_test_ca(work / "ca")
    emu, shopify = shopify_channel(odoo, work, ca)
    started.append(emu.stop)
    channels = [shopify]
    if not args.no_medusa:
        srv, medusa = medusa_channel(odoo)
        if srv:
            started.append(srv.stop)
            channels.append(medusa)
    for channel in channels:
        map_locations(odoo, channel, stock)

    metrics_port = args.metrics_port or free_port()
    sidecar = Sidecar(grant_sidecar_role(cluster), work / "sidecar")
    started.append(sidecar.cleanup)
    proc = sidecar.start("--metrics-listen", f"127.0.0.1:{metrics_port}", "--poll-interval", "1")
    started.append(proc.stop)
    rng = random.Random(14)
    for sku, pid in products.items():
        set_stock(odoo, pid, stock, rng.randint(5, 40))
    for channel in channels:
        odoo.x("stock.relay.channel", "action_resync_all", [channel])

    print(f"""
==========================================================================
  Odoo:       {odoo.url}/odoo   login admin, password admin; Inventory > Shop Sync
  Metrics:    http://127.0.0.1:{metrics_port}/metrics  (/healthz, /readyz)
  Shopify:    {emu.base_url} (emulator; levels: {emu.base_url}/_control/state)
  Channels:   {len(channels)} ({'Shopify emulator + real Medusa' if len(channels) > 1 else 'Shopify emulator'})
  Daemon log: {proc.log_path}
  A stock change every {args.every:g} s; Ctrl-C stops everything.
==========================================================================""", flush=True)
    until = time.monotonic() + (args.duration if args.duration else 10 ** 9)
    trickle(odoo, products, stock, rng, until, args.every)
    done = metrics_total(metrics_port, "stockrelay_items_total", "done")
    say(f"stockrelayd acked {done:.0f} item(s) as done (stockrelay_items_total)")
    if args.duration and done < 1:
        say(f"nothing reached a shop; see {proc.log_path}")
        return 1
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--odoo", action="store_true", help="(the mode this script implements)")
    ap.add_argument("--odoo-src", default=os.environ.get("ODOO_SRC", "/opt/stockrelay/odoo-18.0"))
    ap.add_argument("--port", type=int, default=0, help="Odoo's HTTP port (default: a free one)")
    ap.add_argument("--metrics-port", type=int, default=0, help="stockrelayd's /metrics port (default: a free one)")
    ap.add_argument("--every", type=float, default=3.0, help="seconds between stock changes (default 3)")
    ap.add_argument("--duration", type=float, default=0, help="stop after this many seconds (default: until Ctrl-C)")
    ap.add_argument("--no-medusa", action="store_true", help="only the Shopify emulator channel")
    args = ap.parse_args()
    if not (pathlib.Path(args.odoo_src) / "odoo-bin").exists():
        say(f"no Odoo 18 source tree at {args.odoo_src} (set ODOO_SRC); see README, 'The real-Odoo tier'")
        return 2
    work = pathlib.Path(tempfile.mkdtemp(prefix="stockrelay-demo-odoo-"))
    started = []
    try:
        return run(args, work, started)
    except KeyboardInterrupt:
        print("\ndemo: interrupted; stopping everything")
        return 0
    finally:
        for stop in reversed(started):
            try:
                stop()
            except Exception as e:  # keep stopping the rest
                say(f"while stopping: {e}")


if __name__ == "__main__":
    sys.exit(main())
