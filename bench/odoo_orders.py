"""Shop orders imported per second into real Odoo (run by bench/odoo-orders under
Debian's python3 with Odoo importable; not a pytest module).

Inserts N shop order events into stock_relay_inbox the way stockrelayd does
(normalized payload: 3 SKU lines with 21 % tax, a discount, shipping; half the
customers new, half returning) and times the import cron's own loop over them:
_cron_process() batches, each committed (the precommit outbox writes
included), until none is pending. Every order is confirmed, so its stock is
reserved and the relay enqueues the new quantities. Writes a JSON summary.
With WORKERS > 1 that many processes drain the same rows at once (as Odoo's
cron workers would); the run then checks that no row was processed twice.

    python3 bench/odoo_orders.py OUT.json RUNS QUICK DB [WORKERS]
"""
from __future__ import annotations

import json
import multiprocessing
import os
import statistics
import sys
import time

import odoo
from odoo import SUPERUSER_ID, api

SRC = os.environ["ODOO_SRC"]
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
odoo.tools.config.parse_config([
    f"--addons-path={SRC}/addons,{REPO}/odoo_addon", "--db_host=127.0.0.1",
    f"--db_port={os.environ['BENCH_PG_PORT']}", "--db_user=odoo", "--log-level=warn"])

N_PRODUCTS = 200


def log(msg):
    print(f"odoo-orders: {msg}", file=sys.stderr, flush=True)


def env_of(cr):
    return api.Environment(cr, SUPERUSER_ID, {})


def setup(dbname):
    reg = odoo.modules.registry.Registry(dbname)
    with reg.cursor() as cr:
        env = env_of(cr)
        channel = env["stock.relay.channel"].search([("name", "=", "Bench orders")], limit=1)
        if channel:
            return reg, channel.id
        env.ref("base.EUR").active = True
        env["account.tax"].create({"name": "Bench VAT 21%", "amount": 21.0, "amount_type": "percent",
                                   "type_tax_use": "sale", "price_include_override": "tax_excluded"})
        wh = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
        channel = env["stock.relay.channel"].create({
            "name": "Bench orders", "channel_type": "shopify", "base_url": "https://127.0.0.1:9/",
            "api_version": "2025-10", "orders_enabled": True})
        for name in ("Bench orders", "Bench other shop"):
            ch = channel if name == "Bench orders" else env["stock.relay.channel"].create(
                {"name": name, "channel_type": "woocommerce", "base_url": "https://127.0.0.1:9/woo"})
            env["stock.relay.channel.location"].create({
                "channel_id": ch.id, "location_key": f"{name}-loc", "location_name": "Main",
                "location_ids": [(6, 0, wh.lot_stock_id.ids)]})
        products = env["product.product"].create([
            {"name": f"Bench item {i}", "default_code": f"ORD-{i:04d}", "type": "consu", "is_storable": True,
             "sale_ok": True, "list_price": 10.0} for i in range(N_PRODUCTS)])
        env["stock.quant"].with_context(inventory_mode=True).create([
            {"product_id": p.id, "location_id": wh.lot_stock_id.id, "inventory_quantity": 1_000_000}
            for p in products]).action_apply_inventory()
        cr.commit()
        log(f"{dbname}: channel, {N_PRODUCTS} stocked products")
        return reg, channel.id


def payload(run, k):
    skus = [f"ORD-{(k * 3 + j) % N_PRODUCTS:04d}" for j in range(3)]
    email = f"bench-{k % 50}@example.com" if k % 2 else f"bench-{run}-{k}@example.com"
    addr = {"name": "Bench Customer", "company": None, "street": f"Main Street {k}", "street2": None,
            "city": "Amsterdam", "zip": "1011 AA", "state_code": None, "country_code": "NL", "phone": None}
    updated = f"2026-11-30T10:{run % 60:02d}:00Z"
    order = {
        "id": f"gid://shopify/Order/{run}{k:06d}", "name": f"#{run}{k:05d}", "status": "open",
        "financial_status": "paid", "currency": "EUR", "created_at": updated, "updated_at": updated,
        "email": email, "customer": {"first_name": "Bench", "last_name": f"Customer {k}", "email": email,
                                     "phone": None},
        "billing_address": addr, "shipping_address": addr,
        "lines": [{"id": f"l{j}", "sku": sku, "name": sku, "quantity": 1 + j, "unit_price": "10.00",
                   "discount": "1.00" if j == 0 else "0", "taxes_included": False, "meta": [],
                   "taxes": [{"name": "VAT", "rate": "0.21", "amount": "2.10"}]} for j, sku in enumerate(skus)],
        "shipping": [{"name": "Standard", "price": "4.95", "discount": "0",
                      "taxes": [{"name": "VAT", "rate": "0.21", "amount": "1.04"}]}],
        "totals": {},
    }
    return order


def insert(reg, channel_id, run, n):
    with reg.cursor() as cr:
        rows = []
        for k in range(n):
            order = payload(run, k)
            rows.append(cr.mogrify("(%s, %s, %s, 'order_created', %s, %s, %s, 'webhook')", [
                channel_id, order["id"], order["name"], f"{order['id']}@{order['updated_at']}",
                order["updated_at"].replace("T", " ").rstrip("Z"), json.dumps({"order": order, "raw": {}})]).decode())
        cr.execute("INSERT INTO stock_relay_inbox (channel_id, shop_order_id, shop_order_name, topic, event_key, "
                   "shop_updated_at, payload, received_via) VALUES " + ",".join(rows))
        cr.commit()


def drain(reg):
    """The cron's loop: one committed transaction per batch until nothing is pending."""
    t, cpu = time.perf_counter(), time.process_time()
    batches = idle = 0
    while idle < 600:
        with reg.cursor() as cr:
            done = env_of(cr)["stock.relay.inbox"]._cron_process()
            cr.commit()
            if not done:
                # Nothing left, or this batch was postponed behind another worker's commit (the cron's
                # trigger calls again then): go on while rows are pending.
                cr.execute("SELECT count(*) FROM stock_relay_inbox WHERE state = 'pending'")
                if not cr.fetchone()[0]:
                    break
                idle += 1
                time.sleep(0.05)
                continue
        batches, idle = batches + 1, 0
    return time.perf_counter() - t, time.process_time() - cpu, batches


def _worker(dbname, ready, go, results):
    """One cron worker in its own process: loads the registry, then drains when told to."""
    reg = odoo.modules.registry.Registry(dbname)
    ready.put(os.getpid())
    go.wait()
    secs, cpu, batches = drain(reg)
    results.put((cpu, batches))


def drain_parallel(dbname, workers):
    """``workers`` processes draining at once: (wall seconds, their CPU seconds, batches)."""
    ctx = multiprocessing.get_context("spawn")  # a fresh Odoo per process, no shared connections
    ready, go, results = ctx.Queue(), ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(dbname, ready, go, results)) for _ in range(workers)]
    for proc in procs:
        proc.start()
    for _ in procs:
        ready.get(timeout=300)
    t = time.perf_counter()
    go.set()
    done = [results.get(timeout=3600) for _ in procs]
    secs = time.perf_counter() - t
    for proc in procs:
        proc.join()
    return secs, sum(cpu for cpu, _ in done), sum(b for _, b in done)


def twice_processed(reg, shop_order_prefix):
    """Rows of this run processed more than once, and rows not done."""
    with reg.cursor() as cr:
        cr.execute("SELECT count(*) FILTER (WHERE attempts <> 1), count(*) FILTER (WHERE state <> 'done') "
                   "FROM stock_relay_inbox WHERE shop_order_id LIKE %s", [shop_order_prefix + "_" * 6])
        return cr.fetchone()


def main():
    out, runs, quick, dbname = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4]
    workers = int(sys.argv[5]) if len(sys.argv) > 5 else 1
    n = 100 if quick else 400
    reg, channel_id = setup(dbname)
    insert(reg, channel_id, int(time.time()) % 100000 + 50, 20)  # warm the registry's caches (not timed)
    drain(reg)
    results = []
    base = int(time.time()) % 100000
    for run in range(runs):
        insert(reg, channel_id, base + run + 1, n)
        secs, cpu, batches = drain(reg) if workers == 1 else drain_parallel(dbname, workers)
        again, not_done = twice_processed(reg, f"gid://shopify/Order/{base + run + 1}")
        with reg.cursor() as cr:
            cr.execute("SELECT state, count(*) FROM stock_relay_inbox GROUP BY state")
            states = dict(cr.fetchall())
        results.append({"orders": n, "seconds": secs, "per_second": n / secs, "batches": batches,
                        "odoo_cpu_seconds": cpu, "per_odoo_cpu_second": n / cpu, "states": states,
                        "workers": workers, "rows_processed_twice": again, "rows_not_done": not_done,
                        "load_average": os.getloadavg()[0]})
        log(f"run {run + 1}: {n} orders in {secs:.1f} s = {n / secs:.1f} orders/s ({batches} batches; "
            f"Odoo process CPU {cpu:.1f} s = {n / cpu:.1f} orders per CPU-second; load {os.getloadavg()[0]:.1f}; "
            f"{workers} worker(s), rows processed twice: {again}, not done: {not_done}) {states}")
    rates = [r["per_second"] for r in results]
    summary = {"per_second": statistics.median(rates), "runs": results, "orders_per_run": n,
               "per_odoo_cpu_second": statistics.median(r["per_odoo_cpu_second"] for r in results),
               "lines_per_order": 4, "workers": workers}
    with open(out, "w") as f:
        json.dump(summary, f, indent=2)


if __name__ == "__main__":
    main()
