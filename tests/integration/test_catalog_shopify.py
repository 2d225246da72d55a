"""Catalogue publishing into Shopify (issue #16) end to end: documents written as Odoo writes
them (stock_relay_enqueue_documents) -> the real stockrelayd -> the Shopify EMULATOR
(tests/emulators/shopify), which validates every GraphQL document against the pinned Admin
schema of the channel's API version and answers productSet / productVariantsBulkUpdate with
Shopify's userErrors. The emulator is used because a real shop cannot be had here on demand;
what these tests show about Shopify's behaviour is the emulator's model of it."""
from __future__ import annotations

import json
import re
import time

import psycopg2.extras
import pytest

from harness import catalog, outbox

from conftest import SHOPIFY_TOKEN

pytestmark = [pytest.mark.sidecar, pytest.mark.shopify]

NS = "stockrelay.external_id"


@pytest.fixture
def shop(db, shopify, test_ca):
    return channel(db, shopify, test_ca, "2025-10")


def channel(db, emu, test_ca, version, seed_locations=("Main",)):
    seeded = emu.seed(locations=[{"name": n} for n in seed_locations], products=[])
    cid = outbox.add_channel(db.conn, name=f"Shopify {version}", channel_type="shopify", base_url=emu.base_url,
                             api_version=version, credentials={"access_token": SHOPIFY_TOKEN},
                             settings={"ca_file": test_ca["ca"]}, timeout_ms=5000)
    outbox.update_channel(db.conn, cid, catalog_enabled=True)

    class Shop:
        pass
    s = Shop()
    s.cid, s.emu, s.locations = cid, emu, seeded["locations"]
    return s


def product(emu, sku=None, pid=None):
    return emu.control("POST", "product", {"sku": sku} if sku else {"id": pid})["product"]


def row_of(db, template_id, kind="product"):
    return [r for r in outbox.rows(db.conn) if r["kind"] == kind and r["product_id"] == template_id][-1]


def stats(r):
    m = re.search(r"catalogue rows=(\d+) done=(\d+) failed=(\d+) retried=(\d+) unchanged=(\d+) calls=(\d+)", r.stdout)
    assert m, r.stdout + r.stderr
    return dict(zip(("rows", "done", "failed", "retried", "unchanged", "calls"), map(int, m.groups())))


def tshirt(template_id, price_r="12.50", extra=None, active=True):
    variants = [(template_id * 10 + 1, f"S{template_id}-R", ["Red"], price_r),
                (template_id * 10 + 2, f"S{template_id}-B", ["Blue"], "13.00")]
    return catalog.document(template_id, f"Shopify tee {template_id}", variants + (extra or []), active=active,
                            description="Soft cotton")


def test_create_update_price_add_variant_rerun_and_archive(shop, sidecar, db):
    emu = shop.emu
    doc = tshirt(1)
    doc["variants"][0].update(barcode="4006381333931", weight=0.25)
    catalog.enqueue(db.conn, "product", shop.cid, [doc])
    s = stats(sidecar.drain_once())
    assert (s["rows"], s["done"], s["failed"]) == (1, 1, 0), s
    m = catalog.catalog_map(db.conn, shop.cid)
    p = product(emu, "S1-R")
    assert m[doc["external_id"]]["remote_id"] == p["id"] and len(m) == 3
    assert p["status"] == "ACTIVE" and p["title"] == "Shopify tee 1" and p["handle"] == doc["handle"]
    assert p["metafields"][NS]["value"] == doc["external_id"]
    assert p["options"] == [{"name": "Color", "values": ["Red", "Blue"]}]  # Odoo's order
    red, blue = p["variants"]
    assert (red["sku"], red["price"], red["barcode"], red["tracked"]) == ("S1-R", "12.50", "4006381333931", True)
    assert red["weight"] == {"value": 0.25, "unit": "KILOGRAMS"}
    assert red["metafields"][NS]["value"] == doc["variants"][0]["external_id"]
    assert red["selectedOptions"] == [{"name": "Color", "value": "Red"}] and blue["price"] == "13.00"
    assert m[doc["variants"][0]["external_id"]]["remote_id"] == red["id"]

    # The same document again: nothing is sent.
    before = len(emu.requests())
    catalog.enqueue(db.conn, "product", shop.cid, [doc])
    s = stats(sidecar.drain_once())
    assert (s["done"], s["unchanged"], s["calls"]) == (1, 1, 0), s
    assert not [r for r in emu.requests()[before:] if r.get("operationName", "").startswith("Stockrelay")]

    # A price row: one productVariantsBulkUpdate (after the shop's currency, read once per daemon run).
    before = len(emu.requests())
    catalog.enqueue(db.conn, "price", shop.cid, [catalog.prices(doc, {"S1-R": "14.90"})])
    s = stats(sidecar.drain_once())
    assert (s["done"], s["calls"]) == (1, 2), s
    assert [r["operationName"] for r in emu.requests()[before:]] == ["StockrelayShop", "StockrelayPrices"]
    assert [v["price"] for v in product(emu, "S1-R")["variants"]] == ["14.90", "13.00"]
    assert "14.90" in row_of(db, 1, "price")["request_excerpt"]

    # A new variant lands in the same product, the others keep their ids.
    doc2 = tshirt(1, price_r="14.90", extra=[(13, "S1-G", ["Green"], "9.99")])
    catalog.enqueue(db.conn, "product", shop.cid, [doc2])
    s = stats(sidecar.drain_once())
    assert (s["done"], s["unchanged"]) == (1, 0), s
    p2 = product(emu, "S1-G")
    assert p2["id"] == p["id"] and [v["sku"] for v in p2["variants"]] == ["S1-R", "S1-B", "S1-G"]
    assert p2["variants"][0]["id"] == red["id"] and p2["options"][0]["values"] == ["Red", "Blue", "Green"]
    assert len(catalog.catalog_map(db.conn, shop.cid)) == 4

    # Archived in Odoo: DRAFT in Shopify, never deleted.
    catalog.enqueue(db.conn, "product", shop.cid, [dict(doc2, active=False)])
    s = stats(sidecar.drain_once())
    assert s["done"] == 1, s
    p3 = product(emu, pid=p["id"])
    assert p3["status"] == "DRAFT" and len(p3["variants"]) == 3


def test_a_hand_made_product_with_the_same_sku_is_adopted_not_duplicated(shop, sidecar, db):
    emu = shop.emu
    [hand] = emu.seed(products=[{"title": "Hand made", "variants": [{"sku": "S2-HAND"}]}])["created"]
    other_app = [{"ownerId": owner, "namespace": "reviews", "key": "rating", "type": "single_line_text_field",
                  "value": "4.5"} for owner in (hand["productId"], hand["variantId"])]
    status, _h, body = emu.graphql("2025-10", "mutation M($m: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $m) "
                                   "{ userErrors { message } } }", {"m": other_app})
    assert status == 200 and body["data"]["metafieldsSet"]["userErrors"] == [], body
    doc = catalog.document(2, "Adopted tee", [(21, "S2-HAND", [], "20.00")], options=[])
    catalog.enqueue(db.conn, "product", shop.cid, [doc])
    s = stats(sidecar.drain_once())
    assert s["done"] == 1, s
    p = product(emu, "S2-HAND")
    assert p["id"] == hand["productId"] and len(emu.state()["items"]) == 1  # not duplicated
    assert p["variants"][0]["id"] == hand["variantId"] and p["variants"][0]["price"] == "20.00"
    assert p["title"] == "Adopted tee" and p["metafields"][NS]["value"] == doc["external_id"]
    assert p["variants"][0]["metafields"][NS]["value"] == doc["variants"][0]["external_id"]
    # Another app's metafields on the adopted product and variant are kept.
    assert p["metafields"]["reviews.rating"]["value"] == "4.5"
    assert p["variants"][0]["metafields"]["reviews.rating"]["value"] == "4.5"
    m = catalog.catalog_map(db.conn, shop.cid)
    assert m[doc["external_id"]]["adopted"] is True and m[doc["variants"][0]["external_id"]]["adopted"] is True
    assert "adopted" in row_of(db, 2)["last_error"]


def test_an_adoption_that_would_delete_hand_made_variants_is_refused(shop, sidecar, db):
    emu = shop.emu
    emu.seed(products=[{"title": "Two by hand", "variants": [{"sku": "S3-A"}, {"sku": "S3-HAND"}]}])
    doc = catalog.document(3, "Only one in Odoo", [(31, "S3-A", [], "1.00")], options=[])
    catalog.enqueue(db.conn, "product", shop.cid, [doc])
    s = stats(sidecar.drain_once())
    assert s["failed"] == 1, s
    r = row_of(db, 3)
    assert r["error_code"] == "rejected" and "1 variant(s) Odoo does not know (S3-HAND)" in r["last_error"], \
        (r["error_code"], r["last_error"])
    assert {"S3-A", "S3-HAND"} <= set(emu.state()["items"])  # nothing deleted
    assert not [x for x in emu.requests() if x.get("operationName") == "StockrelayProductSet"]


def test_bad_documents_fail_alone_with_specific_errors_and_the_rest_lands(shop, sidecar, db):
    emu = shop.emu
    emu.seed(products=[{"title": "Owner of taken", "variants": [{"sku": "OWN-1"}]}])
    good = catalog.document(30, "Good", [(301, "S30-OK", ["Red"], "5.00")])
    four = catalog.document(31, "Four options", [(311, "S31-X", ["a", "b", "c", "d"], "5")],
                            options=[("A", ["a"]), ("B", ["b"]), ("C", ["c"]), ("D", ["d"])])
    dollars = catalog.document(32, "Dollars", [(321, "S32-USD", ["Red"], "5")], currency="USD")
    taken = catalog.document(33, "Taken", [(331, "S33-T", ["Red"], "5")], handle="owner-of-taken")
    long_value = catalog.document(34, "Long", [(341, "S34-L", ["x" * 300], "5")])
    catalog.enqueue(db.conn, "product", shop.cid, [good, four, dollars, taken, long_value])
    s = stats(sidecar.drain_once())
    assert (s["rows"], s["done"], s["failed"]) == (5, 1, 4), s
    assert row_of(db, 30)["state"] == "done" and product(emu, "S30-OK")["status"] == "ACTIVE"
    expect = {31: "the product has 4 options (A, B, C, D); Shopify allows at most 3",
              32: "the prices are in USD, but the Shopify shop's currency is EUR",
              33: "input.handle: Handle 'owner-of-taken' already in use",
              34: "is 300 characters long; Shopify allows at most 255"}
    for template_id, words in expect.items():
        r = row_of(db, template_id)
        assert r["state"] == "failed" and r["error_code"] == "rejected", r
        assert words in r["last_error"], r["last_error"]
    sent = [r for r in emu.requests() if r.get("operationName") == "StockrelayProductSet"]
    assert len(sent) == 2  # the good one and the taken handle (Shopify's own refusal); the rest never left
    assert not {"S31-X", "S32-USD", "S33-T", "S34-L"} & set(emu.state()["items"])


def test_throttling_is_transient_and_the_row_lands_later(shop, sidecar, db):
    """The emulator answers THROTTLED / 503 on demand, which a real shop cannot."""
    doc = catalog.document(40, "Throttled", [(401, "S40-A", ["Red"], "5")])
    shop.emu.faults([{"operation": "StockrelayProductSet", "action": "status", "status": 503, "times": 50}])
    catalog.enqueue(db.conn, "product", shop.cid, [doc])
    s = stats(sidecar.drain_once())
    assert (s["done"], s["failed"], s["retried"]) == (0, 0, 1), s
    assert row_of(db, 40)["state"] == "pending"
    shop.emu.clear_faults()
    db.query("UPDATE stock_relay_outbox SET next_attempt_at = now() AT TIME ZONE 'UTC'")
    s = stats(sidecar.drain_once())
    assert s["done"] == 1, s
    assert product(shop.emu, "S40-A")["variants"][0]["price"] == "5.00"


def test_a_stock_row_waits_for_the_product_row_that_creates_its_sku(shop, sidecar, db):
    loc = shop.locations["Main"]
    doc = catalog.document(50, "Brand new", [(501, "S50-NEW", ["Red"], "7.00")])
    outbox.update_channel(db.conn, shop.cid, catalog_enabled=False)
    catalog.enqueue(db.conn, "product", shop.cid, [doc])
    outbox.enqueue(db.dsn, [(shop.cid, 501, "S50-NEW", loc, 6)])
    sidecar.drain_once()
    stock = [r for r in outbox.rows(db.conn) if r["kind"] == "stock"][0]
    assert stock["state"] == "pending" and "waiting for the catalogue" in stock["last_error"], stock

    outbox.update_channel(db.conn, shop.cid, catalog_enabled=True)
    time.sleep(1.2)
    r = sidecar.drain_once()
    rows = {x["kind"]: x for x in outbox.rows(db.conn)}
    assert rows["product"]["state"] == "done" and rows["stock"]["state"] == "done", r.stdout + r.stderr
    assert rows["stock"]["done_at"] >= rows["product"]["done_at"]
    assert shop.emu.state()["available"]["S50-NEW"] == {loc: 6}


def test_a_dry_run_is_answered_and_changes_nothing(shop, sidecar, db):
    doc = tshirt(6)
    catalog.enqueue(db.conn, "product", shop.cid, [doc])
    assert stats(sidecar.drain_once())["done"] == 1
    changed = tshirt(6, price_r="99.00")
    new = catalog.document(61, "Not yet", [(611, "S61-NY", ["Red"], "1")])
    five = catalog.document(62, "Five", [(621, "S62", list("abcde"), "1")], options=[(c.upper(), [c]) for c in "abcde"])
    with db.conn.cursor() as cur:
        cur.execute("INSERT INTO stock_relay_catalog_preview (channel_id, documents) VALUES (%s, %s::jsonb) "
                    "RETURNING id", (shop.cid, json.dumps([changed, new, five, doc])))
        preview_id = cur.fetchone()[0]
    proc = sidecar.start("--poll-interval", "30")
    try:
        def answered():
            with db.conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
                cur.execute("SELECT * FROM stock_relay_catalog_preview WHERE id = %s", (preview_id,))
                row = cur.fetchone()
            return row if row["state"] in ("done", "failed") else None
        row = outbox.wait_until(answered, timeout=20, message="the dry run's answer")
    finally:
        proc.stop()
    assert row["state"] == "done", row
    res = row["result"]
    assert [e["external_id"] for e in res["created"]] == [new["external_id"]]
    assert [e["external_id"] for e in res["unchanged"]] == [doc["external_id"]]
    [upd] = res["updated"]
    assert upd["fields"] == {"variants[S6-R].price": {"shop": "12.50", "odoo": "99.00"}}
    [conflict] = res["conflicts"]
    assert conflict["external_id"] == five["external_id"] and "5 options" in conflict["message"]
    assert product(shop.emu, "S6-R")["variants"][0]["price"] == "12.50"  # nothing changed
    assert "S61-NY" not in shop.emu.state()["items"]


@pytest.mark.parametrize("version", ["2025-01", "2026-10"])
def test_the_documents_the_daemon_sends_pass_the_pinned_schema(db, shopify, test_ca, sidecar, version):
    """Every document (reads, productSet, productVariantsBulkUpdate) is validated by the emulator
    against the pinned schema of `version`; a document the schema refuses fails the row."""
    s = channel(db, shopify, test_ca, version)
    doc = tshirt(70)
    catalog.enqueue(db.conn, "product", s.cid, [doc])
    assert stats(sidecar.drain_once())["done"] == 1
    catalog.enqueue(db.conn, "product", s.cid, [tshirt(70, price_r="1.00")])
    sidecar.drain_once()
    catalog.enqueue(db.conn, "price", s.cid, [catalog.prices(doc, {"S70-R": "2.00"})])
    sidecar.drain_once()
    assert {r["state"] for r in outbox.rows(db.conn)} == {"done"}, outbox.rows(db.conn)
    ops = {r.get("operationName") for r in shopify.requests()}
    assert {"StockrelayShop", "StockrelayVariantsBySku", "StockrelayProductSet", "StockrelayPrices",
            "StockrelayProduct"} <= ops
    assert not [r for r in shopify.requests() if r.get("errorCodes")], shopify.requests()
    assert product(shopify, "S70-R")["variants"][0]["price"] == "2.00"


def test_a_product_with_more_variants_than_a_page_is_read_in_pages_within_the_query_cost_limit(shop, sidecar, db):
    sizes = [f"S{k:03d}" for k in range(120)]
    doc = catalog.document(80, "Many sizes", [(8000 + k, f"S80-{v}", [v], "3.00") for k, v in enumerate(sizes)],
                           options=[("Size", sizes)])
    # Made by hand with the 111th SKU: found by the third SKU search (50 SKUs each), adopted.
    [hand] = shop.emu.seed(products=[{"title": "By hand", "variants": [{"sku": "S80-S110"}]}])["created"]
    catalog.enqueue(db.conn, "product", shop.cid, [doc])
    assert stats(sidecar.drain_once())["done"] == 1
    m = catalog.catalog_map(db.conn, shop.cid)
    assert len(m) == 121 and m[doc["external_id"]]["remote_id"] == hand["productId"]
    assert m[doc["external_id"]]["adopted"] is True
    doc["variants"][119]["price"] = "4.00"
    doc["name"] = "Many sizes 2"
    catalog.enqueue(db.conn, "product", shop.cid, [doc])
    s = stats(sidecar.drain_once())
    assert (s["done"], s["failed"]) == (1, 0), s
    p = product(shop.emu, "S80-S119")
    assert len(p["variants"]) == 120 and p["variants"][119]["price"] == "4.00" and p["title"] == "Many sizes 2"
    assert not [r for r in shop.emu.requests() if r.get("errorCodes")]
