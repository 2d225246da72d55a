"""The Shopify emulator's catalogue side (catalog.js) behaves like Shopify's productSet,
productVariantsBulkUpdate and product reads: documents validated against the pinned
schemas, userErrors in Shopify's shape and codes, list fields replaced, the mutation
charged to the cost bucket. These are tests OF the emulator."""
from __future__ import annotations

import pytest

from .shopify import ShopifyEmulator
from .tls import make_test_ca

SET = """mutation S($input: ProductSetInput!) { productSet(input: $input, synchronous: true) {
  product { id handle variants(first: 10) { nodes { id sku price } } } userErrors { code field message } } }"""
READ = """query R($id: ID!) { product(id: $id) { id handle title status descriptionHtml
  metafield(namespace: "stockrelay", key: "external_id") { value } options { name position optionValues { name } }
  variants(first: 10) { nodes { id sku barcode price selectedOptions { name value }
    metafield(namespace: "stockrelay", key: "external_id") { value }
    inventoryItem { tracked measurement { weight { value unit } } } } } } }"""
PRICES = """mutation P($productId: ID!, $variants: [ProductVariantsBulkInput!]!) {
  productVariantsBulkUpdate(productId: $productId, variants: $variants) { productVariants { id price }
  userErrors { code field message } } }"""


@pytest.fixture(scope="module")
def emulator(tmp_path_factory):
    tls = make_test_ca(tmp_path_factory.mktemp("ca"))
    with ShopifyEmulator(tls=tls, log_path=str(tmp_path_factory.mktemp("log") / "emu.log")) as emu:
        yield emu


@pytest.fixture
def emu(emulator):
    emulator.reset()
    return emulator


def run(emu, version, query, variables):
    status, _h, body = emu.graphql(version, query, variables)
    assert status == 200 and "errors" not in body, body
    return body


def tee(colors=("Red", "Blue"), **kw):
    mf = [{"namespace": "stockrelay", "key": "external_id", "type": "single_line_text_field", "value": "odoo:t1"}]
    variants = [{"sku": f"T-{c[0]}", "price": "12.50", "optionValues": [{"optionName": "Color", "name": c}],
                 "inventoryItem": {"tracked": True, "measurement": {"weight": {"value": 0.2, "unit": "KILOGRAMS"}}},
                 "metafields": [dict(mf[0], value=f"odoo:p{c}")]} for c in colors]
    doc = {"title": "Tee", "status": "ACTIVE", "metafields": mf, "descriptionHtml": "Soft",
           "productOptions": [{"name": "Color", "position": 1, "values": [{"name": c} for c in colors]}],
           "variants": variants}
    doc.update(kw)
    return doc


@pytest.mark.parametrize("version", ["2025-01", "2026-10"])
def test_product_set_creates_a_product_readable_with_its_options_variants_and_metafields(emu, version):
    body = run(emu, version, SET, {"input": tee()})
    res = body["data"]["productSet"]
    assert res["userErrors"] == []
    pid = res["product"]["id"]
    p = run(emu, version, READ, {"id": pid})["data"]["product"]
    assert p["metafield"] == {"value": "odoo:t1"} and p["status"] == "ACTIVE" and p["handle"] == "tee"
    assert p["options"] == [{"name": "Color", "position": 1, "optionValues": [{"name": "Red"}, {"name": "Blue"}]}]
    red = p["variants"]["nodes"][0]
    assert red["sku"] == "T-R" and red["price"] == "12.50" and red["selectedOptions"] == [{"name": "Color", "value": "Red"}]
    assert red["inventoryItem"] == {"tracked": True, "measurement": {"weight": {"value": 0.2, "unit": "KILOGRAMS"}}}
    assert red["metafield"] == {"value": "odoo:pRed"}
    # The stock side sees the new SKU.
    found = run(emu, version, 'query { productVariants(first: 5, query: "sku:\\"T-B\\"") { nodes { id product { id } } } }', None)
    assert [n["product"]["id"] for n in found["data"]["productVariants"]["nodes"]] == [pid]


def test_product_set_replaces_the_variant_list_and_charges_the_bucket(emu):
    res = run(emu, "2025-10", SET, {"input": tee()})
    pid = res["data"]["productSet"]["product"]["id"]
    red_id = res["data"]["productSet"]["product"]["variants"]["nodes"][0]["id"]
    doc = tee(colors=("Red", "Green"), id=pid)
    doc["variants"][0]["id"] = red_id
    res = run(emu, "2025-10", SET, {"input": doc})
    assert res["extensions"]["cost"]["actualQueryCost"] == 10  # a mutation's cost
    nodes = res["data"]["productSet"]["product"]["variants"]["nodes"]
    assert [n["sku"] for n in nodes] == ["T-R", "T-G"] and nodes[0]["id"] == red_id
    assert emu.state()["items"].get("T-B") is None  # not in the input: deleted, as Shopify does


def test_product_set_user_errors_in_shopify_shape(emu):
    run(emu, "2025-10", SET, {"input": tee(handle="taken")})
    four = tee(productOptions=[{"name": n, "values": [{"name": "x"}]} for n in "ABCD"], variants=[])
    many = tee(variants=[{"sku": f"V{i}", "optionValues": [{"optionName": "Color", "name": "Red"}]} for i in range(2049)])
    cases = {"OPTIONS_OVER_LIMIT": (four, ["input", "productOptions"]),
             "VARIANTS_OVER_LIMIT": (many, ["input", "variants"]),
             "HANDLE_NOT_UNIQUE": (tee(handle="taken"), ["input", "handle"]),
             "OPTION_VALUE_DOES_NOT_EXIST": (tee(colors=("Red",), productOptions=[{"name": "Color", "values": [{"name": "Blue"}]}]),
                                             ["input", "variants", "0", "optionValues"])}
    for code, (doc, field) in cases.items():
        res = run(emu, "2025-10", SET, {"input": doc})["data"]["productSet"]
        assert res["product"] is None, code
        assert [(e["code"], e["field"]) for e in res["userErrors"]] == [(code, field)], res
    assert len(emu.state()["items"]) == 2  # nothing of the refused inputs landed


def test_bulk_update_sets_prices_all_or_nothing(emu):
    res = run(emu, "2026-10", SET, {"input": tee()})["data"]["productSet"]["product"]
    pid, [red, blue] = res["id"], res["variants"]["nodes"]
    ok = run(emu, "2026-10", PRICES, {"productId": pid, "variants": [{"id": red["id"], "price": "14.90"}]})
    assert ok["data"]["productVariantsBulkUpdate"] == {"productVariants": [{"id": red["id"], "price": "14.90"}], "userErrors": []}
    bad = run(emu, "2026-10", PRICES, {"productId": pid, "variants": [{"id": blue["id"], "price": "1.00"},
                                                                      {"id": "gid://shopify/ProductVariant/1", "price": "2"}]})
    errs = bad["data"]["productVariantsBulkUpdate"]["userErrors"]
    assert [(e["code"], e["field"]) for e in errs] == [("PRODUCT_VARIANT_DOES_NOT_EXIST", ["variants", "1", "id"])]
    assert [v["price"] for v in emu.control("POST", "product", {"id": pid})["product"]["variants"]] == ["14.90", "12.50"]


def test_metafields_set_upserts_at_most_25_atomically(emu):
    pid = run(emu, "2025-10", SET, {"input": tee()})["data"]["productSet"]["product"]["id"]
    q = """mutation M($m: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $m) { metafields { value }
      userErrors { code field message } } }"""
    mf = {"ownerId": pid, "namespace": "stockrelay", "key": "external_id", "type": "single_line_text_field"}
    ok = run(emu, "2026-10", q, {"m": [dict(mf, value="odoo:new")]})["data"]["metafieldsSet"]
    assert ok == {"metafields": [{"value": "odoo:new"}], "userErrors": []}
    bad = run(emu, "2026-10", q, {"m": [dict(mf, value="x"), dict(mf, ownerId="gid://shopify/Product/9", value="y")]})
    assert [e["field"] for e in bad["data"]["metafieldsSet"]["userErrors"]] == [["metafields", "1", "ownerId"]]
    too_many = run(emu, "2026-10", q, {"m": [dict(mf, value=str(i)) for i in range(26)]})
    assert too_many["data"]["metafieldsSet"]["userErrors"][0]["field"] == ["metafields"]
    assert emu.control("POST", "product", {"id": pid})["product"]["metafields"]["stockrelay.external_id"]["value"] == "odoo:new"
