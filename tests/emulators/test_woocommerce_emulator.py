"""The WooCommerce emulator behaves like WooCommerce 7.9's REST v3 API for stock pushes.

Run: /usr/bin/python3 -m pytest tests/emulators/test_woocommerce_emulator.py
"""
from __future__ import annotations

import base64
import http.client
import json
import socket
import ssl
import time
import urllib.parse

import pytest

from .base import shared_dir
from .tls import make_test_ca
from .woocommerce import WooEmulator, oauth1_sign

RW = {"consumer_key": "ck_" + "a" * 40, "consumer_secret": "cs_" + "b" * 40, "permissions": "read_write"}
RO = {"consumer_key": "ck_" + "c" * 40, "consumer_secret": "cs_" + "d" * 40, "permissions": "read"}
CATALOG = [
    {"name": "Mug", "sku": "MUG-1", "manage_stock": True, "stock_quantity": 5, "regular_price": "9.50"},
    {"name": "Tee", "sku": "TEE", "type": "variable", "variations": [
        {"sku": "TEE-S", "manage_stock": True, "stock_quantity": 1},
        {"sku": "TEE-M", "manage_stock": True, "stock_quantity": 2},
    ]},
    {"name": "Bag", "sku": "BAG", "manage_stock": False},
]
TRIM = "id,sku,type,parent_id,manage_stock,stock_quantity,stock_status"


# --------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def tls(tmp_path_factory):
    return make_test_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def https_emu(tls, tmp_path_factory):
    log = tmp_path_factory.mktemp("log") / "woo-https.log"
    with WooEmulator(tls=tls, log_path=str(log)) as emu:
        yield emu


@pytest.fixture(scope="module")
def http_emu(tmp_path_factory):
    log = tmp_path_factory.mktemp("log") / "woo-http.log"
    with WooEmulator(trust_forwarded_proto=True, log_path=str(log)) as emu:
        yield emu


def _prepare(emu):
    emu.reset(everything=True)
    emu.configure(keys=[RW, RO])
    emu.keys = [RW, RO]
    return emu.seed(CATALOG)["ids"]


@pytest.fixture
def woo(https_emu):
    """HTTPS shop (Basic auth works) with the standard catalog; ``woo.ids`` maps SKU → id."""
    https_emu.ids = _prepare(https_emu)
    return https_emu


@pytest.fixture
def plain(http_emu):
    """Plain-HTTP shop (OAuth 1.0a only) with the standard catalog."""
    http_emu.ids = _prepare(http_emu)
    return http_emu


def raw_request(emu, method, target, headers=None, body=None, timeout=10.0):
    """One request over a fresh connection; returns the http.client response (body unread)."""
    if emu.scheme == "https":
        ctx = ssl.create_default_context(cafile=emu.ca_file)
        conn = http.client.HTTPSConnection("127.0.0.1", emu.port, timeout=timeout, context=ctx)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", emu.port, timeout=timeout)
    try:
        conn.request(method, target, body=body, headers=headers or {})
        return conn, conn.getresponse()
    except BaseException:
        conn.close()
        raise


def basic(key=RW):
    return {"Authorization": "Basic " + base64.b64encode(
        f"{key['consumer_key']}:{key['consumer_secret']}".encode()).decode()}


def assert_error(status, body, want_status, code, message=None):
    assert status == want_status, body
    assert body["code"] == code, body
    assert body["data"]["status"] == want_status
    if message is not None:
        assert body["message"] == message


def load_schema_props(name):
    """View-context properties of a captured WooCommerce 7.9 item schema."""
    spec = shared_dir() / "specs" / "woocommerce" / name
    if not spec.exists():
        pytest.skip(f"{spec} not present")
    schema = json.loads(spec.read_text())["schema"]["properties"]
    return {k for k, v in schema.items() if "view" in v.get("context", ["view"])}


# --------------------------------------------------------------- lookups
def test_lookup_by_sku_returns_simple_products_and_variations_with_parent(woo):
    status, headers, body = woo.call("GET", "/products", params={"sku": "MUG-1,TEE-M", "_fields": TRIM})
    assert status == 200
    by_sku = {p["sku"]: p for p in body}
    assert set(by_sku) == {"MUG-1", "TEE-M"}
    assert by_sku["MUG-1"] == {"id": woo.ids["MUG-1"], "sku": "MUG-1", "type": "simple", "parent_id": 0,
                               "manage_stock": True, "stock_quantity": 5, "stock_status": "instock"}
    assert by_sku["TEE-M"]["type"] == "variation"
    assert by_sku["TEE-M"]["parent_id"] == woo.ids["TEE"]
    assert by_sku["TEE-M"]["stock_quantity"] == 2
    assert headers["X-WP-Total"] == "2"


def test_sku_lookup_is_exact_not_partial_and_unknown_sku_is_empty(woo):
    assert woo.call("GET", "/products", params={"sku": "MUG"})[2] == []
    assert woo.call("GET", "/products", params={"sku": "NOPE-9"})[2] == []
    status, headers, body = woo.call("GET", "/products", params={"sku": "TEE"})
    assert [p["type"] for p in body] == ["variable"]
    assert sorted(body[0]["variations"]) == sorted([woo.ids["TEE-S"], woo.ids["TEE-M"]])


def test_full_product_object_has_every_schema_field(woo):
    status, _, body = woo.call("GET", f"/products/{woo.ids['MUG-1']}")
    assert status == 200
    assert load_schema_props("options.products.wc-7.9.0.json") <= set(body)
    assert body["_links"]["self"][0]["href"].endswith(f"/wp-json/wc/v3/products/{woo.ids['MUG-1']}")
    assert body["price"] == "9.50"


def test_variations_listing_and_single_variation(woo):
    pid = woo.ids["TEE"]
    status, headers, body = woo.call("GET", f"/products/{pid}/variations", params={"per_page": 100})
    assert status == 200
    assert {v["sku"]: v["stock_quantity"] for v in body} == {"TEE-S": 1, "TEE-M": 2}
    assert load_schema_props("options.products_ID_variations.wc-7.9.0.json") <= set(body[0])
    assert "parent_id" not in body[0]  # the variations endpoint does not repeat the parent
    status, _, one = woo.call("GET", f"/products/{pid}/variations/{woo.ids['TEE-M']}")
    assert status == 200 and one["sku"] == "TEE-M"
    assert one["_links"]["up"][0]["href"].endswith(f"/products/{pid}")


def test_duplicate_skus_can_be_seeded_and_are_both_returned(woo):
    seeded = woo.seed([{"name": "Dup A", "sku": "DUP", "manage_stock": True, "stock_quantity": 1},
                       {"name": "Dup B", "sku": "DUP", "manage_stock": True, "stock_quantity": 2}])
    assert isinstance(seeded["ids"]["DUP"], list) and len(seeded["ids"]["DUP"]) == 2
    _, _, body = woo.call("GET", "/products", params={"sku": "DUP", "_fields": "id,sku"})
    assert sorted(p["id"] for p in body) == sorted(seeded["ids"]["DUP"])
    assert sorted(woo.stock("DUP")) == [1, 2]


def test_include_type_and_fields_filters(woo):
    _, _, body = woo.call("GET", "/products", params={"include": f"{woo.ids['MUG-1']},{woo.ids['BAG']}",
                                                      "_fields": "id"})
    assert sorted(p["id"] for p in body) == sorted([woo.ids["MUG-1"], woo.ids["BAG"]])
    assert body[0] == {"id": body[0]["id"]}  # _fields trims, _links included only when asked for
    _, _, body = woo.call("GET", "/products", params={"type": "variable", "_fields": "sku"})
    assert body == [{"sku": "TEE"}]
    status, _, body = woo.call("GET", "/products", params={"type": "variation"})
    assert_error(status, body, 400, "rest_invalid_param")
    assert body["data"]["details"]["type"]["code"] == "rest_not_in_enum"
    assert body["data"]["params"]["type"] == "type is not one of simple, grouped, external, and variable."


# --------------------------------------------------------------- pagination
def test_pagination_headers_and_links(woo):
    woo.seed([{"name": f"P{i}", "sku": f"P-{i:02d}", "manage_stock": True, "stock_quantity": i} for i in range(22)])
    status, headers, body = woo.call("GET", "/products", params={"per_page": 10, "page": 2})
    assert status == 200 and len(body) == 10
    assert headers["X-WP-Total"] == "25" and headers["X-WP-TotalPages"] == "3"
    link = headers["Link"]
    assert 'rel="prev"' in link and 'rel="next"' in link
    nxt = [part for part in link.split(", <") if 'rel="next"' in part][0]
    assert "page=3" in nxt and "per_page=10" in nxt and "/wp-json/wc/v3/products?" in nxt
    _, headers, body = woo.call("GET", "/products", params={"per_page": 10, "page": 3})
    assert len(body) == 5 and 'rel="next"' not in headers["Link"]
    seen = set()
    for page in (1, 2, 3):
        seen |= {p["id"] for p in woo.call("GET", "/products", params={"per_page": 10, "page": page})[2]}
    assert len(seen) == 25


def test_per_page_over_100_is_the_exact_rest_invalid_param(woo):
    status, _, body = woo.call("GET", "/products", params={"per_page": 101})
    assert status == 400
    assert body == {
        "code": "rest_invalid_param", "message": "Invalid parameter(s): per_page",
        "data": {"status": 400,
                 "params": {"per_page": "per_page must be between 1 (inclusive) and 100 (inclusive)"},
                 "details": {"per_page": {"code": "rest_out_of_bounds",
                                          "message": "per_page must be between 1 (inclusive) and 100 (inclusive)",
                                          "data": None}}}}
    assert woo.call("GET", "/products", params={"per_page": 0})[0] == 400
    assert woo.call("GET", "/products", params={"per_page": 100})[0] == 200


# --------------------------------------------------------------- single updates
def test_put_simple_product_sets_stock_recomputes_status_and_records_history(woo):
    pid = woo.ids["MUG-1"]
    status, _, body = woo.call("PUT", f"/products/{pid}", body={"manage_stock": True, "stock_quantity": 0})
    assert status == 200
    assert body["stock_quantity"] == 0 and body["stock_status"] == "outofstock"
    assert load_schema_props("options.products.wc-7.9.0.json") <= set(body)
    status, _, body = woo.call("PUT", f"/products/{pid}", body={"stock_quantity": 12})
    assert body["stock_quantity"] == 12 and body["stock_status"] == "instock"
    hist = woo.history()
    assert [h["stock_quantity"] for h in hist["by_id"][str(pid)]] == [0, 12]
    assert hist["by_sku"]["MUG-1"] == hist["by_id"][str(pid)]
    seqs = [h["seq"] for h in hist["by_sku"]["MUG-1"]]
    assert seqs == sorted(seqs) and all(isinstance(h["at_ms"], int) for h in hist["by_sku"]["MUG-1"])
    assert woo.stock("MUG-1") == 12


def test_put_variation_through_its_parent(woo):
    pid, vid = woo.ids["TEE"], woo.ids["TEE-S"]
    status, _, body = woo.call("PUT", f"/products/{pid}/variations/{vid}", body={"stock_quantity": 0})
    assert status == 200 and body["stock_quantity"] == 0 and body["stock_status"] == "outofstock"
    assert woo.history()["by_sku"]["TEE-S"][-1]["stock_quantity"] == 0
    # the parent stays in stock while TEE-M has stock, and goes out of stock with it
    assert woo.call("GET", f"/products/{pid}")[2]["stock_status"] == "instock"
    woo.call("PUT", f"/products/{pid}/variations/{woo.ids['TEE-M']}", body={"stock_quantity": 0})
    assert woo.call("GET", f"/products/{pid}")[2]["stock_status"] == "outofstock"


def test_put_variation_on_products_endpoint_is_refused(woo):
    status, _, body = woo.call("PUT", f"/products/{woo.ids['TEE-M']}", body={"stock_quantity": 4})
    assert_error(status, body, 404, "woocommerce_rest_invalid_product_id")
    assert "/variations/" in body["message"]
    assert woo.stock("TEE-M") == 2


def test_put_variation_under_wrong_parent_is_refused(woo):
    status, _, body = woo.call("PUT", f"/products/{woo.ids['MUG-1']}/variations/{woo.ids['TEE-M']}",
                               body={"stock_quantity": 4})
    assert_error(status, body, 403, "woocommerce_rest_cannot_edit",
                 "Parent product does not match current variation.")


def test_unknown_ids(woo):
    status, _, body = woo.call("PUT", "/products/99999", body={"stock_quantity": 1})
    assert_error(status, body, 400, "woocommerce_rest_product_invalid_id", "Invalid ID.")
    status, _, body = woo.call("GET", "/products/99999")
    assert_error(status, body, 404, "woocommerce_rest_product_invalid_id", "Invalid ID.")
    status, _, body = woo.call("PUT", f"/products/{woo.ids['TEE']}/variations/99999", body={"stock_quantity": 1})
    assert_error(status, body, 400, "woocommerce_rest_product_variation_invalid_id", "Invalid ID.")


@pytest.mark.parametrize("bad", ["abc", 2.7, True, [1]])
def test_non_integer_stock_quantity_is_rest_invalid_param(woo, bad):
    status, _, body = woo.call("PUT", f"/products/{woo.ids['MUG-1']}", body={"stock_quantity": bad})
    assert_error(status, body, 400, "rest_invalid_param", "Invalid parameter(s): stock_quantity")
    assert body["data"]["params"]["stock_quantity"] == "stock_quantity is not of type integer."
    assert body["data"]["details"]["stock_quantity"]["code"] == "rest_invalid_type"
    assert woo.stock("MUG-1") == 5
    assert "MUG-1" not in woo.history()["by_sku"]


def test_integer_like_values_and_negative_stock_are_accepted(woo):
    pid = woo.ids["MUG-1"]
    assert woo.call("PUT", f"/products/{pid}", body={"stock_quantity": "7"})[2]["stock_quantity"] == 7
    assert woo.call("PUT", f"/products/{pid}", body={"stock_quantity": 3.0})[2]["stock_quantity"] == 3
    status, _, body = woo.call("PUT", f"/products/{pid}", body={"stock_quantity": -3})
    assert status == 200 and body["stock_quantity"] == -3 and body["stock_status"] == "outofstock"
    body = woo.call("PUT", f"/products/{pid}", body={"backorders": "notify"})[2]
    assert body["stock_status"] == "onbackorder" and body["backordered"] is True


def test_other_schema_validation(woo):
    pid = woo.ids["MUG-1"]
    status, _, body = woo.call("PUT", f"/products/{pid}", body={"manage_stock": "perhaps", "backorders": "maybe"})
    assert_error(status, body, 400, "rest_invalid_param", "Invalid parameter(s): backorders, manage_stock")
    assert body["data"]["details"]["manage_stock"]["code"] == "rest_invalid_type"
    assert body["data"]["details"]["backorders"]["code"] == "rest_not_in_enum"
    status, _, body = woo.call("PUT", f"/products/{pid}", raw_body=b"{not json",
                               headers={"Content-Type": "application/json"})
    assert_error(status, body, 400, "rest_invalid_json")


def test_stock_quantity_is_ignored_when_stock_is_not_managed(woo):
    status, _, body = woo.call("PUT", f"/products/{woo.ids['BAG']}", body={"stock_quantity": 9})
    assert status == 200 and body["manage_stock"] is False and body["stock_quantity"] is None
    assert "BAG" not in woo.history()["by_sku"]
    body = woo.call("PUT", f"/products/{woo.ids['BAG']}", body={"manage_stock": True, "stock_quantity": 9})[2]
    assert body["manage_stock"] is True and body["stock_quantity"] == 9


def test_duplicate_sku_on_update_is_product_invalid_sku(woo):
    status, _, body = woo.call("PUT", f"/products/{woo.ids['BAG']}", body={"sku": "MUG-1"})
    assert_error(status, body, 400, "product_invalid_sku", "Invalid or duplicated SKU.")
    assert body["data"]["resource_id"] == woo.ids["MUG-1"]
    assert body["data"]["unique_sku"] == "MUG-1-1"


# --------------------------------------------------------------- batches
def test_products_batch_updates_with_per_item_errors(woo):
    mug, tee_m = woo.ids["MUG-1"], woo.ids["TEE-M"]
    status, _, body = woo.call("POST", "/products/batch", body={"update": [
        {"id": mug, "stock_quantity": 7},
        {"id": tee_m, "stock_quantity": 1},
        {"id": 99999, "stock_quantity": 1},
    ]})
    assert status == 200
    assert set(body) == {"update"}
    ok, variation, unknown = body["update"]
    assert ok["id"] == mug and ok["stock_quantity"] == 7 and "_links" in ok
    assert variation["id"] == tee_m and variation["error"]["code"] == "woocommerce_rest_invalid_product_id"
    assert variation["error"]["data"] == {"status": 404}
    assert unknown == {"id": 99999, "error": {"code": "woocommerce_rest_product_invalid_id", "message": "Invalid ID.",
                                             "data": {"status": 400}}}
    assert woo.stock("MUG-1") == 7 and woo.stock("TEE-M") == 2
    assert [h["via"] for h in woo.history()["by_sku"]["MUG-1"]] == ["batch"]


def test_variations_batch(woo):
    pid = woo.ids["TEE"]
    status, _, body = woo.call("POST", f"/products/{pid}/variations/batch", body={"update": [
        {"id": woo.ids["TEE-S"], "stock_quantity": 10},
        {"id": woo.ids["TEE-M"], "stock_quantity": 20},
        {"id": woo.ids["MUG-1"], "stock_quantity": 30},
    ]})
    assert status == 200
    s, m, bad = body["update"]
    assert (s["sku"], s["stock_quantity"], m["sku"], m["stock_quantity"]) == ("TEE-S", 10, "TEE-M", 20)
    assert bad["error"]["code"] == "woocommerce_rest_product_variation_invalid_id"
    assert woo.state()["by_sku"]["TEE-M"] == 20 and woo.stock("MUG-1") == 5


def test_batch_items_skip_schema_validation_like_wordpress(woo):
    # WC_REST_Controller::batch_items calls update_item() directly: no arg validation,
    # wc_stock_amount() = intval(). The sidecar must never send such values.
    body = woo.call("POST", "/products/batch", body={"update": [{"id": woo.ids["MUG-1"], "stock_quantity": "abc"}]})[2]
    assert body["update"][0]["stock_quantity"] == 0
    body = woo.call("POST", "/products/batch", body={"update": [{"id": woo.ids["MUG-1"], "stock_quantity": 2.7}]})[2]
    assert body["update"][0]["stock_quantity"] == 2


def test_batch_over_limit_is_413_and_limit_is_configurable(woo):
    items = [{"id": woo.ids["MUG-1"], "stock_quantity": i} for i in range(101)]
    status, _, body = woo.call("POST", "/products/batch", body={"update": items})
    assert status == 413
    assert body == {"code": "woocommerce_rest_request_entity_too_large",
                    "message": "Unable to accept more than 100 items for this request.", "data": {"status": 413}}
    assert "MUG-1" not in woo.history()["by_sku"]
    status, _, body = woo.call("POST", "/products/batch", body={"update": items[:60], "delete": list(range(41))})
    assert status == 413  # create + update + delete are counted together
    woo.configure(batch_limit=5)
    status, _, body = woo.call("POST", "/products/batch", body={"update": items[:6]})
    assert status == 413 and body["message"] == "Unable to accept more than 5 items for this request."
    assert woo.call("POST", "/products/batch", body={"update": items[:5]})[0] == 200


def test_batch_of_100_is_fast_and_fully_recorded(woo):
    seeded = woo.seed([{"name": f"B{i}", "sku": f"B-{i:03d}", "manage_stock": True, "stock_quantity": 0}
                       for i in range(300)])["ids"]
    items = [{"id": seeded[f"B-{i:03d}"], "stock_quantity": i + 1} for i in range(100)]
    t0 = time.monotonic()
    status, _, body = woo.call("POST", "/products/batch", body={"update": items})
    elapsed = time.monotonic() - t0
    assert status == 200 and len(body["update"]) == 100
    assert elapsed < 2.0, elapsed
    state = woo.state()["by_sku"]
    assert all(state[f"B-{i:03d}"] == i + 1 for i in range(100))
    log = woo.requests()
    assert log[-1]["items"] == 100 and log[-1]["method"] == "POST"


# --------------------------------------------------------------- auth
def test_https_basic_and_query_credentials(woo):
    assert woo.call("GET", "/products", params={"sku": "MUG-1"}, auth="basic")[0] == 200
    assert woo.call("GET", "/products", params={"sku": "MUG-1"}, auth="query")[0] == 200
    status, _, body = woo.call("GET", "/products", auth=None,
                               params={"ck": RW["consumer_key"], "cs": RW["consumer_secret"]})
    assert_error(status, body, 401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")


def test_https_wrong_secret_unknown_key_and_no_key(woo):
    bad = dict(RW, consumer_secret="cs_wrong")
    status, _, body = woo.call("GET", "/products", key=bad)
    assert_error(status, body, 401, "woocommerce_rest_authentication_error", "Consumer secret is invalid.")
    status, _, body = woo.call("GET", "/products", key={"consumer_key": "ck_nobody", "consumer_secret": "cs_x"})
    assert_error(status, body, 401, "woocommerce_rest_cannot_view")
    status, _, body = woo.call("GET", "/products", auth=None)
    assert_error(status, body, 401, "woocommerce_rest_cannot_view")
    status, _, body = woo.call("PUT", f"/products/{woo.ids['MUG-1']}", auth=None, body={"stock_quantity": 1})
    assert_error(status, body, 401, "woocommerce_rest_cannot_edit")
    status, _, body = woo.call("POST", "/products/batch", auth=None, body={"update": []})
    assert_error(status, body, 401, "woocommerce_rest_cannot_batch")


def test_read_only_key_cannot_write(woo):
    assert woo.call("GET", "/products", key=RO)[0] == 200
    status, _, body = woo.call("PUT", f"/products/{woo.ids['MUG-1']}", key=RO, body={"stock_quantity": 1})
    assert_error(status, body, 401, "woocommerce_rest_authentication_error",
                 "The API key provided does not have write permissions.")
    status, _, body = woo.call("POST", "/products/batch", key=RO, body={"update": [{"id": 1}]})
    assert status == 401
    assert woo.stock("MUG-1") == 5


def test_plain_http_basic_is_refused(plain):
    status, _, body = plain.call("GET", "/products", auth="basic")
    assert_error(status, body, 401, "woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
    assert plain.call("GET", "/products", auth="query")[0] == 401


@pytest.mark.parametrize("algo", ["HMAC-SHA1", "HMAC-SHA256"])
def test_plain_http_oauth1_get_and_put(plain, algo):
    status, _, body = plain.call("GET", "/products", params={"sku": "MUG-1", "_fields": TRIM}, auth="oauth", algo=algo)
    assert status == 200 and body[0]["stock_quantity"] == 5
    status, _, body = plain.call("PUT", f"/products/{plain.ids['MUG-1']}", body={"stock_quantity": 4},
                                 auth="oauth", algo=algo)
    assert status == 200 and body["stock_quantity"] == 4
    assert plain.requests()[-1]["auth"] == f"oauth1:{algo}"


def _oauth_target(emu, path, params, key=RW, **kw):
    url = emu.base_url + "/wp-json/wc/v3" + path
    signed = oauth1_sign("GET", url, params, key["consumer_key"], key["consumer_secret"], "HMAC-SHA256", **kw)
    return "/wp-json/wc/v3" + path + "?" + urllib.parse.urlencode(signed), signed


def _get_json(emu, target, headers=None):
    conn, resp = raw_request(emu, "GET", target, headers=headers)
    try:
        return resp.status, json.loads(resp.read())
    finally:
        conn.close()


def test_oauth1_bad_signature_replayed_nonce_old_timestamp(plain):
    target, signed = _oauth_target(plain, "/products", {"sku": "MUG-1"})
    tampered = target.replace("sku=MUG-1", "sku=TEE-M")
    status, body = _get_json(plain, tampered)
    assert_error(status, body, 401, "woocommerce_rest_authentication_error",
                 "Invalid signature - provided signature does not match.")
    status, body = _get_json(plain, target)
    assert status == 200
    status, body = _get_json(plain, target)
    assert_error(status, body, 401, "woocommerce_rest_authentication_error",
                 "Invalid nonce - nonce has already been used.")
    old, _ = _oauth_target(plain, "/products", {}, timestamp=int(time.time()) - 16 * 60)
    status, body = _get_json(plain, old)
    assert_error(status, body, 401, "woocommerce_rest_authentication_error", "Invalid timestamp.")
    wrong = dict(RW, consumer_secret="cs_wrong")
    status, body = _get_json(plain, _oauth_target(plain, "/products", {}, key=wrong)[0])
    assert_error(status, body, 401, "woocommerce_rest_authentication_error",
                 "Invalid signature - provided signature does not match.")
    unknown = {"consumer_key": "ck_nobody", "consumer_secret": "x"}
    status, body = _get_json(plain, _oauth_target(plain, "/products", {}, key=unknown)[0])
    assert_error(status, body, 401, "woocommerce_rest_authentication_error", "Consumer key is invalid.")
    status, body = _get_json(plain, "/wp-json/wc/v3/products?oauth_consumer_key=" + RW["consumer_key"])
    assert_error(status, body, 401, "woocommerce_rest_authentication_missing_parameter")


def test_oauth1_uses_the_configured_home_url(plain):
    # Signed for another host than the shop's home URL: refused.
    url = f"http://localhost:{plain.port}/wp-json/wc/v3/products"
    signed = oauth1_sign("GET", url, {}, RW["consumer_key"], RW["consumer_secret"])
    status, body = _get_json(plain, "/wp-json/wc/v3/products?" + urllib.parse.urlencode(signed))
    assert status == 401
    plain.configure(home_url="http://shop.example.test")
    signed = oauth1_sign("GET", "http://shop.example.test/wp-json/wc/v3/products", {}, RW["consumer_key"],
                         RW["consumer_secret"])
    status, body = _get_json(plain, "/wp-json/wc/v3/products?" + urllib.parse.urlencode(signed))
    assert status == 200
    assert body[0]["_links"]["self"][0]["href"].startswith("http://shop.example.test/wp-json/")


def test_oauth1_in_authorization_header(plain):
    url = plain.base_url + "/wp-json/wc/v3/products"
    signed = oauth1_sign("GET", url, {"sku": "MUG-1"}, RW["consumer_key"], RW["consumer_secret"])
    header = "OAuth " + ", ".join(f'{k}="{urllib.parse.quote(v, safe="")}"'
                                  for k, v in signed.items() if k.startswith("oauth_"))
    status, body = _get_json(plain, "/wp-json/wc/v3/products?sku=MUG-1", headers={"Authorization": header})
    assert status == 200 and body[0]["sku"] == "MUG-1"


def test_forwarded_proto_https_allows_basic_when_trusted(plain):
    headers = dict(basic(), **{"X-Forwarded-Proto": "https"})
    status, body = _get_json(plain, "/wp-json/wc/v3/products?sku=MUG-1", headers=headers)
    assert status == 200 and body[0]["sku"] == "MUG-1"
    assert body[0]["_links"]["self"][0]["href"].startswith("https://")


def test_rest_route_query_is_never_authenticated(woo):
    status, body = _get_json(woo, "/?rest_route=/wc/v3/products&sku=MUG-1", headers=basic())
    assert_error(status, body, 401, "woocommerce_rest_cannot_view")
    q = urllib.parse.urlencode({"rest_route": "/wc/v3/products", "consumer_key": RW["consumer_key"],
                                "consumer_secret": RW["consumer_secret"]})
    status, body = _get_json(woo, "/index.php?" + q)
    assert_error(status, body, 401, "woocommerce_rest_cannot_view")
    conn, resp = raw_request(woo, "PUT", f"/?rest_route=/wc/v3/products/{woo.ids['MUG-1']}",
                             headers=dict(basic(), **{"Content-Type": "application/json"}),
                             body=json.dumps({"stock_quantity": 1}))
    assert resp.status == 401 and json.loads(resp.read())["code"] == "woocommerce_rest_cannot_edit"
    conn.close()
    assert woo.stock("MUG-1") == 5


def test_request_log_never_holds_secrets(woo, plain):
    woo.call("GET", "/products", auth="query", params={"sku": "MUG-1"})
    woo.call("GET", "/products", auth="basic")
    plain.call("GET", "/products", auth="oauth")
    for emu in (woo, plain):
        dumped = json.dumps(emu.requests())
        for secret in (RW["consumer_secret"], RW["consumer_key"], "oauth_signature", "consumer_secret"):
            assert secret not in dumped
    schemes = [r["auth"] for r in woo.requests()]
    assert schemes == ["query", "basic"]
    assert woo.requests()[0]["path"] == "/wp-json/wc/v3/products?sku=MUG-1"
    assert woo.requests()[0]["status"] == 200 and woo.requests()[0]["items"] == 1


# --------------------------------------------------------------- indexes
def test_rest_index_and_namespace_index(woo):
    status, _, body = woo.call("GET", "/wp-json/", full_path=True, auth=None)
    assert status == 200 and "wc/v3" in body["namespaces"]
    status, _, body = woo.call("GET", "", auth=None)
    assert status == 200 and body["namespace"] == "wc/v3"
    assert "/wc/v3/products/batch" in body["routes"]
    assert "GET" in body["routes"]["/wc/v3/products"]["methods"]
    status, _, body = woo.call("GET", "/nothing-here")
    assert_error(status, body, 404, "rest_no_route")


# --------------------------------------------------------------- faults
def test_fault_status_fires_the_given_number_of_times(woo):
    woo.set_faults([{"path_contains": "/products", "method": "GET", "action": "status", "status": 503,
                     "retry_after": 2, "times": 2}])
    for _ in range(2):
        status, headers, body = woo.call("GET", "/products")
        assert status == 503 and headers["Retry-After"] == "2" and body["data"]["status"] == 503
    assert woo.call("GET", "/products")[0] == 200
    assert woo.call("PUT", f"/products/{woo.ids['MUG-1']}", body={"stock_quantity": 1})[0] == 200
    assert [r["fault"] for r in woo.requests()] == ["status", "status", None, None]


def test_fault_http429_with_retry_after(woo):
    woo.set_faults([{"action": "http429", "retry_after": 7, "times": 1}])
    status, headers, body = woo.call("POST", "/products/batch", body={"update": [{"id": woo.ids["MUG-1"],
                                                                                  "stock_quantity": 1}]})
    assert status == 429 and headers["Retry-After"] == "7"
    assert woo.stock("MUG-1") == 5  # nothing applied
    woo.clear_faults()
    assert woo.call("GET", "/products")[0] == 200


def test_fault_timeout(woo):
    woo.set_faults([{"action": "timeout", "delay_ms": 1500, "times": 1}])
    with pytest.raises((socket.timeout, TimeoutError)):
        raw_request(woo, "GET", "/wp-json/wc/v3/products", headers=basic(), timeout=0.5)
    assert woo.call("GET", "/products")[0] == 200


def test_fault_close_drops_the_connection(woo):
    woo.set_faults([{"action": "close", "times": 1}])
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError, ssl.SSLError)):
        raw_request(woo, "GET", "/wp-json/wc/v3/products", headers=basic())
    assert woo.call("GET", "/products")[0] == 200


def test_fault_garbage_body(woo):
    woo.set_faults([{"action": "garbage", "times": 1}])
    status, headers, body = woo.call("GET", "/products")
    assert status == 200 and isinstance(body, bytes) and body.startswith(b"<!DOCTYPE html>")
    assert headers["Content-Type"].startswith("application/json")


def test_fault_truncated_applies_the_write_but_cuts_the_answer(woo):
    woo.set_faults([{"action": "truncated", "method": "PUT", "times": 1}])
    conn, resp = raw_request(woo, "PUT", f"/wp-json/wc/v3/products/{woo.ids['MUG-1']}",
                             headers=dict(basic(), **{"Content-Type": "application/json"}),
                             body=json.dumps({"stock_quantity": 8}))
    assert resp.status == 200
    with pytest.raises(http.client.IncompleteRead):
        resp.read()
    conn.close()
    assert woo.stock("MUG-1") == 8  # the shop applied it; only the answer was lost


def test_fault_probability_is_seeded_and_path_filtered(woo):
    woo.set_faults([{"path_contains": "/variations", "action": "status", "status": 500, "probability": 0.5}],
                   seed=42)
    pid = woo.ids["TEE"]
    first = [woo.call("GET", f"/products/{pid}/variations")[0] for _ in range(20)]
    assert set(first) == {200, 500}
    assert all(woo.call("GET", "/products")[0] == 200 for _ in range(5))  # other paths untouched
    woo.set_faults([{"path_contains": "/variations", "action": "status", "status": 500, "probability": 0.5}],
                   seed=42)
    again = [woo.call("GET", f"/products/{pid}/variations")[0] for _ in range(20)]
    assert again == first
    woo.set_faults([{"action": "status", "status": 500, "probability": 0}])
    assert woo.call("GET", "/products")[0] == 200


def test_control_set_stock_simulates_a_shop_sale(woo):
    woo.set_stock(sku="MUG-1", stock_quantity=3)
    assert woo.call("GET", f"/products/{woo.ids['MUG-1']}")[2]["stock_quantity"] == 3
    assert woo.history()["by_sku"]["MUG-1"][-1]["via"] == "control"


def test_sigterm_stops_the_emulator():
    emu = WooEmulator().start()
    proc = emu.proc
    emu.stop()
    assert proc.returncode == 0


def test_fault_close_after_apply_loses_only_the_answer(woo):
    woo.set_faults([{"action": "close", "method": "POST", "apply": True, "times": 1}])
    body = json.dumps({"update": [{"id": woo.ids["MUG-1"], "stock_quantity": 11}]})
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError, ssl.SSLError)):
        raw_request(woo, "POST", "/wp-json/wc/v3/products/batch", body=body,
                    headers=dict(basic(), **{"Content-Type": "application/json"}))
    assert woo.stock("MUG-1") == 11
    assert woo.requests()[-1]["fault"] == "close" and woo.requests()[-1]["status"] is None
