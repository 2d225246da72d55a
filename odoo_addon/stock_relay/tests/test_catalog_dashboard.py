from odoo.tests import tagged

from .catalog_common import CatalogCase


@tagged("post_install", "-at_install", "stock_relay")
class TestCatalogDashboard(CatalogCase):
    """The dashboard and the statistics keep catalogue rows apart from stock rows."""

    def setUp(self):
        super().setUp()
        self.set_stock(self.variant("TS-Blue-S"), 4)
        self.tshirt.name = "Relay Tee"
        self.mug = self.env["product.template"].create(
            {"name": "Mug", "default_code": "SR-MUG", "is_storable": True, "type": "consu"})
        self.publish()
        cr = self.env.cr
        # Stock: pushed in 2 s. Catalogue: the T-shirt published in 30 s, the mug refused by the shop.
        cr.execute("UPDATE stock_relay_outbox SET state = 'done', done_at = enqueued_at + interval '2 seconds' "
                   "WHERE channel_id = %s AND kind = 'stock'", [self.channel.id])
        cr.execute("UPDATE stock_relay_outbox SET state = 'done', done_at = enqueued_at + interval '30 seconds' "
                   "WHERE channel_id = %s AND kind = 'product' AND product_id = %s", [self.channel.id, self.tshirt.id])
        cr.execute("UPDATE stock_relay_outbox SET state = 'failed', error_code = 'duplicate_handle', "
                   "last_error = 'handle relay-mug is taken by prod_01 (not made by Odoo)', attempts = 1 "
                   "WHERE channel_id = %s AND kind = 'product' AND product_id = %s", [self.channel.id, self.mug.id])
        cr.execute("SELECT count(*) FROM stock_relay_outbox WHERE channel_id = %s AND kind = 'stock'",
                   [self.channel.id])
        self.stock_rows = cr.fetchone()[0]  # the T-shirt's and the new mug's (0) stock
        self.assertGreaterEqual(self.stock_rows, 1)
        self.channel.invalidate_recordset()

    def test_the_card_shows_stock_and_catalogue_apart(self):
        c = self.channel
        self.assertEqual((c.stock_pending_count, c.stock_failed_count, c.stock_done_24h), (0, 0, self.stock_rows))
        self.assertEqual((c.catalog_pending_count, c.catalog_failed_count, c.catalog_done_24h), (0, 1, 1))
        self.assertEqual((c.stock_latency_24h, c.catalog_latency_24h), ("2.0 s", "30 s"))
        arch = self.env["stock.relay.channel"].get_views([(self.env.ref(
            "stock_relay.stock_relay_channel_view_dashboard").id, "kanban")])["views"]["kanban"]["arch"]
        self.assertIn("action_view_catalog_failures", arch)

    def test_catalogue_failures_open_with_their_error_and_retry(self):
        action = self.channel.action_view_catalog_failures()
        failures = self.env["stock.relay.outbox"].search(action["domain"])
        self.assertEqual(failures.catalog_template_id, self.mug)
        self.assertEqual(failures.error_code, "duplicate_handle")
        self.assertIn("prod_01", failures.last_error)
        arch = self.env["stock.relay.outbox"].get_views([(action["views"][0][0], "list")])["views"]["list"]["arch"]
        self.assertIn("action_retry", arch)
        self.assertIn("last_error", arch)
        failures.action_retry()
        rows = self.catalog_rows(state="pending")
        self.assertEqual([(r["kind"], r["template_id"], r["trigger"]) for r in rows],
                         [("product", self.mug.id, "manual_retry")], "Retry sends the mug's document again")
        self.channel.invalidate_recordset()
        self.assertEqual((self.channel.catalog_failed_count, self.channel.catalog_pending_count), (0, 1))

    def test_statistics_group_by_flow_and_name_the_template(self):
        Stats = self.env["stock.relay.statistics"]
        groups = Stats.read_group([("channel_id", "=", self.channel.id)], ["success:avg"], ["flow"])
        rates = {g["flow"]: (g["flow_count"], g["success"]) for g in groups}
        self.assertEqual(rates, {"stock": (self.stock_rows, 100.0), "catalogue": (2, 50.0)})
        failed = Stats.search([("channel_id", "=", self.channel.id), ("flow", "=", "catalogue"),
                               ("state", "=", "failed")])
        self.assertEqual((failed.template_id, failed.product_id.id), (self.mug, False),
                         "a catalogue row names its template, never a variant that shares its id")
