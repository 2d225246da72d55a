"""End to end: outbox rows written as the addon writes them -> the real
stockrelayd -> the WooCommerce 7.9 emulator, over HTTPS with Basic auth
(verified against the test CA) and over plain loopback HTTP with OAuth 1.0a.

With STOCKRELAY_WOO_REAL set (scripts/woo-test) the same tests run against a
real WooCommerce 7.9 site (tests/emulators/woo_real.py): HTTPS through a
TLS-terminating front that adds X-Forwarded-Proto, plain HTTP with OAuth 1.0a
straight to the site; tests that need fault injection are skipped there."""
from __future__ import annotations

import threading
import time

import psycopg2
import pytest

from emulators.woo_real import RealWoo, real_woo_key, real_woo_url
from emulators.woocommerce import WooEmulator
from harness import outbox

pytestmark = [pytest.mark.sidecar]

# The real-WooCommerce tier: the site's home URL, or None for the emulator.
REAL_WOO = real_woo_url()
# A real shop has the key scripts/woo-test created; the emulator takes any.
KEY = real_woo_key() if REAL_WOO else {
    "consumer_key": "ck_" + "1a2b" * 10, "consumer_secret": "cs_" + "9f8e" * 10, "permissions": "read_write"}
STORE = ""  # WooCommerce has one stock pool: the only location key


def _shop(tls, log):
    return RealWoo(REAL_WOO, tls=tls, log_path=str(log)) if REAL_WOO else WooEmulator(tls=tls, log_path=str(log))


@pytest.fixture(scope="module")
def woo_https(test_ca, tmp_path_factory):
    log = tmp_path_factory.mktemp("woo") / "woo-https.log"
    with _shop(test_ca, log) as emu:
        yield emu


@pytest.fixture(scope="module")
def woo_http(tmp_path_factory):
    log = tmp_path_factory.mktemp("woo") / "woo-http.log"
    with _shop(None, log) as emu:
        yield emu


class WooShop:
    """A seeded WooCommerce shop plus the channel row that points at it."""

    def __init__(self, db, emu, ids, channel_id):
        self.db = db
        self.emu = emu
        self.ids = ids
        self.channel_id = channel_id

    def stock(self, sku):
        return self.emu.stock(sku)

    def history(self, sku):
        """Stock quantities the shop applied to ``sku``, in order (API writes only)."""
        entries = self.emu.history()["by_sku"].get(sku, [])
        return [e["stock_quantity"] for e in entries if e["via"] in ("put", "batch")]

    def enqueue(self, items, trigger="quant"):
        """items: [(product_id, sku, qty)] or [(product_id, sku, location_key, qty)]"""
        rows = []
        for it in items:
            pid, sku, *rest = it
            loc, qty = (STORE, rest[0]) if len(rest) == 1 else rest
            rows.append((self.channel_id, pid, sku, loc, qty))
        return outbox.enqueue(self.db.dsn, rows, trigger)

    def batch_requests(self):
        return [r for r in self.emu.requests() if r["method"] == "POST" and r["path"].split("?")[0].endswith("/batch")]


def catalog(simple=(), variations=None, duplicates=(), stock=0):
    products = [{"name": f"Product {s}", "sku": s, "manage_stock": True, "stock_quantity": stock} for s in simple]
    for parent, skus in (variations or {}).items():
        products.append({"name": f"Variable {parent}", "sku": parent, "type": "variable",
                         "variations": [{"sku": s, "manage_stock": True, "stock_quantity": stock} for s in skus]})
    for s in duplicates:
        products += [{"name": f"Dup {s} {k}", "sku": s, "manage_stock": True, "stock_quantity": stock} for k in range(2)]
    return products


def make_woo_shop(db, emu, test_ca=None, *, channel_kw=None, **kw):
    emu.reset(everything=True)
    emu.configure(keys=[KEY])
    ids = emu.seed(catalog(**kw))["ids"]
    settings = {"ca_file": test_ca["ca"]} if test_ca else {}
    fields = dict(name="Woo shop", channel_type="woocommerce", base_url=emu.base_url,
                  credentials={k: KEY[k] for k in ("consumer_key", "consumer_secret")}, settings=settings,
                  timeout_ms=getattr(emu, "request_timeout_ms", 5000))
    fields.update(channel_kw or {})
    cid = outbox.add_channel(db.conn, **fields)
    return WooShop(db, emu, ids, cid)


@pytest.fixture
def woo_shop(db, woo_https, test_ca):
    shops = []

    def factory(**kw):
        shop = make_woo_shop(db, woo_https, test_ca, **kw)
        shops.append(shop)
        return shop
    yield factory
    woo_https.clear_faults()


def assert_secret_kept(text):
    assert KEY["consumer_secret"] not in text
    assert KEY["consumer_key"] not in text


# --------------------------------------------------------------------------- convergence
def test_simple_products_and_variations_reach_the_shop_over_https(woo_shop, sidecar, db):
    shop = woo_shop(simple=["MUG-1", "PEN"], variations={"TEE": ["TEE-S", "TEE-M"], "CAP": ["CAP-RED"]})
    shop.enqueue([(1, "MUG-1", 7), (2, "PEN", 0), (3, "TEE-S", 4), (4, "TEE-M", 5), (5, "CAP-RED", 9)])
    r = sidecar.drain_once()
    assert "drained rows=5 done=5 failed=0 retried=0" in r.stdout, r.stdout + r.stderr
    assert [shop.stock(s) for s in ("MUG-1", "PEN", "TEE-S", "TEE-M", "CAP-RED")] == [7, 0, 4, 5, 9]
    # One batch per endpoint: simple products, then one per variable parent.
    paths = sorted(r["path"].split("?")[0] for r in shop.batch_requests())
    assert paths == sorted(["/wp-json/wc/v3/products/batch",
                            f"/wp-json/wc/v3/products/{shop.ids['TEE']}/variations/batch",
                            f"/wp-json/wc/v3/products/{shop.ids['CAP']}/variations/batch"])
    assert all(r["auth"] == "basic" for r in shop.emu.requests() if r["path"].startswith("/wp-json/wc/"))
    # Resolutions are cached, variations with their parent.
    cached = {sku: (rid, parent) for sku, rid, parent in db.query(
        "SELECT sku, remote_id, parent_id FROM stock_relay_sku_cache WHERE channel_id = %s", (shop.channel_id,))}
    assert cached["MUG-1"] == (str(shop.ids["MUG-1"]), "")
    assert cached["TEE-M"] == (str(shop.ids["TEE-M"]), str(shop.ids["TEE"]))
    done = outbox.rows(db.conn, state="done")
    assert all(x["last_http_status"] == 200 and "stock_quantity" in x["request_excerpt"] for x in done)
    for x in done:
        assert_secret_kept(x["request_excerpt"] + x["response_excerpt"])
    assert_secret_kept(r.stdout + r.stderr)
    # The second push uses the cache: no lookup, only the sales-aware read of the level (issue 13).
    before = len(shop.emu.requests())
    shop.enqueue([(1, "MUG-1", 8)])
    sidecar.drain_once()
    new = shop.emu.requests()[before:]
    assert [x["method"] for x in new] == ["GET", "POST"]
    assert "include=" in new[0]["path"] and "sku=" not in new[0]["path"], new[0]["path"]
    assert shop.stock("MUG-1") == 8


def test_plain_loopback_http_signs_with_oauth1(db, woo_http, sidecar):
    shop = make_woo_shop(db, woo_http, simple=["OA-1"], variations={"OA": ["OA-S"]})
    shop.enqueue([(1, "OA-1", 3), (2, "OA-S", 6)])
    r = sidecar.drain_once()
    assert "drained rows=2 done=2" in r.stdout, r.stdout + r.stderr
    assert shop.stock("OA-1") == 3 and shop.stock("OA-S") == 6
    api = [x for x in woo_http.requests() if x["path"].startswith("/wp-json/wc/")]
    assert api and all(x["auth"] == "oauth1:HMAC-SHA256" and x["status"] == 200 for x in api), api
    check = sidecar.check()
    assert check.returncode == 0, check.stdout + check.stderr
    assert "OAuth 1.0a" in check.stdout
    for x in outbox.rows(db.conn):
        assert "oauth_signature" not in x["request_excerpt"]
        assert_secret_kept(x["request_excerpt"] + x["response_excerpt"])


def test_many_writes_to_one_key_coalesce_into_one_push(woo_shop, sidecar, db):
    shop = woo_shop(simple=["HOT"])
    for q in range(1, 51):
        shop.enqueue([(1, "HOT", q)])
    assert outbox.counts(db.conn) == {"pending": 1}
    r = sidecar.drain_once()
    assert "drained rows=1 done=1" in r.stdout, r.stdout + r.stderr
    assert shop.history("HOT") == [50]
    assert len(shop.batch_requests()) == 1


@pytest.mark.parametrize("batches_in_flight", [1, 4])  # issue 17: lanes on disjoint keys keep the order
def test_no_older_value_is_applied_after_a_newer_one_while_writes_race_the_sidecar(woo_shop, sidecar, db,
                                                                                   batches_in_flight):
    skus = [f"RACE-{i}" for i in range(3)] + ["RV-S", "RV-M"]
    shop = woo_shop(simple=skus[:3], variations={"RV": skus[3:]}, channel_kw={"batch_size": 2})
    outbox.update_channel(db.conn, shop.channel_id, batches_in_flight=batches_in_flight)
    shop.emu.configure(latency_ms=15)
    proc = sidecar.start("--poll-interval", "0.5")
    last = 80
    errors = []

    def writer():
        try:
            conn = psycopg2.connect(db.dsn)
            for q in range(1, last + 1):
                outbox.enqueue(conn, [(shop.channel_id, 10 + k, sku, STORE, q) for k, sku in enumerate(skus)])
                time.sleep(0.002)
            conn.close()
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    t = threading.Thread(target=writer)
    t.start()
    t.join(120)
    assert not errors, errors
    outbox.wait_until(lambda: outbox.settled(db.conn), timeout=60, message="the outbox to drain")
    assert proc.stop() == 0
    for sku in skus:
        applied = shop.history(sku)
        assert applied, f"{sku} never pushed"
        assert applied == sorted(applied) and len(set(applied)) == len(applied), f"{sku} regressed: {applied}"
        assert applied[-1] == last and shop.stock(sku) == last
    assert sum(len(shop.history(s)) for s in skus) < len(skus) * last
    assert outbox.counts(db.conn).get("failed", 0) == 0


# --------------------------------------------------------------------------- bad input
def test_unknown_duplicate_parent_and_location_fail_specifically_while_the_rest_lands(woo_shop, sidecar, db):
    shop = woo_shop(simple=["GOOD-1", "GOOD-2"], variations={"PARENT": ["PARENT-S"]}, duplicates=["TWIN"])
    shop.enqueue([(1, "GOOD-1", 4), (2, "NOPE", 3), (3, "TWIN", 2), (4, "GOOD-2", 1), (5, "PARENT", 6),
                  (1, "GOOD-1", "gid://shopify/Location/1", 5)])
    r = sidecar.drain_once()
    assert "drained rows=6 done=2 failed=4" in r.stdout, r.stdout + r.stderr
    by = {(x["sku"], x["location_key"]): x for x in outbox.rows(db.conn)}
    assert by[("GOOD-1", "")]["state"] == "done" and by[("GOOD-2", "")]["state"] == "done"
    assert by[("NOPE", "")]["error_code"] == "sku_not_found" and "NOPE" in by[("NOPE", "")]["last_error"]
    twin = by[("TWIN", "")]
    assert twin["error_code"] == "duplicate_sku"
    assert all(f"#{i}" in twin["last_error"] for i in shop.ids["TWIN"])
    assert by[("PARENT", "")]["error_code"] == "rejected" and "variations" in by[("PARENT", "")]["last_error"]
    loc = by[("GOOD-1", "gid://shopify/Location/1")]
    assert loc["error_code"] == "rejected" and "gid://shopify/Location/1" in loc["last_error"]
    assert shop.stock("GOOD-1") == 4 and shop.stock("GOOD-2") == 1
    assert shop.stock("TWIN") == [0, 0] and shop.history("PARENT-S") == []
    assert "sku 'NOPE' location" in r.stderr and "sku_not_found" in r.stderr


def test_bad_credentials_fail_rows_with_auth_and_check_says_so(woo_shop, sidecar, db):
    shop = woo_shop(simple=["A-1"])
    ok = sidecar.check()
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert "HTTP Basic over HTTPS" in ok.stdout
    wrong = "cs_wrong_secret_000000000000"
    outbox.update_channel(db.conn, shop.channel_id,
                          credentials={"consumer_key": KEY["consumer_key"], "consumer_secret": wrong})
    r = sidecar.check()
    assert r.returncode == 1
    line = next(l for l in r.stdout.splitlines() if l.startswith(f"channel {shop.channel_id} "))
    assert ": FAIL auth" in line and "Consumer secret is invalid" in line, line
    shop.enqueue([(1, "A-1", 5)])
    d = sidecar.drain_once()
    row = outbox.rows(db.conn)[0]
    # Held, not failed: the refusal concerns the channel, not the row.
    assert row["state"] == "pending" and row["error_code"] == "auth" and row["attempts"] == 0, row
    assert "down or refused; its rows stay pending" in d.stdout, d.stdout
    assert shop.history("A-1") == []
    assert wrong not in r.stdout + r.stderr + d.stdout + d.stderr + (row["last_error"] or "")
    # Fixing the credentials is all it takes.
    outbox.update_channel(db.conn, shop.channel_id,
                          credentials={k: KEY[k] for k in ("consumer_key", "consumer_secret")})
    sidecar.drain_once()
    assert shop.stock("A-1") == 5


# --------------------------------------------------------------------------- limits
def test_batches_respect_the_size_and_split_on_413(woo_shop, sidecar, db):
    skus = [f"L-{i:03d}" for i in range(150)]
    shop = woo_shop(simple=skus, channel_kw={"batch_size": 500})  # clamped to 100
    shop.enqueue([(i, s, i + 1) for i, s in enumerate(skus)])
    r = sidecar.drain_once(timeout=240)
    assert outbox.counts(db.conn) == {"done": 150}, r.stdout + r.stderr
    assert max(x["items"] for x in shop.batch_requests()) <= 100
    assert all(x["status"] == 200 for x in shop.batch_requests())
    # A shop whose limit was filtered down to 8: 413, split, everything lands.
    shop.emu.configure(batch_limit=8)
    shop.enqueue([(i, s, 1000 + i) for i, s in enumerate(skus[:30])])
    before = len(shop.emu.requests())
    r = sidecar.drain_once(timeout=240)
    assert outbox.counts(db.conn) == {"done": 180}, r.stdout + r.stderr
    assert all(shop.stock(s) == 1000 + i for i, s in enumerate(skus[:30]))
    statuses = [x["status"] for x in shop.emu.requests()[before:] if x["method"] == "POST"]
    assert 413 in statuses and statuses[-1] == 200


def test_retry_after_is_honoured_and_server_errors_retry(woo_shop, sidecar, db):
    shop = woo_shop(simple=["T-1", "T-2"])
    shop.emu.set_faults([{"path_contains": "/batch", "action": "http429", "retry_after": 1, "times": 1},
                         {"path_contains": "/batch", "action": "status", "status": 503, "times": 1}])
    proc = sidecar.start("--poll-interval", "0.3")
    shop.enqueue([(1, "T-1", 11), (2, "T-2", 12)])
    outbox.wait_until(lambda: outbox.counts(db.conn) == {"done": 2}, timeout=30, message="both rows done")
    assert proc.stop() == 0
    assert shop.stock("T-1") == 11 and shop.stock("T-2") == 12
    statuses = [x["status"] for x in shop.batch_requests()]
    assert statuses[:2] == [429, 503] and statuses[-1] == 200, statuses
    assert "throttled_ms=" in proc.log()
    assert "transient" in proc.log()


# --------------------------------------------------------------------------- partial failures
def test_a_stale_cached_id_is_looked_up_again_and_lands(woo_shop, sidecar, db):
    shop = woo_shop(simple=["S-1", "S-2"])
    db.query("INSERT INTO stock_relay_sku_cache (channel_id, sku, remote_id) VALUES (%s, 'S-1', '987654')",
               (shop.channel_id,))
    shop.enqueue([(1, "S-1", 21), (2, "S-2", 22)])
    r = sidecar.drain_once()
    assert "drained rows=2 done=2" in r.stdout, r.stdout + r.stderr
    assert shop.stock("S-1") == 21 and shop.stock("S-2") == 22
    cached = dict(db.query("SELECT sku, remote_id FROM stock_relay_sku_cache WHERE channel_id = %s", (shop.channel_id,)))
    assert cached["S-1"] == str(shop.ids["S-1"])


def test_a_lost_answer_after_the_write_converges(woo_shop, sidecar, db):
    shop = woo_shop(simple=["W-1"])
    shop.emu.set_faults([{"path_contains": "/batch", "action": "close", "apply": True, "times": 1}])
    proc = sidecar.start("--poll-interval", "0.3")
    shop.enqueue([(1, "W-1", 33)])
    outbox.wait_until(lambda: outbox.counts(db.conn) == {"done": 1}, timeout=30, message="the row done")
    assert proc.stop() == 0
    # Sent again (by the transport on the dropped connection or by the sidecar's
    # retry) and applied twice, harmlessly: a push is an absolute set.
    assert shop.history("W-1") == [33, 33]
    assert shop.stock("W-1") == 33


# --------------------------------------------------------------------------- moved SKUs
def api(emu, method, path, body=None):
    """One REST call as the shop's admin would make it (emulator or real site)."""
    if isinstance(emu, RealWoo):
        status, _, out = emu._request(method, path, body=body)
    else:
        status, _, out = emu.call(method, path, body=body)
    assert 200 <= status < 300, (method, path, status, out)
    return out


def cached_id(db, shop, sku):
    return db.query("SELECT remote_id FROM stock_relay_sku_cache WHERE channel_id = %s AND sku = %s",
                    (shop.channel_id, sku))


def test_a_sku_renamed_onto_another_product_is_written_there_not_left_on_the_cached_one(woo_shop, sidecar, db):
    shop = woo_shop(simple=["MV-1", "MV-2"])
    old_id, new_id = shop.ids["MV-1"], shop.ids["MV-2"]
    shop.enqueue([(1, "MV-1", 5)])
    assert "done=1" in sidecar.drain_once().stdout
    assert cached_id(db, shop, "MV-1") == [(str(old_id),)]
    # The merchant retires the old product's SKU and gives it to another product.
    api(shop.emu, "PUT", f"/products/{old_id}", {"sku": "MV-1-retired"})
    api(shop.emu, "PUT", f"/products/{new_id}", {"sku": "MV-1"})
    shop.enqueue([(1, "MV-1", 9)])
    r = sidecar.drain_once()
    assert "drained rows=1 done=1" in r.stdout, r.stdout + r.stderr
    assert api(shop.emu, "GET", f"/products/{new_id}")["stock_quantity"] == 9
    assert cached_id(db, shop, "MV-1") == [(str(new_id),)]
    # The cached id took the write before its answer showed the SKU had moved: the log says so.
    assert f"#{old_id} now has SKU 'MV-1-retired'" in r.stdout + r.stderr


def test_a_trashed_product_is_no_target_and_the_recreated_one_gets_the_stock(woo_shop, sidecar, db):
    shop = woo_shop(simple=["TR-1"])
    old_id = shop.ids["TR-1"]
    shop.enqueue([(1, "TR-1", 4)])
    assert "done=1" in sidecar.drain_once().stdout
    api(shop.emu, "DELETE", f"/products/{old_id}")  # to the trash; it keeps its SKU there
    new = api(shop.emu, "POST", "/products", {"name": "TR-1 again", "type": "simple", "sku": "TR-1",
                                              "regular_price": "9.90"})
    shop.enqueue([(1, "TR-1", 6)])
    r = sidecar.drain_once()
    assert "drained rows=1 done=1" in r.stdout, r.stdout + r.stderr
    now = api(shop.emu, "GET", f"/products/{new['id']}")
    assert (now["manage_stock"], now["stock_quantity"]) == (True, 6)  # found by its SKU in this push: managed
    assert cached_id(db, shop, "TR-1") == [(str(new["id"]),)]
    # Trashed and nothing else carries the SKU: the row fails as sku_not_found instead of "landing" in the trash.
    api(shop.emu, "DELETE", f"/products/{new['id']}")
    shop.enqueue([(1, "TR-1", 7)])
    r = sidecar.drain_once()
    assert "failed=1" in r.stdout, r.stdout + r.stderr
    (row,) = outbox.rows(db.conn, state="failed")
    assert row["error_code"] == "sku_not_found", row


# --------------------------------------------------------------------------- wrong site
def test_a_channel_pointed_at_a_site_that_is_not_woocommerce_is_told_so(db, sidecar):
    import http.server

    class NotWordPress(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - a static site: 404 pages for /wp-json/ and /?rest_route=/
            body = b"<html><body>Not Found</body></html>"
            self.send_response(404)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), NotWordPress)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        cid = outbox.add_channel(db.conn, name="Not a shop", channel_type="woocommerce",
                                 base_url=f"http://127.0.0.1:{server.server_port}",
                                 credentials={"consumer_key": "ck_" + "0" * 40, "consumer_secret": "cs_" + "0" * 40})
        r = sidecar.check()
        assert r.returncode == 1
        line = next(l for l in r.stdout.splitlines() if l.startswith(f"channel {cid} "))
        assert ": FAIL config" in line, line
        assert f"http://127.0.0.1:{server.server_port} is not a WooCommerce store" in line, line
        assert "permalinks" not in line, line
    finally:
        server.shutdown()
        server.server_close()
