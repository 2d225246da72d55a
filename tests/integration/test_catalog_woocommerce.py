"""Catalogue publishing (issue #16) into WooCommerce end to end: documents written as Odoo
writes them (stock_relay_enqueue_documents) -> the real stockrelayd -> the WooCommerce 7.9
EMULATOR (tests/emulators/woocommerce, catalogue fields in catalog.py) over HTTPS + Basic.

With STOCKRELAY_WOO_REAL set (scripts/woo-test) the tests marked `both` run against a REAL
WooCommerce 7.9 site instead; the others need what a real shop cannot do on demand (a 5xx, a
second store currency, the request log of one test) and say so when skipped there."""
from __future__ import annotations

import itertools
import json
import re
import time

import pytest

from emulators.woo_real import RealWoo, real_woo_key, real_woo_url
from emulators.woocommerce import WooEmulator
from harness import catalog, outbox

pytestmark = [pytest.mark.sidecar]

REAL_WOO = real_woo_url()
KEY = real_woo_key() if REAL_WOO else {
    "consumer_key": "ck_" + "5c4d" * 10, "consumer_secret": "cs_" + "7e6f" * 10, "permissions": "read_write"}
EXT = "_stockrelay_external_id"
def emulator_only(why):
    return pytest.mark.skipif(bool(REAL_WOO), reason=f"emulator only: {why}")

_seq = itertools.count(1)


@pytest.fixture(scope="module")
def woo(test_ca, tmp_path_factory):
    log = tmp_path_factory.mktemp("woo") / "woo-catalog.log"
    emu = RealWoo(REAL_WOO, tls=test_ca, log_path=str(log)) if REAL_WOO else WooEmulator(tls=test_ca, log_path=str(log))
    with emu:
        emu.reset(everything=True)
        emu.configure(keys=[KEY])
        yield emu


@pytest.fixture
def shop(db, woo, test_ca):
    """A WooCommerce channel publishing its catalogue; `shop.n` makes SKUs unique in the module."""
    cid = outbox.add_channel(db.conn, name="Woo shop", channel_type="woocommerce", base_url=woo.base_url,
                             credentials={k: KEY[k] for k in ("consumer_key", "consumer_secret")},
                             settings={"ca_file": test_ca["ca"]}, timeout_ms=getattr(woo, "request_timeout_ms", 5000))
    outbox.update_channel(db.conn, cid, catalog_enabled=True)

    class Shop:
        pass
    s = Shop()
    s.cid, s.woo, s.n = cid, woo, next(_seq)
    _, _, cur = woo.call("GET", "/settings/general/woocommerce_currency")
    s.currency = cur["value"]
    yield s
    woo.clear_faults()


def get(woo, path, **params):
    status, _, body = woo.call("GET", path, params=params or None)
    assert status == 200, (path, status, body)
    return body


def variations(woo, pid):
    return {v["sku"]: v for v in get(woo, f"/products/{pid}/variations", per_page=100)}


def owners_of(woo, sku):
    """Ids of the products (parents for variations) holding `sku`."""
    return {p["parent_id"] or p["id"] for p in get(woo, "/products", sku=sku) if p["sku"] == sku}


def meta(obj, key):
    return [m["value"] for m in obj["meta_data"] if m["key"] == key]


def row_of(db, template_id, kind="product"):
    return [r for r in outbox.rows(db.conn) if r["kind"] == kind and r["product_id"] == template_id][-1]


def stats(r):
    m = re.search(r"catalogue rows=(\d+) done=(\d+) failed=(\d+) retried=(\d+) unchanged=(\d+) calls=(\d+)", r.stdout)
    assert m, r.stdout + r.stderr
    return dict(zip(("rows", "done", "failed", "retried", "unchanged", "calls"), map(int, m.groups())))


def tee(shop, price_r="12.50", extra=None, active=True):
    n = shop.n
    variants = [(n * 10 + 1, f"W{n}-R", ["Red"], price_r), (n * 10 + 2, f"W{n}-B", ["Blue"], "13.00")]
    return catalog.document(1000 + n, f"Woo tee {n}", variants + (extra or []), active=active,
                            description="Soft cotton", currency=shop.currency, prefix=f"w{n}")


# Every test runs on both tiers (the emulator, and a real WooCommerce under scripts/woo-test)
# unless marked emulator_only.
def test_create_price_add_variation_stock_rerun_and_archive(shop, sidecar, db):
    woo, n = shop.woo, shop.n
    doc = tee(shop)
    catalog.enqueue(db.conn, "product", shop.cid, [doc])
    s = stats(sidecar.drain_once())
    assert (s["rows"], s["done"], s["failed"]) == (1, 1, 0), s
    # settings (currency, weight unit), SKU lookup, products/batch, variations/batch
    assert s["calls"] == 5, s
    m = catalog.catalog_map(db.conn, shop.cid)
    pid = m[doc["external_id"]]["remote_id"]
    p = get(woo, f"/products/{pid}")
    assert (p["type"], p["status"], p["name"]) == ("variable", "publish", f"Woo tee {n}")
    assert meta(p, EXT) == [doc["external_id"]]
    [attr] = p["attributes"]
    assert (attr["name"], attr["variation"], attr["options"]) == ("Color", True, ["Red", "Blue"])  # Odoo's order
    vs = variations(woo, pid)
    assert set(vs) == {f"W{n}-R", f"W{n}-B"}
    red = vs[f"W{n}-R"]
    assert (red["regular_price"], red["manage_stock"], red["status"]) == ("12.50", True, "publish")
    assert [(a["name"], a["option"]) for a in red["attributes"]] == [("Color", "Red")]
    assert meta(red, EXT) == [doc["variants"][0]["external_id"]]
    assert len(m) == 3 and m[doc["variants"][0]["external_id"]]["remote_id"] == str(red["id"])
    assert m[doc["variants"][0]["external_id"]]["parent_remote_id"] == pid

    # The same document again: nothing is sent.
    catalog.enqueue(db.conn, "product", shop.cid, [doc])
    s = stats(sidecar.drain_once())
    assert (s["done"], s["unchanged"], s["calls"]) == (1, 1, 0), s

    # A price row: the variations' regular_price in one batch call (+ the currency, read once per run).
    catalog.enqueue(db.conn, "price", shop.cid, [catalog.prices(doc, {f"W{n}-R": "14.90"})])
    s = stats(sidecar.drain_once())
    assert (s["done"], s["calls"]) == (1, 3), s
    assert variations(woo, pid)[f"W{n}-R"]["regular_price"] == "14.90"
    assert "14.90" in row_of(db, doc["template_id"], "price")["request_excerpt"]

    # A new variant: a new variation (and option value) on the same product.
    doc2 = tee(shop, price_r="14.90", extra=[(n * 10 + 3, f"W{n}-G", ["Green"], "9.99")])
    catalog.enqueue(db.conn, "product", shop.cid, [doc2])
    s = stats(sidecar.drain_once())
    assert (s["done"], s["unchanged"]) == (1, 0), s
    vs = variations(woo, pid)
    assert set(vs) == {f"W{n}-R", f"W{n}-B", f"W{n}-G"} and vs[f"W{n}-G"]["regular_price"] == "9.99"
    assert get(woo, f"/products/{pid}")["attributes"][0]["options"] == ["Red", "Blue", "Green"]
    assert owners_of(woo, f"W{n}-G") == {int(pid)}
    assert len(catalog.catalog_map(db.conn, shop.cid)) == 4

    # Stock for the new variation lands on it.
    outbox.enqueue(db.dsn, [(shop.cid, n * 10 + 3, f"W{n}-G", "", 6)])
    r = sidecar.drain_once()
    assert "done=1" in r.stdout, r.stdout + r.stderr
    assert variations(woo, pid)[f"W{n}-G"]["stock_quantity"] == 6

    # Archived in Odoo: draft in WooCommerce, never deleted.
    catalog.enqueue(db.conn, "product", shop.cid, [dict(doc2, active=False)])
    s = stats(sidecar.drain_once())
    assert s["done"] == 1, s
    assert get(woo, f"/products/{pid}")["status"] == "draft" and len(variations(woo, pid)) == 3


def test_a_hand_made_product_with_the_same_sku_is_adopted_not_duplicated(shop, sidecar, db):
    woo, n = shop.woo, shop.n
    sku = f"W{n}-HAND"
    hand_id = woo.seed([{"name": f"Hand made {n}", "sku": sku, "manage_stock": True, "stock_quantity": 2}])["ids"][sku]
    doc = catalog.document(2000 + n, f"Adopted {n}", [(n, sku, [], "20.00")], options=[], currency=shop.currency,
                           prefix=f"w{n}")
    catalog.enqueue(db.conn, "product", shop.cid, [doc])
    s = stats(sidecar.drain_once())
    assert s["done"] == 1, s
    assert owners_of(woo, sku) == {hand_id}
    m = catalog.catalog_map(db.conn, shop.cid)
    assert m[doc["external_id"]]["remote_id"] == str(hand_id) and m[doc["external_id"]]["adopted"] is True
    assert m[doc["variants"][0]["external_id"]]["remote_id"] == str(hand_id)
    p = get(woo, f"/products/{hand_id}")
    assert (p["type"], p["name"], p["regular_price"]) == ("simple", f"Adopted {n}", "20.00")
    assert meta(p, EXT) == [doc["external_id"]] and p["stock_quantity"] == 2  # stock is the relay's, not ours
    assert "adopted" in row_of(db, doc["template_id"])["last_error"]


def test_bad_documents_fail_alone_with_specific_errors(shop, sidecar, db):
    woo, n = shop.woo, shop.n
    kw = dict(currency=shop.currency, prefix=f"w{n}")
    good = catalog.document(3000 + n, f"Good {n}", [(1, f"W{n}-OK", ["Red"], "5.00")], **kw)
    future = dict(catalog.document(3100 + n, f"Future {n}", [(2, f"W{n}-F", ["Red"], "5")], **kw), format=2)
    no_price = catalog.document(3200 + n, f"No price {n}", [(3, f"W{n}-NP", ["Red"], None)], **kw)
    foreign = "JPY" if shop.currency != "JPY" else "CHF"
    dollars = catalog.document(3300 + n, f"Foreign {n}", [(4, f"W{n}-USD", ["Red"], "5")], currency=foreign,
                               prefix=f"w{n}")
    picture = dict(catalog.document(3400 + n, f"Picture {n}", [(5, f"W{n}-IMG", ["Red"], "5")], **kw),
                   images=[{"url": "https://images.example.invalid/tee.png"}])
    catalog.enqueue(db.conn, "product", shop.cid, [good, future, no_price, dollars, picture])
    s = stats(sidecar.drain_once())
    assert (s["rows"], s["done"], s["failed"]) == (5, 1, 4), s
    assert row_of(db, good["template_id"])["state"] == "done"
    expect = {future["template_id"]: "unknown document format 2",
              no_price["template_id"]: f"variant W{n}-NP has no price in {shop.currency}",
              dollars["template_id"]: f"in {foreign}, but the WooCommerce store sells in {shop.currency}",
              picture["template_id"]: "woocommerce_product_image_upload_error"}
    for template_id, words in expect.items():
        r = row_of(db, template_id)
        assert r["state"] == "failed" and r["error_code"] == "rejected", r
        assert words in r["last_error"], r["last_error"]
    assert owners_of(woo, f"W{n}-OK") and not owners_of(woo, f"W{n}-IMG") and not owners_of(woo, f"W{n}-USD")


def test_a_taken_sku_fails_its_variation_and_the_rest_of_the_batch_lands(shop, sidecar, db):
    woo, n = shop.woo, shop.n
    doc = tee(shop)
    catalog.enqueue(db.conn, "product", shop.cid, [doc])
    assert stats(sidecar.drain_once())["done"] == 1
    pid = catalog.catalog_map(db.conn, shop.cid)[doc["external_id"]]["remote_id"]
    other = woo.seed([{"name": f"Other {n}", "sku": f"W{n}-TAKEN"}])["ids"][f"W{n}-TAKEN"]
    doc2 = tee(shop, price_r="15.00", extra=[(n * 10 + 4, f"W{n}-TAKEN", ["Green"], "1.00")])
    catalog.enqueue(db.conn, "product", shop.cid, [doc2])
    s = stats(sidecar.drain_once())
    assert s["failed"] == 1, s
    r = row_of(db, doc["template_id"])
    assert r["error_code"] == "duplicate_sku" and f"variant W{n}-TAKEN" in r["last_error"], r
    assert "product_invalid_sku" in r["last_error"]
    assert variations(woo, pid)[f"W{n}-R"]["regular_price"] == "15.00"  # the price in the same batch landed
    assert owners_of(woo, f"W{n}-TAKEN") == {other}


@emulator_only("a 5xx on demand needs fault injection")
def test_a_5xx_is_transient_and_the_row_is_retried(shop, sidecar, db):
    woo, n = shop.woo, shop.n
    woo.set_faults([{"path_contains": "/products/batch", "action": "status", "status": 503, "times": 1}])
    doc = tee(shop)
    catalog.enqueue(db.conn, "product", shop.cid, [doc])
    s = stats(sidecar.drain_once())
    assert (s["failed"], s["retried"]) == (0, 1), s
    r = row_of(db, doc["template_id"])
    assert r["state"] == "pending" and r["error_code"] == "transient", r
    assert not owners_of(woo, f"W{n}-R")


def test_a_stock_row_waits_for_the_product_row_that_creates_its_sku(shop, sidecar, db):
    woo, n = shop.woo, shop.n
    sku = f"W{n}-NEW"
    doc = catalog.document(4000 + n, f"Brand new {n}", [(n, sku, ["Red"], "7.00")], currency=shop.currency,
                           prefix=f"w{n}")
    outbox.update_channel(db.conn, shop.cid, catalog_enabled=False)
    catalog.enqueue(db.conn, "product", shop.cid, [doc])
    outbox.enqueue(db.dsn, [(shop.cid, n, sku, "", 6)])
    sidecar.drain_once()
    stock = [r for r in outbox.rows(db.conn) if r["kind"] == "stock"][0]
    assert stock["state"] == "pending" and "waiting for the catalogue" in stock["last_error"], stock

    outbox.update_channel(db.conn, shop.cid, catalog_enabled=True)
    time.sleep(1.2)
    r = sidecar.drain_once()
    rows = {r_["kind"]: r_ for r_ in outbox.rows(db.conn)}
    assert rows["product"]["state"] == "done" and rows["stock"]["state"] == "done", r.stdout + r.stderr
    assert rows["stock"]["done_at"] >= rows["product"]["done_at"]
    assert woo.stock(sku) == 6


def test_a_dry_run_is_answered_and_changes_nothing(shop, sidecar, db):
    woo, n = shop.woo, shop.n
    doc = tee(shop)
    catalog.enqueue(db.conn, "product", shop.cid, [doc])
    assert stats(sidecar.drain_once())["done"] == 1
    pid = catalog.catalog_map(db.conn, shop.cid)[doc["external_id"]]["remote_id"]
    changed = tee(shop, price_r="99.00")
    new = catalog.document(5000 + n, f"Not yet {n}", [(9, f"W{n}-NY", ["Red"], "1")], currency=shop.currency,
                           prefix=f"w{n}")
    bad = dict(new, format=7, template_id=5100 + n, external_id="odoo:bad")
    before = len(woo.requests())
    with db.conn.cursor() as cur:
        cur.execute("INSERT INTO stock_relay_catalog_preview (channel_id, documents) VALUES (%s, %s::jsonb) "
                    "RETURNING id", (shop.cid, json.dumps([changed, new, bad, doc])))
        preview_id = cur.fetchone()[0]
    r = sidecar.cmd("catalog", "--dry-run", "--preview", str(preview_id), "--json")
    assert r.returncode == 0, r.stderr
    res = json.loads(r.stdout)
    assert [e["external_id"] for e in res["created"]] == [new["external_id"]]
    assert [e["external_id"] for e in res["unchanged"]] == [doc["external_id"]]
    [upd] = res["updated"]
    assert upd["fields"][f"variations[W{n}-R].regular_price"] == {"shop": "12.50", "odoo": "99.00"}
    [conflict] = res["conflicts"]
    assert "unknown document format 7" in conflict["message"]
    assert all(r_["method"] == "GET" for r_ in woo.requests()[before:])  # read only
    assert variations(woo, pid)[f"W{n}-R"]["regular_price"] == "12.50"
