"""Cost to Odoo of stock_relay (run by bench/odoo-cost under Debian's python3
with Odoo importable; not a pytest module).

Two databases with the same data: `plain` (stock only) and `relay` (stock +
stock_relay with one enabled Shopify channel mapping WH/Stock). In each, times
  * validating an outgoing delivery of 100 lines (button_validate + COMMIT:
    stock_relay's outbox write happens at precommit, so COMMIT is included),
  * applying an inventory adjustment of 1,000 quants (action_apply_inventory + COMMIT),
and in `relay` the full resync of N products (action_resync_all + COMMIT).
Writes a JSON summary.

    python3 bench/odoo_cost.py OUT.json RUNS QUICK PLAIN_DB RELAY_DB
"""
from __future__ import annotations

import json
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

N_ADJUST = 1000
N_LINES = 100


def log(msg):
    print(f"odoo-cost: {msg}", file=sys.stderr, flush=True)


def env_of(cr):
    return api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True, "mail_notrack": True,
                                              "mail_create_nolog": True})


def setup(dbname, relay, n_products):
    reg = odoo.modules.registry.Registry(dbname)
    with reg.cursor() as cr:
        env = env_of(cr)
        if env["product.product"].search_count([("default_code", "=like", "BENCH-%")]):
            return reg
        wh = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
        if relay:
            ch = env["stock.relay.channel"].create({
                "name": "Bench shop", "channel_type": "shopify", "base_url": "https://127.0.0.1:9/",
                "api_version": "2025-10", "shopify_access_token": "shpat_bench_secret"})
            env["stock.relay.channel.location"].create({
                "channel_id": ch.id, "location_key": "gid://shopify/Location/1", "location_name": "Main",
                "location_ids": [(6, 0, wh.lot_stock_id.ids)]})
        t = time.monotonic()
        vals = [{"name": f"Bench {i}", "default_code": f"BENCH-{i:05d}", "type": "consu", "is_storable": True}
                for i in range(n_products)]
        for i in range(0, n_products, 1000):
            env["product.product"].create(vals[i:i + 1000])
        cr.commit()
        log(f"{dbname}: {n_products} products in {time.monotonic() - t:.1f} s")
        # Initial stock for the first N_ADJUST products (not timed).
        products = env["product.product"].search([("default_code", "=like", "BENCH-%")], order="default_code",
                                                 limit=N_ADJUST)
        Quant = env["stock.quant"].with_context(inventory_mode=True)
        quants = Quant.create([{"product_id": p.id, "location_id": wh.lot_stock_id.id, "inventory_quantity": 1000}
                               for p in products])
        quants.action_apply_inventory()
        cr.commit()
        log(f"{dbname}: stocked {len(products)} products")
    return reg


def time_commit(cr, fn):
    t = time.perf_counter()
    fn()
    cr.commit()
    return time.perf_counter() - t


def delivery(reg, run):
    with reg.cursor() as cr:
        env = env_of(cr)
        wh = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
        customers = env.ref("stock.stock_location_customers")
        partner = env["res.partner"].search([("name", "=", "Bench customer")], limit=1) or \
            env["res.partner"].create({"name": "Bench customer"})
        products = env["product.product"].search([("default_code", "=like", "BENCH-%")], order="default_code",
                                                 offset=run * N_LINES % N_ADJUST, limit=N_LINES)
        picking = env["stock.picking"].create({
            "picking_type_id": wh.out_type_id.id, "partner_id": partner.id,
            "location_id": wh.lot_stock_id.id, "location_dest_id": customers.id,
            "move_ids": [(0, 0, {"name": p.name, "product_id": p.id, "product_uom_qty": 1,
                                 "product_uom": p.uom_id.id, "location_id": wh.lot_stock_id.id,
                                 "location_dest_id": customers.id}) for p in products]})
        picking.action_confirm()
        picking.action_assign()
        for m in picking.move_ids:
            m.quantity = m.product_uom_qty
            m.picked = True
        cr.commit()
        return time_commit(cr, lambda: picking.with_context(skip_backorder=True).button_validate())


def adjustment(reg, run):
    with reg.cursor() as cr:
        env = env_of(cr)
        wh = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
        Quant = env["stock.quant"].with_context(inventory_mode=True)
        quants = Quant.search([("location_id", "=", wh.lot_stock_id.id),
                               ("product_id.default_code", "=like", "BENCH-%")], limit=N_ADJUST)
        for k, q in enumerate(quants):
            q.inventory_quantity = 500 + (k + run) % 7 + run
        cr.commit()
        return time_commit(cr, lambda: quants.action_apply_inventory())


def resync(reg):
    with reg.cursor() as cr:
        env = env_of(cr)
        cr.execute("DELETE FROM stock_relay_outbox")
        cr.commit()
        ch = env["stock.relay.channel"].search([], limit=1)
        secs = time_commit(cr, lambda: ch.action_resync_all())
        cr.execute("SELECT count(*) FROM stock_relay_outbox WHERE trigger = 'full_sync'")
        return secs, cr.fetchone()[0]


def main():
    out, runs, quick, plain_db, relay_db = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1", sys.argv[4], sys.argv[5]
    n_products = 2000 if quick else 10000
    regs = {"plain": setup(plain_db, False, n_products), "relay": setup(relay_db, True, n_products)}
    res = {}
    for name, fn, lines in (("delivery", delivery, N_LINES), ("adjustment", adjustment, N_ADJUST)):
        times = {"plain": [], "relay": []}
        fn(regs["plain"], 99)  # warm both registries' caches
        fn(regs["relay"], 99)
        for run in range(runs):
            for which in ("plain", "relay") if run % 2 == 0 else ("relay", "plain"):  # alternate the order
                times[which].append(fn(regs[which], run))
            log(f"{name} run {run + 1}: without {times['plain'][-1]:.3f} s, with {times['relay'][-1]:.3f} s")
        w, wo = statistics.median(times["relay"]), statistics.median(times["plain"])
        # The overhead is the median of the per-run ratios (each run times both databases back to back).
        ratio = statistics.median(r / p for r, p in zip(times["relay"], times["plain"]))
        res[name] = {"with_s": w, "without_s": wo, "overhead_pct": 100 * (ratio - 1), "runs": runs,
                     "lines": lines, "with_all": times["relay"], "without_all": times["plain"]}
    rs = [resync(regs["relay"]) for _ in range(runs)]
    res["resync"] = {"seconds": statistics.median(s for s, _ in rs), "rows": rs[0][1], "runs": runs,
                     "all": [s for s, _ in rs]}
    with open(out, "w") as f:
        json.dump(res, f, indent=1)
    log(json.dumps(res))


if __name__ == "__main__":
    main()
