"""The catalogue end to end (issue 16): a shop manager in a real Odoo 18 or 19 -> the
outbox at COMMIT -> the real stockrelayd -> a REAL Medusa 2.21 server (scripts/medusa-server).

Every step is a committed Odoo transaction through Odoo's external API (odoo_api.py): the
channel's catalogue turned on with a category scope, a product with two attributes (four
variants), a price change, a new attribute value (two more variants), archiving, and a dry run
requested from the product and answered by the daemon. Run by scripts/odoo-test.
"""
from __future__ import annotations

import os
import sys
import time

import pytest

from emulators.medusa import MedusaServer, medusa_available
from test_e2e import OdooServer, sidecar, work  # noqa: F401 (fixtures)

pytestmark = [
    pytest.mark.skipif(not os.environ.get("STOCKRELAY_ODOO_DB"),
                       reason="real-Odoo tier: run scripts/odoo-test [18|19] (needs ODOO_SRC or ODOO19_SRC)"),
    pytest.mark.sidecar,
]


@pytest.fixture(scope="module")
def odoo(work):  # noqa: F811
    server = OdooServer(work)
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def medusa():
    ok, why = medusa_available()
    if not ok:
        pytest.fail(f"real Medusa cannot run here, the catalogue end to end is untested: {why}")
    server = MedusaServer().ensure_ready()
    try:
        server.start(f"odoo_catalog_e2e_{os.getpid()}")
        server.secret_key = server.create_secret_key("stockrelay-odoo-e2e")
        yield server
    finally:
        server.stop()
        server.pg_stop()


def medusa_product(srv, product_id):
    return srv.admin("GET", f"/admin/products/{product_id}",
                     query={"fields": "id,title,status,external_id,*options,*options.values,"
                                      "*variants,*variants.prices,*variants.options"})["product"]


def with_currency(srv, code):
    """The store sells in Odoo's company currency (Medusa's seed may only have another one)."""
    store = srv.store()
    have = store.get("supported_currencies") or []
    if code not in {c["currency_code"] for c in have}:
        wanted = [{"currency_code": c["currency_code"], "is_default": bool(c.get("is_default"))} for c in have]
        srv.admin("POST", f"/admin/stores/{store['id']}",
                  {"supported_currencies": wanted + [{"currency_code": code, "is_default": not have}]})


def shop_id(odoo, channel, template):
    rows = odoo.x("stock.relay.catalog.map", "search_read",
                  [("channel_id", "=", channel), ("template_id", "=", template), ("object", "=", "product")],
                  fields=["remote_id"])
    assert len(rows) == 1, rows
    return rows[0]["remote_id"]


def name_skus(odoo, template):
    """Give every variant of ``template`` the SKU E2ECAT-<values> (one committed write each)."""
    variants = odoo.x("product.product", "search_read", [("product_tmpl_id", "=", template)],
                      fields=["product_template_attribute_value_ids", "default_code"])
    ptavs = {v["id"]: (v["attribute_id"][0], v["name"]) for v in odoo.x(
        "product.template.attribute.value", "search_read", [("product_tmpl_id", "=", template)],
        fields=["name", "attribute_id"], context={"active_test": False})}
    for v in variants:
        sku = "E2ECAT-" + "-".join(name for _a, name in sorted(ptavs[i] for i in v["product_template_attribute_value_ids"]))
        if v["default_code"] != sku:
            odoo.x("product.product", "write", [v["id"]], {"default_code": sku})


def drained(sidecar):  # noqa: F811
    r = sidecar.drain_once()
    assert "failed=0" in r.stdout, r.stdout + r.stderr
    return r.stdout


def test_a_manager_publishes_a_category_to_medusa(odoo, medusa, sidecar):  # noqa: F811
    t0 = time.monotonic()
    currency = odoo.x("res.company", "search_read", [], fields=["currency_id"], limit=1)[0]["currency_id"][1]
    with_currency(medusa, currency.lower())
    shirts = odoo.x("product.category", "create", {"name": "E2E Shirts"})
    odoo.x("product.category", "create", {"name": "E2E Other"})

    # The manager: a Medusa channel, the catalogue on for one category.
    channel = odoo.x("stock.relay.channel", "create", {
        "name": "E2E Medusa", "channel_type": "medusa", "base_url": medusa.base_url,
        "medusa_api_key": medusa.secret_key, "timeout_ms": 15000})
    odoo.x("stock.relay.channel", "write", [channel], {
        "publish_scope": "category", "publish_category_id": shirts, "catalog_enabled": True})

    size = odoo.x("product.attribute", "create", {"name": "E2E Size", "sequence": 1, "value_ids": [
        (0, 0, {"name": "S", "sequence": 1}), (0, 0, {"name": "M", "sequence": 2})]})
    color = odoo.x("product.attribute", "create", {"name": "E2E Color", "sequence": 2, "value_ids": [
        (0, 0, {"name": "Red", "sequence": 1}), (0, 0, {"name": "Blue", "sequence": 2})]})
    values = {a: odoo.x("product.attribute.value", "search_read", [("attribute_id", "=", a)], fields=["name"])
              for a in (size, color)}
    ids = {v["name"]: v["id"] for vs in values.values() for v in vs}
    template = odoo.x("product.template", "create", {
        "name": "E2E Relay Tee", "type": "consu", "is_storable": True, "list_price": 20.0, "categ_id": shirts,
        "description_sale": "Soft cotton.", "attribute_line_ids": [
            (0, 0, {"attribute_id": size, "value_ids": [(6, 0, [ids["S"], ids["M"]])]}),
            (0, 0, {"attribute_id": color, "value_ids": [(6, 0, [ids["Red"], ids["Blue"]])]})]})
    name_skus(odoo, template)
    elsewhere = odoo.x("product.template", "create", {
        "name": "E2E Not in the shop", "type": "consu", "is_storable": True, "default_code": "E2ECAT-OTHER"})

    out = drained(sidecar)
    pid = shop_id(odoo, channel, template)
    p = medusa_product(medusa, pid)
    assert p["title"] == "E2E Relay Tee" and p["status"] == "published", p
    assert sorted(v["sku"] for v in p["variants"]) == sorted(
        ["E2ECAT-S-Red", "E2ECAT-S-Blue", "E2ECAT-M-Red", "E2ECAT-M-Blue"]), out
    assert {(x["currency_code"], x["amount"]) for v in p["variants"] for x in v["prices"]} == {
        (currency.lower(), 20)}
    assert not odoo.x("stock.relay.catalog.map", "search_count", [("template_id", "=", elsewhere)]), \
        "a product outside the channel's category is not published"

    # A price change: only the price moves.
    odoo.x("product.template", "write", [template], {"list_price": 24.5})
    drained(sidecar)
    prices = {(x["currency_code"], x["amount"]) for v in medusa_product(medusa, pid)["variants"] for x in v["prices"]}
    assert prices == {(currency.lower(), 24.5)}

    # A new attribute value: two more variants on the same Medusa product.
    odoo.x("product.attribute.value", "create", {"name": "Green", "attribute_id": color, "sequence": 3})
    green = odoo.x("product.attribute.value", "search", [("attribute_id", "=", color), ("name", "=", "Green")])
    line = odoo.x("product.template.attribute.line", "search",
                  [("product_tmpl_id", "=", template), ("attribute_id", "=", color)])
    odoo.x("product.template.attribute.line", "write", line, {"value_ids": [(4, green[0])]})
    name_skus(odoo, template)
    drained(sidecar)
    p = medusa_product(medusa, pid)
    assert {v["sku"] for v in p["variants"]} >= {"E2ECAT-S-Green", "E2ECAT-M-Green"}
    assert len(p["variants"]) == 6, [v["sku"] for v in p["variants"]]
    assert shop_id(odoo, channel, template) == pid, "updated, not duplicated"

    # Someone retitles the product in Medusa by hand; a dry run from the product's Shops page shows
    # what publishing would change, answered by the daemon and shown in Odoo, changing nothing.
    medusa.admin("POST", f"/admin/products/{pid}", {"title": "Hand-edited in Medusa"})
    action = odoo.x("product.template", "action_stock_relay_dry_run", [template])
    preview = action["res_id"]
    assert odoo.x("stock.relay.catalog.preview", "read", [preview], ["state"])[0]["state"] == "requested"
    out = sidecar.drain_once().stdout
    assert "previews=1" in out, out
    shown = odoo.x("stock.relay.catalog.preview", "read", [preview], ["state", "summary", "report_html"])[0]
    assert shown["state"] == "done", shown
    assert "Hand-edited in Medusa" in shown["report_html"] and "E2E Relay Tee" in shown["report_html"], shown
    assert medusa_product(medusa, pid)["title"] == "Hand-edited in Medusa", "a dry run changes nothing"

    # Archived in Odoo: a draft in Medusa, never deleted.
    odoo.x("product.template", "write", [template], {"active": False})
    drained(sidecar)
    p = medusa_product(medusa, pid)
    assert p["status"] == "draft" and len(p["variants"]) == 6, p
    print(f"\ncatalogue end to end: {time.monotonic() - t0:.1f} s", file=sys.stderr)
