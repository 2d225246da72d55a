"""Reconciliation, daemon side, against WooCommerce: `stockrelayd run` takes a
reconcile request, reads the whole shop (products, then the variations of
variable products) into stock_relay_snapshot, refreshes the SKU cache, and
pushes nothing.

Against the WooCommerce 7.9 emulator by default. With STOCKRELAY_WOO_REAL set
(scripts/woo-test) the first test reads a real WooCommerce site; the others
need what only the emulator can do on demand (malformed answers, timeouts,
throttling, latency) and are skipped there with that reason."""
from __future__ import annotations

import re
import signal

import pytest

from emulators.woo_real import RealWoo, real_woo_key, real_woo_url
from emulators.woocommerce import WooEmulator
from harness import outbox, reconcile

pytestmark = [pytest.mark.sidecar]

REAL_WOO = real_woo_url()
KEY = real_woo_key() if REAL_WOO else {
    "consumer_key": "ck_" + "5c6d" * 10, "consumer_secret": "cs_" + "7e8f" * 10, "permissions": "read_write"}
emulator_only = pytest.mark.skipif(bool(REAL_WOO), reason="needs the emulator's fault injection / malformed answers")


@pytest.fixture(scope="module")
def woo(test_ca, tmp_path_factory):
    log = tmp_path_factory.mktemp("woo") / "woo-reconcile.log"
    shop = RealWoo(REAL_WOO, tls=test_ca, log_path=str(log)) if REAL_WOO else WooEmulator(tls=test_ca, log_path=str(log))
    with shop as s:
        yield s


@pytest.fixture
def channel(db, woo, test_ca):
    """A fresh shop (reset, seeded by the test) and its channel row."""
    woo.reset(everything=True)
    woo.configure(keys=[KEY])

    def make(timeout_ms=None, **kw):
        fields = dict(name="Woo shop", channel_type="woocommerce", base_url=woo.base_url,
                      credentials={k: KEY[k] for k in ("consumer_key", "consumer_secret")},
                      settings={"ca_file": test_ca["ca"]},
                      timeout_ms=timeout_ms or getattr(woo, "request_timeout_ms", 5000))
        fields.update(kw)
        return outbox.add_channel(db.conn, **fields)
    yield make
    if not REAL_WOO:
        woo.clear_faults()


def seed_mixed(woo):
    """Simple products, a variable product, an untracked item, one without SKU, a duplicated SKU."""
    products = [
        {"name": "A", "sku": "R-A", "manage_stock": True, "stock_quantity": 5},
        {"name": "B", "sku": "R-B", "manage_stock": True, "stock_quantity": 6},
        {"name": "Gone", "sku": "R-GONE", "manage_stock": True, "stock_quantity": 2},
        {"name": "Untracked", "sku": "R-U", "manage_stock": True, "stock_quantity": 1},
        {"name": "No SKU", "sku": "", "manage_stock": True, "stock_quantity": 4},
        {"name": "Tee", "sku": "R-TEE", "type": "variable",
         "variations": [{"sku": "R-TEE-S", "manage_stock": True, "stock_quantity": 3},
                        {"sku": "R-TEE-M", "manage_stock": True, "stock_quantity": 8}]},
        {"name": "Dup 1", "sku": "R-DUP", "manage_stock": True, "stock_quantity": 1},
        {"name": "Dup 2", "sku": "R-DUP", "manage_stock": True, "stock_quantity": 2},
    ]
    return woo.seed(products)


def shop_truth(woo, seeded) -> dict:
    """What the snapshot must hold, read from the shop: {(id, ''): (sku, qty, tracked)}."""
    truth = {}
    if REAL_WOO:
        for p in woo._get_all("/products", {"_fields": "id,sku,type,manage_stock,stock_quantity", "orderby": "id"}):
            rows = [p]
            if p["type"] == "variable":
                rows += woo._get_all(f"/products/{p['id']}/variations",
                                     {"_fields": "id,sku,manage_stock,stock_quantity"})
            for x in rows:
                tracked = x.get("manage_stock") is True
                truth[(str(x["id"]), "")] = (x["sku"] or None, x["stock_quantity"] if tracked else None, tracked)
        return truth
    for p in woo.state()["products"]:
        if p.get("status") == "trash":
            continue
        tracked = p["manage_stock"] is True and p["type"] not in ("grouped", "external")
        truth[(str(p["id"]), "")] = (p["sku"] or None, p["stock_quantity"] if tracked else None, tracked)
    return truth


def delete_product(woo, pid):
    if REAL_WOO:
        status, _, body = woo._request("DELETE", f"/products/{pid}", params={"force": "true"})
    else:
        status, _, body = woo.call("DELETE", f"/products/{pid}", params={"force": "true"})
    assert status == 200, body


def stop_tracking(woo, pid):
    if REAL_WOO:
        status, _, body = woo._request("PUT", f"/products/{pid}", body={"manage_stock": False})
    else:
        status, _, body = woo.call("PUT", f"/products/{pid}", body={"manage_stock": False})
    assert status == 200, body


def pushes(woo):
    if REAL_WOO:
        return [e for e in woo.history()["entries"] if e.get("via") in ("put", "batch")]
    return [r for r in woo.requests() if r["method"] in ("POST", "PUT", "PATCH", "DELETE")]


# --------------------------------------------------------------------------- the read
def test_reconcile_snapshots_exactly_the_shops_truth_and_refreshes_the_sku_cache(channel, woo, db, sidecar):
    cid = channel()
    seeded = seed_mixed(woo)
    ids = seeded["ids"]
    # Behind stockrelay's back: a level changes, an item is deleted, one stops tracking.
    woo.set_stock(sku="R-B", stock_quantity=60)
    delete_product(woo, ids["R-GONE"])
    stop_tracking(woo, ids["R-U"])
    # What earlier pushes had cached: R-A on a stale item, the others right; product 7 owns R-A.
    stale = str(max(ids["R-DUP"]) + 1000)
    reconcile.cache_sku(db.conn, cid, "R-A", stale, product_id=7)
    reconcile.cache_sku(db.conn, cid, "R-B", str(ids["R-B"]), product_id=8)
    reconcile.cache_sku(db.conn, cid, "R-GONE", str(ids["R-GONE"]), product_id=9)
    reconcile.cache_sku(db.conn, cid, "R-U", str(ids["R-U"]), product_id=10)
    reconcile.cache_sku(db.conn, cid, "R-DUP", str(ids["R-DUP"][0]), product_id=11)
    writes_before = len(pushes(woo))

    daemon = sidecar.start()
    rid = reconcile.request(db.conn, cid)
    run = reconcile.wait_for(db.conn, rid, timeout=60)
    assert run["state"] == "read", run
    assert run["method"] == "paginated" and run["read_at"] and run["started_at"]
    assert run["error_code"] is None and run["last_error"] is None

    snap = reconcile.snapshot(db.conn, rid)
    truth = shop_truth(woo, seeded)
    assert {k: v[:3] for k, v in snap.items()} == truth
    assert run["items_read"] == len(truth) and run["malformed"] == 0
    assert all(v[3] is None for v in snap.values())
    assert snap[(str(ids["R-B"]), "")][:2] == ("R-B", 60)
    assert (str(ids["R-GONE"]), "") not in snap
    assert snap[(str(ids["R-U"]), "")] == ("R-U", None, False, None)
    no_sku = [v for v in snap.values() if v[0] is None]
    assert [v[1] for v in no_sku if v[2]] == [4]  # the item without SKU is listed as such
    tee_s = snap[(str(ids["R-TEE-S"]), "")]
    assert tee_s[:2] == ("R-TEE-S", 3)

    cache = reconcile.sku_cache(db.conn, cid)
    assert cache["R-A"] == (str(ids["R-A"]), "", 7)  # moved: follows the shop, owner kept
    assert cache["R-B"][0] == str(ids["R-B"])         # confirmed
    assert "R-GONE" not in cache and "R-U" not in cache and "R-DUP" not in cache
    assert "R-TEE-S" not in cache                     # a snapshot never adds SKUs
    assert len(pushes(woo)) == writes_before           # a reconcile pushes nothing
    daemon.wait_for_log(r"reconcile \d+: read \d+ records \(0 malformed\) .* SKU cache: 1 confirmed, 1 moved, 3 dropped")
    # The duplicated SKU is now a duplicate_sku failure of the next push, not a write to one of the two items.
    outbox.enqueue(db.dsn, [(cid, 11, "R-DUP", "", 9)])
    outbox.wait_until(lambda: outbox.counts(db.conn, cid).get("failed") == 1, message="the duplicate fails")
    row = outbox.rows(db.conn, channel_id=cid)[0]
    assert row["error_code"] == "duplicate_sku", row


@emulator_only
def test_cli_reconcile_waits_and_prints_the_figures_and_status_shows_the_run(channel, woo, db, sidecar):
    cid = channel()
    woo.seed([{"name": f"P{i}", "sku": f"C-{i}", "manage_stock": True, "stock_quantity": i} for i in range(150)]
             + [{"name": "Broken", "sku": "C-BAD", "manage_stock": True, "stock_quantity": 1}])
    bad = woo.seed([{"name": "Broken 2", "sku": "C-BAD2", "manage_stock": True, "stock_quantity": 1}])["ids"]["C-BAD2"]
    woo.control("POST", "malform", {"id": bad, "fields": {"stock_quantity": "lots"}})
    # Odoo's cron workers listen on the postgres maintenance database.
    maint = db.cluster.connect("postgres")
    with maint.cursor() as cur:
        cur.execute("LISTEN cron_trigger")
    sidecar.start()
    r = sidecar.cmd("reconcile", "--channel", cid, "--wait", "60")
    assert r.returncode == 0, r.stdout + r.stderr
    outbox.wait_until(lambda: maint.poll() or maint.notifies, timeout=10, message="NOTIFY cron_trigger")
    assert [n.payload for n in maint.notifies] == [db.name]
    maint.close()
    m = re.search(r"reconcile (\d+) of channel \d+ requested\nreconcile \1: read: 152 items \(1 malformed\), "
                  r"(\d+) API calls, read in [\d.]+ s", r.stdout)
    assert m, r.stdout
    assert int(m.group(2)) == 2  # two pages of 100
    rid = int(m.group(1))
    assert reconcile.run(db.conn, rid)["requested_by"] == "cli"
    snap = reconcile.snapshot(db.conn, rid)
    broken = snap[(str(bad), "")]
    assert broken[1] is None and "stock_quantity" in broken[3], broken
    st = sidecar.status("--channel", cid, as_json=True)["channels"][0]["last_reconcile"]
    assert st["id"] == rid and st["state"] == "read" and st["items"] == 152 and st["malformed"] == 1
    text = sidecar.status("--channel", cid).stdout
    assert f"last reconcile: #{rid} read (read " in text and "152 items (1 malformed)" in text, text
    # A channel that does not exist is a usage error.
    r = sidecar.cmd("reconcile", "--channel", cid + 1000)
    assert r.returncode == 2 and "no channel" in r.stderr


@emulator_only
def test_a_timeout_and_throttling_mid_read_resume_from_the_cursor(channel, woo, db, sidecar):
    """Emulator fault injection: page 3 of 4 times out once, then page 4 is throttled (429) past the inline waits."""
    cid = channel(timeout_ms=1000)
    woo.seed([{"name": f"P{i}", "sku": f"T-{i}", "manage_stock": True, "stock_quantity": i % 9} for i in range(350)])
    woo.set_faults([{"path_contains": "page=3", "method": "GET", "action": "timeout", "delay_ms": 2000, "times": 1},
                    {"path_contains": "page=4", "method": "GET", "action": "http429", "retry_after": 1, "times": 4}])
    since = woo.requests()[-1]["seq"] if woo.requests() else 0
    daemon = sidecar.start()
    rid = reconcile.request(db.conn, cid)
    run = reconcile.wait_for(db.conn, rid, timeout=90)
    assert run["state"] == "read", run
    assert run["attempts"] == 3, run  # the timeout, the throttling, then to the end
    snap = reconcile.snapshot(db.conn, rid)
    assert len(snap) == 350 and run["items_read"] == 350
    assert {v[0] for v in snap.values()} == {f"T-{i}" for i in range(350)}  # no gaps, no duplicates
    gets = [re.search(r"[?&]page=(\d+)", r["path"]).group(1) for r in woo.requests(since)
            if r["method"] == "GET" and "/products" in r["path"]]
    assert gets.count("1") == 1 and gets.count("2") == 1, gets  # resumed after page 2, not from the start
    assert gets.count("3") == 2 and gets.count("4") == 5, gets
    assert run["api_calls"] == len(gets)
    daemon.wait_for_log(r"reconcile \d+: .*timed out.*resuming from the last stored page")


@emulator_only
def test_a_failed_run_says_why_and_a_new_request_reruns_it(channel, woo, db, sidecar):
    cid = channel(credentials={"consumer_key": KEY["consumer_key"], "consumer_secret": "cs_" + "0" * 40})
    woo.seed([{"name": "P", "sku": "F-1", "manage_stock": True, "stock_quantity": 3}])
    sidecar.start()
    rid = reconcile.request(db.conn, cid)
    run = reconcile.wait_for(db.conn, rid)
    assert run["state"] == "failed" and run["error_code"] == "auth", run
    assert "refused the consumer key/secret" in run["last_error"] and "cs_000" not in run["last_error"]
    assert reconcile.snapshot(db.conn, rid) == {}
    outbox.update_channel(db.conn, cid, credentials={k: KEY[k] for k in ("consumer_key", "consumer_secret")})
    r = sidecar.cmd("reconcile", "--channel", cid, "--wait", "60")
    assert r.returncode == 0 and ": read: 1 items (0 malformed)" in r.stdout, r.stdout + r.stderr
    # And the CLI reports a failure with its reason and exit code 5 (--heal is recorded for Odoo).
    outbox.update_channel(db.conn, cid, credentials={"consumer_key": KEY["consumer_key"], "consumer_secret": "cs_x" * 10})
    r = sidecar.cmd("reconcile", "--channel", cid, "--heal", "--wait", "60")
    assert r.returncode == 5 and ": failed: auth: " in r.stdout, r.stdout + r.stderr
    assert reconcile.run(db.conn, reconcile.latest_id(db.conn, cid))["heal"] is True


@emulator_only
def test_two_daemons_never_read_one_request_twice(channel, woo, db, sidecar):
    """Emulator latency keeps the read long enough for both daemons to see the request."""
    cid = channel()
    woo.seed([{"name": f"P{i}", "sku": f"D-{i}", "manage_stock": True, "stock_quantity": 1} for i in range(300)])
    woo.configure(latency_ms=300)
    since = woo.requests()[-1]["seq"] if woo.requests() else 0
    a = sidecar.start(name="a")
    b = sidecar.start(name="b")
    rid = reconcile.request(db.conn, cid)
    run = reconcile.wait_for(db.conn, rid, timeout=60)
    woo.configure(latency_ms=0)
    assert run["state"] == "read", run
    gets = [r["path"] for r in woo.requests(since) if r["method"] == "GET" and "/products" in r["path"]]
    assert len(gets) == 3, gets
    readers = [p for p in (a, b) if re.search(rf"reconcile {rid} of channel {cid}: reading the shop", p.log())]
    assert len(readers) == 1, [p.log()[-2000:] for p in (a, b)]


@emulator_only
def test_live_pushes_land_while_a_read_is_running(channel, woo, db, sidecar):
    """Emulator latency (300 ms a call) makes the read of 1,000 products last seconds."""
    cid = channel()
    woo.seed([{"name": f"P{i}", "sku": f"L-{i}", "manage_stock": True, "stock_quantity": 1} for i in range(1000)])
    woo.configure(latency_ms=300)
    try:
        sidecar.start()
        rid = reconcile.request(db.conn, cid)
        reconcile.wait_for(db.conn, rid, states=("reading",), timeout=20)
        outbox.enqueue(db.dsn, [(cid, 1, "L-7", "", 42)])
        outbox.wait_until(lambda: outbox.counts(db.conn, cid).get("done") == 1, timeout=20, message="the push lands")
        assert reconcile.run(db.conn, rid)["state"] == "reading"  # landed while the read was still going
        assert woo.stock("L-7") == 42
        run = reconcile.wait_for(db.conn, rid, timeout=60)
    finally:
        woo.configure(latency_ms=0)
    assert run["state"] == "read" and run["items_read"] == 1000


@emulator_only
def test_a_read_whose_daemon_was_killed_resumes_in_the_next_daemon_from_its_cursor(channel, woo, db, sidecar):
    """Emulator latency (300 ms a call) keeps the read going while the first daemon is killed (kill -9)."""
    cid = channel()
    woo.seed([{"name": f"P{i}", "sku": f"K-{i}", "manage_stock": True, "stock_quantity": 1} for i in range(1000)])
    woo.configure(latency_ms=300)
    try:
        first = sidecar.start(name="first")
        rid = reconcile.request(db.conn, cid)
        outbox.wait_until(lambda: (reconcile.run(db.conn, rid)["cursor"] or {}).get("page", 0) >= 3, timeout=30,
                          message="two pages stored")
        first.kill(signal.SIGKILL)
        first.wait(10)
        stored = reconcile.run(db.conn, rid)["cursor"]["page"]
        since = woo.requests()[-1]["seq"]
        second = sidecar.start(name="second")
        # Well before the dead reader's lease (120 s) runs out: the second daemon sees it is gone.
        run = reconcile.wait_for(db.conn, rid, timeout=40)
    finally:
        woo.configure(latency_ms=0)
    assert run["state"] == "read" and run["items_read"] == 1000, run
    assert len(reconcile.snapshot(db.conn, rid)) == 1000
    pages = [int(re.search(r"[?&]page=(\d+)", r["path"]).group(1)) for r in woo.requests(since)
             if r["method"] == "GET" and "/products" in r["path"]]
    assert min(pages) >= stored - 1, (stored, pages)  # resumed from the cursor, not from page 1
    second.wait_for_log(r"reconcile: reader '.*' is gone; its 1 run\(s\) resume from their cursor now")
