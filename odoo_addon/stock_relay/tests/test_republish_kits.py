from odoo.tests import tagged

from .common import StockRelayCase

KEY = "gid://shopify/Location/1"


@tagged("post_install", "-at_install", "stock_relay")
class TestRepublishKits(StockRelayCase):
    """A kit (mrp phantom BoM) sells what its components allow, per shop location;
    a component change re-publishes the kit, and so does a BoM change.

    Kits come from the auto-installed bridge stock_relay_mrp (stock_relay itself
    does not depend on mrp); the real-Odoo tier installs mrp, so these run there.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.has_mrp = "mrp.bom" in cls.env  # with mrp, the bridge must have installed itself
        if not cls.has_mrp:
            return
        cls.bolt = cls.make_product("SR-BOLT")
        cls.nut = cls.make_product("SR-NUT")
        cls.kit = cls.make_product("SR-KIT", is_storable=False)
        cls.set_stock_cls(cls.bolt, 7)
        cls.set_stock_cls(cls.nut, 5)
        cls.publish_rows()

    @classmethod
    def set_stock_cls(cls, product, qty):
        quant = cls.env["stock.quant"].with_context(inventory_mode=True).create(
            {"product_id": product.id, "location_id": cls.stock.id, "inventory_quantity": qty})
        quant.action_apply_inventory()

    def setUp(self):
        super().setUp()
        if not self.has_mrp:
            self.skipTest("mrp is not installed: no kits")
        self.clear_outbox()

    def make_bom(self, bolts=2, nuts=1, kits=1):
        return self.env["mrp.bom"].create({
            "product_tmpl_id": self.kit.product_tmpl_id.id, "product_qty": kits, "type": "phantom",
            "bom_line_ids": [(0, 0, {"product_id": self.bolt.id, "product_qty": bolts}),
                             (0, 0, {"product_id": self.nut.id, "product_qty": nuts})]})

    def kit_rows(self):
        return [(r["sku"], r["location_key"], r["quantity"], r["trigger"]) for r in self.publish_own()
                if r["product_id"] == self.kit.id]

    def test_bom_creation_publishes_what_the_components_allow(self):
        self.make_bom()
        self.assertEqual(self.kit_rows(), [("SR-KIT", KEY, 3, "bom")], "min(floor(7 / 2), floor(5 / 1))")

    def test_component_change_republishes_the_kit(self):
        self.make_bom()
        self.publish()
        self.clear_outbox()
        self.set_stock(self.nut, 2)
        self.assertEqual(self.kit_rows(), [("SR-KIT", KEY, 2, "quant")])
        self.clear_outbox()
        delivery = self.make_picking(self.bolt, 4)
        delivery.action_assign()
        self.assertEqual(self.kit_rows(), [("SR-KIT", KEY, 1, "quant")], "reserved bolts are not sellable")

    def test_bom_change_republishes_the_kit(self):
        bom = self.make_bom()
        self.publish()
        self.clear_outbox()
        bom.bom_line_ids.filtered(lambda line: line.product_id == self.bolt).product_qty = 3
        self.assertEqual(self.kit_rows(), [("SR-KIT", KEY, 2, "bom")])
        self.clear_outbox()
        bom.product_qty = 2  # the BoM now makes two kits from 3 bolts and 1 nut
        self.assertEqual(self.kit_rows(), [("SR-KIT", KEY, 4, "bom")])

    def test_kit_follows_channel_policy_and_resync(self):
        self.make_bom()
        self.publish()
        self.clear_outbox()
        self.channel.safety_buffer = 2  # held back on each component: bolts 5, nuts 3
        self.assertEqual(self.kit_rows(), [("SR-KIT", KEY, 2, "channel")])
        self.clear_outbox()
        self.channel.quantity_cap = 1
        self.assertEqual(self.kit_rows(), [("SR-KIT", KEY, 1, "channel")])
        self.clear_outbox()
        self.channel.action_resync_all()
        self.assertIn(("SR-KIT", KEY, 1, "full_sync"),
                      [(r["sku"], r["location_key"], r["quantity"], r["trigger"])
                       for r in self.outbox_rows(channel_id=self.channel.id)])
