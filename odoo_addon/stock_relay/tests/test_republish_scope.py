from odoo.tests import new_test_user, tagged

from .common import StockRelayCase

KEY = "gid://shopify/Location/1"


@tagged("post_install", "-at_install", "stock_relay")
class TestRepublishCompanies(StockRelayCase):
    """A company-bound channel publishes its company's products and shared ones,
    whoever presses the button; the log follows company rules."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_a = cls.env.company
        cls.company_b = cls.env["res.company"].create({"name": "Relay Company B"})
        cls.product_a = cls.make_product("SR-A", company_id=cls.company_a.id)
        cls.product_b = cls.make_product("SR-B", company_id=cls.company_b.id)
        cls.channel.company_id = cls.company_a
        both = [(6, 0, (cls.company_a | cls.company_b).ids)]
        cls.manager_ab = new_test_user(cls.env, "sr_mc_ab", groups="stock_relay.group_stock_relay_manager",
                                       company_id=cls.company_a.id, company_ids=both)
        cls.user_a = new_test_user(cls.env, "sr_mc_a", groups="stock.group_stock_user",
                                   company_id=cls.company_a.id, company_ids=[(6, 0, cls.company_a.ids)])
        cls.publish_rows()

    def resync_skus(self, user, companies):
        self.clear_outbox()
        self.channel.with_user(user).with_context(allowed_company_ids=companies.ids).action_resync_all()
        return {r["sku"] for r in self.outbox_rows(channel_id=self.channel.id)}

    def test_company_channel_publishes_its_company_and_shared_products_only(self):
        skus = self.resync_skus(self.manager_ab, self.company_a | self.company_b)
        self.assertTrue({"SR-A", "SR-001"} <= skus, skus)
        self.assertNotIn("SR-B", skus, "company B's product is not sold by company A's shop")

    def test_resync_all_covers_products_the_clicking_user_does_not_see(self):
        self.channel.company_id = False  # a channel for every company
        skus = self.resync_skus(self.manager_ab, self.company_a)
        self.assertTrue({"SR-A", "SR-B", "SR-001"} <= skus, skus)

    def test_channel_change_republishes_within_its_company(self):
        self.clear_outbox()
        self.channel.safety_buffer = 1
        skus = {r["sku"] for r in self.publish_own()}
        self.assertTrue({"SR-A", "SR-001"} <= skus, skus)
        self.assertNotIn("SR-B", skus)

    def test_log_and_report_follow_company_rules(self):
        self.clear_outbox()
        warehouse_b = self.env["stock.warehouse"].search([("company_id", "=", self.company_b.id)], limit=1)
        channel_b = self.env["stock.relay.channel"].create({
            "name": "Shop B", "channel_type": "shopify", "base_url": "https://127.0.0.1:9/",
            "company_id": self.company_b.id,
            "location_line_ids": [(0, 0, {"location_key": "b", "location_ids": [(6, 0, warehouse_b.lot_stock_id.ids)]})],
        })
        self.set_stock(self.product_b.with_company(self.company_b), 3, location=warehouse_b.lot_stock_id)
        self.set_stock(self.product_a, 2)
        rows = self.publish_rows()
        self.assertIn((channel_b.id, "SR-B", 3), [(r["channel_id"], r["sku"], r["quantity"]) for r in rows])
        self.env.cr.execute("UPDATE stock_relay_outbox SET state = 'failed', error_code = 'sku_not_found'")
        ours = [("channel_id", "in", (self.channel | channel_b).ids)]  # the database may hold other channels
        log = self.env["stock.relay.outbox"].with_user(self.user_a).search(ours)
        self.assertEqual(set(log.mapped("sku")), {"SR-A"}, "company B's sync log is not shown in company A")
        report = self.env["stock.relay.unmatched"].with_user(self.user_a).search(ours)
        self.assertNotIn(channel_b, report.channel_id)
        self.assertNotIn(self.product_b, report.product_id)
        self.assertIn(self.product_a, report.product_id)


@tagged("post_install", "-at_install", "stock_relay")
class TestRepublishJob(StockRelayCase):
    """A change that touches many products is queued in chunks by a cron job,
    one transaction per chunk, with progress on the channel form."""

    def test_large_change_is_queued_in_chunks_with_progress(self):
        self.env["ir.config_parameter"].sudo().set_param("stock_relay.republish_inline_limit", 2)
        for i in range(4):
            self.set_stock(self.make_product(f"SR-BULK-{i}"), 10 + i)
        self.set_stock(self.product, 9)
        self.publish()
        self.clear_outbox()
        expected = self.channel._relay_product_ids()
        self.assertGreaterEqual(len(expected), 5)
        Job = self.env["stock.relay.republish.job"]
        cron = self.env.ref("stock_relay.ir_cron_republish")
        triggers_before = self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)])

        self.channel.safety_buffer = 1
        self.assertEqual(self.publish_own(), [], "the user's transaction does not write the whole catalogue")
        self.assertEqual(Job.search_count([("channel_id", "=", self.channel.id)]), 1)
        self.assertEqual(self.env["ir.cron.trigger"].search_count([("cron_id", "=", cron.id)]), triggers_before + 1,
                         "the cron is triggered at once")
        self.assertEqual(self.channel.republish_status, f"0 of {len(expected)} products queued")

        seen = []
        for _chunk in range(10):
            if not Job.search_count([]):
                break
            Job._cron_run()
            rows = self.publish_own()
            self.clear_outbox()
            self.assertLessEqual(len({r["product_id"] for r in rows}), 2, "one chunk per transaction")
            seen += [r for r in rows if r["trigger"] == "channel"]
            self.channel.invalidate_recordset(["republish_status", "republish_progress"])
            if Job.search_count([]):
                self.assertEqual(self.channel.republish_status, f"{len(seen)} of {len(expected)} products queued")
                self.assertGreater(self.channel.republish_progress, 0)
        self.assertFalse(Job.search_count([]), "the job finishes")
        self.assertFalse(self.channel.republish_status)
        self.assertEqual(sorted(r["product_id"] for r in seen), sorted(expected), "every product, once")
        by_sku = {r["sku"]: r["quantity"] for r in seen}
        self.assertEqual([by_sku[f"SR-BULK-{i}"] for i in range(4)], [9, 10, 11, 12], "with the new buffer")
        self.assertEqual(by_sku["SR-001"], 8)

    def test_small_change_is_written_inline(self):
        self.env["ir.config_parameter"].sudo().set_param("stock_relay.republish_inline_limit", 1000)
        self.channel.safety_buffer = 1
        self.assertIn(self.product.id, [r["product_id"] for r in self.publish_own()])
        self.assertFalse(self.env["stock.relay.republish.job"].search_count([]))

    def test_large_location_change_goes_through_the_job_too(self):
        self.env["ir.config_parameter"].sudo().set_param("stock_relay.republish_inline_limit", 1)
        room = self.env["stock.location"].create({"name": "Back room", "usage": "internal",
                                                  "location_id": self.warehouse.view_location_id.id})
        bulk = [self.make_product(f"SR-ROOM-{i}") for i in range(2)]
        for i, product in enumerate(bulk):
            self.set_stock(product, 5 + i, location=room)
        self.publish()
        self.clear_outbox()
        room.location_id = self.stock  # now under the mapped WH/Stock: both products sell more
        self.assertEqual(self.publish_own(), [])
        job = self.env["stock.relay.republish.job"].search([("channel_id", "=", self.channel.id)])
        self.assertEqual((job.trigger, sorted(job.product_ids)), ("location", sorted(p.id for p in bulk)))
        seen = []
        while self.env["stock.relay.republish.job"].search_count([]):
            self.env["stock.relay.republish.job"]._cron_run()
            seen += [(r["sku"], r["quantity"], r["trigger"]) for r in self.publish_own()]
            self.clear_outbox()
        self.assertEqual(sorted(seen), [("SR-ROOM-0", 5, "location"), ("SR-ROOM-1", 6, "location")])

    def test_mass_archive_goes_through_the_job(self):
        bulk = [self.make_product(f"SR-OLD-{i}") for i in range(3)]
        for product in bulk:
            self.set_stock(product, 2)
        self.publish()
        self.clear_outbox()
        self.env["ir.config_parameter"].sudo().set_param("stock_relay.republish_inline_limit", 2)
        self.env["product.product"].browse([p.id for p in bulk]).action_archive()
        self.assertEqual(self.publish_own(), [], "three products exceed the inline limit of two")
        seen = []
        while self.env["stock.relay.republish.job"].search_count([]):
            self.env["stock.relay.republish.job"]._cron_run()
            seen += [(r["sku"], r["quantity"], r["trigger"]) for r in self.publish_own()]
            self.clear_outbox()
        self.assertEqual(sorted(seen), [(f"SR-OLD-{i}", 0, "archive") for i in range(3)])
