"""Catalogue publishing (issue #16) end to end: documents written as Odoo writes them
(stock_relay_enqueue_documents) -> the real stockrelayd -> a REAL Medusa 2.21 server
(scripts/medusa-server, shared by the session). Each test uses its own SKUs and templates, and its own stockrelay
database. Skipped loudly when Medusa cannot run here."""
from __future__ import annotations

import itertools
import json
import re
import time

import psycopg2.extras
import pytest

from harness import catalog, outbox
from harness.medusa_shared import shared_medusa
from harness.tcp_proxy import FreezableProxy

pytestmark = [pytest.mark.sidecar, pytest.mark.slow]

_seq = itertools.count(1)


@pytest.fixture(scope="module")
def medusa():
    server, why = shared_medusa()  # the session's server: every test makes its own SKUs and products
    if server is None:
        pytest.skip(f"REAL MEDUSA NOT AVAILABLE, catalogue publishing untested: {why}")
    return server


@pytest.fixture
def shop(db, medusa):
    """A Medusa channel publishing its catalogue; `shop.n` makes names unique in the module."""
    cid = outbox.add_channel(db.conn, name="Medusa shop", channel_type="medusa", base_url=medusa.base_url,
                             credentials={"api_key": medusa.secret_key}, timeout_ms=15000)
    outbox.update_channel(db.conn, cid, catalog_enabled=True)

    class Shop:
        pass
    s = Shop()
    s.cid, s.srv, s.n = cid, medusa, next(_seq)
    return s


def product(srv, product_id):
    return srv.admin("GET", f"/admin/products/{product_id}",
                     query={"fields": "id,title,status,handle,external_id,metadata,*options,*options.values,"
                                      "*variants,*variants.prices,*variants.options,*sales_channels"})["product"]


def products_with_sku(srv, sku):
    return {v["product_id"] for v in srv.admin("GET", "/admin/product-variants",
                                               query={"sku": sku, "fields": "id,product_id"})["variants"]}


def row_of(db, template_id, kind="product"):
    rows = [r for r in outbox.rows(db.conn) if r["kind"] == kind and r["product_id"] == template_id]
    return rows[-1]


def stats(r):
    m = re.search(r"catalogue rows=(\d+) done=(\d+) failed=(\d+) retried=(\d+) unchanged=(\d+) calls=(\d+)", r.stdout)
    assert m, r.stdout + r.stderr
    return dict(zip(("rows", "done", "failed", "retried", "unchanged", "calls"), map(int, m.groups())))


def tshirt(n, price_r="12.50", extra=None, active=True):
    variants = [(n * 10 + 1, f"C{n}-R", ["Red"], price_r), (n * 10 + 2, f"C{n}-B", ["Blue"], "13.00")]
    variants += extra or []
    return catalog.document(1000 + n, f"Catalog tee {n}", variants, active=active, description="Soft cotton")


def test_create_then_update_price_add_variant_rerun_and_archive(shop, sidecar, db):
    srv, n = shop.srv, shop.n
    doc = tshirt(n)
    catalog.enqueue(db.conn, "product", shop.cid, [doc])
    s = stats(sidecar.drain_once())
    assert (s["rows"], s["done"]) == (1, 1)
    m = catalog.catalog_map(db.conn, shop.cid)
    pid = m[doc["external_id"]]["remote_id"]
    p = product(srv, pid)
    assert p["status"] == "published" and p["title"] == f"Catalog tee {n}"
    assert p["external_id"] == doc["external_id"] and p["metadata"]["external_id"] == doc["external_id"]
    assert [sc["id"] for sc in p["sales_channels"]] == [srv.store()["default_sales_channel_id"]]
    ranked = sorted(p["options"][0]["values"], key=lambda v: v["rank"])
    assert [v["value"] for v in ranked] == ["Red", "Blue"]  # Odoo's order
    by_sku = {v["sku"]: v for v in p["variants"]}
    assert set(by_sku) == {f"C{n}-R", f"C{n}-B"}
    red = by_sku[f"C{n}-R"]
    assert red["manage_inventory"] is True and red["metadata"]["external_id"] == doc["variants"][0]["external_id"]
    assert [(x["currency_code"], x["amount"]) for x in red["prices"]] == [("eur", 12.5)]
    assert {e["object"] for e in m.values()} == {"product", "variant"} and len(m) == 3
    assert m[doc["external_id"]]["document_hash"].startswith("sha256:")
    assert m[doc["variants"][0]["external_id"]]["remote_id"] == red["id"]

    # The same document again: nothing is sent.
    catalog.enqueue(db.conn, "product", shop.cid, [doc])
    s = stats(sidecar.drain_once())
    assert (s["done"], s["unchanged"], s["calls"]) == (1, 1, 0)

    # A price row changes only the price.
    catalog.enqueue(db.conn, "price", shop.cid, [catalog.prices(doc, {f"C{n}-R": "14.90"})])
    s = stats(sidecar.drain_once())
    assert s["done"] == 1, s
    red = {v["sku"]: v for v in product(srv, pid)["variants"]}[f"C{n}-R"]
    assert [(x["currency_code"], x["amount"]) for x in red["prices"]] == [("eur", 14.9)]
    assert "14.9" in row_of(db, doc["template_id"], "price")["request_excerpt"]

    # A new variant (a new option value) is added to the same product.
    doc2 = tshirt(n, price_r="14.90", extra=[(n * 10 + 3, f"C{n}-G", ["Green"], "9.99")])
    catalog.enqueue(db.conn, "product", shop.cid, [doc2])
    s = stats(sidecar.drain_once())
    assert s["done"] == 1 and s["unchanged"] == 0, s
    p = product(srv, pid)
    assert {v["sku"] for v in p["variants"]} == {f"C{n}-R", f"C{n}-B", f"C{n}-G"}
    assert products_with_sku(srv, f"C{n}-G") == {pid}
    assert len(catalog.catalog_map(db.conn, shop.cid)) == 4

    # Archived in Odoo: draft in Medusa, never deleted.
    doc3 = dict(doc2, active=False)
    catalog.enqueue(db.conn, "product", shop.cid, [doc3])
    s = stats(sidecar.drain_once())
    assert s["done"] == 1, s
    p = product(srv, pid)
    assert p["status"] == "draft" and len(p["variants"]) == 3


def test_a_hand_made_product_with_the_same_sku_is_adopted_not_duplicated(shop, sidecar, db):
    srv, n = shop.srv, shop.n
    sku = f"C{n}-HAND"
    srv.create_product(f"Hand made {n}", [sku])
    [hand_id] = products_with_sku(srv, sku)
    doc = catalog.document(2000 + n, f"Adopted {n}", [(n, sku, [], "20.00")], options=[])
    catalog.enqueue(db.conn, "product", shop.cid, [doc])
    s = stats(sidecar.drain_once())
    assert s["done"] == 1, s
    assert products_with_sku(srv, sku) == {hand_id}
    m = catalog.catalog_map(db.conn, shop.cid)
    assert m[doc["external_id"]]["remote_id"] == hand_id and m[doc["external_id"]]["adopted"] is True
    assert m[doc["variants"][0]["external_id"]]["adopted"] is True
    p = product(srv, hand_id)
    assert p["external_id"] == doc["external_id"] and p["title"] == f"Adopted {n}"
    assert [x["amount"] for x in p["variants"][0]["prices"] if x["currency_code"] == "eur"] == [20]
    assert "adopted" in row_of(db, doc["template_id"])["last_error"]


def test_a_bad_document_fails_alone_with_a_specific_error(shop, sidecar, db):
    srv, n = shop.srv, shop.n
    srv.create_product(f"Handle owner {n}", [f"C{n}-OWN"])
    owner_handle = product(srv, next(iter(products_with_sku(srv, f"C{n}-OWN"))))["handle"]
    good = catalog.document(3000 + n, f"Good {n}", [(1, f"C{n}-OK", ["Red"], "5.00")])
    future = dict(catalog.document(3100 + n, f"Future {n}", [(2, f"C{n}-F", ["Red"], "5")]), format=2)
    no_price = catalog.document(3200 + n, f"No price {n}", [(3, f"C{n}-NP", ["Red"], None)])
    dollars = catalog.document(3300 + n, f"Dollars {n}", [(4, f"C{n}-USD", ["Red"], "5")], currency="USD")
    taken = catalog.document(3400 + n, f"Taken {n}", [(5, f"C{n}-T", ["Red"], "5")], handle=owner_handle)
    catalog.enqueue(db.conn, "product", shop.cid, [good, future, no_price, dollars, taken])
    s = stats(sidecar.drain_once())
    assert (s["rows"], s["done"], s["failed"]) == (5, 1, 4), s
    assert row_of(db, good["template_id"])["state"] == "done"
    expect = {future["template_id"]: "unknown document format 2",
              no_price["template_id"]: f"variant C{n}-NP has no price in EUR",
              dollars["template_id"]: "in USD, which the Medusa store does not have",
              taken["template_id"]: f"handle: {owner_handle}, already exists"}
    for template_id, words in expect.items():
        r = row_of(db, template_id)
        assert r["state"] == "failed" and r["error_code"] == "rejected", r
        assert words in r["last_error"], r["last_error"]
    assert products_with_sku(srv, f"C{n}-OK") and not products_with_sku(srv, f"C{n}-T")


def test_a_stock_row_waits_for_the_product_row_that_creates_its_sku(shop, sidecar, db):
    srv, n = shop.srv, shop.n
    sku = f"C{n}-NEW"
    loc = srv.create_stock_location(f"WH catalog {n}")
    doc = catalog.document(4000 + n, f"Brand new {n}", [(n, sku, ["Red"], "7.00")])
    # The catalogue is not published yet on this channel: the product row stays open.
    outbox.update_channel(db.conn, shop.cid, catalog_enabled=False)
    catalog.enqueue(db.conn, "product", shop.cid, [doc])
    outbox.enqueue(db.dsn, [(shop.cid, n, sku, loc, 6)])
    sidecar.drain_once()
    stock = [r for r in outbox.rows(db.conn) if r["kind"] == "stock"][0]
    assert stock["state"] == "pending" and stock["error_code"] is None, stock
    assert "waiting for the catalogue" in stock["last_error"]
    assert stock["attempts"] == 0  # refunded: waiting costs no attempt

    outbox.update_channel(db.conn, shop.cid, catalog_enabled=True)
    time.sleep(1.2)
    r = sidecar.drain_once()
    rows = {r_["kind"]: r_ for r_ in outbox.rows(db.conn)}
    assert rows["product"]["state"] == "done" and rows["stock"]["state"] == "done", r.stdout + r.stderr
    assert rows["stock"]["done_at"] >= rows["product"]["done_at"]
    assert srv.levels(sku) == {loc: 6}


def test_a_price_row_waits_for_its_product_row(shop, sidecar, db):
    srv, n = shop.srv, shop.n
    doc = catalog.document(6000 + n, f"Priced later {n}", [(n, f"C{n}-P", ["Red"], "3.00")])
    catalog.enqueue(db.conn, "product", shop.cid, [doc])
    db.query("UPDATE stock_relay_outbox SET next_attempt_at = next_attempt_at + interval '1 hour'")  # backing off
    catalog.enqueue(db.conn, "price", shop.cid, [catalog.prices(doc, {f"C{n}-P": "4.25"})])
    s = stats(sidecar.drain_once())
    assert (s["rows"], s["done"], s["failed"], s["retried"]) == (1, 0, 0, 1), s
    price = row_of(db, doc["template_id"], "price")
    assert price["state"] == "pending" and "waiting for this product's catalogue row" in price["last_error"]
    assert price["attempts"] == 0

    db.query("UPDATE stock_relay_outbox SET next_attempt_at = now() AT TIME ZONE 'UTC' WHERE kind = 'product'")
    time.sleep(1.2)
    s = stats(sidecar.drain_once())
    assert (s["done"], s["failed"]) == (2, 0), s
    [pid] = products_with_sku(srv, f"C{n}-P")
    [v] = product(srv, pid)["variants"]
    assert [x["amount"] for x in v["prices"]] == [4.25]


def test_a_catalogue_row_does_not_hide_a_duplicate_sku_between_stock_products(shop, sidecar, db):
    """Catalogue rows key product_id by template id: product 5's document must not count as
    product 5's current SKU when product 6 takes the SKU product 5 still publishes."""
    srv, n = shop.srv, shop.n
    sku = f"C{n}-DUP"
    srv.create_product(f"Dup {n}", [sku])
    loc = srv.create_stock_location(f"WH dup {n}")
    outbox.update_channel(db.conn, shop.cid, catalog_enabled=False)
    outbox.enqueue(db.dsn, [(shop.cid, 5, sku, loc, 1)])
    sidecar.drain_once()
    catalog.enqueue(db.conn, "product", shop.cid, [catalog.document(5, f"Template five {n}", [(50, f"C{n}-T5", ["Red"], "1")])])
    outbox.enqueue(db.dsn, [(shop.cid, 6, sku, loc, 2)])
    sidecar.drain_once()
    six = [r for r in outbox.rows(db.conn) if r["kind"] == "stock" and r["product_id"] == 6][0]
    assert six["state"] == "failed" and six["error_code"] == "duplicate_sku", six
    assert srv.levels(sku) == {loc: 1}


def test_a_dry_run_is_answered_and_changes_nothing(shop, sidecar, db):
    srv, n = shop.srv, shop.n
    doc = tshirt(n)
    catalog.enqueue(db.conn, "product", shop.cid, [doc])
    assert stats(sidecar.drain_once())["done"] == 1
    pid = catalog.catalog_map(db.conn, shop.cid)[doc["external_id"]]["remote_id"]
    changed = tshirt(n, price_r="99.00")
    new = catalog.document(5000 + n, f"Not yet {n}", [(9, f"C{n}-NY", ["Red"], "1")])
    bad = dict(new, format=7, template_id=5100 + n, external_id="odoo:bad")
    proc = sidecar.start("--poll-interval", "30")
    try:
        time.sleep(0.5)  # past the daemon's first pass: answered on NOTIFY, not by polling
        with db.conn.cursor() as cur:
            cur.execute("INSERT INTO stock_relay_catalog_preview (channel_id, documents) VALUES (%s, %s::jsonb) "
                        "RETURNING id", (shop.cid, json.dumps([changed, new, bad, doc])))
            preview_id = cur.fetchone()[0]
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
    assert upd["fields"][f"variants[C{n}-R].price"] == {"shop": 12.5, "odoo": "99.00"}
    [conflict] = res["conflicts"]
    assert conflict["external_id"] == "odoo:bad" and "unknown document format 7" in conflict["message"]
    red = {v["sku"]: v for v in product(srv, pid)["variants"]}[f"C{n}-R"]
    assert [x["amount"] for x in red["prices"]] == [12.5]  # nothing changed
    assert not products_with_sku(srv, f"C{n}-NY")

    # The CLI answers the same for the outbox's newest documents.
    catalog.enqueue(db.conn, "product", shop.cid, [changed])
    r = sidecar.cmd("catalog", "--dry-run", "--channel", str(shop.cid), "--json")
    assert r.returncode == 0, r.stderr
    cli = json.loads(r.stdout)
    assert cli["updated"][0]["fields"][f"variants[C{n}-R].price"]["odoo"] == "99.00"
    text = sidecar.cmd("catalog", "--dry-run", "--channel", str(shop.cid)).stdout
    assert "updated: 1" in text and f'variants[C{n}-R].price: 12.5 -> "99.00"' in text
    assert outbox.counts(db.conn)["pending"] == 1  # the dry run published nothing


def test_a_first_publish_goes_in_batches_and_a_price_change_reads_the_products_in_one_call(shop, sidecar, db):
    """12 new products: one lookup of their SKUs and one POST /admin/products/batch (plus the store's
    two reads), not two calls each; a price change across them: one GET for all, one POST each."""
    srv, n = shop.srv, shop.n
    docs = [catalog.document(7000 + n * 100 + i, f"Batch {n}-{i}", [(n * 100 + i, f"C{n}-B{i}", [], f"{i + 1}.00")],
                             options=[]) for i in range(12)]
    catalog.enqueue(db.conn, "product", shop.cid, docs)
    s = stats(sidecar.drain_once())
    assert (s["rows"], s["done"], s["failed"]) == (12, 12, 0), s
    assert s["calls"] <= 4, s  # store, shipping profile, SKU lookup, batch create
    m = catalog.catalog_map(db.conn, shop.cid)
    for i, d in enumerate(docs):
        p = product(srv, m[d["external_id"]]["remote_id"])
        assert p["title"] == f"Batch {n}-{i}" and [v["sku"] for v in p["variants"]] == [f"C{n}-B{i}"]
        assert [x["amount"] for x in p["variants"][0]["prices"]] == [i + 1]
        assert m[d["variants"][0]["external_id"]]["remote_id"] == p["variants"][0]["id"]
        assert f"C{n}-B{i}" in row_of(db, d["template_id"])["request_excerpt"]

    catalog.enqueue(db.conn, "price", shop.cid, [catalog.prices(d, {f"C{n}-B{i}": f"{i + 1}.50"})
                                                 for i, d in enumerate(docs)])
    s = stats(sidecar.drain_once())
    assert (s["done"], s["failed"]) == (12, 0), s
    assert s["calls"] <= 3 + 12, s  # store, shipping profile, one product list, one price POST each
    for i, d in enumerate(docs):
        p = product(srv, m[d["external_id"]]["remote_id"])
        assert [x["amount"] for x in p["variants"][0]["prices"]] == [i + 1.5]


def test_a_batch_medusa_refuses_is_published_item_by_item_so_only_the_bad_product_fails(shop, sidecar, db):
    """Medusa 2.21 refuses a whole products/batch for one duplicate handle (and creates none of it):
    the others land, the bad one fails with Medusa's words about its handle."""
    srv, n = shop.srv, shop.n
    srv.create_product(f"Handle holder {n}", [f"C{n}-HOLD"])
    held = product(srv, next(iter(products_with_sku(srv, f"C{n}-HOLD"))))["handle"]
    docs = [catalog.document(8000 + n * 100 + i, f"Mixed {n}-{i}", [(n * 100 + i, f"C{n}-M{i}", [], "5.00")],
                             options=[], handle=held if i == 2 else None) for i in range(5)]
    catalog.enqueue(db.conn, "product", shop.cid, docs)
    s = stats(sidecar.drain_once())
    assert (s["rows"], s["done"], s["failed"]) == (5, 4, 1), s
    bad = row_of(db, docs[2]["template_id"])
    assert bad["state"] == "failed" and bad["error_code"] == "rejected" and f"handle: {held}" in bad["last_error"]
    for i in (0, 1, 3, 4):
        assert row_of(db, docs[i]["template_id"])["state"] == "done"
        assert products_with_sku(srv, f"C{n}-M{i}")
    assert not products_with_sku(srv, f"C{n}-M2")


def test_rows_failed_while_medusa_was_unreachable_come_back_by_themselves(db, medusa, sidecar):
    """Medusa unreachable (a frozen TCP relay in front of the real server: every call times out),
    retries spent: the rows fail 'transient'. Once Medusa answers again, plain drains re-queue
    them (one probe row first, then the rest once it landed) and they land; a row a person must
    fix (a currency the store lacks: 'rejected') stays failed."""
    proxy = FreezableProxy(medusa.port)
    try:
        cid = outbox.add_channel(db.conn, name="Medusa behind a relay", channel_type="medusa",
                                 base_url=f"http://127.0.0.1:{proxy.port}", credentials={"api_key": medusa.secret_key},
                                 timeout_ms=1500, max_attempts=1, retry_window_hours=1)
        outbox.update_channel(db.conn, cid, catalog_enabled=True)
        n = next(_seq)
        docs = [catalog.document(9000 + n * 10 + i, f"Heal {n}-{i}", [(n * 10 + i, f"C{n}-H{i}", [], "7.00")],
                                 options=[]) for i in range(3)]
        dollars = catalog.document(9000 + n * 10 + 5, f"Dollars {n}", [(n * 10 + 5, f"C{n}-HUSD", [], "7")],
                                   options=[], currency="USD")
        catalog.enqueue(db.conn, "product", cid, docs + [dollars])
        db.query("UPDATE stock_relay_outbox SET enqueued_at = enqueued_at - interval '2 hours'")  # retries spent
        proxy.freeze()
        s = stats(sidecar.drain_once(timeout=300))
        assert s["failed"] == 4, s
        assert {row_of(db, d["template_id"])["error_code"] for d in docs} == {"transient"}
        proxy.thaw()
        outbox.update_channel(db.conn, cid, timeout_ms=60000)  # a create takes Medusa seconds on a loaded machine
        logs = []
        for _ in range(6):  # each pass: what is due, then (idle) one probe row, or (a row landed) all of them
            logs.append(sidecar.drain_once(timeout=300).stderr)
            if all(row_of(db, d["template_id"])["state"] == "done" for d in docs):
                break
        for d in docs:
            assert row_of(db, d["template_id"])["state"] == "done", (logs, [
                {k: r[k] for k in ("id", "product_id", "state", "error_code", "next_attempt_at", "attempts")}
                for r in outbox.rows(db.conn)])
            assert products_with_sku(medusa, d["variants"][0]["sku"])
        usd = row_of(db, dollars["template_id"])
        assert usd["state"] == "failed" and usd["error_code"] == "rejected", usd
    finally:
        proxy.close()


def test_the_catalogue_has_prometheus_series_that_promtool_accepts(shop, sidecar, db):
    import shutil
    import subprocess
    import urllib.request
    from harness.pg import free_port
    n = shop.n
    docs = [catalog.document(9500 + n * 10 + i, f"Metric {n}-{i}", [(n * 10 + i, f"C{n}-X{i}", [], "3.00")],
                             options=[]) for i in range(2)]
    bad = catalog.document(9500 + n * 10 + 5, f"Metric USD {n}", [(n * 10 + 5, f"C{n}-XU", [], "3")],
                           options=[], currency="USD")
    port = free_port()
    proc = sidecar.start("--metrics-listen", f"127.0.0.1:{port}", "--poll-interval", "0.3")
    try:
        catalog.enqueue(db.conn, "product", shop.cid, docs + [bad])
        outbox.wait_until(lambda: all(r["state"] in ("done", "failed") for r in outbox.rows(db.conn)),
                          timeout=120, message="catalogue rows to land")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
            scrape = r.read().decode()
    finally:
        assert proc.stop() == 0
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing (Debian package prometheus; scripts/bootstrap installs it)"
    check = subprocess.run([promtool, "check", "metrics"], input=scrape, capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    ch = str(shop.cid)
    assert f'stockrelay_catalog_rows_published_total{{action="created",channel="{ch}"}} 2' in scrape, scrape
    assert f'stockrelay_catalog_rows_failed_total{{channel="{ch}",error_code="rejected"}} 1' in scrape
    calls = re.search(rf'stockrelay_catalog_shop_requests_total{{channel="{ch}"}} (\d+)', scrape)
    assert calls and int(calls.group(1)) >= 2
    assert f'stockrelay_catalog_backlog_rows{{channel="{ch}",kind="product"}} 0' in scrape
    # `stockrelayd status` shows the catalogue backlog per channel.
    [c] = [c for c in sidecar.status(as_json=True)["channels"] if c["id"] == shop.cid]
    assert c["catalog_backlog"] == {"product": 0, "price": 0, "failed": 1}, c
    assert "catalogue backlog: product rows=0 price rows=0 (pending or in flight), failed=1" in sidecar.status().stdout
