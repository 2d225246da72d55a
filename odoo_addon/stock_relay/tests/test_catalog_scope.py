from odoo.tests import tagged

from .catalog_common import CatalogCase


@tagged("post_install", "-at_install", "stock_relay")
class TestCatalogScope(CatalogCase):
    """The channel's selection limits stock and catalogue rows alike; leaving it archives in the shop."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other = cls.make_product("SR-OTHER")   # not in the Shirts category
        cls.publish_rows()

    def stock_skus(self):
        return {r["sku"] for r in self.outbox_rows(channel_id=self.channel.id) if r["location_key"]}

    def test_category_scope_limits_the_stock_relay(self):
        self.channel.write({"publish_scope": "category", "publish_category_id": self.category.id})
        self.publish()
        self.clear_outbox()
        self.set_stock(self.other, 4)
        self.set_stock(self.variant("TS-Red-S"), 3)
        self.publish()
        self.assertEqual(self.stock_skus(), {"TS-Red-S"})
        self.clear_outbox()
        self.channel.action_resync_all()
        self.assertEqual(self.stock_skus(), {"TS-Red-S", "TS-Red-M", "TS-Blue-S", "TS-Blue-M"})
        self.assertEqual(set(self.channel._relay_product_ids()), set(self.tshirt.product_variant_ids.ids))

    def test_all_scope_keeps_todays_behaviour(self):
        self.channel.catalog_enabled = False
        self.channel.action_resync_all()
        self.assertTrue({"SR-001", "SR-OTHER", "TS-Red-S"} <= self.stock_skus())

    def test_domain_and_per_product_predicate_agree(self):
        products = (self.product | self.other | self.tshirt.product_variant_ids)
        self.channel.flagged_template_ids = self.other.product_tmpl_id
        for scope in ("all", "category", "flagged"):
            with self.subTest(scope):
                self.channel.write({"publish_scope": scope, "publish_category_id": self.category.id})
                by_domain = set(products.filtered_domain(self.channel._publish_scope_domain()).ids)
                by_predicate = {p.id for p in products if self.channel._in_publish_scope(p)}
                self.assertEqual(by_domain, by_predicate)

    def test_scope_change_publishes_newcomers_and_archives_leavers(self):
        self.channel.write({"publish_scope": "category", "publish_category_id": self.category.id})
        rows = self.publish_catalog()
        leavers = {r["template_id"]: r["payload"]["active"] for r in rows}
        self.assertEqual(leavers.get(self.other.product_tmpl_id.id), False, rows)
        self.assertEqual(leavers.get(self.product.product_tmpl_id.id), False)
        self.assertNotIn(self.tshirt.id, leavers, "the T-shirt stays selected: nothing to send")
        self.clear_outbox()
        self.channel.write({"publish_scope": "all"})
        rows = self.publish_catalog()
        self.assertEqual({r["template_id"]: r["payload"]["active"] for r in rows},
                         {self.other.product_tmpl_id.id: True, self.product.product_tmpl_id.id: True})
        self.assertIn("SR-OTHER", self.stock_skus(), "a newcomer gets its stock too")

    def test_flagging_a_product_publishes_it_and_unflagging_archives_it(self):
        self.channel.write({"publish_scope": "flagged"})
        self.publish()
        self.clear_outbox()
        self.other.product_tmpl_id.stock_relay_channel_ids = self.channel
        rows = self.publish_catalog()
        self.assertEqual([(r["template_id"], r["payload"]["active"]) for r in rows],
                         [(self.other.product_tmpl_id.id, True)])
        self.assertIn("SR-OTHER", self.stock_skus())
        self.clear_outbox()
        self.other.product_tmpl_id.stock_relay_channel_ids = False
        rows = self.publish_catalog()
        self.assertEqual([(r["template_id"], r["payload"]["active"]) for r in rows],
                         [(self.other.product_tmpl_id.id, False)])
        self.clear_outbox()
        self.set_stock(self.other, 9)
        self.publish()
        self.assertEqual(self.stock_skus(), set(), "an unflagged product's stock is not published")

    def test_flagging_from_the_channel_publishes_too(self):
        self.channel.write({"publish_scope": "flagged"})
        self.publish()
        self.clear_outbox()
        self.channel.flagged_template_ids = [(4, self.other.product_tmpl_id.id)]
        rows = self.publish_catalog()
        self.assertEqual([(r["template_id"], r["payload"]["active"]) for r in rows],
                         [(self.other.product_tmpl_id.id, True)])
        self.assertEqual(self.stock_skus(), {"SR-OTHER"})

    def test_moving_a_product_into_the_category_publishes_it_and_out_archives_it(self):
        self.channel.write({"publish_scope": "category", "publish_category_id": self.category.id})
        self.publish()
        self.clear_outbox()
        outside = self.other.product_tmpl_id.categ_id  # its own category (Odoo 19 has no product_category_all)
        self.other.product_tmpl_id.categ_id = self.category
        rows = self.publish_catalog()
        self.assertEqual([(r["template_id"], r["payload"]["active"]) for r in rows],
                         [(self.other.product_tmpl_id.id, True)])
        self.assertEqual(self.stock_skus(), {"SR-OTHER"})
        self.clear_outbox()
        self.other.product_tmpl_id.categ_id = outside
        rows = self.publish_catalog()
        self.assertEqual([(r["template_id"], r["payload"]["active"]) for r in rows],
                         [(self.other.product_tmpl_id.id, False)])

    def test_edits_outside_the_selection_queue_nothing(self):
        self.channel.write({"publish_scope": "category", "publish_category_id": self.category.id})
        self.publish()
        self.clear_outbox()
        self.other.product_tmpl_id.name = "Renamed"
        self.assertEqual(self.publish_catalog(), [])

    def test_publish_catalogue_queues_the_whole_selection(self):
        self.channel.write({"publish_scope": "category", "publish_category_id": self.category.id})
        self.publish()
        self.clear_outbox()
        self.channel.action_publish_catalog()
        rows = self.catalog_rows()
        self.assertEqual([(r["kind"], r["template_id"], r["trigger"]) for r in rows],
                         [("product", self.tshirt.id, "catalog_sync")])
