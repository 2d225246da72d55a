from odoo.tests import tagged

from odoo.addons.stock_relay.tests.common import StockRelayCase

KEY = "gid://shopify/Location/1"


@tagged("post_install", "-at_install", "stock_relay_mrp")
class TestKitBomLines(StockRelayCase):
    """The bridge's own tests (stock_relay's kit tests cover BoM creation and changes): removing a
    component line from a kit's BoM re-publishes the kit with what the remaining components allow."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bolt = cls.make_product("SR-BOLT")
        cls.nut = cls.make_product("SR-NUT")
        cls.kit = cls.make_product("SR-KIT", is_storable=False)
        for product, qty in ((cls.bolt, 7), (cls.nut, 2)):
            quant = cls.env["stock.quant"].with_context(inventory_mode=True).create(
                {"product_id": product.id, "location_id": cls.stock.id, "inventory_quantity": qty})
            quant.action_apply_inventory()
        cls.bom = cls.env["mrp.bom"].create({
            "product_tmpl_id": cls.kit.product_tmpl_id.id, "product_qty": 1, "type": "phantom",
            "bom_line_ids": [(0, 0, {"product_id": cls.bolt.id, "product_qty": 2}),
                             (0, 0, {"product_id": cls.nut.id, "product_qty": 1})]})
        cls.publish_rows()

    def kit_rows(self):
        return [(r["sku"], r["location_key"], r["quantity"], r["trigger"]) for r in self.publish_own()
                if r["product_id"] == self.kit.id]

    def test_removing_the_scarce_component_republishes_the_kit(self):
        self.clear_outbox()
        self.bom.bom_line_ids.filtered(lambda line: line.product_id == self.nut).unlink()
        self.assertEqual(self.kit_rows(), [("SR-KIT", KEY, 3, "bom")], "nuts allowed 2; bolts alone allow 7 // 2")
