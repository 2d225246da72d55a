"""Each released contract upgrades in place to the current one (v1 -> v2 below; v2 -> v3, v3 -> v4, v4 -> v5 and v5 -> v6 at the end) (`stockrelayd init-schema`, or the
addon's module upgrade, apply the same idempotent SQL): rows survive, v1
failures that a newer row made moot are closed, queued resync rows become
bulk, and the v2 rules hold for the rows already there. Applying it twice
changes nothing. tests/harness/sql/stock_relay_schema_v1.sql is the v1
contract as released."""
from __future__ import annotations

import contextlib
import pathlib

import psycopg2
import pytest

from harness import outbox
from harness.sidecar import Sidecar

pytestmark = pytest.mark.sidecar

SQL_DIR = pathlib.Path(__file__).resolve().parents[1] / "harness" / "sql"
V1_SQL = SQL_DIR / "stock_relay_schema_v1.sql"
V2_SQL = SQL_DIR / "stock_relay_schema_v2.sql"
V3_SQL = SQL_DIR / "stock_relay_schema_v3.sql"
V4_SQL = SQL_DIR / "stock_relay_schema_v4.sql"
V5_SQL = SQL_DIR / "stock_relay_schema_v5.sql"
CURRENT = 6


@pytest.fixture(params=[V1_SQL])
def v1_db(request, pg_cluster, tmp_path):
    """(dsn, connect, upgrade): a database holding a released contract (v1
    unless parametrized); upgrade() runs `stockrelayd init-schema` twice and
    checks it reports the current version."""
    name = pg_cluster.create_database("v1", template=None)
    with contextlib.closing(pg_cluster.connect(name)) as conn, conn.cursor() as cur:
        cur.execute(request.param.read_text())

    def connect():
        return contextlib.closing(pg_cluster.connect(name))

    def upgrade():
        s = Sidecar(pg_cluster.dsn(name), tmp_path)
        for _ in range(2):  # idempotent
            r = s.init_schema()
            assert r.returncode == 0 and f"version {CURRENT}" in r.stdout, r.stderr
        with connect() as conn, conn.cursor() as cur:
            cur.execute("SELECT version FROM stock_relay_schema_version")
            assert cur.fetchone() == (CURRENT,)

    try:
        yield pg_cluster.dsn(name), connect, upgrade
    finally:
        pg_cluster.drop_database(name)


def _channel(cur, url="https://a.example", credentials="{}"):
    cur.execute("INSERT INTO stock_relay_channel (name, channel_type, base_url, credentials) "
                "VALUES ('Shop', 'shopify', %s, %s) RETURNING id", (url, credentials))
    return cur.fetchone()[0]


def test_rows_survive_and_the_new_triggers_and_settings_exist(v1_db):
    dsn, connect, upgrade = v1_db
    with connect() as conn, conn.cursor() as cur:
        channel = _channel(cur)
        cur.execute("SELECT stock_relay_enqueue(ARRAY[%s], ARRAY[1], ARRAY['A'], ARRAY[''], ARRAY[3])", [channel])
    upgrade()
    with connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT sku, quantity, trigger, state FROM stock_relay_outbox")
        assert cur.fetchall() == [("A", 3, "quant", "pending")], "v1 rows survive"
        cur.execute("SELECT archived_products, sku_cache_max_age_seconds FROM stock_relay_channel")
        assert cur.fetchall() == [("zero", 3600)], "existing channels get the documented defaults"
        for trigger in ("channel", "mapping", "product", "archive", "location", "bom"):
            cur.execute("SELECT stock_relay_enqueue(ARRAY[%s], ARRAY[2], ARRAY['B'], ARRAY[''], ARRAY[1], %s)",
                        [channel, trigger])
        cur.execute("SELECT trigger FROM stock_relay_outbox WHERE product_id = 2")
        assert cur.fetchall() == [("bom",)], "the newest trigger wins on the coalesced row"
        with pytest.raises(Exception, match="stock_relay_outbox_trigger_check"):
            cur.execute("SELECT stock_relay_enqueue(ARRAY[%s], ARRAY[3], ARRAY['C'], ARRAY[''], ARRAY[1], "
                        "'nonsense')", [channel])


def test_moot_v1_failures_close_and_credentials_follow_the_url(v1_db):
    dsn, connect, upgrade = v1_db
    with connect() as conn, conn.cursor() as cur:
        c = _channel(cur, credentials='{"access_token": "t"}')
        # Key 1: a v1 failure followed by a landed push (moot); key 2: a standing failure.
        cur.execute("INSERT INTO stock_relay_outbox (channel_id, product_id, sku, location_key, quantity, state) "
                    "VALUES (%s, 1, 'A', '1', 5, 'failed'), (%s, 1, 'A', '1', 6, 'done'), "
                    "(%s, 2, 'B', '1', 7, 'failed')", (c, c, c))
    upgrade()
    with connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT sku, quantity::int, state FROM stock_relay_outbox ORDER BY id")
        assert cur.fetchall() == [("A", 5, "superseded"), ("A", 6, "done"), ("B", 7, "failed")]
        cur.execute("UPDATE stock_relay_channel SET base_url = 'https://b.example' WHERE id = %s", (c,))
        cur.execute("SELECT credentials::text FROM stock_relay_channel WHERE id = %s", (c,))
        assert cur.fetchone()[0] == "{}"
    outbox.enqueue(dsn, [(c, 2, "B", "1", 8)])
    with connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT sku, quantity::int, state FROM stock_relay_outbox WHERE product_id = 2 ORDER BY id")
        assert cur.fetchall() == [("B", 7, "superseded"), ("B", 8, "pending")]


def test_queued_resync_rows_become_bulk(v1_db):
    dsn, connect, upgrade = v1_db
    with connect() as conn, conn.cursor() as cur:
        cid = _channel(cur, url="https://127.0.0.1:1")
    outbox.enqueue(dsn, [(cid, 1, "OLD-1", "loc", 3)], trigger="full_sync")
    outbox.enqueue(dsn, [(cid, 2, "OLD-2", "loc", 3)], trigger="quant")
    upgrade()
    with connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT sku, priority FROM stock_relay_outbox ORDER BY sku")
        assert cur.fetchall() == [("OLD-1", 0), ("OLD-2", 1)]


@pytest.mark.parametrize("v1_db", [V2_SQL], indirect=True)
def test_v2_database_gains_the_closed_loop_tables_and_keeps_its_rows(v1_db):
    """v3 adds the reconcile, snapshot, inbox and order-cursor tables and the
    'reconcile' trigger to a v2 database in place; queued rows survive."""
    dsn, connect, upgrade = v1_db
    with connect() as conn, conn.cursor() as cur:
        channel = _channel(cur)
        cur.execute("SELECT stock_relay_enqueue(ARRAY[%s], ARRAY[1], ARRAY['A'], ARRAY[''], ARRAY[3])", [channel])
    upgrade()
    with connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT sku, quantity, state FROM stock_relay_outbox")
        assert cur.fetchall() == [("A", 3, "pending")]
        cur.execute("SELECT stock_relay_enqueue(ARRAY[%s], ARRAY[2], ARRAY['B'], ARRAY[''], ARRAY[1], 'reconcile')",
                    [channel])
        cur.execute("SELECT priority FROM stock_relay_outbox WHERE sku = 'B'")
        assert cur.fetchone() == (0,)
        cur.execute("INSERT INTO stock_relay_reconcile (channel_id) VALUES (%s) RETURNING state", [channel])
        assert cur.fetchone() == ("pending",)
        cur.execute("SELECT orders_enabled, order_poll_seconds, reconcile_auto_heal FROM stock_relay_channel")
        assert cur.fetchone() == (False, 120, False)
        cur.execute("SELECT to_regclass('stock_relay_inbox') IS NOT NULL, to_regclass('stock_relay_snapshot') IS NOT NULL,"
                    " to_regclass('stock_relay_order_cursor') IS NOT NULL")
        assert cur.fetchone() == (True, True, True)
        # No Odoo tables here: waking Odoo is a harmless no-op.
        cur.execute("SELECT stock_relay_wake_odoo('stock_relay.ir_cron_stock_relay_reconcile')")
        assert cur.fetchone() == (False,)


@pytest.mark.parametrize("v1_db", [V3_SQL], indirect=True)
def test_v3_database_gains_the_daemon_heartbeat_and_keeps_its_rows(v1_db):
    """v4 adds the daemon heartbeat table to a v3 database in place; queued rows and inbox events survive."""
    dsn, connect, upgrade = v1_db
    with connect() as conn, conn.cursor() as cur:
        channel = _channel(cur)
        cur.execute("SELECT stock_relay_enqueue(ARRAY[%s], ARRAY[1], ARRAY['A'], ARRAY[''], ARRAY[3])", [channel])
        cur.execute("INSERT INTO stock_relay_inbox (channel_id, shop_order_id, topic, event_key, payload, received_via)"
                    " VALUES (%s, '1', 'order_created', '1@x', '{}', 'poll')", [channel])
    upgrade()
    with connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT sku, quantity, state FROM stock_relay_outbox")
        assert cur.fetchall() == [("A", 3, "pending")]
        cur.execute("SELECT event_key, state FROM stock_relay_inbox")
        assert cur.fetchall() == [("1@x", "pending")]
        cur.execute("INSERT INTO stock_relay_daemon (host, pid) VALUES ('h', 42) RETURNING stopped_at, last_seen IS NOT NULL")
        assert cur.fetchone() == (None, True)


@pytest.mark.parametrize("v1_db", [V4_SQL], indirect=True)
def test_v4_database_upgrades_to_v5_and_keeps_its_rows(v1_db):
    """v5 upgrades a v4 database in place: queued rows, inbox events and the sales-aware ledger survive."""
    dsn, connect, upgrade = v1_db
    with connect() as conn, conn.cursor() as cur:
        channel = _channel(cur)
        cur.execute("SELECT stock_relay_enqueue(ARRAY[%s], ARRAY[1], ARRAY['A'], ARRAY[''], ARRAY[3])", [channel])
        cur.execute("INSERT INTO stock_relay_inbox (channel_id, shop_order_id, topic, event_key, payload, received_via)"
                    " VALUES (%s, '1', 'order_created', '1@x', '{}', 'poll')", [channel])
        cur.execute("INSERT INTO stock_relay_last_set (channel_id, sku, location_key, remote_id, quantity, odoo_quantity)"
                    " VALUES (%s, 'A', '', 'r1', 3, 3)", [channel])
    upgrade()
    with connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT sku, quantity, state FROM stock_relay_outbox")
        assert cur.fetchall() == [("A", 3, "pending")]
        cur.execute("SELECT event_key, state FROM stock_relay_inbox")
        assert cur.fetchall() == [("1@x", "pending")]
        cur.execute("SELECT sku, remote_id, quantity FROM stock_relay_last_set")
        assert cur.fetchall() == [("A", "r1", 3)]


@pytest.mark.parametrize("v1_db", [V4_SQL], indirect=True)
def test_v4_database_gains_the_catalogue_and_a_document_coalesces_like_stock(v1_db):
    """v5 [catalogue] on a v4 database: channels keep today's stock-only behaviour (catalogue off, scope 'all');
    a newer document for a template replaces the pending one, and its clock ticks once per enqueue."""
    dsn, connect, upgrade = v1_db
    with connect() as conn, conn.cursor() as cur:
        channel = _channel(cur)
    upgrade()
    with connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT catalog_enabled, publish_scope FROM stock_relay_channel")
        assert cur.fetchall() == [(False, "all")]
        for name in ("Shirt", "Shirt v2"):
            cur.execute("SELECT stock_relay_enqueue_documents('product', ARRAY[%s], ARRAY[42], ARRAY['x.t42'],"
                        " ARRAY[%s::jsonb])", [channel, '{"format": 1, "name": "%s"}' % name])
            assert cur.fetchone() == (1,)
        cur.execute("SELECT kind, product_id, sku, payload->>'name', state, priority FROM stock_relay_outbox")
        assert cur.fetchall() == [("product", 42, "x.t42", "Shirt v2", "pending", 1)]
        cur.execute("SELECT ticks FROM stock_relay_catalog_clock WHERE kind = 'product' AND template_id = 42")
        assert cur.fetchone() == (2,)
        cur.execute("SELECT stock_relay_enqueue_documents('price', ARRAY[%s], ARRAY[42], ARRAY['x.t42'],"
                    " ARRAY['{}'::jsonb], 'catalog_sync')", [channel])
        cur.execute("SELECT kind, priority FROM stock_relay_outbox ORDER BY id")
        assert cur.fetchall() == [("product", 1), ("price", 0)]


@pytest.mark.parametrize("v1_db", [V4_SQL], indirect=True)
def test_v4_database_upgrades_to_v5_with_the_sellable_policy(v1_db):
    """[sellable-policy]: after the upgrade Odoo's commit path can value stock in SQL."""
    dsn, connect, upgrade = v1_db
    upgrade()
    with connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT stock_relay_sellable(10, 2, 3, NULL), stock_relay_sellable(500, 0, 0, 100),"
                    " stock_relay_kit_sellable(ARRAY[10, 9]::float8[], ARRAY[0, 0]::float8[], ARRAY[4, 2]::float8[])")
        assert cur.fetchone() == (5, 100, 2)


@pytest.mark.parametrize("v1_db", [V4_SQL], indirect=True)
def test_v4_database_gains_the_retry_of_failed_catalogue_rows(v1_db):
    """[catalogue] stock_relay_retry_failed_documents: the newest failed document of a key is
    re-queued with its stored payload (trigger manual_retry), older failures are closed, a key with
    a newer row is only closed, and stock rows are left to stock_relay_retry_failed."""
    dsn, connect, upgrade = v1_db
    with connect() as conn, conn.cursor() as cur:
        channel = _channel(cur)
    upgrade()
    with connect() as conn, conn.cursor() as cur:
        def doc(template, name):
            cur.execute("SELECT stock_relay_enqueue_documents('product', ARRAY[%s], ARRAY[%s], ARRAY['x'],"
                        " ARRAY[%s::jsonb])", [channel, template, '{"format": 1, "name": "%s"}' % name])
        doc(1, "old")
        cur.execute("UPDATE stock_relay_outbox SET state = 'failed', error_code = 'rejected'")
        doc(2, "two")
        cur.execute("UPDATE stock_relay_outbox SET state = 'failed', error_code = 'transient' WHERE product_id = 2")
        doc(3, "three failed")
        cur.execute("UPDATE stock_relay_outbox SET state = 'failed' WHERE product_id = 3")
        doc(3, "three newer")  # supersedes the failed row already: nothing to retry for template 3
        cur.execute("INSERT INTO stock_relay_outbox (channel_id, product_id, sku, quantity, state) "
                    "VALUES (%s, 9, 'S', 1, 'failed')", [channel])
        cur.execute("SELECT requeued, closed FROM stock_relay_retry_failed_documents(%s, NULL, ARRAY['rejected'])",
                    [channel])
        assert cur.fetchone() == (1, 1)
        cur.execute("SELECT product_id, payload->>'name', state, trigger FROM stock_relay_outbox "
                    "WHERE kind = 'product' AND state <> 'superseded' ORDER BY product_id")
        assert cur.fetchall() == [(1, "old", "pending", "manual_retry"), (2, "two", "failed", "catalog"),
                                  (3, "three newer", "pending", "catalog")]
        cur.execute("SELECT requeued, closed FROM stock_relay_retry_failed_documents()")
        assert cur.fetchone() == (1, 1)
        cur.execute("SELECT state FROM stock_relay_outbox WHERE kind = 'stock'")
        assert cur.fetchall() == [("failed",)]


@pytest.mark.parametrize("v1_db", [V5_SQL], indirect=True)
def test_v5_database_upgrades_to_v6_and_keeps_its_rows_and_documents(v1_db):
    """v6 upgrades a v5 database in place: queued stock rows, catalogue documents with their
    payload, the shop-id map and the channel's publication scope survive."""
    dsn, connect, upgrade = v1_db
    with connect() as conn, conn.cursor() as cur:
        channel = _channel(cur)
        cur.execute("UPDATE stock_relay_channel SET catalog_enabled = true, publish_scope = 'flagged'")
        cur.execute("SELECT stock_relay_enqueue(ARRAY[%s], ARRAY[1], ARRAY['A'], ARRAY[''], ARRAY[3])", [channel])
        cur.execute("SELECT stock_relay_enqueue_documents('product', ARRAY[%s], ARRAY[42], ARRAY['x.t42'],"
                    " ARRAY['{\"format\": 1, \"name\": \"Shirt\"}'::jsonb])", [channel])
        cur.execute("INSERT INTO stock_relay_catalog_map (channel_id, external_id, object, template_id, remote_id)"
                    " VALUES (%s, 'x.t42', 'product', 42, 'prod_1')", [channel])
    upgrade()
    with connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT kind, sku, quantity, payload->>'name', state FROM stock_relay_outbox ORDER BY id")
        assert cur.fetchall() == [("stock", "A", 3, None, "pending"), ("product", "x.t42", 0, "Shirt", "pending")]
        cur.execute("SELECT catalog_enabled, publish_scope FROM stock_relay_channel")
        assert cur.fetchall() == [(True, "flagged")]
        cur.execute("SELECT external_id, remote_id FROM stock_relay_catalog_map")
        assert cur.fetchall() == [("x.t42", "prod_1")]


@pytest.mark.parametrize("v1_db", [V5_SQL], indirect=True)
def test_v5_database_gains_batches_in_flight_unset_and_bounded(v1_db):
    """v6 [in-flight]: an upgraded channel has batches_in_flight NULL (the daemon's default for its
    shop type), re-applying the contract keeps a value set in between, and 0 or 17 are refused."""
    dsn, connect, upgrade = v1_db
    with connect() as conn, conn.cursor() as cur:
        channel = _channel(cur)
    upgrade()
    with connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT batches_in_flight FROM stock_relay_channel")
        assert cur.fetchall() == [(None,)]
        cur.execute("UPDATE stock_relay_channel SET batches_in_flight = 4 WHERE id = %s", [channel])
    upgrade()
    with connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT batches_in_flight FROM stock_relay_channel")
        assert cur.fetchall() == [(4,)]
        for bad in (0, 17):
            with pytest.raises(psycopg2.errors.CheckViolation):
                cur.execute("UPDATE stock_relay_channel SET batches_in_flight = %s", [bad])
            conn.rollback()
def test_v5_database_gains_the_deferred_capture_and_keeps_its_rows(v1_db):
    """v6 [commit-clock]: a v5 database gains stock_relay_recheck and stock_relay_enqueue_or_defer;
    its queued rows stay, and the new function writes (coalesces) like stock_relay_enqueue when
    nothing conflicts."""
    dsn, connect, upgrade = v1_db
    with connect() as conn, conn.cursor() as cur:
        channel = _channel(cur)
        cur.execute("SELECT stock_relay_enqueue(ARRAY[%s], ARRAY[1], ARRAY['A'], ARRAY[''], ARRAY[3])", [channel])
    upgrade()
    with connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT stock_relay_enqueue_or_defer(ARRAY[%s], ARRAY[1], ARRAY['A'], ARRAY[''], ARRAY[4])",
                    [channel])
        assert cur.fetchone() == (1,)
        cur.execute("SELECT sku, quantity, state FROM stock_relay_outbox ORDER BY id")
        assert cur.fetchall() == [("A", 4, "pending")]
        cur.execute("SELECT count(*) FROM stock_relay_recheck")
        assert cur.fetchone() == (0,)
