from odoo.tests import tagged

from .common import StockRelayCase

KEY = "gid://shopify/Location/1"


@tagged("post_install", "-at_install", "stock_relay")
class TestRepublish(StockRelayCase):
    """Every input of the sellable quantity, not only quants, re-publishes at
    precommit with its own trigger: what the shop manager sees in the sync log."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.other = cls.make_product("SR-002")

    def setUp(self):
        super().setUp()
        self.set_stock(self.product, 10)
        self.set_stock(self.other, 4)
        self.publish()
        self.clear_outbox()

    def published(self, product=None):
        """(sku, location key, quantity, trigger) of the pending rows, per product."""
        rows = self.publish_own()
        if product is not None:
            rows = [r for r in rows if r["product_id"] == product.id]
        # SR-*: this test's products (a database may hold other committed products the channel relays).
        return sorted((r["sku"], r["location_key"], r["quantity"], r["trigger"]) for r in rows
                      if r["state"] == "pending" and r["sku"].startswith("SR-"))

    # ------------------------------------------------------------ channel
    def test_safety_buffer_change_republishes_every_product(self):
        self.channel.safety_buffer = 3
        self.assertEqual(self.outbox_rows(), [], "nothing is written before COMMIT")
        self.assertEqual(self.published(), [("SR-001", KEY, 7, "channel"), ("SR-002", KEY, 1, "channel")])

    def test_cap_change_republishes_and_clearing_it_restores(self):
        self.channel.quantity_cap = 5
        self.assertEqual(self.published(), [("SR-001", KEY, 5, "channel"), ("SR-002", KEY, 4, "channel")])
        self.clear_outbox()
        self.channel.quantity_cap = False
        self.assertEqual(self.published(self.product), [("SR-001", KEY, 10, "channel")])

    def test_saving_unchanged_settings_writes_nothing(self):
        self.channel.write({"safety_buffer": 0, "enabled": True, "name": "Renamed"})
        self.assertEqual(self.published(), [])

    def test_reenabling_publishes_what_changed_while_off(self):
        self.channel.enabled = False
        self.assertEqual(self.published(), [])
        self.set_stock(self.product, 2)
        self.assertEqual(self.published(), [], "a disabled channel gets no rows")
        self.channel.enabled = True
        self.assertEqual(self.published(), [("SR-001", KEY, 2, "channel"), ("SR-002", KEY, 4, "channel")])

    # ------------------------------------------------------------ mapping
    def test_mapping_line_locations_change_republishes_that_shop_location(self):
        self.set_stock(self.product, 6, location=self.elsewhere)
        self.publish()
        self.clear_outbox()
        self.line.location_ids = [(6, 0, self.elsewhere.ids)]
        self.assertEqual(self.published(), [("SR-001", KEY, 6, "mapping"), ("SR-002", KEY, 0, "mapping")])

    def test_new_mapping_line_publishes_its_shop_location_only(self):
        self.set_stock(self.product, 3, location=self.shelf)
        self.publish()
        self.clear_outbox()
        self.env["stock.relay.channel.location"].create({
            "channel_id": self.channel.id, "location_key": "gid://shopify/Location/2", "location_name": "Outlet",
            "location_ids": [(6, 0, self.shelf.ids)]})
        self.assertEqual(self.published(), [("SR-001", "gid://shopify/Location/2", 3, "mapping"),
                                            ("SR-002", "gid://shopify/Location/2", 0, "mapping")],
                         "the other shop location did not change")

    def test_channel_created_and_deleted_in_one_transaction_breaks_nothing(self):
        channel = self.env["stock.relay.channel"].create({
            "name": "Short-lived", "channel_type": "shopify", "base_url": "https://127.0.0.1:9/",
            "location_line_ids": [(0, 0, {"location_key": "x", "location_ids": [(6, 0, self.stock.ids)]})]})
        channel.unlink()
        self.assertEqual(self.published(), [])

    # ------------------------------------------------------------ product
    def test_sku_change_feeds_the_new_shop_item_at_once(self):
        self.product.default_code = "SR-001-FIXED"
        self.assertEqual(self.published(), [("SR-001-FIXED", KEY, 10, "product")])

    def test_sku_ownership_follows_the_product(self):
        # The daemon recorded product 1 as the publisher of SR-001 on this channel.
        self.env.cr.execute(
            "INSERT INTO stock_relay_sku_cache (channel_id, sku, remote_id, product_id) VALUES (%s, 'SR-001', "
            "'gid://shopify/InventoryItem/1', %s)", [self.channel.id, self.product.id])
        rival = self.make_product("SR-001-RIVAL")
        self.set_stock(rival, 3)
        self.publish()
        self.clear_outbox()
        # The SKU moves: product 1 gets a new one, the rival takes SR-001.
        self.product.default_code = "SR-001-NEW"
        rival.default_code = "SR-001"
        self.assertEqual(self.published(), [("SR-001", KEY, 3, "product"), ("SR-001-NEW", KEY, 10, "product")])
        self.env.cr.execute("SELECT product_id FROM stock_relay_sku_cache WHERE channel_id = %s AND sku = 'SR-001'",
                            [self.channel.id])
        self.assertEqual(self.env.cr.fetchone(), (None,),
                         "product 1 gave up SR-001: the daemon may no longer name it as the SKU's owner")

    def test_clearing_a_sku_releases_it_and_republishes_its_heir(self):
        self.env.cr.execute(
            "INSERT INTO stock_relay_sku_cache (channel_id, sku, remote_id, product_id) VALUES (%s, 'SR-002', "
            "'gid://shopify/InventoryItem/2', %s)", [self.channel.id, self.other.id])
        heir = self.make_product("SR-002-HEIR")
        self.set_stock(heir, 1)
        heir.default_code = "SR-002"  # two products share SR-002 while `other` still has it
        self.publish()
        self.clear_outbox()
        self.other.default_code = False
        self.assertEqual(self.published(), [("SR-002", KEY, 1, "product")],
                         "the product that holds SR-002 now feeds its shop item")
        self.env.cr.execute("SELECT product_id FROM stock_relay_sku_cache WHERE sku = 'SR-002'")
        self.assertEqual(self.env.cr.fetchone(), (None,))

    def test_becoming_storable_publishes(self):
        product = self.make_product("SR-CONSU", is_storable=False)
        self.publish()
        self.assertEqual(self.published(product), [])
        product.is_storable = True
        self.assertEqual(self.published(product), [("SR-CONSU", KEY, 0, "product")])

    def test_archiving_publishes_zero_and_unarchiving_restores(self):
        self.product.product_tmpl_id.action_archive()
        self.assertEqual(self.published(), [("SR-001", KEY, 0, "archive")])
        self.clear_outbox()
        self.set_stock(self.other, 9)
        self.product.product_tmpl_id.action_unarchive()
        self.assertEqual(self.published(), [("SR-001", KEY, 10, "product"), ("SR-002", KEY, 9, "quant")])

    def test_archiving_leaves_the_shop_alone_when_the_channel_says_so(self):
        self.channel.archived_products = "leave"
        self.publish()
        self.clear_outbox()
        self.product.action_archive()
        self.assertEqual(self.published(), [])
        self.channel.action_resync_all()
        self.assertNotIn("SR-001", [r["sku"] for r in self.outbox_rows(channel_id=self.channel.id)],
                         "Resync all leaves it alone too")

    # ------------------------------------------------------------ location
    def test_location_moved_under_a_mapped_warehouse_counts_from_then_on(self):
        self.set_stock(self.product, 5, location=self.elsewhere)
        self.assertEqual(self.published(), [], "not mapped yet")
        self.elsewhere.location_id = self.stock
        self.assertEqual(self.published(), [("SR-001", KEY, 15, "location")])
        self.clear_outbox()
        self.elsewhere.location_id = self.warehouse.view_location_id
        self.assertEqual(self.published(), [("SR-001", KEY, 10, "location")], "moved out: it stops counting")

    def test_archived_location_stops_counting(self):
        self.set_stock(self.product, 2, location=self.shelf)
        self.publish()
        self.clear_outbox()
        self.shelf.with_context(do_not_check_quant=True).active = False
        self.assertEqual(self.published(), [("SR-001", KEY, 10, "location")])
