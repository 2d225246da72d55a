"""Odoo under concurrency (issue 17; run by bench/odoo-concurrency under Debian's python3 with Odoo
importable; not a pytest module).

Two databases with the same data: `plain` (stock only) and `relay` (stock + stock_relay, one enabled
Shopify channel mapping WH/Stock). For each, a real Odoo HTTP server (prefork, WORKERS processes) is
started and CLIENTS threads act like warehouse users over JSON-RPC for SECONDS: each one creates a
delivery or a receipt (alternately) of LINES lines drawn from a small set of PRODUCTS popular
products (so the pickings overlap), confirms it, reserves it and validates it. Measured per database:
  * pickings validated per second,
  * serialization retries (Odoo's own "..., N tries left" log lines of service.model.retrying),
  * user-visible errors (JSON-RPC calls that answered with an error).
Afterwards, in `relay`: exactly one correct value per key -- for every (channel, product, location)
key the newest outbox row's quantity equals the sellable quantity the addon computes now from the
committed stock (no daemon runs: "published" means the newest row the daemon would push).

    python3 bench/odoo_concurrency.py OUT.json SECONDS PLAIN_DB RELAY_DB
"""
from __future__ import annotations

import json
import os
import random
import re
import subprocess
import sys
import threading
import time
import urllib.request

import odoo
from odoo import SUPERUSER_ID, api

SRC = os.environ["ODOO_SRC"]
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PG_PORT = os.environ["BENCH_PG_PORT"]
HTTP_PORT = int(os.environ["BENCH_HTTP_PORT"])
WORK = os.environ["BENCH_WORK"]
odoo.tools.config.parse_config([
    f"--addons-path={SRC}/addons,{REPO}/odoo_addon", "--db_host=127.0.0.1",
    f"--db_port={PG_PORT}", "--db_user=odoo", "--log-level=warn"])

CLIENTS = 8
WORKERS = int(os.environ.get("BENCH_ODOO_WORKERS", "8"))
PRODUCTS = 12
LINES = 3
RETRY_LINE = re.compile(r"tries left, try again")
GAVE_UP = re.compile(r"maximum number of tries reached")
BAD_QUERY = re.compile(r"bad query: (.*)")


def log(msg):
    print(f"odoo-concurrency: {msg}", file=sys.stderr, flush=True)


def env_of(cr):
    return api.Environment(cr, SUPERUSER_ID, {"tracking_disable": True})


def setup(dbname, relay):
    """The same products and stock in both databases (once; kept between runs)."""
    reg = odoo.modules.registry.Registry(dbname)
    with reg.cursor() as cr:
        env = env_of(cr)
        if env["product.product"].search_count([("default_code", "=like", "CONC-%")]):
            return
        wh = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
        if relay:
            ch = env["stock.relay.channel"].create({
                "name": "Bench shop", "channel_type": "shopify", "base_url": "https://127.0.0.1:9/",
                "api_version": "2025-10", "shopify_access_token": "shpat_bench_secret"})
            env["stock.relay.channel.location"].create({
                "channel_id": ch.id, "location_key": "gid://shopify/Location/1", "location_name": "Main",
                "location_ids": [(6, 0, wh.lot_stock_id.ids)]})
        products = env["product.product"].create([
            {"name": f"Popular {i}", "default_code": f"CONC-{i:03d}", "type": "consu", "is_storable": True}
            for i in range(PRODUCTS)])
        Quant = env["stock.quant"].with_context(inventory_mode=True)
        Quant.create([{"product_id": p.id, "location_id": wh.lot_stock_id.id, "inventory_quantity": 100000}
                      for p in products]).action_apply_inventory()
        env["res.partner"].create({"name": "Bench partner"})
        log(f"{dbname}: {PRODUCTS} products stocked")


def ids(dbname):
    reg = odoo.modules.registry.Registry(dbname)
    with reg.cursor() as cr:
        env = env_of(cr)
        wh = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
        return {"products": env["product.product"].search([("default_code", "=like", "CONC-%")]).ids,
                "partner": env["res.partner"].search([("name", "=", "Bench partner")], limit=1).id,
                "stock": wh.lot_stock_id.id, "out": wh.out_type_id.id, "in": wh.in_type_id.id,
                "customers": env.ref("stock.stock_location_customers").id,
                "suppliers": env.ref("stock.stock_location_suppliers").id}


class RpcError(Exception):
    pass


def rpc(db, model, method, *args, **kw):
    body = json.dumps({"jsonrpc": "2.0", "method": "call", "id": 1, "params": {
        "service": "object", "method": "execute_kw", "args": [db, 2, "admin", model, method, list(args), kw]}})
    req = urllib.request.Request(f"http://127.0.0.1:{HTTP_PORT}/jsonrpc", body.encode(),
                                 {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=300) as r:
        res = json.loads(r.read())
    if "error" in res:
        data = res["error"].get("data") or {}
        raise RpcError(f"{data.get('name', '')}: {data.get('message', res['error'].get('message'))}")
    return res["result"]


def one_picking(db, k, rnd, n):
    """A user's picking: create, confirm, reserve, validate (four requests, four transactions)."""
    incoming = n % 2 == 1
    src, dst = (k["suppliers"], k["stock"]) if incoming else (k["stock"], k["customers"])
    moves = [(0, 0, {"name": "bench", "product_id": p, "product_uom_qty": rnd.randint(1, 5),
                     "location_id": src, "location_dest_id": dst})
             for p in rnd.sample(k["products"], LINES)]
    if SERIES >= 19:
        moves = [(c, i, {f: v for f, v in m.items() if f != "name"}) for c, i, m in moves]
    picking = rpc(db, "stock.picking", "create", {
        "picking_type_id": k["in"] if incoming else k["out"], "partner_id": k["partner"],
        "location_id": src, "location_dest_id": dst, "move_ids": moves})
    rpc(db, "stock.picking", "action_confirm", [picking])
    rpc(db, "stock.picking", "action_assign", [picking])
    res = rpc(db, "stock.picking", "button_validate", [picking], context={"skip_backorder": True})
    if res is not True:
        raise RpcError(f"button_validate returned {str(res)[:200]}")


def storm(db, k, seconds):
    done, errors, stop = [0] * CLIENTS, [], time.monotonic() + seconds

    def client(i):
        rnd, n = random.Random(i), i
        while time.monotonic() < stop:
            try:
                one_picking(db, k, rnd, n)
                done[i] += 1
            except Exception as e:  # noqa: BLE001 -- a user-visible error is a figure, not a crash
                errors.append(str(e)[:300])
            n += 1

    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    t = time.monotonic()
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    return sum(done), time.monotonic() - t, errors


def odoo_server(db, logfile):
    cmd = ["/usr/bin/python3", "-m", "odoo"] if SERIES >= 19 else ["/usr/bin/python3", f"{SRC}/odoo-bin"]
    addons = f"{SRC}/odoo/addons" if SERIES >= 19 else f"{SRC}/addons"
    return subprocess.Popen(cmd + [
        f"--addons-path={addons},{REPO}/odoo_addon", "--db_host=127.0.0.1", f"--db_port={PG_PORT}",
        "--db_user=odoo", "-d", db, "--db-filter", f"^{db}$", "--http-interface=127.0.0.1",
        f"--http-port={HTTP_PORT}", f"--workers={WORKERS}", "--max-cron-threads=0", "--log-level=info",
        "--limit-time-cpu=600", "--limit-time-real=1200", "--limit-memory-soft=2147483648",
        "--limit-memory-hard=4294967296", f"--logfile={logfile}"], stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT)


def wait_up(db, proc):
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"Odoo exited {proc.returncode}")
        try:
            rpc(db, "res.users", "search_count", [])
            return
        except Exception:  # noqa: BLE001 -- still starting
            time.sleep(0.5)
    raise SystemExit("Odoo did not answer within 120 s")


def check_keys(dbname):
    """(keys, wrong): the newest outbox row of every key against the sellable quantity computed now."""
    reg = odoo.modules.registry.Registry(dbname)
    with reg.cursor() as cr:
        env = env_of(cr)
        products = env["product.product"].search([("default_code", "=like", "CONC-%")])
        expected = {(r["channel"].id, r["product"].id, r["location_key"] or ""): r["quantity"]
                    for r in env["stock.relay.outbox"]._sellable_rows(products.ids)}
        cr.execute("""SELECT DISTINCT ON (channel_id, product_id, location_key)
                             channel_id, product_id, location_key, quantity
                        FROM stock_relay_outbox WHERE kind = 'stock' AND product_id = ANY(%s)
                       ORDER BY channel_id, product_id, location_key, version DESC""", [products.ids])
        newest = {(c, p, lk): float(q) for c, p, lk, q in cr.fetchall()}
        cr.execute("""SELECT count(*) FROM (SELECT 1 FROM stock_relay_outbox WHERE state = 'pending'
                       AND product_id = ANY(%s) GROUP BY channel_id, product_id, location_key
                       HAVING count(*) > 1) d""", [products.ids])
        duplicated = cr.fetchone()[0]
    wrong = [f"{key}: newest {newest.get(key)} != {q}" for key, q in expected.items() if newest.get(key) != q]
    return len(expected), wrong, duplicated


def run(name, db, seconds):
    k = ids(db)
    logfile = os.path.join(WORK, f"server-{name}.log")
    open(logfile, "w").close()
    proc = odoo_server(db, logfile)
    try:
        wait_up(db, proc)
        storm(db, k, 0.1)  # one picking per client: every worker has loaded its registry
        mark = os.path.getsize(logfile)
        n, secs, errors = storm(db, k, seconds)
    finally:
        proc.terminate()
        proc.wait(60)
    retries, ours, ours_failed, query = 0, 0, 0, {}
    with open(logfile, errors="replace") as f:
        f.seek(mark)
        for line in f:  # a retry follows the log line of the query that failed in that worker
            pid = line.split(" ", 3)[2] if line[:2] == "20" else None
            m = BAD_QUERY.search(line)
            if m:
                query[pid] = m.group(1)
            elif RETRY_LINE.search(line):
                retries += 1
                ours += "stock_relay" in query.pop(pid, "")
            elif GAVE_UP.search(line):  # the replays ran out: the user saw an error
                ours_failed += "stock_relay" in query.pop(pid, "")
    res = {"pickings": n, "seconds": secs, "per_second": n / secs, "retries": retries,
           "retries_in_stock_relay": ours, "errors_in_stock_relay": ours_failed,
           "retries_per_picking": retries / max(1, n), "errors": len(errors), "error_samples": errors[:5]}
    log(f"{name}: {n} pickings in {secs:.1f} s = {n / secs:.2f}/s, {retries} serialization retries ({ours} in stock_relay's SQL), "
        f"{len(errors)} user-visible errors ({ours_failed} in stock_relay's SQL) {errors[:2]}")
    return res


SERIES = int(os.environ.get("STOCKRELAY_ODOO_SERIES", "18"))


def main():
    out, seconds, plain_db, relay_db = sys.argv[1], float(sys.argv[2]), sys.argv[3], sys.argv[4]
    setup(plain_db, False)
    setup(relay_db, True)
    res = {"clients": CLIENTS, "workers": WORKERS, "products": PRODUCTS, "lines": LINES}
    res["plain"] = run("plain", plain_db, seconds)
    res["relay"] = run("relay", relay_db, seconds)
    keys, wrong, duplicated = check_keys(relay_db)
    res["keys"], res["wrong_keys"], res["wrong_samples"], res["duplicate_pending"] = keys, len(wrong), wrong[:5], duplicated
    res["loss_pct"] = 100 * (1 - res["relay"]["per_second"] / res["plain"]["per_second"])
    log(f"keys: {keys}, wrong: {len(wrong)} {wrong[:3]}, keys with >1 pending row: {duplicated}; "
        f"throughput loss {res['loss_pct']:+.1f} %")
    with open(out, "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
