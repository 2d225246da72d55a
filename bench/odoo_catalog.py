"""Catalogue documents per second in Odoo (issue 16, Odoo side). Not wired into scripts/bench yet.

Run inside `odoo-bin shell` on a database with stock_relay installed (it commits N bench products
the first time, named BENCHCAT-nnnnn, and a channel named "bench"):
    BENCH_N=10000 PYTHONPATH=build/python /usr/bin/python3 $ODOO_SRC/odoo-bin shell \
        --addons-path=$ODOO_SRC/addons,odoo_addon -d DB --no-http < bench/odoo_catalog.py
Prints: templates/s of the document builder (first run creates the __export__ external ids) and of
"Publish catalogue" (documents + stock_relay_enqueue_documents), and the document size; then the save
time of a global pricelist rule with the documents built inside the save vs handed to the background
job (stock_relay.catalog_inline_limit), and the background job's time.
"""
import os
import time

N = int(os.environ.get("BENCH_N", "10000"))
env = self.env  # noqa: F821 - odoo-bin shell's globals
Template = env["product.template"]
TAG = "BENCHCAT"
existing = Template.search_count([("default_code", "=like", TAG + "-%")])
t0 = time.time()
if existing < N:
    vals = [{"name": f"Bench product {i}", "default_code": f"{TAG}-{i:05d}", "is_storable": True, "type": "consu",
             "list_price": 10 + i % 7, "description_sale": "Bench."} for i in range(existing, N)]
    for start in range(0, len(vals), 1000):
        Template.create(vals[start:start + 1000])
    env.cr.commit()
    print(f"created {len(vals)} products in {time.time() - t0:.1f} s")
templates = Template.search([("default_code", "=like", TAG + "-%")], limit=N)
channel = env["stock.relay.channel"].search([("name", "=", "bench")], limit=1) or env["stock.relay.channel"].create(
    {"name": "bench", "channel_type": "medusa", "base_url": "https://127.0.0.1:9"})
for label in ("documents, first run", "documents, second run"):
    env.invalidate_all()
    t0 = time.time()
    docs = {}
    for start in range(0, len(templates), 1000):
        docs.update(env["stock.relay.catalog"]._documents(channel, templates[start:start + 1000]))
    dt = time.time() - t0
    print(f"{label}: {len(docs)} in {dt:.1f} s = {len(docs) / dt:.0f} templates/s")
    env.cr.commit()
channel.catalog_enabled = True
env["ir.config_parameter"].sudo().set_param("stock_relay.catalog_inline_limit", str(10 * N))  # all in one go
env.cr.execute("DELETE FROM stock_relay_outbox WHERE channel_id = %s AND kind IN ('product', 'price')", [channel.id])
env.cr.commit()
env.invalidate_all()
t0 = time.time()
channel.action_publish_catalog()
env.cr.commit()
dt = time.time() - t0
env.cr.execute("SELECT count(*), avg(length(payload::text)) FROM stock_relay_outbox "
               "WHERE channel_id = %s AND kind = 'product'", [channel.id])
n, size = env.cr.fetchone()
print(f"publish catalogue: {n} rows in {dt:.1f} s = {n / dt:.0f} templates/s, {size:.0f} bytes/document")

# A global pricelist rule on the channel's pricelist re-prices the whole selection: the save, with every
# document built inside it (inline limit above N, as before issue 16's background chunks) and with the
# documents handed to the background job (default limit), then the job's own time.
Param = env["ir.config_parameter"].sudo()
Job = env["stock.relay.catalog.job"]
pricelist = channel.pricelist_id or env["product.pricelist"].create({"name": "bench"})
channel.pricelist_id = pricelist
env.cr.commit()
for label, limit in (("inside the save", str(10 * N)), ("background", "")):
    Param.set_param("stock_relay.catalog_inline_limit", limit or False)
    env.cr.execute("DELETE FROM stock_relay_outbox WHERE channel_id = %s AND kind IN ('product', 'price')",
                   [channel.id])
    env.cr.commit()
    env.invalidate_all()
    t0 = time.time()
    rule = env["product.pricelist.item"].create({"pricelist_id": pricelist.id, "applied_on": "3_global",
                                                 "compute_price": "percentage", "percent_price": 5})
    env.cr.commit()  # the precommit hook runs here: part of the user's save
    save = time.time() - t0
    t0 = time.time()
    chunks = 0
    while Job.search_count([]):
        Job._cron_run()
        env.cr.commit()
        chunks += 1
    done = time.time() - t0
    env.cr.execute("SELECT count(*) FROM stock_relay_outbox WHERE channel_id = %s AND kind = 'price'", [channel.id])
    rows = env.cr.fetchone()[0]
    print(f"global pricelist rule, documents {label}: save {save:.2f} s; then {chunks} chunk(s) in {done:.1f} s; "
          f"{rows} price rows")
    rule.unlink()
    env.cr.commit()
Param.set_param("stock_relay.catalog_inline_limit", False)
env.cr.commit()
