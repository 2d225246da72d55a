"""The Shopify emulator behaves like Shopify's Admin GraphQL API for inventory pushes.

Run: /usr/bin/python3 -m pytest tests/emulators/test_shopify_emulator.py
(needs `npm ci --no-audit --no-fund` in tests/emulators/shopify first).
"""
from __future__ import annotations

import http.client
import json
import re
import socket
import ssl
import time
import urllib.error
import urllib.request

import pytest

from .base import shared_dir
from .shopify import ShopifyEmulator
from .tls import make_test_ca

ALL_VERSIONS = ["2025-01", "2025-07", "2025-10", "2026-01", "2026-04", "2026-07", "2026-10"]
OPS_FILE = shared_dir() / "specs" / "shopify-operations.graphql"
# Errors that Shopify raises after a document validated (execution-time rules).
RUNTIME_CODES = {"INVALID_VARIABLE", "BAD_REQUEST", "INVALID_FIELD_ARGUMENTS"}


# --------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    return make_test_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def emulator(tls, tmp_path_factory):
    log = tmp_path_factory.mktemp("log") / "shopify-emulator.log"
    with ShopifyEmulator(tls=tls, log_path=str(log)) as emu:
        yield emu


@pytest.fixture
def shop(emulator):
    """A fresh shop: Main + Backup active, Closed inactive, a few SKUs."""
    emulator.reset()
    ids = emulator.seed(
        locations=[{"name": "Main"}, {"name": "Backup"}, {"name": "Closed", "isActive": False}],
        products=[
            {"title": "Shirt", "variants": [
                {"sku": "A-1", "levels": {"Main": 5, "Backup": 2}},
                {"sku": "A", "levels": {"Main": 9}},
                {"sku": "B 2", "levels": {"Main": 3}},
                {"sku": "Q'u\"ote", "levels": {"Main": 1}},
                {"sku": "C-3", "levels": {}},
            ]},
            {"title": "Dup one", "variants": [{"sku": "DUP", "levels": {"Main": 1}}]},
            {"title": "Dup two", "variants": [{"sku": "DUP", "levels": {"Main": 1}}]},
        ],
    )
    emulator.ids = ids
    return emulator


def seed_more(shop, **kw):
    ids = shop.seed(**kw)
    for k in ("locations", "variants"):
        shop.ids[k].update(ids[k])
    return ids


def loc(shop, name):
    return shop.ids["locations"][name]


def item(shop, sku):
    return shop.ids["variants"][sku]["inventoryItemId"]


def codes(body):
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


def available(shop, sku, location="Main"):
    return shop.state()["available"].get(sku, {}).get(loc(shop, location))


# --------------------------------------------------------------- operations
SET_QTY = """mutation SetQty($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { id reason referenceDocumentUri changes { name delta quantityAfterChange item { id } location { id } } }
    userErrors { code field message }
  }
}"""
SET_QTY_IDEM = """mutation SetQtyIdem($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id changes { name delta quantityAfterChange item { id } location { id } } }
    userErrors { code field message }
  }
}"""
ACTIVATE = """mutation Activate($itemId: ID!, $locationId: ID!, $available: Int) {
  inventoryActivate(inventoryItemId: $itemId, locationId: $locationId, available: $available) {
    inventoryLevel { id } userErrors { field message }
  }
}"""
ACTIVATE_IDEM = """mutation ActivateIdem($itemId: ID!, $locationId: ID!, $available: Int, $key: String!) {
  inventoryActivate(inventoryItemId: $itemId, locationId: $locationId, available: $available) @idempotent(key: $key) {
    inventoryLevel { id quantities(names: ["available"]) { name quantity } } userErrors { field message }
  }
}"""
VARIANT_BY_SKU = """query VariantBySku($q: String!) {
  productVariants(first: 2, query: $q) {
    nodes { id sku product { id } inventoryItem { id tracked sku } }
  }
}"""


def split_operations(text):
    """The operations file as {name: text} (each operation sent on its own)."""
    text = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    starts = [m.start() for m in re.finditer(r"^(query|mutation) ", text, re.M)]
    ops = {}
    for a, b in zip(starts, starts[1:] + [len(text)]):
        chunk = text[a:b].strip()
        ops[re.match(r"(?:query|mutation) (\w+)", chunk).group(1)] = chunk
    return ops


def set_input(shop, quantities, version="2025-10", **extra):
    inp = {"name": "available", "reason": "correction", "referenceDocumentUri": "gid://stockrelay/Push/1",
           "quantities": quantities}
    if version <= "2026-01" and "ignoreCompareQuantity" not in extra:
        inp["ignoreCompareQuantity"] = True
    inp.update(extra)
    return inp


def q(shop, sku, quantity, location="Main", **extra):
    d = {"inventoryItemId": item(shop, sku), "locationId": loc(shop, location), "quantity": quantity}
    d.update(extra)
    return d


def set_qty(shop, version, quantities, **extra):
    status, _, body = shop.graphql(version, SET_QTY, {"input": set_input(shop, quantities, version, **extra)})
    assert status == 200
    return body


# --------------------------------------------------------------- validation per version
def test_every_listed_operation_validates_where_the_header_says(shop):
    ops = split_operations(OPS_FILE.read_text())
    assert {"VariantBySku", "InventoryItemBySku", "Locations", "SetQty", "AdjustQty", "Activate", "Staged",
            "RunBulk", "CurrentBulk", "SetQtyIdem"} <= set(ops)
    for version in ALL_VERSIONS:
        for name, text in ops.items():
            status, _, body = shop.graphql(version, text, {})
            assert status == 200, (version, name)
            validation = [c for c in codes(body) if c not in RUNTIME_CODES]
            if name == "SetQtyIdem" and version < "2026-01":
                assert validation == ["undefinedDirective"], (version, body)
                err = body["errors"][0]
                assert err["message"] == "Directive @idempotent is not defined"
                assert err["locations"] and err["path"] == ["mutation SetQtyIdem", "inventorySetQuantities"]
                assert "data" not in body
            else:
                assert validation == [], (version, name, body)


def test_operations_execute_and_2026_04_runtime_rules_bite(shop):
    ops = split_operations(OPS_FILE.read_text())
    for version in ALL_VERSIONS:
        s, _, body = shop.graphql(version, ops["Locations"], {"after": None})
        assert s == 200 and "errors" not in body, body
        s, _, body = shop.graphql(version, ops["CurrentBulk"], {})
        assert body["data"] == {"currentBulkOperation": None}
        s, _, body = shop.graphql(version, ops["Activate"],
                                  {"itemId": item(shop, "C-3"), "locationId": loc(shop, "Backup"), "available": 0})
        if version >= "2026-04":
            assert codes(body) == ["BAD_REQUEST"]
            assert body["errors"][0]["message"] == ("The @idempotent directive is required for this mutation "
                                                    "but was not provided.")
            assert body["data"] == {"inventoryActivate": None}
        else:
            assert body["data"]["inventoryActivate"]["userErrors"] in ([], [{
                "field": ["available"],
                "message": "Not allowed to set available quantity when the item is already active at the location."}])


def test_unknown_field_and_removed_input_field_are_rejected_like_shopify(shop):
    s, _, body = shop.graphql("2025-10", "{ shop { nameX } }")
    assert s == 200 and "data" not in body
    err = body["errors"][0]
    assert err["message"] == "Field 'nameX' doesn't exist on type 'Shop'"
    assert err["extensions"]["code"] == "undefinedField"
    assert err["locations"] == [{"line": 1, "column": 10}]
    # compareQuantity/ignoreCompareQuantity were removed in 2026-04
    inp = set_input(shop, [q(shop, "A-1", 1, compareQuantity=5, changeFromQuantity=None)], "2026-04")
    s, _, body = shop.graphql("2026-04", SET_QTY_IDEM, {"input": inp, "key": "k"})
    assert codes(body) == ["INVALID_VARIABLE"]
    problems = body["errors"][0]["extensions"]["problems"]
    assert {"path": ["quantities", 0, "compareQuantity"],
            "explanation": "Field is not defined on InventoryQuantityInput"} in problems
    assert available(shop, "A-1") == 5


def test_syntax_error_and_missing_variable(shop):
    s, _, body = shop.graphql("2025-10", "{ shop { name }")
    assert s == 200 and body["errors"][0]["message"].startswith("syntax error")
    s, _, body = shop.graphql("2025-10", VARIANT_BY_SKU, {})
    assert codes(body) == ["INVALID_VARIABLE"]
    assert body["errors"][0]["extensions"]["problems"] == [{"path": [], "explanation": "Expected value to not be null"}]


def test_shop_name_is_the_connection_test(shop):
    s, headers, body = shop.graphql("2025-10", "{ shop { name } }")
    assert s == 200 and body["data"] == {"shop": {"name": "stockrelay emulator"}}
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 1 and cost["actualQueryCost"] == 1
    assert set(cost["throttleStatus"]) == {"maximumAvailable", "currentlyAvailable", "restoreRate"}
    assert headers.get("X-Shopify-API-Version") == "2025-10"


# --------------------------------------------------------------- search
def lookup(shop, query, version="2025-10", first=2):
    text = VARIANT_BY_SKU.replace("first: 2", f"first: {first}")
    s, _, body = shop.graphql(version, text, {"q": query})
    assert s == 200 and "errors" not in body, body
    return [n["sku"] for n in body["data"]["productVariants"]["nodes"]]


def test_sku_search_syntax(shop):
    assert lookup(shop, "sku:A-1") == ["A-1"]
    assert lookup(shop, "sku:A") == ["A"]                      # exact, not prefix
    assert lookup(shop, "sku:'B 2'") == ["B 2"]
    assert lookup(shop, 'sku:"B 2"') == ["B 2"]
    assert lookup(shop, "sku:'Q\\'u\"ote'") == ["Q'u\"ote"]
    assert lookup(shop, 'sku:"Q\'u\\"ote"') == ["Q'u\"ote"]
    assert lookup(shop, "sku:NOPE") == []
    assert lookup(shop, "sku:'A-1' OR sku:'B 2' OR sku:'NOPE' OR sku:\"C-3\"", first=10) == ["A-1", "B 2", "C-3"]
    assert lookup(shop, "sku:DUP", first=2) == ["DUP", "DUP"]
    many = " OR ".join(f"sku:'S-{i}'" for i in range(250))
    shop.seed(products=[{"title": "Many", "variants": [{"sku": f"S-{i}", "levels": {}} for i in range(250)]}])
    text = "query V($q: String!) { productVariants(first: 250, query: $q) { nodes { sku inventoryItem { id } } } }"
    s, _, body = shop.graphql("2025-10", text, {"q": many})
    assert len(body["data"]["productVariants"]["nodes"]) == 250
    assert body["extensions"]["cost"]["requestedQueryCost"] == 2 + 250 * 2


def test_inventory_items_with_level_quantities(shop):
    ops = split_operations(OPS_FILE.read_text())
    s, _, body = shop.graphql("2026-01", ops["InventoryItemBySku"],
                              {"q": "sku:'A-1' OR sku:'C-3'", "locationId": loc(shop, "Main")})
    nodes = body["data"]["inventoryItems"]["nodes"]
    assert [n["sku"] for n in nodes] == ["A-1", "C-3"]
    assert nodes[0]["tracked"] is True
    assert nodes[0]["inventoryLevel"]["quantities"] == [{"name": "available", "quantity": 5},
                                                        {"name": "on_hand", "quantity": 5}]
    assert nodes[1]["inventoryLevel"] is None               # C-3 is not stocked at Main
    s, _, body = shop.graphql("2025-10", "query($q:String!){inventoryItems(first:2,query:$q){nodes{duplicateSkuCount}}}",
                              {"q": "sku:DUP"})
    assert [n["duplicateSkuCount"] for n in body["data"]["inventoryItems"]["nodes"]] == [1, 1]


def test_locations_paging_and_inactive(shop):
    shop.seed(locations=[{"name": "Zeta"}, {"name": "Omega"}])
    query = """query L($after: String, $all: Boolean) { locations(first: 2, after: $after, includeInactive: $all) {
      nodes { id name isActive fulfillsOnlineOrders } pageInfo { hasNextPage endCursor } } }"""
    names, after = [], None
    while True:
        s, _, body = shop.graphql("2025-10", query, {"after": after, "all": False})
        page = body["data"]["locations"]
        names += [n["name"] for n in page["nodes"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert names == ["Backup", "Main", "Omega", "Zeta"]
    s, _, body = shop.graphql("2025-10", query.replace("first: 2", "first: 10"), {"all": True})
    assert "Closed" in [n["name"] for n in body["data"]["locations"]["nodes"]]


def test_first_over_250_and_missing_first_are_errors(shop):
    s, _, body = shop.graphql("2025-10", "{ productVariants(first: 251) { nodes { id } } }")
    assert s == 200 and "data" not in body
    assert body["errors"][0]["message"].startswith("Argument 'first' on Field 'productVariants' has an invalid value (251)")
    s, _, body = shop.graphql("2025-10", "{ locations { nodes { id } } }")
    assert body["errors"][0]["message"] == "you must provide one of first or last"
    assert body["data"] is None


# --------------------------------------------------------------- set quantities
def test_set_quantities_applies_and_records_history(shop):
    body = set_qty(shop, "2025-10", [q(shop, "A-1", 7), q(shop, "B 2", 0)])
    payload = body["data"]["inventorySetQuantities"]
    assert payload["userErrors"] == []
    group = payload["inventoryAdjustmentGroup"]
    assert group["reason"] == "correction" and group["referenceDocumentUri"] == "gid://stockrelay/Push/1"
    avail = [c for c in group["changes"] if c["name"] == "available"]
    assert [(c["item"]["id"], c["delta"], c["quantityAfterChange"]) for c in avail] == [
        (item(shop, "A-1"), 2, 7), (item(shop, "B 2"), -3, 0)]
    assert body["extensions"]["cost"]["requestedQueryCost"] == 10
    assert available(shop, "A-1") == 7 and available(shop, "B 2") == 0
    assert shop.state()["levels"]["A-1"][loc(shop, "Main")]["on_hand"] == 7
    set_qty(shop, "2025-10", [q(shop, "A-1", 4)])
    entries = [e for e in shop.history()["entries"]
               if e["sku"] == "A-1" and e["locationId"] == loc(shop, "Main") and e["name"] == "available"]
    assert len(entries) == 1
    values = entries[0]["values"]
    assert [v["quantity"] for v in values] == [7, 4]
    assert values[0]["seq"] < values[1]["seq"] and values[0]["at"] <= values[1]["at"]
    assert values[0]["idempotencyKey"] is None


def test_compare_quantity_rules_up_to_2025_10(shop):
    body = set_qty(shop, "2025-10", [q(shop, "A-1", 6, compareQuantity=5), q(shop, "B 2", 1)],
                   ignoreCompareQuantity=False)
    errs = body["data"]["inventorySetQuantities"]["userErrors"]
    assert errs[0]["code"] == "COMPARE_QUANTITY_REQUIRED"
    assert errs[0]["field"] == ["input", "quantities", "1", "compareQuantity"]
    assert available(shop, "A-1") == 5                      # atomic: the good element was not applied
    body = set_qty(shop, "2025-10", [q(shop, "A-1", 6, compareQuantity=4)], ignoreCompareQuantity=False)
    assert [e["code"] for e in body["data"]["inventorySetQuantities"]["userErrors"]] == ["COMPARE_QUANTITY_STALE"]
    body = set_qty(shop, "2025-10", [q(shop, "A-1", 6, compareQuantity=5)], ignoreCompareQuantity=False)
    assert body["data"]["inventorySetQuantities"]["userErrors"] == []
    assert available(shop, "A-1") == 6


@pytest.mark.parametrize("case, code, field_tail", [
    ("name", "INVALID_NAME", ["input", "name"]),
    ("reason", "INVALID_REASON", ["input", "reason"]),
    ("item", "INVALID_INVENTORY_ITEM", ["input", "quantities", "1", "inventoryItemId"]),
    ("location", "INVALID_LOCATION", ["input", "quantities", "1", "locationId"]),
    ("negative", "INVALID_QUANTITY_NEGATIVE", ["input", "quantities", "1", "quantity"]),
    ("high", "INVALID_QUANTITY_TOO_HIGH", ["input", "quantities", "1", "quantity"]),
    ("duplicate", "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR", ["input", "quantities", "1"]),
    ("unstocked", "ITEM_NOT_STOCKED_AT_LOCATION", ["input", "quantities", "1", "locationId"]),
])
def test_user_errors_apply_nothing(shop, case, code, field_tail):
    good = q(shop, "A-1", 8)
    bad = {
        "name": q(shop, "B 2", 1), "reason": q(shop, "B 2", 1),
        "item": dict(q(shop, "B 2", 1), inventoryItemId="gid://shopify/InventoryItem/1"),
        "location": dict(q(shop, "B 2", 1), locationId="gid://shopify/Location/1"),
        "negative": q(shop, "B 2", -1), "high": q(shop, "B 2", 1_000_000_001),
        "duplicate": q(shop, "A-1", 3), "unstocked": q(shop, "C-3", 1),
    }[case]
    extra = {"name": {"name": "committed"}, "reason": {"reason": "because"}}.get(case, {})
    body = set_qty(shop, "2025-10", [good, bad], **extra)
    payload = body["data"]["inventorySetQuantities"]
    assert payload["inventoryAdjustmentGroup"] is None
    assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [(code, field_tail)]
    assert payload["userErrors"][0]["message"]
    assert available(shop, "A-1") == 5 and available(shop, "B 2") == 3
    assert shop.history()["entries"] == []


def test_quantity_limits_at_the_edges(shop):
    body = set_qty(shop, "2025-10", [q(shop, "A-1", 1_000_000_000), q(shop, "B 2", 0)])
    assert body["data"]["inventorySetQuantities"]["userErrors"] == []
    assert available(shop, "A-1") == 1_000_000_000


def test_input_array_limit_is_250(shop):
    skus = [f"L-{i}" for i in range(251)]
    seed_more(shop, products=[{"title": "Lots", "variants": [{"sku": s, "levels": {"Main": 0}} for s in skus]}])
    quantities = [q(shop, s, 1) for s in skus]
    body = set_qty(shop, "2025-10", quantities)
    assert codes(body) == ["MAX_INPUT_SIZE_EXCEEDED"]
    err = body["errors"][0]
    assert err["message"] == "The input array size of 251 is greater than the maximum allowed of 250."
    assert err["path"] == ["inventorySetQuantities", "input", "quantities"]
    assert body["data"] == {"inventorySetQuantities": None}
    assert available(shop, "L-0") == 0
    body = set_qty(shop, "2025-10", quantities[:250])
    assert body["data"]["inventorySetQuantities"]["userErrors"] == []
    assert available(shop, "L-249") == 1 and available(shop, "L-250") == 0


# --------------------------------------------------------------- 2026-01+
def test_change_from_quantity_2026_01(shop):
    body = set_qty(shop, "2026-01", [q(shop, "A-1", 6, changeFromQuantity=4)])
    errs = body["data"]["inventorySetQuantities"]["userErrors"]
    assert [(e["code"], e["field"]) for e in errs] == [
        ("CHANGE_FROM_QUANTITY_STALE", ["input", "quantities", "0", "changeFromQuantity"])]
    body = set_qty(shop, "2026-01", [q(shop, "A-1", 6, changeFromQuantity=None), q(shop, "B 2", 2)])
    assert body["data"]["inventorySetQuantities"]["userErrors"] == []   # null / absent: no check, no directive needed
    body = set_qty(shop, "2026-01", [q(shop, "A-1", 7, changeFromQuantity=6)])
    assert body["data"]["inventorySetQuantities"]["userErrors"] == []
    assert available(shop, "A-1") == 7


def test_2026_01_still_requires_an_opt_out_of_the_compare(shop):
    # 2026-01's schema keeps COMPARE_QUANTITY_REQUIRED and ignoreCompareQuantity (default false)
    # and names an explicit changeFromQuantity: null as the new opt-out.
    body = set_qty(shop, "2026-01", [q(shop, "A-1", 6)], ignoreCompareQuantity=False)
    errs = body["data"]["inventorySetQuantities"]["userErrors"]
    assert [(e["code"], e["field"]) for e in errs] == [
        ("COMPARE_QUANTITY_REQUIRED", ["input", "quantities", "0", "compareQuantity"])]
    assert available(shop, "A-1") == 5
    body = set_qty(shop, "2026-01", [q(shop, "A-1", 6, changeFromQuantity=None)], ignoreCompareQuantity=False)
    assert body["data"]["inventorySetQuantities"]["userErrors"] == []
    body = set_qty(shop, "2026-01", [q(shop, "A-1", 7)], ignoreCompareQuantity=True)
    assert body["data"]["inventorySetQuantities"]["userErrors"] == []
    assert available(shop, "A-1") == 7


@pytest.mark.parametrize("version", ["2026-04", "2026-07", "2026-10"])
def test_2026_04_requires_directive_and_explicit_change_from(shop, version):
    inp = set_input(shop, [q(shop, "A-1", 6, changeFromQuantity=5)], version)
    s, _, body = shop.graphql(version, SET_QTY, {"input": inp})
    assert codes(body) == ["BAD_REQUEST"]
    assert body["errors"][0]["message"] == "The @idempotent directive is required for this mutation but was not provided."
    inp_missing = set_input(shop, [q(shop, "A-1", 6)], version)
    s, _, body = shop.graphql(version, SET_QTY_IDEM, {"input": inp_missing, "key": "k1"})
    assert codes(body) == ["INVALID_FIELD_ARGUMENTS"]
    assert body["errors"][0]["message"] == "InventoryQuantityInput must include the following argument: changeFromQuantity."
    assert body["data"] == {"inventorySetQuantities": None}
    assert available(shop, "A-1") == 5


def test_2026_04_idempotency_replay_and_mismatch(shop):
    inp = set_input(shop, [q(shop, "A-1", 6, changeFromQuantity=None)], "2026-04")
    s, _, first = shop.graphql("2026-04", SET_QTY_IDEM, {"input": inp, "key": "key-1"})
    group = first["data"]["inventorySetQuantities"]["inventoryAdjustmentGroup"]
    assert group and first["data"]["inventorySetQuantities"]["userErrors"] == []
    set_qty_direct = set_input(shop, [q(shop, "A-1", 9, changeFromQuantity=None)], "2026-04")
    shop.graphql("2026-04", SET_QTY_IDEM, {"input": set_qty_direct, "key": "key-2"})     # someone else moves it to 9
    s, _, again = shop.graphql("2026-04", SET_QTY_IDEM, {"input": inp, "key": "key-1"})  # retry of the first call
    assert again["data"] == first["data"]                   # replayed, not applied again
    assert available(shop, "A-1") == 9
    values = [e for e in shop.history()["entries"] if e["sku"] == "A-1" and e["name"] == "available"][0]["values"]
    assert [(v["quantity"], v["idempotencyKey"]) for v in values] == [(6, "key-1"), (9, "key-2")]
    other = set_input(shop, [q(shop, "A-1", 1, changeFromQuantity=None)], "2026-04")
    s, _, body = shop.graphql("2026-04", SET_QTY_IDEM, {"input": other, "key": "key-1"})
    assert [e["code"] for e in body["data"]["inventorySetQuantities"]["userErrors"]] == ["IDEMPOTENCY_KEY_PARAMETER_MISMATCH"]
    assert available(shop, "A-1") == 9
    log = shop.requests()
    assert [r["replayed"] for r in log[-3:]] == [False, True, False]


def test_not_stocked_until_2026_07_then_set_stocks_it(shop):
    for version in ("2026-07", "2026-10"):
        inp = set_input(shop, [q(shop, "C-3", 4, changeFromQuantity=None)], version)
        s, _, body = shop.graphql(version, SET_QTY_IDEM, {"input": inp, "key": f"stock-{version}"})
        errs = [e["code"] for e in body["data"]["inventorySetQuantities"]["userErrors"]]
        if version == "2026-07":
            assert errs == ["ITEM_NOT_STOCKED_AT_LOCATION"] and available(shop, "C-3") is None
        else:
            assert errs == [] and available(shop, "C-3") == 4


def test_activate_then_set(shop):
    s, _, body = shop.graphql("2025-10", ACTIVATE, {"itemId": item(shop, "C-3"), "locationId": loc(shop, "Main"),
                                                    "available": 2})
    assert body["data"]["inventoryActivate"]["userErrors"] == []
    assert available(shop, "C-3") == 2
    s, _, body = shop.graphql("2026-04", ACTIVATE_IDEM, {"itemId": item(shop, "C-3"), "locationId": loc(shop, "Backup"),
                                                         "available": 1, "key": "act-1"})
    level = body["data"]["inventoryActivate"]["inventoryLevel"]
    assert level["quantities"] == [{"name": "available", "quantity": 1}]
    s, _, body = shop.graphql("2025-10", ACTIVATE, {"itemId": "gid://shopify/InventoryItem/1",
                                                    "locationId": loc(shop, "Main")})
    assert body["data"]["inventoryActivate"]["userErrors"][0]["field"] == ["inventoryItemId"]


def test_adjust_quantities_delta(shop):
    ops = split_operations(OPS_FILE.read_text())
    inp = {"name": "available", "reason": "correction",
           "changes": [{"inventoryItemId": item(shop, "A-1"), "locationId": loc(shop, "Main"), "delta": -2}]}
    s, _, body = shop.graphql("2025-10", ops["AdjustQty"], {"input": inp})
    changes = body["data"]["inventoryAdjustQuantities"]["inventoryAdjustmentGroup"]["changes"]
    assert {"name": "available", "delta": -2} in changes
    assert available(shop, "A-1") == 3


# --------------------------------------------------------------- cost and throttling
def test_cost_requested_vs_actual(shop):
    s, _, body = shop.graphql("2025-10", VARIANT_BY_SKU, {"q": "sku:A-1"})
    cost = body["extensions"]["cost"]
    assert cost["requestedQueryCost"] == 2 + 2 * 3          # connection 2 + first x (variant + product + item)
    assert cost["actualQueryCost"] == 2 + 1 * 3             # one variant came back


def test_throttled_with_a_small_bucket(shop):
    shop.config(maximumAvailable=25, restoreRate=5)
    bodies = [set_qty(shop, "2025-10", [q(shop, "A-1", n)]) for n in (10, 11, 12)]
    assert [codes(b) for b in bodies] == [[], [], ["THROTTLED"]]
    throttled = bodies[2]
    assert throttled == {
        "errors": [{"message": "Throttled", "extensions": {
            "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
        "extensions": {"cost": {"requestedQueryCost": 10, "actualQueryCost": None,
                                "throttleStatus": throttled["extensions"]["cost"]["throttleStatus"]}}}
    ts = throttled["extensions"]["cost"]["throttleStatus"]
    assert ts["maximumAvailable"] == 25 and ts["restoreRate"] == 5 and ts["currentlyAvailable"] < 10
    assert available(shop, "A-1") == 11                     # the throttled call did not execute
    time.sleep((10 - ts["currentlyAvailable"]) / 5 + 0.3)
    assert codes(set_qty(shop, "2025-10", [q(shop, "A-1", 12)])) == []
    assert available(shop, "A-1") == 12
    log = shop.requests()
    assert [r["throttled"] for r in log[-4:]] == [False, False, True, False]


def test_single_query_max_cost(shop):
    text = "{ productVariants(first: 250) { nodes { product { id } inventoryItem { id inventoryLevel(locationId: \"x\") { id } } } } }"
    s, _, body = shop.graphql("2025-10", text)
    assert codes(body) == ["MAX_COST_EXCEEDED"] and "data" not in body


# --------------------------------------------------------------- transport errors
def test_auth_errors_and_token_never_logged(shop):
    expected = {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
    assert _post_without_token(shop)[::2] == (401, expected)
    s, _, body = shop.graphql("2025-10", "{ shop { name } }", token="shpat_wrong")
    assert (s, body) == (401, expected)
    assert shop.token not in json.dumps(shop.requests())


def _post_without_token(shop):
    req = urllib.request.Request(shop.graphql_url("2025-10"), data=b'{"query":"{shop{name}}"}', method="POST",
                                 headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, context=_ctx(shop), timeout=10) as resp:
            return resp.status, dict(resp.headers), json.loads(resp.read())
    except urllib.error.HTTPError as e:
        with e:
            return e.code, dict(e.headers), json.loads(e.read())


def test_unknown_version_and_bad_body(shop):
    s, _, body = shop.graphql("2024-04", "{ shop { name } }")
    assert (s, body) == (404, {"errors": "Not Found"})
    s, _, body = shop.graphql("2025-10", None, raw_body=b"not json")
    assert s == 400 and body == {"errors": {"query": "Required parameter missing or invalid"}}


def _ctx(shop):
    return ssl.create_default_context(cafile=shop.ca_file)


def _raw(shop, body, timeout=5.0):
    """POST over a fresh TLS connection; returns (status, headers, bytes) or the exception raised."""
    conn = http.client.HTTPSConnection("127.0.0.1", shop.port, context=_ctx(shop), timeout=timeout)
    try:
        conn.request("POST", "/admin/api/2025-10/graphql.json", body=json.dumps(body),
                     headers={"X-Shopify-Access-Token": shop.token, "Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read()
    except (OSError, http.client.HTTPException) as e:
        return e
    finally:
        conn.close()


SHOP_Q = {"query": "query Ping { shop { name } }"}


def test_fault_status_counts_down(shop):
    shop.faults([{"action": "status", "status": 503, "times": 2}])
    assert [r[0] for r in (_raw(shop, SHOP_Q) for _ in range(3))] == [503, 503, 200]


def test_fault_http429_has_retry_after(shop):
    shop.faults([{"action": "http429", "retryAfter": 3, "times": 1}])
    status, headers, _ = _raw(shop, SHOP_Q)
    assert status == 429 and headers["Retry-After"] == "3"


def test_fault_timeout_holds_then_drops(shop):
    shop.faults([{"action": "timeout", "delayMs": 600, "times": 1}])
    t0 = time.monotonic()
    out = _raw(shop, SHOP_Q, timeout=5)
    assert isinstance(out, Exception) and time.monotonic() - t0 >= 0.5
    out = _raw(shop, SHOP_Q, timeout=0.3)
    assert out[0] == 200
    shop.faults([{"action": "timeout", "delayMs": 5000, "times": 1}])
    out = _raw(shop, SHOP_Q, timeout=0.3)
    assert isinstance(out, (socket.timeout, TimeoutError))


def test_fault_close_garbage_truncated_throttle(shop):
    shop.faults([{"action": "close", "times": 1}, {"action": "garbage", "times": 1},
                 {"action": "truncated", "times": 1}, {"action": "throttle", "times": 1}])
    assert isinstance(_raw(shop, SHOP_Q), Exception)
    status, _, body = _raw(shop, SHOP_Q)
    assert status == 200
    with pytest.raises(ValueError):
        json.loads(body)
    status, _, body = _raw(shop, SHOP_Q)
    assert status == 200 and body.startswith(b"{")
    with pytest.raises(ValueError):
        json.loads(body)
    status, _, body = _raw(shop, SHOP_Q)
    assert json.loads(body)["errors"][0]["extensions"]["code"] == "THROTTLED"
    assert _raw(shop, SHOP_Q)[0] == 200
    assert [r["fault"] for r in shop.requests()[-5:]] == ["close", "garbage", "truncated", "throttle", None]


def test_fault_matches_operation_and_can_apply_before_dropping(shop):
    shop.faults([{"operation": "inventorySetQuantities", "action": "close", "execute": True, "times": 1}])
    assert _raw(shop, SHOP_Q)[0] == 200                     # other operations pass
    out = _raw(shop, {"query": SET_QTY, "variables": {"input": set_input(shop, [q(shop, "A-1", 42)])}})
    assert isinstance(out, Exception)
    assert available(shop, "A-1") == 42                     # applied, but the client never heard back


def test_fault_probability_is_seeded(shop):
    def run():
        shop.faults([{"action": "status", "status": 500, "probability": 0.5}], seed=7)
        return [_raw(shop, SHOP_Q)[0] for _ in range(12)]
    first, second = run(), run()
    assert first == second and set(first) == {200, 500}
    shop.clear_faults()
    assert _raw(shop, SHOP_Q)[0] == 200


def test_request_log_fields(shop):
    set_qty(shop, "2025-10", [q(shop, "A-1", 3), q(shop, "B 2", 3)])
    entry = shop.requests()[-1]
    assert entry["version"] == "2025-10" and entry["operationName"] == "SetQty" and entry["status"] == 200
    assert entry["items"] == 2 and entry["requestedCost"] == 10 and entry["throttled"] is False
    set_qty(shop, "2025-10", [q(shop, "A-1", -3)])
    assert shop.requests()[-1]["errorCodes"] == ["INVALID_QUANTITY_NEGATIVE"]


# --------------------------------------------------------------- TLS
def test_https_needs_the_test_ca(shop):
    req = urllib.request.Request(shop.graphql_url("2025-10"), data=b"{}", method="POST")
    with pytest.raises(urllib.error.URLError) as exc:
        urllib.request.urlopen(req, context=ssl.create_default_context(), timeout=5)
    assert isinstance(exc.value.reason, ssl.SSLCertVerificationError)
    assert shop.base_url.startswith("https://")
