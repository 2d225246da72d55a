"""The Shopify emulator's bulk query operations behave as Shopify documents them:
run -> status -> JSONL at `url` with __parentId lines, userErrors for invalid
queries and a busy slot, the per-version status fields and concurrency limits."""
from __future__ import annotations

import json
import time
import urllib.request

import pytest

from .shopify import ShopifyEmulator

RUN = ("mutation R($q: String!) { bulkOperationRunQuery(query: $q%s) { bulkOperation { id status } "
       "userErrors { code field message } } }")
CURRENT = "{ currentBulkOperation(type: QUERY) { id status errorCode objectCount rootObjectCount url fileSize } }"
BY_ID = "query B($id: ID!) { bulkOperation(id: $id) { id status objectCount url } }"
ITEMS = ('{ inventoryItems { edges { node { id sku tracked inventoryLevels { edges { node { location { id } '
         'quantities(names: ["available"]) { name quantity } } } } } } } }')


@pytest.fixture(scope="module")
def emulator():
    with ShopifyEmulator() as emu:
        yield emu


@pytest.fixture
def shop(emulator):
    emulator.reset()
    emulator.seed(locations=[{"name": "Main"}, {"name": "Annex"}], products=[
        {"title": "Shirt", "variants": [{"sku": "A", "levels": {"Main": 5, "Annex": 2}}, {"sku": None, "levels": {"Main": 1}}]}])
    return emulator


def run(shop, version, query=ITEMS):
    group = ", groupObjects: false" if version >= "2025-07" else ""
    _, _, body = shop.graphql(version, RUN % group, {"q": query})
    return body


def wait_done(shop, version, op_id=None):
    for _ in range(200):
        if op_id and version >= "2026-01":
            st = shop.graphql(version, BY_ID, {"id": op_id})[2]["data"]["bulkOperation"]
        else:
            st = shop.graphql(version, CURRENT)[2]["data"]["currentBulkOperation"]
        if st["status"] not in ("CREATED", "RUNNING"):
            return st
        time.sleep(0.05)
    raise AssertionError("bulk operation never finished")


@pytest.mark.parametrize("version", ["2025-01", "2025-10", "2026-01"])
def test_a_bulk_query_writes_jsonl_with_parent_ids(shop, version):
    body = run(shop, version)
    op = body["data"]["bulkOperationRunQuery"]["bulkOperation"]
    assert op["status"] == "CREATED" and op["id"].startswith("gid://shopify/BulkOperation/")
    assert body["extensions"]["cost"]["actualQueryCost"] == 10
    st = wait_done(shop, version, op["id"])
    assert st["status"] == "COMPLETED" and st["url"]
    lines = [json.loads(x) for x in urllib.request.urlopen(st["url"]).read().decode().splitlines()]
    items = [x for x in lines if "__parentId" not in x]
    levels = [x for x in lines if "__parentId" in x]
    assert [i["sku"] for i in items] == ["A", None]
    assert len(levels) == 3 and all("inventoryLevels" not in i for i in items)
    assert {lv["__parentId"] for lv in levels} == {i["id"] for i in items}
    assert lines.index(levels[0]) == 1, "a child follows its parent"
    assert st["objectCount"] == "5"


def test_status_fields_follow_the_pinned_schemas(shop):
    _, _, body = shop.graphql("2025-10", BY_ID, {"id": "gid://shopify/BulkOperation/1"})
    assert body["errors"][0]["extensions"]["code"] == "undefinedField", "bulkOperation(id:) is 2026-01+"
    _, _, body = shop.graphql("2026-01", "{ bulkOperations(first: 5) { nodes { id status } } }")
    assert body["data"]["bulkOperations"]["nodes"] == []


def test_invalid_bulk_queries_get_user_errors(shop):
    for query, words in [("{ shop { name } }", "at least one connection"),
                         ("{ inventoryItems { edges { node { nope } } } }", "doesn't exist"),
                         ("{ inventoryItems { edges { node { inventoryLevels { edges { node { id } } } } } } }", "'id' field")]:
        errs = run(shop, "2025-10", query)["data"]["bulkOperationRunQuery"]["userErrors"]
        assert errs and errs[0]["code"] == "INVALID" and words in errs[0]["message"], errs


def test_one_running_query_before_2026_01_five_from_2026_01(shop):
    shop.control("POST", "bulk", {"minDurationMs": 3000})
    assert run(shop, "2025-10")["data"]["bulkOperationRunQuery"]["userErrors"] == []
    busy = run(shop, "2025-10")["data"]["bulkOperationRunQuery"]["userErrors"]
    assert busy[0]["code"] == "OPERATION_IN_PROGRESS"
    codes = [run(shop, "2026-01")["data"]["bulkOperationRunQuery"]["userErrors"] for _ in range(5)]
    assert codes[:4] == [[]] * 4 and codes[4][0]["code"] == "LIMIT_REACHED"


def test_an_empty_result_has_no_url_and_a_failure_has_partial_data(shop):
    q = '{ inventoryItems(query: "sku:NOPE") { edges { node { id } } } }'
    assert run(shop, "2025-10", q)["data"]["bulkOperationRunQuery"]["userErrors"] == []
    st = wait_done(shop, "2025-10")
    assert st["status"] == "COMPLETED" and st["url"] is None and st["objectCount"] == "0"
    shop.control("POST", "bulk", {"failAfterRoots": 1})
    run(shop, "2025-10")
    st = wait_done(shop, "2025-10")
    assert st["status"] == "FAILED" and st["errorCode"] == "INTERNAL_SERVER_ERROR"


def test_a_large_shop_is_read_in_windows_in_bounded_time(emulator):
    """20k items here (the bench reads 100k)."""
    emulator.reset()
    emulator.seed(locations=[{"name": "Main"}], products=[])
    emulator.control("POST", "generate", {"count": 20000, "locations": ["Main"]})
    started = time.monotonic()
    op = run(emulator, "2026-01")["data"]["bulkOperationRunQuery"]["bulkOperation"]
    # Status polls are answered while the operation runs (it works in windows).
    t = time.monotonic()
    emulator.graphql("2026-01", BY_ID, {"id": op["id"]})
    assert time.monotonic() - t < 5
    for _ in range(600):
        st = emulator.graphql("2026-01", BY_ID, {"id": op["id"]})[2]["data"]["bulkOperation"]
        if st["status"] == "COMPLETED":
            break
        time.sleep(0.1)
    assert st["status"] == "COMPLETED" and st["objectCount"] == "40000"
    assert time.monotonic() - started < 60


def test_the_finish_webhook_is_posted_and_signed(shop):
    import base64
    import hashlib
    import hmac
    import http.server
    import threading
    got = []

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.append((dict(self.headers), body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        shop.control("POST", "bulk", {"webhookUrl": f"http://127.0.0.1:{server.server_port}/hook", "webhookSecret": "s3cret"})
        op = run(shop, "2025-10")["data"]["bulkOperationRunQuery"]["bulkOperation"]
        wait_done(shop, "2025-10")
        for _ in range(100):
            if got:
                break
            time.sleep(0.05)
        headers, body = got[0]
        assert headers["X-Shopify-Topic"] == "bulk_operations/finish"
        expected = base64.b64encode(hmac.new(b"s3cret", body, hashlib.sha256).digest()).decode()
        assert headers["X-Shopify-Hmac-Sha256"] == expected
        doc = json.loads(body)
        assert doc["admin_graphql_api_id"] == op["id"] and doc["status"] == "completed" and doc["type"] == "query"
    finally:
        server.shutdown()
        server.server_close()
