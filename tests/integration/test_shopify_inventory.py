"""Reading a Shopify shop's whole inventory through the native module (the code
the daemon's reconcile runs), against the Shopify emulator: bulk and paginated
reads agree with the shop, odd items are reported, faults mid-read resume from
the cursor. Emulator-only: a real shop cannot throttle, fail or garble a bulk
result on demand."""
from __future__ import annotations

import pytest

import stockrelay_native

from conftest import SHOPIFY_TOKEN

pytestmark = pytest.mark.shopify


def channel(emu, test_ca, version="2025-10", **settings):
    return stockrelay_native.Channel({
        "channel_type": "shopify", "base_url": emu.base_url, "api_version": version,
        "credentials": {"access_token": SHOPIFY_TOKEN}, "timeout_ms": 5000,
        "settings": {"ca_file": test_ca["ca"], "bulk_poll_max_ms": 300, **settings}})


def seed_odd_shop(emu):
    """A shop with the cases reconcile must report; returns the seed answer."""
    products = [{"title": f"P{i}", "variants": [{"sku": f"SKU-{i}", "levels": {"Main": i, "Annex": 100 + i}}]}
                for i in range(25)]
    products += [
        {"title": "no sku", "variants": [{"sku": None, "levels": {"Main": 4}}]},
        {"title": "dup a", "variants": [{"sku": "DUP", "levels": {"Main": 1}}]},
        {"title": "dup b", "variants": [{"sku": "DUP", "levels": {"Main": 2}}]},
        {"title": "untracked", "variants": [{"sku": "FREE", "tracked": False, "levels": {"Main": 0}}]},
        {"title": "nowhere", "variants": [{"sku": "NOWHERE"}]},
    ]
    seeded = emu.seed(locations=[{"name": "Main"}, {"name": "Annex"}], products=products)
    # Behind stockrelay's back: a level edited, an item deleted, tracking stopped.
    emu.control("POST", "level", {"sku": "SKU-3", "location": "Main", "available": 77})
    emu.control("POST", "delete", {"sku": "SKU-4"})
    emu.control("POST", "tracked", {"sku": "SKU-5", "tracked": False})
    return seeded


def truth(emu):
    """(remote_id, sku, location, quantity-or-None, tracked) for every level the shop holds,
    from the emulator's state (which keys items by SKU, so the duplicate SKU is checked apart)."""
    st = emu.state()
    out = set()
    for key, item in st["items"].items():
        if key == "DUP":
            continue
        sku = None if key.startswith("gid://") else key
        levels = st["available"].get(key, {})
        if not levels:
            out.add((item["inventoryItemId"], sku, "", None, item["tracked"]))
        for loc, qty in levels.items():
            out.add((item["inventoryItemId"], sku, loc, qty if item["tracked"] else None, item["tracked"]))
    return out


def as_set(records):
    return {(r["remote_id"], r["sku"], r["location_key"], r["quantity"], r["tracked"]) for r in records}


def test_bulk_and_paginated_reads_agree_with_the_shop_and_report_odd_items(shopify, test_ca):
    seeded = seed_odd_shop(shopify)
    bulk = channel(shopify, test_ca, inventory_read="bulk").read_inventory()
    pages = channel(shopify, test_ca, inventory_read="paginated", read_page_size=7).read_inventory()
    assert bulk["error"] is None and pages["error"] is None
    assert bulk["report"]["method"] == "bulk" and pages["report"]["method"] == "paginated"
    expected = truth(shopify)
    for out in (bulk, pages):
        dup = [r for r in out["records"] if r["sku"] == "DUP"]
        assert len({r["remote_id"] for r in dup}) == 2, "both items carrying one SKU are listed"
        assert sorted(r["quantity"] for r in dup) == [1, 2]
        assert as_set(r for r in out["records"] if r["sku"] != "DUP") == expected
        assert len(out["records"]) == len(expected) + 2
    main = seeded["locations"]["Main"]
    by_sku = {(r["sku"], r["location_key"]): r for r in bulk["records"]}
    assert by_sku[("SKU-3", main)]["quantity"] == 77
    assert not any(r["sku"] == "SKU-4" for r in bulk["records"]), "a deleted item is gone"
    assert by_sku[("SKU-5", main)]["tracked"] is False and by_sku[("SKU-5", main)]["quantity"] is None
    assert [r for r in bulk["records"] if r["sku"] is None][0]["quantity"] == 4
    assert by_sku[("NOWHERE", "")]["quantity"] is None
    # What the reads cost, as Shopify charged it (the emulator's request log).
    charged = sum(r["actualCost"] or 0 for r in shopify.requests())
    assert bulk["report"]["cost_points"] + pages["report"]["cost_points"] == charged
    assert bulk["report"]["api_calls"] >= 3 and pages["report"]["api_calls"] >= 5
    assert bulk["report"]["cost_points"] < pages["report"]["cost_points"]


def test_the_bulk_result_is_fetched_without_the_token_and_location_keys_filter(shopify, test_ca):
    seeded = seed_odd_shop(shopify)
    main = seeded["locations"]["Main"]
    numeric = main.rsplit("/", 1)[1]
    out = channel(shopify, test_ca, inventory_read="bulk").read_inventory([numeric])
    assert out["error"] is None
    assert {r["location_key"] for r in out["records"]} <= {numeric, ""}, "records carry the caller's key form"
    assert any(r["location_key"] == numeric for r in out["records"])
    downloads = shopify.control("GET", "bulk")["downloads"]
    assert downloads and not any(d["withShopToken"] for d in downloads)


def test_a_malformed_bulk_line_is_a_record_with_a_problem_not_a_failed_read(shopify, test_ca):
    seed_odd_shop(shopify)
    shopify.control("POST", "bulk", {"corruptLines": [2]})
    out = channel(shopify, test_ca, inventory_read="bulk").read_inventory()
    assert out["error"] is None
    bad = [r for r in out["records"] if r["problem"]]
    assert len(bad) == 1 and "not a JSON object" in bad[0]["problem"]
    assert len(out["records"]) >= len(truth(shopify))


def test_a_5xx_while_polling_fails_the_read_and_the_cursor_resumes_the_same_operation(shopify, test_ca):
    seed_odd_shop(shopify)
    ch = channel(shopify, test_ca, inventory_read="bulk")
    shopify.faults([{"operation": "BulkStatus", "action": "status", "status": 503, "times": 1}])
    first = ch.read_inventory()
    assert first["error"]["code"] == "transient" and "503" in first["error"]["message"]
    assert first["cursor"]["method"] == "bulk" and first["cursor"]["operation"].startswith("gid://shopify/BulkOperation/")
    again = ch.read_inventory(cursor=first["cursor"])
    assert again["error"] is None
    runs = [r for r in shopify.requests() if r["operationName"] == "BulkInventory"]
    assert len(runs) == 1, "the resumed read polls the operation it started instead of starting another"
    assert len(again["records"]) >= len(truth(shopify))


def test_a_download_cut_mid_file_resumes_without_repeating_records(shopify, test_ca):
    shopify.seed(locations=[{"name": "Main"}], products=[])
    shopify.control("POST", "generate", {"count": 2500, "locations": ["Main"]})
    ch = channel(shopify, test_ca, inventory_read="bulk")
    shopify.faults([{"operation": "bulkDownload", "action": "close", "times": 1}])
    got = []
    first = ch.read_inventory(on_page=lambda page, cursor: got.extend(page) or True)
    assert first["error"]["code"] == "transient"
    delivered = len(got)
    assert 0 < delivered < 2500, "pages before the cut were delivered"
    again = ch.read_inventory(cursor=first["cursor"], on_page=lambda page, cursor: got.extend(page) or True)
    assert again["error"] is None
    ids = [r["remote_id"] for r in got]
    assert len(ids) == len(set(ids)) == 2500


def test_throttling_mid_read_slows_the_pages_down_without_failing(shopify, test_ca):
    seed_odd_shop(shopify)
    shopify.faults([{"operation": "ReadInventory", "action": "throttle", "times": 2}])
    out = channel(shopify, test_ca, inventory_read="paginated", read_page_size=10).read_inventory()
    assert out["error"] is None
    assert out["report"]["throttled_ms"] > 0
    assert as_set(out["records"]) >= truth(shopify)


RUN = "mutation R($q: String!) { bulkOperationRunQuery(query: $q%s) { bulkOperation { id } userErrors { code message } } }"


def test_one_running_bulk_query_per_shop_before_2026_01_and_five_from_2026_01(shopify, test_ca):
    seed_odd_shop(shopify)
    shopify.control("POST", "bulk", {"minDurationMs": 4000})
    q = "{ inventoryItems { edges { node { id } } } }"
    status, _, body = shopify.graphql("2025-10", RUN % ", groupObjects: false", {"q": q})
    assert body["data"]["bulkOperationRunQuery"]["userErrors"] == []
    old = channel(shopify, test_ca, "2025-10", inventory_read="bulk").read_inventory()
    assert old["error"] is None and old["report"]["method"] == "paginated", "the busy slot makes the read fall back"
    new = channel(shopify, test_ca, "2026-01", inventory_read="bulk").read_inventory()
    assert new["error"] is None and new["report"]["method"] == "bulk", "2026-01 runs several bulk queries at once"
    codes = []
    for _ in range(6):
        _, _, body = shopify.graphql("2026-01", RUN % ", groupObjects: false", {"q": q})
        codes.append([e["code"] for e in body["data"]["bulkOperationRunQuery"]["userErrors"]])
        if codes[-1]:
            break
    running = [o for o in shopify.control("GET", "bulk")["ops"] if o["status"] in ("CREATED", "RUNNING")]
    assert codes[-1] == ["LIMIT_REACHED"] and len(running) == 5
