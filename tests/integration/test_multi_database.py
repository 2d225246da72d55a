"""One stockrelayd serving several databases (issue 15, "One daemon, many
databases"): each database's rows land through its own channel; a database
that goes down, is dropped or sits at another contract version is reported
and retried while the others keep flowing; a database created later that
matches --database-pattern is picked up without a restart; webhooks reach
the database named in their URL; status, /readyz and /metrics speak per
database. The shop is the Shopify emulator (one shop, a SKU per database)."""
from __future__ import annotations

import contextlib
import json
import pathlib
import re
import time
import urllib.error
import urllib.request

import pytest

from harness import outbox
from harness.orders import enable_orders, inbox_rows, listen_port, post, sign, wait_for
from harness.pg import TestDatabase, free_port
from harness.sidecar import EXIT_OK, Sidecar

pytestmark = [pytest.mark.shopify, pytest.mark.sidecar]

SHOPIFY_API_VERSION = "2025-10"
SHOPIFY_TOKEN = "shpat_relay_test_token_0123"  # the session emulator's (conftest.py)
FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "orders"


def get(port, path):
    """(status, body) of GET http://127.0.0.1:port/path."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def metric(text, metric_name, /, **labels):
    """Sum of the samples of ``metric_name`` whose labels include ``labels`` (None: no such sample)."""
    total, found = 0.0, False
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        key, value = line.rsplit(" ", 1)
        m = re.fullmatch(r"([a-zA-Z_:][\w:]*)(?:\{(.*)\})?", key)
        if not m or m.group(1) != metric_name:
            continue
        have = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        if all(have.get(k) == str(v) for k, v in labels.items()):
            total, found = total + float(value), True
    return total if found else None


class Fleet:
    """Databases named <prefix>_<k> on the session cluster, each with one
    Shopify channel on the emulator pushing SKU <prefix>-<k>."""

    def __init__(self, cluster, shopify, test_ca, tmp_path, prefix):
        self.cluster, self.shopify, self.ca, self.prefix = cluster, shopify, test_ca, prefix
        self.tmp_path = tmp_path
        self.dbs: dict[str, TestDatabase] = {}
        self.channel: dict[str, int] = {}
        self.location = None

    def seed(self, keys):
        seeded = self.shopify.seed(locations=[{"name": "Main"}], products=[
            {"title": f"P {k}", "variants": [{"sku": self.sku(k), "levels": {"Main": 0}}]} for k in keys])
        self.location = seeded["locations"]["Main"]

    def sku(self, key):
        return f"{self.prefix}-{key}".upper()

    def name(self, key):
        return f"{self.prefix}_{key}"

    def add(self, key) -> TestDatabase:
        name = self.name(key)
        self.cluster.drop_database(name)
        with contextlib.closing(self.cluster.connect()) as c, c.cursor() as cur:
            cur.execute(f"CREATE DATABASE {name} TEMPLATE stockrelay_template")
        db = TestDatabase(self.cluster, name)
        self.dbs[key] = db
        self.channel[key] = outbox.add_channel(
            db.conn, name=f"Shop {key}", channel_type="shopify", base_url=self.shopify.base_url,
            api_version=SHOPIFY_API_VERSION, credentials={"access_token": SHOPIFY_TOKEN},
            settings={"ca_file": self.ca["ca"]}, timeout_ms=5000)
        return db

    def enqueue(self, key, qty):
        return outbox.enqueue(self.dbs[key].dsn, [(self.channel[key], 1, self.sku(key), self.location, qty)])

    def landed(self, key, qty) -> bool:
        state = self.shopify.state()
        return state["available"].get(self.sku(key), {}).get(self.location) == qty

    def wait_landed(self, keys, qty, timeout=30.0):
        wait_for(lambda: all(self.landed(k, qty) for k in keys), timeout=timeout,
                 what=f"qty {qty} landed for {list(keys)}")

    def drop(self, key):
        db = self.dbs.pop(key)
        db.close()
        self.cluster.drop_database(db.name)

    def sidecar(self, *args) -> Sidecar:
        """A daemon whose --dsn is the cluster's postgres database (the base for the names)."""
        s = Sidecar(self.cluster.dsn("postgres"), self.tmp_path / "logs", extra_args=list(args))
        self._sidecars.append(s)
        return s

    _sidecars: list


@pytest.fixture
def fleet(pg_cluster, shopify, test_ca, tmp_path, request):
    prefix = "md" + re.sub(r"[^a-z0-9]", "", request.node.name.lower())[-10:] + str(int(time.time() * 1000) % 100000)
    f = Fleet(pg_cluster, shopify, test_ca, tmp_path, prefix)
    f._sidecars = []
    yield f
    for s in f._sidecars:
        s.cleanup()
    for key in list(f.dbs):
        f.drop(key)


def test_one_daemon_lands_every_databases_rows_and_reports_each(fleet):
    keys = ["a", "b", "c"]
    fleet.seed(keys)
    for k in keys:
        fleet.add(k)
    port = free_port()
    sc = fleet.sidecar("--databases", ",".join(fleet.name(k) for k in keys), "--poll-interval", "0.3")
    proc = sc.start("--metrics-listen", f"127.0.0.1:{port}")
    for k in keys:
        proc.wait_for_log(rf"databases: serving database {fleet.name(k)}\b")
    # Database c also holds a bad row (a SKU the shop does not have): it fails there, alone.
    outbox.enqueue(fleet.dbs["c"].dsn, [(fleet.channel["c"], 2, "NO-SUCH-SKU", fleet.location, 1)])
    for qty, k in enumerate(keys, start=5):
        fleet.enqueue(k, qty)
    wait_for(lambda: all(fleet.landed(k, q) for q, k in enumerate(keys, start=5)), timeout=30,
             what="each database's row landed")
    wait_for(lambda: outbox.counts(fleet.dbs["c"].conn, fleet.channel["c"]).get("failed") == 1, what="c's bad row")
    for k in keys:  # every row acked done in its own database
        assert outbox.counts(fleet.dbs[k].conn, fleet.channel[k]).get("done") == 1

    # status (text and JSON) has a section per database with its own counts.
    r = sc.cmd("status")
    assert r.returncode == EXIT_OK, r.stderr
    for k in keys:
        assert f"database {fleet.name(k)}:\n" in r.stdout
    st = sc.status(as_json=True)
    by_db = {d["database"]: d for d in st["databases"]}
    assert set(by_db) == {fleet.name(k) for k in keys}
    for k in keys:
        d = by_db[fleet.name(k)]
        assert d["error"] is None and d["totals"]["done"] == 1
        assert d["totals"]["failed"] == (1 if k == "c" else 0)
        assert [c["id"] for c in d["channels"]] == [fleet.channel[k]]

    # Prometheus: the same series per database, told apart by the database label.
    code, text = get(port, "/metrics")
    assert code == 200
    for k in keys:
        assert metric(text, "stockrelay_items_total", database=fleet.name(k), outcome="done") == 1
        assert metric(text, "stockrelay_outbox_rows", database=fleet.name(k), state="done") == 1
        assert metric(text, "stockrelay_database_up", database=fleet.name(k)) == 1
        assert metric(text, "stockrelay_outbox_rows", database=fleet.name(k), state="failed") == (k == "c")
    assert len(re.findall(r"^# TYPE stockrelay_outbox_rows ", text, re.M)) == 1  # one family, not one per database
    code, body = get(port, "/readyz")
    assert code == 200 and body.startswith("ready: 3 database(s)"), body
    # One heartbeat row per database, and log lines name their database.
    for k in keys:
        assert fleet.dbs[k].scalar("SELECT count(*) FROM stock_relay_daemon WHERE stopped_at IS NULL") == 1
    assert proc.stop() == EXIT_OK
    for k in keys:
        assert fleet.dbs[k].scalar("SELECT count(*) FROM stock_relay_daemon WHERE stopped_at IS NOT NULL") == 1


def test_a_database_down_then_back_does_not_hold_back_the_others(fleet):
    keys = ["a", "b"]
    fleet.seed(keys)
    for k in keys:
        fleet.add(k)
    port = free_port()
    dsns = [arg for k in keys for arg in ("--dsn", fleet.dbs[k].dsn)]
    sc = fleet.sidecar(*dsns, "--poll-interval", "0.3")
    proc = sc.start("--metrics-listen", f"127.0.0.1:{port}")
    fleet.enqueue("a", 1)
    fleet.enqueue("b", 1)
    fleet.wait_landed(keys, 1)

    # Database b goes away (no connections allowed, its sessions cut) ...
    down = fleet.dbs["b"]
    down.close()
    with contextlib.closing(fleet.cluster.connect()) as c, c.cursor() as cur:
        cur.execute(f"ALTER DATABASE {down.name} ALLOW_CONNECTIONS false")
        cur.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (down.name,))
    proc.wait_for_log(rf"database {down.name}: .*(not currently accepting connections|terminating connection)",
                      timeout=15)
    # ... a reports ready and keeps flowing at full speed; b is named as not ready.
    t0 = time.monotonic()
    fleet.enqueue("a", 2)
    fleet.wait_landed(["a"], 2, timeout=10)
    assert time.monotonic() - t0 < 8  # not behind b's connect attempts (10 s timeout) or backoff
    code, body = get(port, "/readyz")
    assert code == 503 and f"database {down.name}: not ready: database unreachable" in body, body
    assert f"database {fleet.name('a')}: ready" in body
    r = sc.cmd("status", "--json")
    st = json.loads(r.stdout)
    errors = {d["database"]: d["error"] for d in st["databases"]}
    assert errors[fleet.name("a")] is None and "not currently accepting connections" in errors[down.name]
    assert r.returncode != EXIT_OK  # a script sees that something is wrong

    # b comes back: the row queued meanwhile lands, without a restart.
    with contextlib.closing(fleet.cluster.connect()) as c, c.cursor() as cur:
        cur.execute(f"ALTER DATABASE {down.name} ALLOW_CONNECTIONS true")
    fleet.dbs["b"] = TestDatabase(fleet.cluster, down.name)
    fleet.enqueue("b", 3)
    fleet.wait_landed(["b"], 3, timeout=45)
    assert proc.alive()


def test_databases_matching_the_pattern_are_picked_up_and_dropped_ones_released(fleet):
    keys = ["a", "b", "late"]
    fleet.seed(keys)
    fleet.add("a")
    fleet.add("b")
    # A database that matches but holds no contract (another Odoo without the addon) is passed over.
    bare = fleet.name("bare")
    with contextlib.closing(fleet.cluster.connect()) as c, c.cursor() as cur:
        cur.execute(f"CREATE DATABASE {bare}")
    try:
        sc = fleet.sidecar("--database-pattern", f"^{fleet.prefix}_", "--reload-interval", "0.5",
                           "--poll-interval", "0.3")
        proc = sc.start()
        proc.wait_for_log(rf"database {bare} matches --database-pattern but holds no stockrelay contract")
        fleet.enqueue("a", 4)
        fleet.enqueue("b", 4)
        fleet.wait_landed(["a", "b"], 4)

        # b is dropped (as Odoo's database manager does): released, a keeps flowing.
        fleet.drop("b")
        proc.wait_for_log(rf"databases: releasing database {fleet.name('b')} \(no longer listed or matched\)",
                          timeout=15)
        fleet.enqueue("a", 5)
        fleet.wait_landed(["a"], 5, timeout=10)

        # A new database appears: served within the re-read interval, its rows land.
        fleet.add("late")
        proc.wait_for_log(rf"databases: serving database {fleet.name('late')}\b", timeout=15)
        fleet.enqueue("late", 6)
        fleet.wait_landed(["late"], 6)
        assert f"serving database {bare}" not in proc.log()
        assert proc.stop() == EXIT_OK
    finally:
        fleet.cluster.drop_database(bare)


def test_a_database_at_another_contract_version_is_reported_and_served_again(fleet):
    keys = ["a", "b"]
    fleet.seed(keys)
    for k in keys:
        fleet.add(k)
    sc = fleet.sidecar("--databases", ",".join(fleet.name(k) for k in keys), "--poll-interval", "0.3",
                       "--reload-interval", "0.5")
    fleet.dbs["b"].query("UPDATE stock_relay_schema_version SET version = 99")
    proc = sc.start()
    proc.wait_for_log(rf"database {fleet.name('b')}: the database's outbox schema version is 99, this "
                      r"stockrelayd understands \d+; not serving it")
    fleet.enqueue("a", 7)
    fleet.enqueue("b", 7)
    fleet.wait_landed(["a"], 7)
    time.sleep(1.0)
    assert not fleet.landed("b", 7)  # never touched at a version it does not understand
    assert proc.alive()
    fleet.dbs["b"].query("UPDATE stock_relay_schema_version SET version = %s",
                         (fleet.dbs["a"].scalar("SELECT version FROM stock_relay_schema_version"),))
    proc.wait_for_log(rf"database {fleet.name('b')}: the database's outbox schema version is \d+ again", timeout=30)
    fleet.wait_landed(["b"], 7)


SECRET_A = "shpss_multi_database_secret_a"
SECRET_B = "shpss_multi_database_secret_b"


def test_webhooks_go_to_the_database_named_in_the_url(fleet):
    keys = ["a", "b"]
    fleet.seed(keys)
    for k, secret in zip(keys, (SECRET_A, SECRET_B)):
        fleet.add(k)
        enable_orders(fleet.dbs[k].conn, fleet.channel[k], poll_seconds=3600, client_secret=secret)
    # Every database numbers its channels from 1: the id alone cannot say which database.
    assert fleet.channel["a"] == fleet.channel["b"]
    cid = fleet.channel["a"]
    sc = fleet.sidecar("--databases", ",".join(fleet.name(k) for k in keys), "--listen", "127.0.0.1:0")
    proc = sc.start()
    port = listen_port(proc)
    proc.wait_for_log(rf"databases: serving database {fleet.name('b')}\b")
    body = (FIXTURES / "shopify_webhook_orders_create.json").read_bytes()
    headers = {"X-Shopify-Topic": "orders/create", "X-Shopify-Webhook-Id": "wh-1",
               "X-Shopify-Hmac-Sha256": sign(body, SECRET_B)}
    status, answer = post(port, f"/webhooks/{fleet.name('b')}/{cid}", body, headers)
    assert status == 200 and answer["message"] == "stored", answer
    assert len(inbox_rows(fleet.dbs["b"].conn, cid)) == 1
    assert inbox_rows(fleet.dbs["a"].conn) == []
    # b's signature is not a's: the same channel id in database a refuses it.
    assert post(port, f"/webhooks/{fleet.name('a')}/{cid}", body, headers)[0] == 401
    # Without the database, or with one not served here: 404 saying what to do.
    status, answer = post(port, f"/webhooks/{cid}", body, headers)
    assert status == 404 and "/webhooks/<database>/<channel id>" in answer["message"], answer
    status, answer = post(port, f"/webhooks/{fleet.prefix}_nosuch/{cid}", body, headers)
    assert status == 404 and "no database" in answer["message"], answer
    assert inbox_rows(fleet.dbs["a"].conn) == [] and len(inbox_rows(fleet.dbs["b"].conn, cid)) == 1
    assert SECRET_A not in proc.log() and SECRET_B not in proc.log()


def test_bad_command_lines_for_several_databases_are_usage_errors(fleet, pg_cluster):
    sc = fleet.sidecar("--databases", "x,y", "--dsn", pg_cluster.dsn("postgres"), "--dsn", pg_cluster.dsn("other"))
    r = sc.cmd("status")
    assert r.returncode == 2 and "take one --dsn" in r.stderr, r.stderr
    sc = fleet.sidecar("--databases", f"{fleet.prefix}_x,{fleet.prefix}_y")
    r = sc.cmd("retry", "--failed")
    assert r.returncode == 2 and "name it with --database" in r.stderr, r.stderr
    sc = fleet.sidecar("--database-pattern", "^shop_(")
    r = sc.cmd("run", timeout=30)
    assert r.returncode == 2 and "--database-pattern" in r.stderr and "regular expression" in r.stderr, r.stderr


def test_one_shot_commands_walk_every_database_or_the_one_named(fleet):
    keys = ["a", "b"]
    fleet.seed(keys)
    for k in keys:
        fleet.add(k)
        fleet.enqueue(k, 9)
    sc = fleet.sidecar("--databases", ",".join(fleet.name(k) for k in keys))
    r = sc.cmd("drain", "--once")
    assert r.returncode == EXIT_OK, r.stdout + r.stderr
    assert r.stdout.count("drained rows=1 done=1") == 2, r.stdout
    fleet.wait_landed(keys, 9, timeout=5)
    r = sc.cmd("--database", fleet.name("b"), "status")
    assert r.returncode == EXIT_OK and f"database {fleet.name('b')}:" in r.stdout, r.stdout + r.stderr
    assert f"database {fleet.name('a')}:" not in r.stdout
    r = sc.cmd("--database", fleet.name("b"), "retry", "--failed")
    assert r.returncode == EXIT_OK and "re-queued 0 row(s)" in r.stdout, r.stdout + r.stderr
