"""End to end: outbox rows written as the addon writes them -> the real
stockrelayd -> a REAL Medusa 2.21 server (scripts/medusa-server).

One Medusa server (own database cloned from the migrated template) serves the
session (harness/medusa_shared.py); each test uses its own SKUs and stock locations, and its own
stockrelay database. Skipped loudly when Medusa cannot run here."""
from __future__ import annotations

import itertools
import json
import threading
import time

import psycopg2
import pytest

from emulators.medusa import ADMIN_EMAIL, ADMIN_PASSWORD
from harness import outbox
from harness.medusa_shared import SUBSCRIBER_SECRET, shared_medusa

pytestmark = [pytest.mark.sidecar, pytest.mark.slow]

_seq = itertools.count(1)


@pytest.fixture(scope="module")
def medusa():
    # The session's server (harness/medusa_shared.py). Its example subscriber
    # (src/subscribers/stockrelay-order-placed.ts) posts to 127.0.0.1:<subscriber_port>/webhooks/1;
    # only the test that places an order starts a daemon there. Channel ids start at 1 per test database.
    server, why = shared_medusa()
    if server is None:
        pytest.skip(f"REAL MEDUSA NOT AVAILABLE, Medusa relay untested: {why}")
    return server


class MedusaShop:
    """SKUs and stock locations made for one test, plus the channel row."""

    def __init__(self, db, srv, items, locations, channel_id):
        self.db = db
        self.srv = srv
        self.items = items          # sku -> inventory item id
        self.locations = locations  # name -> sloc id
        self.channel_id = channel_id

    def level(self, sku, location="Main"):
        return self.srv.levels(sku).get(self.locations[location])

    def enqueue(self, items, trigger="quant"):
        """items: [(product_id, sku, location_name_or_raw_key, qty)]"""
        rows = [(self.channel_id, pid, sku, self.locations.get(loc, loc), qty) for pid, sku, loc, qty in items]
        return outbox.enqueue(self.db.dsn, rows, trigger)


@pytest.fixture
def medusa_shop(db, medusa):
    def factory(skus, locations=("Main",), credentials=None, channel_kw=None):
        n = next(_seq)
        names = {s: f"M{n}-{s}" for s in skus}
        items = medusa.create_product(f"Relay product {n}", list(names.values())) if skus else {}
        locs = {name: medusa.create_stock_location(f"WH {n} {name}") for name in locations}
        fields = dict(name="Medusa shop", channel_type="medusa", base_url=medusa.base_url,
                      credentials=credentials or {"api_key": medusa.secret_key}, timeout_ms=10000)
        fields.update(channel_kw or {})
        cid = outbox.add_channel(db.conn, **fields)
        shop = MedusaShop(db, medusa, items, locs, cid)
        shop.sku = names  # short name -> SKU in Medusa (unique across the module's tests)
        return shop
    return factory


def drained(r):
    return r.stdout + r.stderr


# --------------------------------------------------------------------------- convergence
def test_rows_reach_medusa_creating_and_updating_levels(medusa_shop, sidecar, db):
    shop = medusa_shop(["A", "B", "C"], locations=("Main", "Backroom"))
    a, b, c = (shop.sku[s] for s in "ABC")
    shop.srv.set_level(a, shop.locations["Main"], 1)  # one level exists already, the others do not
    shop.enqueue([(1, a, "Main", 7), (2, b, "Main", 0), (3, c, "Backroom", 42), (1, a, "Backroom", 3)])
    r = sidecar.drain_once()
    assert "drained rows=4 done=4 failed=0 retried=0" in r.stdout, drained(r)
    assert shop.level(a) == 7 and shop.level(b) == 0
    assert shop.level(c, "Backroom") == 42 and shop.level(a, "Backroom") == 3
    cached = dict(db.query("SELECT sku, remote_id FROM stock_relay_sku_cache WHERE channel_id = %s", (shop.channel_id,)))
    assert cached == {s: shop.items[s] for s in (a, b, c)}
    done = outbox.rows(db.conn, state="done")
    assert all(x["last_http_status"] == 200 and "stocked_quantity" in x["request_excerpt"] for x in done)
    secret = shop.srv.secret_key
    assert all(secret not in (x["request_excerpt"] + x["response_excerpt"]) for x in done)
    assert secret not in drained(r)
    # Next push: the cached items are read again (levels and reservations) and set.
    shop.enqueue([(2, b, "Main", 5), (3, c, "Main", 6)])
    r = sidecar.drain_once()
    assert "drained rows=2 done=2" in r.stdout, drained(r)
    assert shop.level(b) == 5 and shop.level(c) == 6


def test_email_password_login_works_too(medusa_shop, sidecar, db):
    shop = medusa_shop(["J"], credentials={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    sku = shop.sku["J"]
    shop.enqueue([(1, sku, "Main", 12)])
    r = sidecar.drain_once()
    assert "drained rows=1 done=1" in r.stdout, drained(r)
    assert shop.level(sku) == 12
    assert ADMIN_PASSWORD not in drained(r)
    check = sidecar.check()
    assert check.returncode == 0 and "email/password (JWT)" in check.stdout, check.stdout + check.stderr


def test_many_writes_to_one_key_coalesce_into_one_push(medusa_shop, sidecar, db):
    shop = medusa_shop(["HOT"])
    sku = shop.sku["HOT"]
    for q in range(1, 51):
        shop.enqueue([(1, sku, "Main", q)])
    assert outbox.counts(db.conn) == {"pending": 1}
    r = sidecar.drain_once()
    assert "drained rows=1 done=1" in r.stdout, drained(r)
    assert shop.level(sku) == 50
    assert "batch rows=1 " in r.stderr


def test_no_older_value_is_applied_after_a_newer_one_while_writes_race_the_sidecar(medusa_shop, sidecar, db):
    shop = medusa_shop(["R1", "R2", "R3"], channel_kw={"batch_size": 2})
    skus = list(shop.sku.values())
    proc = sidecar.start("--poll-interval", "0.5")
    last = 60
    errors, seen = [], {s: [] for s in skus}
    stop = threading.Event()

    def writer():
        try:
            conn = psycopg2.connect(db.dsn)
            for q in range(1, last + 1):
                outbox.enqueue(conn, [(shop.channel_id, 10 + k, sku, shop.locations["Main"], q)
                                      for k, sku in enumerate(skus)])
                time.sleep(0.005)
            conn.close()
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    def watcher():
        # The shop's history as a client sees it: sampled levels must never go back.
        while not stop.is_set():
            item_levels = {it["sku"]: it["location_levels"] for it in shop.srv.admin(
                "GET", "/admin/inventory-items",
                query={"sku[]": skus, "fields": "sku,location_levels.location_id,location_levels.stocked_quantity"},
            )["inventory_items"]}
            for sku in skus:
                for lvl in item_levels.get(sku, []):
                    if lvl["location_id"] == shop.locations["Main"]:
                        if not seen[sku] or seen[sku][-1] != lvl["stocked_quantity"]:
                            seen[sku].append(lvl["stocked_quantity"])
            time.sleep(0.05)

    w = threading.Thread(target=watcher)
    w.start()
    t = threading.Thread(target=writer)
    t.start()
    t.join(120)
    assert not errors, errors
    outbox.wait_until(lambda: outbox.settled(db.conn), timeout=90, message="the outbox to drain")
    assert proc.stop() == 0
    stop.set()
    w.join(30)
    for sku in skus:
        assert shop.level(sku) == last
        assert seen[sku] == sorted(seen[sku]), f"{sku} regressed: {seen[sku]}"
    done = outbox.rows(db.conn, state="done")
    assert len(done) < len(skus) * last  # coalesced
    assert outbox.counts(db.conn).get("failed", 0) == 0
    # Per key, the done rows carry increasing versions and quantities.
    for sku in skus:
        qs = [int(x["quantity"]) for x in sorted((x for x in done if x["sku"] == sku), key=lambda x: x["version"])]
        assert qs == sorted(qs) and qs[-1] == last


# --------------------------------------------------------------------------- bad input
def test_unknown_sku_and_unknown_location_fail_specifically_while_the_rest_lands(medusa_shop, sidecar, db):
    shop = medusa_shop(["G1", "G2"])
    g1, g2 = shop.sku["G1"], shop.sku["G2"]
    ghost = "sloc_01NOSUCHLOCATION0000000000"
    shop.enqueue([(1, g1, "Main", 4), (2, "M-NOPE-404", "Main", 3), (3, g2, "Main", 1), (1, g1, ghost, 9),
                  (3, g2, "", 2)])
    r = sidecar.drain_once()
    assert "drained rows=5 done=2 failed=3" in r.stdout, drained(r)
    by = {(x["sku"], x["location_key"]): x for x in outbox.rows(db.conn)}
    assert by[("M-NOPE-404", shop.locations["Main"])]["error_code"] == "sku_not_found"
    orphan = by[(g1, ghost)]
    assert orphan["error_code"] == "rejected" and "unknown Medusa stock location" in orphan["last_error"]
    assert by[(g2, "")]["error_code"] == "rejected"
    assert shop.level(g1) == 4 and shop.level(g2) == 1
    # Nothing was sent for the unknown location: Medusa would have made an orphan level.
    assert ghost not in shop.srv.levels(g1)
    assert "sku_not_found" in r.stderr and "unknown Medusa stock location" in r.stderr


def test_medusa_itself_refuses_duplicate_skus(medusa):
    # Why there is no duplicate_sku case end to end: the real server keeps SKUs
    # unique per inventory item (the channel still reports one if it ever sees it;
    # see the unit tests).
    sku = f"M{next(_seq)}-DUP"
    status, _ = medusa.call("POST", "/admin/inventory-items", {"sku": sku, "title": "a"})
    assert status == 200
    status, body = medusa.call("POST", "/admin/inventory-items", {"sku": sku, "title": "b"})
    assert status == 400 and "already exists" in body["message"]


def test_a_bad_secret_key_fails_rows_with_auth_and_check_says_so(medusa_shop, sidecar, db):
    shop = medusa_shop(["K"])
    sku = shop.sku["K"]
    wrong = "sk_" + "0" * 64
    outbox.update_channel(db.conn, shop.channel_id, credentials={"api_key": wrong})
    r = sidecar.check()
    assert r.returncode == 1
    line = next(l for l in r.stdout.splitlines() if l.startswith(f"channel {shop.channel_id} "))
    assert ": FAIL auth" in line, line
    shop.enqueue([(1, sku, "Main", 5)])
    d = sidecar.drain_once()
    row = outbox.rows(db.conn)[0]
    # Held, not failed: the refusal concerns the channel, not the row.
    assert row["state"] == "pending" and row["error_code"] == "auth" and row["attempts"] == 0, row
    assert wrong not in drained(r) + drained(d) + (row["last_error"] or "")
    assert shop.srv.levels(sku) == {}
    outbox.update_channel(db.conn, shop.channel_id, credentials={"api_key": shop.srv.secret_key})
    sidecar.drain_once()
    assert shop.level(sku) == 5


# --------------------------------------------------------------------------- limits and partial failures
def test_batch_size_bounds_each_push(medusa_shop, sidecar, db):
    shop = medusa_shop([f"B{i:02d}" for i in range(12)], channel_kw={"batch_size": 5})
    skus = list(shop.sku.values())
    shop.enqueue([(i, s, "Main", i + 1) for i, s in enumerate(skus)])
    r = sidecar.drain_once()
    assert outbox.counts(db.conn) == {"done": 12}, drained(r)
    assert all(shop.level(s) == i + 1 for i, s in enumerate(skus))
    sizes = [int(x.split("batch rows=")[1].split()[0]) for x in r.stderr.splitlines() if "batch rows=" in x]
    assert sizes and max(sizes) <= 5, r.stderr


def test_an_all_or_nothing_failure_is_bisected_and_the_good_rows_land(medusa_shop, sidecar, db):
    shop = medusa_shop([f"P{i:02d}" for i in range(15)])
    skus = list(shop.sku.values())
    for s in skus:  # levels exist: every op is an update
        shop.srv.set_level(s, shop.locations["Main"], 0)
    # Two rows whose cached inventory item no longer exists in Medusa (their SKU
    # neither): every push reads its SKUs first, so they fail before the batch
    # (which would refuse the whole call for them) and the good rows land.
    ghosts = ["M-GHOST-1", "M-GHOST-2"]
    for g in ghosts:
        db.query("INSERT INTO stock_relay_sku_cache (channel_id, sku, remote_id, extra) VALUES (%s, %s, %s, %s)",
                 (shop.channel_id, g, "iitem_01GONE" + g[-1] * 20, '{"levels": []}'))
    rows = [(i, s, "Main", 100 + i) for i, s in enumerate(skus)]
    rows.insert(4, (50, ghosts[0], "Main", 1))
    rows.insert(11, (51, ghosts[1], "Main", 1))
    shop.enqueue(rows)
    r = sidecar.drain_once()
    assert "drained rows=17 done=15 failed=2" in r.stdout, drained(r)
    assert all(shop.level(s) == 100 + i for i, s in enumerate(skus))
    for g in ghosts:
        row = outbox.rows(db.conn, sku=g)[0]
        assert row["state"] == "failed" and row["error_code"] == "sku_not_found", row
        # The row shows the lookup that found nothing.
        assert "GET /admin/inventory-items?" in row["request_excerpt"] and g in row["request_excerpt"], row
        assert row["response_excerpt"].startswith("HTTP 200") and "inventory_items" in row["response_excerpt"], row
    # The stale mappings are gone from the cache.
    assert db.scalar("SELECT count(*) FROM stock_relay_sku_cache WHERE sku LIKE 'M-GHOST-%%'") == 0


def test_a_level_deleted_in_the_shop_is_recreated(medusa_shop, sidecar, db):
    shop = medusa_shop(["D"])
    sku = shop.sku["D"]
    shop.enqueue([(1, sku, "Main", 3)])
    sidecar.drain_once()
    assert shop.level(sku) == 3
    # Someone removes the level in Medusa; the cache still says it exists.
    item = shop.srv.inventory_item(sku)
    level_id = item["location_levels"][0]["id"]
    shop.srv.admin("POST", "/admin/inventory-items/location-levels/batch", {"delete": [level_id], "force": True})
    assert shop.srv.levels(sku) == {}
    shop.enqueue([(1, sku, "Main", 8)])
    r = sidecar.drain_once()
    assert "drained rows=1 done=1" in r.stdout, drained(r)
    assert shop.level(sku) == 8


# --------------------------------------------------------------------------- reservations
def level_row(srv, sku, location_id):
    """(stocked, reserved, available) of one level, as Medusa reports it."""
    items = srv.admin("GET", "/admin/inventory-items", query={
        "sku": sku, "fields": "id,location_levels.location_id,location_levels.stocked_quantity,"
                              "location_levels.reserved_quantity,location_levels.available_quantity"})["inventory_items"]
    (lvl,) = [x for x in items[0]["location_levels"] if x["location_id"] == location_id]
    return lvl["stocked_quantity"], lvl["reserved_quantity"], lvl["available_quantity"]


def _import_order(shop, sku, quantity, odoo_sellable):
    """What Odoo does when it imports a shop order: the inbox row (written by the daemon) becomes 'done' in the
    transaction that enqueues the product's new sellable."""
    payload = {"order": {"id": "order-1", "name": "#1", "status": "open",
                         "lines": [{"id": "1", "sku": sku, "name": sku, "quantity": quantity}]}, "raw": {}}
    with psycopg2.connect(shop.db.dsn) as conn, conn.cursor() as cur:
        cur.execute("INSERT INTO stock_relay_inbox (channel_id, shop_order_id, topic, event_key, payload, received_via)"
                    " VALUES (%s, 'order-1', 'order_created', 'order-1@1', %s, 'poll') RETURNING id",
                    (shop.channel_id, json.dumps(payload)))
        inbox_id = cur.fetchone()[0]
    with psycopg2.connect(shop.db.dsn) as conn, conn.cursor() as cur:
        outbox.enqueue_in(cur, [(shop.channel_id, 1, sku, shop.locations["Main"], odoo_sellable)], "picking")
        cur.execute("UPDATE stock_relay_inbox SET state = 'done', processed_at = now() WHERE id = %s", (inbox_id,))


def test_what_a_customer_can_buy_in_medusa_equals_odoos_sellable_with_a_reservation(medusa_shop, sidecar, db):
    shop = medusa_shop(["R"])
    sku = shop.sku["R"]
    loc = shop.locations["Main"]
    shop.enqueue([(1, sku, "Main", 10)])
    assert "done=1" in sidecar.drain_once().stdout
    assert level_row(shop.srv, sku, loc) == (10, 0, 10)
    # A Medusa order reserves 3; Odoo imports it and now says 7 can be sold: the order's inbox row becomes
    # 'done' in the transaction that enqueues the 7 (as stock_relay_sale does), so the sales-aware push counts the
    # order as absorbed, not as a sale still to subtract (issue 13).
    shop.srv.admin("POST", "/admin/reservations", {"inventory_item_id": shop.items[sku], "location_id": loc,
                                                   "quantity": 3, "description": "order #1"})
    assert level_row(shop.srv, sku, loc) == (10, 3, 7)
    _import_order(shop, sku, quantity=3, odoo_sellable=7)
    r = sidecar.drain_once()
    assert "drained rows=1 done=1" in r.stdout, drained(r)
    # Publishing 7 as stocked would leave 4 buyable: the reservation counted twice.
    assert level_row(shop.srv, sku, loc) == (10, 3, 7)
    shop.enqueue([(1, sku, "Main", 0)])
    assert "done=1" in sidecar.drain_once().stdout
    assert level_row(shop.srv, sku, loc) == (3, 3, 0)


def test_a_stock_location_deleted_after_start_gets_no_orphan_level(medusa_shop, sidecar, db):
    shop = medusa_shop(["L"], locations=("Main", "Gone"))
    sku = shop.sku["L"]
    proc = sidecar.start("--poll-interval", "0.5")
    shop.enqueue([(1, sku, "Main", 4)])  # the running daemon reads the shop's locations
    outbox.wait_until(lambda: outbox.settled(db.conn), timeout=60, message="the first row to land")
    assert shop.level(sku) == 4
    shop.srv.admin("DELETE", f"/admin/stock-locations/{shop.locations['Gone']}")
    shop.enqueue([(1, sku, "Gone", 5)])
    outbox.wait_until(lambda: outbox.settled(db.conn), timeout=60, message="the row for the deleted location")
    assert proc.stop() == 0
    (row,) = outbox.rows(db.conn, state="failed")
    assert row["error_code"] == "rejected", row
    assert f"unknown Medusa stock location '{shop.locations['Gone']}'" in row["last_error"]
    assert shop.locations["Gone"] not in shop.srv.levels(sku)


# --------------------------------------------------------------------------- moved SKUs
def test_a_sku_moved_to_another_inventory_item_is_written_there_not_to_the_cached_one(medusa_shop, sidecar, db):
    shop = medusa_shop(["OLD", "NEW"])
    old_sku, new_sku = shop.sku["OLD"], shop.sku["NEW"]
    old_item, new_item = shop.items[old_sku], shop.items[new_sku]
    shop.enqueue([(1, old_sku, "Main", 2)])
    assert "done=1" in sidecar.drain_once().stdout
    assert db.query("SELECT remote_id FROM stock_relay_sku_cache WHERE sku = %s", (old_sku,)) == [(old_item,)]
    # In Medusa the SKU moves: the old item is renamed, the other item takes the SKU.
    shop.srv.admin("POST", f"/admin/inventory-items/{old_item}", {"sku": old_sku + "-retired"})
    shop.srv.admin("POST", f"/admin/inventory-items/{new_item}", {"sku": old_sku})
    shop.enqueue([(1, old_sku, "Main", 9)])
    r = sidecar.drain_once()
    assert "drained rows=1 done=1" in r.stdout, drained(r)
    assert shop.srv.levels(old_sku) == {shop.locations["Main"]: 9}        # the item carrying the SKU now
    assert shop.srv.levels(old_sku + "-retired") == {shop.locations["Main"]: 2}  # untouched
    assert db.query("SELECT remote_id FROM stock_relay_sku_cache WHERE sku = %s", (old_sku,)) == [(new_item,)]


# --------------------------------------------------------------------------- orders in (polling)
def test_an_order_placed_through_the_store_api_is_polled_into_the_inbox(medusa_shop, medusa, sidecar, db):
    from harness.medusa_orders import MedusaStore
    from harness.orders import cursor_row, enable_orders, inbox_rows, wait_for

    shop = medusa_shop(["TEE"])
    medusa.set_level(shop.sku["TEE"], shop.locations["Main"], 10)
    store = MedusaStore(medusa, shop.locations["Main"])
    placed = store.place_order(shop.sku["TEE"], quantity=2, email="grace@example.com")
    enable_orders(db.conn, shop.channel_id, poll_seconds=1)
    sidecar.start()
    rows = wait_for(lambda: inbox_rows(db.conn, shop.channel_id), timeout=30, what="the polled Medusa order")
    [row] = [r for r in rows if r["shop_order_id"] == placed["id"]]
    order = row["payload"]["order"]
    assert (row["received_via"], row["topic"], row["shop_order_name"]) == ("poll", "order_created",
                                                                           f"#{placed['display_id']}")
    assert order["email"] == "grace@example.com" and order["currency"] == "EUR"
    assert [(li["sku"], li["quantity"], li["unit_price"]) for li in order["lines"]] == [(shop.sku["TEE"], 2, "10")]
    assert order["shipping"][0]["price"] == "5" and order["shipping_address"]["country_code"] == "DE"
    # The cursor moved to the newest update seen, so the next poll asks for later ones only.
    cur = wait_for(lambda: (cursor_row(db.conn, shop.channel_id) or {}).get("updated_at"), what="the cursor")
    assert cur.isoformat() + "Z" >= row["event_key"].split("@")[1]


def test_a_small_burst_is_polled_once_and_a_later_poll_lists_only_the_new_order(medusa_shop, medusa, sidecar, db):
    """Issue #12 on a real Medusa: updated_at[$gt] + order=updated_at, 100 a page; the daemon's log line per
    poll says how many orders Medusa listed and how many were already stored."""
    import re

    from harness.medusa_orders import MedusaStore
    from harness.orders import enable_orders, inbox_rows, wait_for

    shop = medusa_shop(["MUG"])
    medusa.set_level(shop.sku["MUG"], shop.locations["Main"], 50)
    store = MedusaStore(medusa, shop.locations["Main"])
    # This Medusa is shared by the module's tests: start the channel's cursor here, not 24 h back.
    with db.conn.cursor() as cur:
        cur.execute("INSERT INTO stock_relay_order_cursor (channel_id, updated_at) "
                    "VALUES (%s, (now() AT TIME ZONE 'UTC') - interval '1 second')", (shop.channel_id,))
    db.conn.commit()
    placed = [store.place_order(shop.sku["MUG"], quantity=1, email=f"burst{n}@example.com")["id"] for n in range(4)]
    enable_orders(db.conn, shop.channel_id, poll_seconds=1)
    proc = sidecar.start()
    rows = wait_for(lambda: (r := inbox_rows(db.conn, shop.channel_id)) and len(r) >= 4 and r, timeout=30,
                    what="the burst")
    newest = max(r["shop_updated_at"] for r in rows)
    overlap = sum(r["shop_updated_at"] == newest for r in rows)  # what the next poll may list again
    time.sleep(1.1)  # the poll compares update times to the second: the next order is in a later one
    later = store.place_order(shop.sku["MUG"], quantity=1, email="later@example.com")["id"]
    rows = wait_for(lambda: (r := inbox_rows(db.conn, shop.channel_id)) and len(r) >= 5 and r, timeout=30,
                    what="the later order")
    time.sleep(2.5)  # more polls: nothing new, nothing stored twice
    rows = inbox_rows(db.conn, shop.channel_id)
    stored = {r["shop_order_id"] for r in rows}
    assert set(placed + [later]) <= stored
    # An earlier test's order that Medusa updated after our cursor's start is listed (and stored) too.
    foreign = len(stored - set(placed + [later]))
    events = [(r["shop_order_id"], r["shop_updated_at"]) for r in rows]
    assert len(events) == len(set(events)), f"an update stored twice: {events}"
    polls = [tuple(map(int, m)) for m in re.findall(
        r"order poll: (\d+) order\(s\) listed in (\d+) page\(s\), (\d+) already stored, (\d+) new", proc.log())]
    assert len(polls) >= 2, polls
    # Every order listed again was recognised as stored before normalizing: none reached the insert to be dropped.
    assert all(listed - stored == new for listed, _pages, stored, new in polls), polls
    found = next(p for p in polls[1:] if p[3] >= 1)  # the first poll after the burst's that stored anything
    assert found[0] <= found[3] + overlap + foreign, \
        f"a later poll listed {found[0]} orders, the cursor's second holds {overlap} ({foreign} other test orders)"


def test_the_example_subscriber_posts_a_signed_order_placed_the_listener_stores(medusa_shop, medusa, sidecar, db):
    from harness.medusa_orders import MedusaStore
    from harness.orders import cursor_row, enable_orders, inbox_rows, wait_for

    shop = medusa_shop(["CAP"])
    assert shop.channel_id == 1, "the subscriber's address names channel 1"
    medusa.set_level(shop.sku["CAP"], shop.locations["Main"], 5)
    store = MedusaStore(medusa, shop.locations["Main"])
    enable_orders(db.conn, shop.channel_id, poll_seconds=3600, webhook_secret=SUBSCRIBER_SECRET)
    sidecar.extra_args += ["--listen", f"127.0.0.1:{medusa.subscriber_port}"]
    sidecar.start()
    # The daemon's first poll (at start) is over (it saved its cursor): what comes next comes from the subscriber.
    wait_for(lambda: (cursor_row(db.conn, shop.channel_id) or {}).get("polled_at"), timeout=15, what="the first poll")
    placed = store.place_order(shop.sku["CAP"], quantity=1, email="sub@example.com")
    rows = wait_for(lambda: [r for r in inbox_rows(db.conn, shop.channel_id) if r["shop_order_id"] == placed["id"]],
                    timeout=20, what="the subscriber's notification")
    row = rows[0]
    assert (row["received_via"], row["delivery_id"], row["state"]) == ("webhook", f"order.placed:{placed['id']}",
                                                                       "pending"), row
    order = row["payload"]["order"]
    assert [(li["sku"], li["quantity"]) for li in order["lines"]] == [(shop.sku["CAP"], 1)]
    assert order["email"] == "sub@example.com" and order["name"] == f"#{placed['display_id']}"
