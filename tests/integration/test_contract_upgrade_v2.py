"""Contract v2 upgrades a v1 database in place (`stockrelayd init-schema`, or the
addon's upgrade): existing rows keep working, v1 failures that a newer row made
moot are closed, and the new rules hold for the rows already there.
tests/harness/sql/stock_relay_schema_v1.sql is the v1 contract as released."""
from __future__ import annotations

import pathlib

from harness import outbox
from harness.sidecar import Sidecar

V1 = pathlib.Path(__file__).resolve().parents[1] / "harness" / "sql" / "stock_relay_schema_v1.sql"


def test_v1_database_upgrades_in_place(pg_cluster, tmp_path):
    name = pg_cluster.create_database("v1", template=None)
    try:
        with pg_cluster.connect(name) as conn, conn.cursor() as cur:
            cur.execute(V1.read_text())
            cur.execute("INSERT INTO stock_relay_channel (name, channel_type, base_url, credentials) "
                        "VALUES ('Shop', 'shopify', 'https://a.example', '{\"access_token\": \"t\"}') RETURNING id")
            c = cur.fetchone()[0]
            # Key 1: a v1 failure followed by a landed push (moot); key 2: a standing failure.
            cur.execute("INSERT INTO stock_relay_outbox (channel_id, product_id, sku, location_key, quantity, state) "
                        "VALUES (%s, 1, 'A', '1', 5, 'failed'), (%s, 1, 'A', '1', 6, 'done'), "
                        "(%s, 2, 'B', '1', 7, 'failed')", (c, c, c))
        s = Sidecar(pg_cluster.dsn(name), tmp_path)
        for _ in range(2):  # idempotent
            r = s.init_schema()
            assert r.returncode == 0, r.stderr
        with pg_cluster.connect(name) as conn, conn.cursor() as cur:
            cur.execute("SELECT version FROM stock_relay_schema_version")
            assert cur.fetchone()[0] == 2
            cur.execute("SELECT sku, quantity::int, state FROM stock_relay_outbox ORDER BY id")
            assert cur.fetchall() == [("A", 5, "superseded"), ("A", 6, "done"), ("B", 7, "failed")]
            cur.execute("UPDATE stock_relay_channel SET base_url = 'https://b.example' WHERE id = %s", (c,))
            cur.execute("SELECT credentials::text FROM stock_relay_channel WHERE id = %s", (c,))
            assert cur.fetchone()[0] == "{}"
        outbox.enqueue(pg_cluster.dsn(name), [(c, 2, "B", "1", 8)])
        with pg_cluster.connect(name) as conn, conn.cursor() as cur:
            cur.execute("SELECT sku, quantity::int, state FROM stock_relay_outbox WHERE product_id = 2 ORDER BY id")
            assert cur.fetchall() == [("B", 7, "superseded"), ("B", 8, "pending")]
    finally:
        pg_cluster.drop_database(name)
