import stockrelay_native

from odoo.tests import TransactionCase, tagged

from .. import native


@tagged("post_install", "-at_install", "stock_relay")
class TestContract(TransactionCase):
    """The ORM models over the contract tables agree with the SQL, column for column."""

    def columns(self, table):
        self.env.cr.execute(
            "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s", [table])
        return dict(self.env.cr.fetchall())

    def stored_fields(self, model):
        return {name: f for name, f in self.env[model]._fields.items() if f.store and f.column_type}

    def assert_model_matches_table(self, model, table):
        columns = self.columns(table)
        self.assertTrue(columns, f"table {table} is missing")
        fields = self.stored_fields(model)
        self.assertEqual(set(fields), set(columns),
                         f"{model} fields vs {table} columns: only in ORM {set(fields) - set(columns)}, "
                         f"only in SQL {set(columns) - set(fields)}")
        compatible = {
            "char": {"character varying", "text"}, "text": {"text", "character varying"},
            "selection": {"character varying"}, "boolean": {"boolean"}, "integer": {"integer", "bigint"},
            "many2one": {"integer"}, "float": {"numeric", "double precision"}, "json": {"jsonb"},
            "datetime": {"timestamp without time zone"},
        }
        for name, field in fields.items():
            if name == "id":
                continue
            self.assertIn(columns[name], compatible[field.type], f"{model}.{name}: {field.type} vs {columns[name]}")

    def test_channel_model_matches_contract(self):
        self.assert_model_matches_table("stock.relay.channel", "stock_relay_channel")

    def test_outbox_model_matches_contract(self):
        self.assert_model_matches_table("stock.relay.outbox", "stock_relay_outbox")

    def test_heartbeat_model_matches_contract(self):
        self.assert_model_matches_table("stock.relay.daemon", "stock_relay_daemon")

    def test_selections_match_check_constraints(self):
        self.env.cr.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'stock_relay_outbox'::regclass "
            "AND contype = 'c'")
        checks = " ".join(row[0] for row in self.env.cr.fetchall())
        Outbox = self.env["stock.relay.outbox"]
        for fname in ("state", "trigger", "kind"):
            for value, _label in Outbox._fields[fname].selection:
                self.assertIn(f"'{value}'", checks, f"outbox.{fname} value {value!r} is not allowed by the SQL")
        self.env.cr.execute(
            "SELECT pg_get_constraintdef(oid) FROM pg_constraint WHERE conrelid = 'stock_relay_channel'::regclass "
            "AND contype = 'c'")
        checks = " ".join(row[0] for row in self.env.cr.fetchall())
        for value, _label in self.env["stock.relay.channel"]._fields["channel_type"].selection:
            self.assertIn(f"'{value}'", checks)

    def test_schema_version_is_the_native_one(self):
        self.env.cr.execute("SELECT version FROM stock_relay_schema_version")
        self.assertEqual(self.env.cr.fetchone()[0], stockrelay_native.SCHEMA_VERSION)
        self.assertEqual(stockrelay_native.SCHEMA_VERSION, native.CONTRACT_VERSION,
                         "the addon's models speak the contract the native module applies")

    def test_orm_create_respects_sql_constraints(self):
        # Empty batch size / cap are NULL (the contract forbids 0), empty credentials are {}.
        channel = self.env["stock.relay.channel"].create(
            {"name": "c", "channel_type": "woocommerce", "base_url": "https://shop.example"})
        self.env.flush_all()
        self.env.cr.execute(
            "SELECT batch_size, quantity_cap, credentials, settings, max_attempts, timeout_ms, tls_verify "
            "FROM stock_relay_channel WHERE id = %s", [channel.id])
        self.assertEqual(self.env.cr.fetchone(), (None, None, {}, {}, 10, 15000, True))
        channel.write({"batch_size": 50, "quantity_cap": 7})
        channel.write({"batch_size": 0, "quantity_cap": False})
        self.env.flush_all()
        self.env.cr.execute("SELECT batch_size, quantity_cap FROM stock_relay_channel WHERE id = %s", [channel.id])
        self.assertEqual(self.env.cr.fetchone(), (None, None))

    # contract v5 [catalogue]
    def test_catalog_preview_model_matches_contract(self):
        self.assert_model_matches_table("stock.relay.catalog.preview", "stock_relay_catalog_preview")

    def test_catalog_map_model_matches_contract(self):
        # The model reads the table through a view that adds a row number as id (the table has a composite key).
        self.assertEqual(set(self.stored_fields("stock.relay.catalog.map")) - {"id"},
                         set(self.columns("stock_relay_catalog_map")))
        self.assert_model_matches_table("stock.relay.catalog.map", "stock_relay_catalog_map_view")
