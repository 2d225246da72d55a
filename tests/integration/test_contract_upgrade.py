"""The contract upgrades a v1 database in place (`stockrelayd init-schema`, or
the addon's module upgrade, apply the same idempotent SQL): rows survive, the
v2 trigger values and columns exist, and applying it again changes nothing."""
from __future__ import annotations

import contextlib
from pathlib import Path

import pytest

from harness.sidecar import Sidecar

pytestmark = pytest.mark.sidecar

V1_SQL = Path(__file__).parent / "data" / "stock_relay_schema_v1.sql"  # main's contract before v2


def test_a_v1_database_upgrades_in_place(pg_cluster, tmp_path):
    name = pg_cluster.create_database("v1", template=None)
    try:
        with contextlib.closing(pg_cluster.connect(name)) as conn, conn.cursor() as cur:
            cur.execute(V1_SQL.read_text())
            cur.execute("INSERT INTO stock_relay_channel (name, channel_type, base_url) VALUES ('c', 'shopify', "
                        "'https://s.example') RETURNING id")
            channel = cur.fetchone()[0]
            cur.execute("SELECT stock_relay_enqueue(ARRAY[%s], ARRAY[1], ARRAY['A'], ARRAY[''], ARRAY[3])", [channel])
        s = Sidecar(pg_cluster.dsn(name), tmp_path)
        for _ in range(2):  # idempotent
            r = s.init_schema()
            assert r.returncode == 0, r.stderr
        with contextlib.closing(pg_cluster.connect(name)) as conn, conn.cursor() as cur:
            cur.execute("SELECT version FROM stock_relay_schema_version")
            assert cur.fetchone() == (2,)
            cur.execute("SELECT sku, quantity, trigger, state FROM stock_relay_outbox")
            assert cur.fetchall() == [("A", 3, "quant", "pending")], "v1 rows survive"
            cur.execute("SELECT archived_products FROM stock_relay_channel")
            assert cur.fetchall() == [("zero",)], "existing channels publish 0 for archived products"
            for trigger in ("channel", "mapping", "product", "archive", "location", "bom"):
                cur.execute("SELECT stock_relay_enqueue(ARRAY[%s], ARRAY[2], ARRAY['B'], ARRAY[''], ARRAY[1], %s)",
                            [channel, trigger])
            cur.execute("SELECT trigger FROM stock_relay_outbox WHERE product_id = 2")
            assert cur.fetchall() == [("bom",)], "the newest trigger wins on the coalesced row"
            with pytest.raises(Exception, match="stock_relay_outbox_trigger_check"):
                cur.execute("SELECT stock_relay_enqueue(ARRAY[%s], ARRAY[3], ARRAY['C'], ARRAY[''], ARRAY[1], "
                            "'nonsense')", [channel])
    finally:
        pg_cluster.drop_database(name)
