"""Cross-channel oversell window through real Odoo (run by bench/odoo-oversell under
Debian's python3 with Odoo importable; not a pytest module).

Shop A and shop B are two Shopify emulators (TLS, a private CA) selling the same
catalogue, both relayed from one Odoo warehouse. Odoo's HTTP server runs with a
cron thread; stockrelayd runs with its webhook listener. An order placed in
shop A (the emulator's control API: it commits the stock in A and sends signed
orders/create webhooks to the registered subscription) travels: webhook ->
daemon -> stock_relay_inbox -> wake Odoo's import cron (ir_cron_trigger + NOTIFY
cron_trigger) -> confirmed sale order, stock reserved -> outbox -> daemon ->
inventorySetQuantities in shop B. The window is from the control call placing
the order to the first write in shop B's inventory history (the emulator's own
timestamp, same clock) that lowers that SKU below its level before the order.
Each order buys one unit of its own SKU, so every drop belongs to one order.

Two phases on the same catalogue: webhooks (polling every hour, so it plays no
part), then polling only (order_poll_seconds = POLL_SECONDS; shop A's webhooks
now go to a closed port and are not retried). Afterwards: every inbox row done,
every shop order exactly one confirmed sale order with the SKU ordered, and shop
B shows Odoo's sellable quantity for every SKU. Writes a JSON summary.

    python3 bench/oversell.py OUT.json QUICK DB
"""
from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import shutil
import statistics
import sys
import time

import odoo
from odoo import SUPERUSER_ID, api

from emulators.shopify import ShopifyEmulator
from emulators.tls import make_test_ca
from harness.sidecar import Sidecar

SRC = os.environ["ODOO_SRC"]
REPO = pathlib.Path(__file__).resolve().parents[1]
WORK = pathlib.Path(os.environ.get("BENCH_WORK") or REPO / "build" / "bench" / "odoo-oversell")
PG_PORT = os.environ["BENCH_PG_PORT"]
HTTP_PORT = int(os.environ.get("STOCKRELAY_BENCH_OVERSELL_HTTP_PORT", "28452"))
odoo.tools.config.parse_config([
    f"--addons-path={SRC}/addons,{REPO}/odoo_addon", "--db_host=127.0.0.1",
    f"--db_port={PG_PORT}", "--db_user=odoo", "--log-level=warn"])

N_PRODUCTS = 300
STOCK = 1000
TOKEN = "shpat_bench_oversell_token"
SECRET = "shpss_bench_oversell_client_secret"
API_VERSION = "2025-10"
POLL_SECONDS = 5
RATE = float(os.environ.get("STOCKRELAY_BENCH_OVERSELL_RATE", "4"))  # orders per second
# Polling: a Shopify orders page holds 18 orders (the query's requested cost within 1000 points); a
# one-line order costs 27 points of the emulator's bucket (2000, restoring 100/s): the poller reads
# ~3.7 new orders/s at most, so the polled phase places 3 a second.
POLL_RATE = float(os.environ.get("STOCKRELAY_BENCH_OVERSELL_POLL_RATE", "3"))


def log(msg):
    print(f"oversell: {msg}", file=sys.stderr, flush=True)


def sku(i):
    return f"OVS-{i:04d}"


def percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, round(p / 100 * len(xs) + 0.5) - 1))]


# ----------------------------------------------------------------------------- Odoo side (in process)
def setup_odoo(reg, shops, ca):
    """Products stocked in WH/Stock; channels A (orders in) and B, each mapping its shop's Main to WH/Stock."""
    with reg.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        wh = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
        products = env["product.product"].create([
            {"name": f"Oversell item {i}", "default_code": sku(i), "type": "consu", "is_storable": True,
             "sale_ok": True, "list_price": 10.0} for i in range(N_PRODUCTS)])
        env["stock.quant"].with_context(inventory_mode=True).create([
            {"product_id": p.id, "location_id": wh.lot_stock_id.id, "inventory_quantity": STOCK}
            for p in products]).action_apply_inventory()
        ids = []
        for name, (emu, main_gid) in zip("AB", shops):
            channel = env["stock.relay.channel"].create({
                "name": f"Shop {name}", "channel_type": "shopify", "base_url": emu.base_url,
                "api_version": API_VERSION, "shopify_access_token": TOKEN, "ca_file": ca["ca"], "timeout_ms": 5000,
                "reconcile_scheduled": False,  # the daily reconcile read would share the shops' cost buckets
                **({"shopify_client_secret": SECRET, "orders_enabled": True, "order_poll_seconds": 3600}
                   if name == "A" else {})})
            env["stock.relay.channel.location"].create({
                "channel_id": channel.id, "location_key": main_gid, "location_name": "Main",
                "location_ids": [(6, 0, wh.lot_stock_id.ids)]})
            ids.append(channel.id)
        cr.commit()
        return ids, wh.lot_stock_id.id


def register_webhooks(reg, channel_id, port):
    """What the channel form's Register Webhooks button does, with the daemon's address as public URL."""
    with reg.cursor() as cr:
        channel = api.Environment(cr, SUPERUSER_ID, {})["stock.relay.channel"].browse(channel_id)
        channel.sale_public_url = f"http://127.0.0.1:{port}"
        channel.action_register_webhooks()
        cr.commit()


def set_poll_seconds(reg, channel_id, seconds):
    """The channel's order_poll_seconds, read back from the table the daemon reads. (An ORM assignment here
    left the column at 3600 in the full runs of 2026-11-30: the daemon then, rightly, polled once an hour,
    which the earlier runs took for a stalled poller.)"""
    with reg.cursor() as cr:
        cr.execute("UPDATE stock_relay_channel SET order_poll_seconds = %s, write_date = now() AT TIME ZONE 'UTC' "
                   "WHERE id = %s", [seconds, channel_id])
        cr.commit()
        cr.execute("SELECT order_poll_seconds FROM stock_relay_channel WHERE id = %s", [channel_id])
        got = cr.fetchone()[0]
    if got != seconds:
        raise RuntimeError(f"channel {channel_id}: order_poll_seconds is {got}, not {seconds}")


def odoo_sellable(reg, stock_location):
    """{sku: floor(quantity - reserved)} over WH/Stock and its children, computed here from the quants."""
    with reg.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        out = {}
        for q in env["stock.quant"].search([("location_id", "child_of", stock_location),
                                            ("product_id.default_code", "like", "OVS-")]):
            code = q.product_id.default_code
            out[code] = out.get(code, 0) + q.quantity - q.reserved_quantity
        return {k: int(max(0, v) // 1) for k, v in out.items()}


def order_check(reg, channel_id, placed):
    """Problems with the sale orders: every shop order -> exactly one confirmed order with its SKU."""
    problems = []
    with reg.cursor() as cr:
        env = api.Environment(cr, SUPERUSER_ID, {})
        cr.execute("SELECT state, count(*) FROM stock_relay_inbox WHERE channel_id = %s GROUP BY state", [channel_id])
        states = dict(cr.fetchall())
        if set(states) - {"done"}:
            problems.append(f"inbox rows not done: {states}")
        orders = env["sale.order"].search([("stock_relay_channel_id", "=", channel_id)])
        by_shop = {}
        for so in orders:
            by_shop.setdefault(so.stock_relay_order_id, []).append(so)
        counts = {}
        for shop_id, want_sku in placed.items():
            got = by_shop.get(shop_id, [])
            counts[len(got)] = counts.get(len(got), 0) + 1
            if len(got) != 1:
                continue
            if got[0].state != "sale" or got[0].order_line.product_id.mapped("default_code") != [want_sku]:
                problems.append(f"shop order {shop_id}: {got[0].name} state {got[0].state}, "
                                f"products {got[0].order_line.product_id.mapped('default_code')}")
        problems += [f"{c} shop orders with {k} sale orders" for k, c in sorted(counts.items()) if k != 1]
        extra = set(by_shop) - set(placed)
        if extra:
            problems.append(f"{len(extra)} sale orders for orders never placed")
    return problems, states


# ----------------------------------------------------------------------------- processes
def odoo_server(db):
    """tests/odoo/test_e2e.OdooServer (Odoo's HTTP server, here with one cron thread: the daemon's
    wake-up reaches the import cron). Loaded by path: tests/odoo would shadow the real `odoo` package."""
    spec = importlib.util.spec_from_file_location("stockrelay_odoo_e2e", REPO / "tests" / "odoo" / "test_e2e.py")
    e2e = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(e2e)
    os.environ.update({"STOCKRELAY_ODOO_DB": db, "STOCKRELAY_ODOO_SRC": SRC, "STOCKRELAY_ODOO_PG_PORT": PG_PORT,
                       "STOCKRELAY_ODOO_HTTP_PORT": str(HTTP_PORT)})
    return e2e.OdooServer(WORK, cron_threads=1)


def start_shop(name, ca):
    emu = ShopifyEmulator(token=TOKEN, tls=ca, log_path=WORK / f"shop-{name}.log")
    emu.start()
    seeded = emu.seed(locations=[{"name": "Main"}], products=[
        {"title": f"Oversell item {i}", "variants": [{"sku": sku(i), "levels": {"Main": 0}}]}
        for i in range(N_PRODUCTS)])
    return emu, seeded["locations"]["Main"]


def start_daemon(sidecar):
    proc = sidecar.start()
    m = proc.wait_for_log(r"listening for shop webhooks on http://127\.0\.0\.1:(\d+)/", timeout=15)
    return proc, int(m.group(1))


def levels(emu, gid):
    return {k: v.get(gid) for k, v in emu.state()["available"].items()}


def wait_until(predicate, timeout, what):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.5)


# ----------------------------------------------------------------------------- measuring
def place_orders(shop_a, skus, rate):
    """One order of one unit per SKU, `rate` per second; returns {shop order id: (sku, placed at)}."""
    placed = {}
    t0 = time.time()
    for k, s in enumerate(skus):
        time.sleep(max(0.0, t0 + k / rate - time.time()))
        at = time.time()
        created = shop_a.control("POST", "orders", {
            "email": f"oversell-{k % 20}@example.com", "currency": "USD",
            "lineItems": [{"sku": s, "quantity": 1, "price": "10.00"}]})
        placed[str(created["num"])] = (s, at)
    return placed


def first_drops(shop_b, gid, baseline, placed):
    """{sku: seconds from placement to shop B's first write below the baseline after it}."""
    at_of = {s: at for s, at in placed.values()}
    out = {}
    for entry in shop_b.history()["entries"]:
        s = entry.get("sku")
        if s not in at_of or entry.get("locationId") != gid or entry.get("name") != "available":
            continue
        drops = [v["at"] / 1000 for v in entry["values"]
                 if v["at"] / 1000 >= at_of[s] and v["quantity"] < baseline[s]]
        if drops:
            out[s] = min(drops) - at_of[s]
    return out


def phase(name, shop_a, shop_b, gid, skus, rate, settle):
    baseline = levels(shop_b, gid)
    t = time.monotonic()
    placed = place_orders(shop_a, skus, rate)
    log(f"{name}: {len(placed)} orders placed in {time.monotonic() - t:.1f} s")
    want = {s for s, _ in placed.values()}
    try:
        wait_until(lambda: all((levels(shop_b, gid)[s] or 0) < baseline[s] for s in want), settle,
                   f"shop B to show all {len(want)} orders")
    except RuntimeError as e:
        log(f"{name}: {e}")
    window = first_drops(shop_b, gid, baseline, placed)
    secs = list(window.values())
    res = {"orders": len(placed), "arrived": len(secs), "missing": sorted(want - set(window)), "rate": rate,
           "p50": statistics.median(secs) if secs else None, "p99": percentile(secs, 99) if secs else None,
           "max": max(secs) if secs else None, "load_average": os.getloadavg()[0]}
    log(f"{name}: p50 {res['p50']} s, p99 {res['p99']} s, max {res['max']} s, "
        f"{len(res['missing'])} never reached shop B")
    return res, {k: v[0] for k, v in placed.items()}


def final_checks(reg, channel_a, stock, shop_b, gid_b, placed):
    """After the outbox drained: the sale orders, and shop B against Odoo's sellable quantities."""
    def drained():
        with reg.cursor() as cr:
            cr.execute("SELECT count(*) FROM stock_relay_outbox WHERE state IN ('pending', 'in_flight')")
            return cr.fetchone()[0] == 0
    wait_until(drained, 120, "the outbox to drain")
    problems, states = order_check(reg, channel_a, placed)
    odoo_levels, shop = odoo_sellable(reg, stock), levels(shop_b, gid_b)
    differ = sorted(s for s in odoo_levels if shop.get(s) != odoo_levels[s])
    if differ:
        problems.append(f"shop B differs from Odoo for {len(differ)} SKUs, e.g. {differ[0]}: "
                        f"shop {shop.get(differ[0])}, Odoo {odoo_levels[differ[0]]}")
    with reg.cursor() as cr:
        cr.execute("SELECT received_via, count(*) FROM stock_relay_inbox WHERE channel_id = %s GROUP BY 1",
                   [channel_a])
        via = dict(cr.fetchall())
    return problems, states, via


def wait_reconciles_done(reg):
    """A reconcile read (Odoo asks for one when a channel is mapped) shares shop A's query-cost bucket
    with the order poll: measure the steady state, after it."""
    def idle():
        with reg.cursor() as cr:
            cr.execute("SELECT count(*) FROM stock_relay_reconcile WHERE state IN ('pending', 'reading', 'read')")
            return cr.fetchone()[0] == 0
    wait_until(idle, 180, "the channels' reconcile runs to finish")


def wait_poll_caught_up(reg, channel_id):
    """The first poll reads back over the webhook phase's orders (its cursor never moved: a poll an hour):
    measure the steady state, once the cursor reached the newest order already in the inbox."""
    def caught_up():
        with reg.cursor() as cr:
            cr.execute("SELECT c.updated_at >= (SELECT max(shop_updated_at) FROM stock_relay_inbox "
                       "WHERE channel_id = %s) FROM stock_relay_order_cursor c WHERE c.channel_id = %s",
                       [channel_id, channel_id])
            r = cr.fetchone()
            return bool(r and r[0])
    t = time.monotonic()
    wait_until(caught_up, 300, "the order poll to catch up with the webhook phase's orders")
    log(f"polling: the first poll caught up with the webhook phase's orders in {time.monotonic() - t:.0f} s")


def run(dbname, n, rate, stop):
    ca = make_test_ca(WORK / "ca")
    (shop_a, gid_a), (shop_b, gid_b) = start_shop("A", ca), start_shop("B", ca)
    stop += [shop_a.stop, shop_b.stop]
    shop_a.control("POST", "webhookconfig", {"clientSecret": SECRET, "retryBaseMs": 1000})
    reg = odoo.modules.registry.Registry(dbname)
    (channel_a, _channel_b), stock = setup_odoo(reg, [(shop_a, gid_a), (shop_b, gid_b)], ca)
    odoo_http = odoo_server(dbname)
    stop.append(odoo_http.stop)
    odoo_http.start(timeout=120.0)
    shutil.rmtree(WORK / "sidecar", ignore_errors=True)  # its logs append: a stale port must not be read back
    sidecar = Sidecar(f"host=127.0.0.1 port={PG_PORT} dbname={dbname} user=stockrelayd", WORK / "sidecar",
                      extra_args=["--listen", "127.0.0.1:0"],
                      log_level=os.environ.get("STOCKRELAY_BENCH_OVERSELL_LOG_LEVEL", "info"))
    stop.append(sidecar.cleanup)
    daemon, port = start_daemon(sidecar)
    register_webhooks(reg, channel_a, port)
    wait_until(lambda: all(v == STOCK for v in levels(shop_b, gid_b).values()), 180, "shop B's first full sync")
    wait_reconciles_done(reg)
    log(f"shops A and B in sync with Odoo ({N_PRODUCTS} SKUs); daemon listening on {port}")

    hook, placed = phase("webhooks", shop_a, shop_b, gid_b, [sku(i) for i in range(n)], rate, 30)
    # Polling only: the daemon moves to another port, shop A's deliveries fail once and are not retried.
    daemon.stop()
    shop_a.control("POST", "webhookconfig", {"clientSecret": "shpss_not_the_daemons", "maxAttempts": 1})
    set_poll_seconds(reg, channel_a, POLL_SECONDS)
    daemon, _port = start_daemon(sidecar)
    wait_reconciles_done(reg)
    wait_poll_caught_up(reg, channel_a)
    poll, placed2 = phase("polling", shop_a, shop_b, gid_b, [sku((n + i) % N_PRODUCTS) for i in range(n)], POLL_RATE,
                          30 + 2 * POLL_SECONDS)
    problems, states, via = final_checks(reg, channel_a, stock, shop_b, gid_b, {**placed, **placed2})
    problems += [f"{name}: {len(x['missing'])} orders never reached shop B, e.g. {x['missing'][0]}"
                 for name, x in (("webhooks", hook), ("polling", poll)) if x["missing"]]
    daemon.stop()
    for p in problems:
        log(f"PROBLEM: {p}")
    return {"webhook": hook, "polling": poll, "poll_seconds": POLL_SECONDS, "skus": N_PRODUCTS,
            "problems": problems, "inbox_states": states, "received_via": via}


def main():
    out, quick, dbname = sys.argv[1], sys.argv[2] == "1", sys.argv[3]
    WORK.mkdir(parents=True, exist_ok=True)
    stop = []
    try:
        summary = run(dbname, 60 if quick else 240, RATE, stop)
    finally:
        for fn in reversed(stop):
            try:
                fn()
            except Exception as e:  # stopping one must not leave the others running
                log(f"stopping: {e}")
    with open(out, "w") as f:
        json.dump(summary, f, indent=2)
    return 1 if summary["problems"] else 0


if __name__ == "__main__":
    sys.exit(main())
