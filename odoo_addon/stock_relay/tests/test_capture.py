from odoo.tests import tagged

from .common import StockRelayCase


@tagged("post_install", "-at_install", "stock_relay")
class TestCapture(StockRelayCase):
    """Every Odoo flow that changes stock queues the new sellable quantity, at precommit."""

    def test_inventory_adjustment(self):
        self.set_stock(self.product, 7)
        rows = self.publish()
        self.assertEqual(len(rows), 1)
        row = rows[0]
        self.assertEqual((row["channel_id"], row["product_id"], row["sku"], row["location_key"], row["quantity"],
                          row["trigger"], row["state"]),
                         (self.channel.id, self.product.id, "SR-001", "gid://shopify/Location/1", 7, "quant",
                          "pending"))

    def test_nothing_is_written_before_precommit(self):
        self.set_stock(self.product, 7)
        self.env.flush_all()  # the ORM is flushed, but the transaction has not reached COMMIT
        self.assertEqual(self.outbox_rows(), [])
        self.publish()
        self.assertEqual(self.pending_qty(), 7)

    def test_receipt_validation(self):
        self.set_stock(self.product, 2)
        self.publish()
        self.clear_outbox()
        receipt = self.make_picking(self.product, 5, kind="in")
        self.publish()
        self.assertEqual(self.outbox_rows(), [], "confirming a receipt changes no quant in WH/Stock")
        self.validate(receipt)
        rows = self.publish()
        self.assertEqual([(r["quantity"], r["trigger"]) for r in rows], [(7, "picking")])

    def test_delivery_reservation_unreservation_and_validation(self):
        self.set_stock(self.product, 10)
        self.publish()
        delivery = self.make_picking(self.product, 3)
        delivery.action_assign()
        self.assertEqual(delivery.state, "assigned")
        self.publish()
        self.assertEqual(self.pending_qty(), 7, "reserving 3 of 10 leaves 7 sellable")
        delivery.do_unreserve()
        self.publish()
        self.assertEqual(self.pending_qty(), 10, "unreserving gives the 3 back")
        delivery.action_assign()
        self.publish()
        self.assertEqual(self.pending_qty(), 7)
        self.clear_outbox()
        self.validate(delivery)
        rows = self.publish()
        self.assertEqual([(r["quantity"], r["trigger"]) for r in rows], [(7, "picking")])
        self.product.invalidate_recordset()
        self.assertEqual(self.product.qty_available, 7)

    def test_scrap(self):
        self.set_stock(self.product, 5)
        self.publish()
        scrap = self.env["stock.scrap"].create(
            {"product_id": self.product.id, "scrap_qty": 2, "location_id": self.stock.id,
             "product_uom_id": self.product.uom_id.id})
        scrap.action_validate()
        self.assertEqual(scrap.state, "done")
        self.publish()
        self.assertEqual(self.pending_qty(), 3)

    def test_manufacturing(self):
        if "mrp.production" not in self.env:
            self.skipTest("mrp is not installed")
        component = self.make_product("SR-COMP")
        self.set_stock(component, 10)
        bom = self.env["mrp.bom"].create({
            "product_tmpl_id": self.product.product_tmpl_id.id, "product_qty": 1,
            "bom_line_ids": [(0, 0, {"product_id": component.id, "product_qty": 2})]})
        self.publish()
        mo = self.env["mrp.production"].create({"product_id": self.product.id, "bom_id": bom.id, "product_qty": 3})
        mo.action_confirm()
        mo.action_assign()
        mo.qty_producing = 3
        mo.move_raw_ids.picked = True
        mo.button_mark_done()
        self.publish()
        self.assertEqual(self.pending_qty(), 3)
        self.assertEqual(self.pending_qty(component), 4)

    def test_rollback_leaves_nothing(self):
        with self.assertRaises(ZeroDivisionError):
            with self.env.cr.savepoint():
                self.set_stock(self.product, 9)
                self.env.flush_all()
                1 / 0  # noqa: B018  the user's transaction fails after the stock change
        self.assertEqual(self.publish(), [])
        self.assertEqual(self.product.with_context(active_test=False).qty_available, 0)

    def test_coalescing_in_one_transaction(self):
        self.set_stock(self.product, 4)
        self.set_stock(self.product, 6)
        delivery = self.make_picking(self.product, 1)
        self.validate(delivery)
        self.set_stock(self.product, 12)
        rows = self.publish()
        self.assertEqual([r["quantity"] for r in rows], [12], "one row per key, with the final quantity")

    def test_coalescing_across_commits_until_claimed(self):
        self.set_stock(self.product, 4)
        first = self.publish()
        self.set_stock(self.product, 6)
        second = self.publish()
        self.assertEqual(len(second), 1)
        self.assertEqual(second[0]["id"], first[0]["id"], "the pending row is updated in place")
        self.assertGreater(second[0]["version"], first[0]["version"])
        self.assertEqual(second[0]["quantity"], 6)

    def test_child_locations_count(self):
        self.set_stock(self.product, 3)
        self.set_stock(self.product, 4, location=self.shelf)
        self.publish()
        self.assertEqual(self.pending_qty(), 7)

    def test_unmapped_location_queues_nothing(self):
        self.set_stock(self.product, 5, location=self.elsewhere)
        self.assertEqual(self.publish(), [])
        # ... and stock there is never counted when a mapped location changes.
        self.set_stock(self.product, 2)
        self.publish()
        self.assertEqual(self.pending_qty(), 2)

    def test_product_without_sku_is_reported_not_relayed(self):
        nosku = self.make_product(False, name="Mystery box")
        self.set_stock(nosku, 4)
        self.assertEqual(self.publish(), [])
        report = self.env["stock.relay.unmatched"].search([("product_id", "=", nosku.id)])
        self.assertEqual(report.mapped("reason"), ["no_sku"])
        self.assertEqual(report.quantity, 4)
        self.assertFalse(self.env["stock.relay.unmatched"].search([("product_id", "=", self.product.id)]))

    def test_sku_unknown_to_shop_is_reported(self):
        self.set_stock(self.product, 1)
        row = self.publish()[0]
        self.env.cr.execute(
            "UPDATE stock_relay_outbox SET state = 'failed', error_code = 'sku_not_found', "
            "last_error = 'sku_not_found: no variant with SKU SR-001' WHERE id = %s", [row["id"]])
        report = self.env["stock.relay.unmatched"].search([("product_id", "=", self.product.id)])
        self.assertEqual(report.mapped("reason"), ["sku_not_found"])
        self.assertEqual(report.channel_id, self.channel)

    def test_non_storable_products_are_ignored(self):
        consumable = self.env["product.product"].create(
            {"name": "Sticker", "default_code": "SR-STICKER", "type": "consu", "is_storable": False})
        delivery = self.make_picking(consumable, 2)
        self.validate(delivery)
        self.assertEqual(self.publish(), [])

    def test_safety_buffer_cap_and_reserved(self):
        self.channel.write({"safety_buffer": 2, "quantity_cap": 5})
        self.set_stock(self.product, 20)
        self.publish()
        self.assertEqual(self.pending_qty(), 5, "capped")
        self.channel.quantity_cap = False
        self.set_stock(self.product, 6.5)
        self.publish()
        self.assertEqual(self.pending_qty(), 4, "floor(6.5 - 2)")
        self.set_stock(self.product, 1)
        self.publish()
        self.assertEqual(self.pending_qty(), 0, "never negative")

    def test_disabled_channel_gets_nothing(self):
        self.channel.enabled = False
        self.set_stock(self.product, 3)
        self.assertEqual(self.publish(), [])

    def test_every_channel_and_shop_location(self):
        shelf_line = self.env["stock.relay.channel.location"].create({
            "channel_id": self.channel.id, "location_key": "gid://shopify/Location/2", "location_name": "Shelf",
            "location_ids": [(6, 0, self.shelf.ids)]})
        woo = self.env["stock.relay.channel"].create(
            {"name": "Woo", "channel_type": "woocommerce", "base_url": "https://woo.example"})
        self.env["stock.relay.channel.location"].create(
            {"channel_id": woo.id, "location_ids": [(6, 0, self.stock.ids)]})
        self.set_stock(self.product, 3, location=self.shelf)
        rows = self.publish()
        got = sorted((r["channel_id"], r["location_key"], r["quantity"]) for r in rows)
        self.assertEqual(got, sorted([(self.channel.id, "gid://shopify/Location/1", 3),
                                      (self.channel.id, shelf_line.location_key, 3),
                                      (woo.id, "", 3)]))

    def test_one_statement_for_many_products(self):
        products = [self.make_product(f"SR-BULK-{i}") for i in range(5)]
        for i, p in enumerate(products):
            self.set_stock(p, i + 1)
        rows = self.publish()
        self.assertEqual(sorted((r["sku"], r["quantity"]) for r in rows),
                         [(f"SR-BULK-{i}", i + 1) for i in range(5)])
        self.env.cr.execute("SELECT count(*) FROM stock_relay_product_clock WHERE product_id = ANY(%s)",
                            [[p.id for p in products]])
        self.assertEqual(self.env.cr.fetchone()[0], 5, "each product's commit clock was bumped")
