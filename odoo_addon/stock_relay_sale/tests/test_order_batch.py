from odoo.tests import tagged

from .common import OrderCase, address, line, order


@tagged("post_install", "-at_install", "stock_relay_sale")
class TestOrderBatch(OrderCase):
    """Many events in one cron batch: the new orders are created and confirmed together, and each row
    still gets what importing it alone would have given it."""

    def partners(self, email):
        return self.env["res.partner"].with_context(active_test=False).search([("email", "=ilike", email)])

    def test_a_batch_with_one_bad_row_imports_the_good_ones_and_fails_the_bad_one_alone(self):
        self.set_stock(self.product, 20)
        self.set_stock(self.mug, 20)
        known = self.env["res.partner"].create({"name": "Grace Hopper", "email": "Grace@Example.com"})
        new_twice = dict(email="new@example.com", first="Newt", last="Customer",
                         billing=address(name="Newt", street="Canal 5"))
        rows = [
            self.insert_event(order("gid://shopify/Order/201", "#201", [line("SR-001", 1, "10.00")], **new_twice)),
            self.insert_event(order("gid://shopify/Order/202", "#202", [line("SR-001", 2, "10.00"),
                                                                         line("NOPE-202", 1, "3.00")],
                                    email="bad@example.com")),
            self.insert_event(order("gid://shopify/Order/203", "#203", [line("SR-MUG", 3, "5.00")],
                                    email="grace@example.com")),
            self.insert_event(order("gid://shopify/Order/204", "#204", [line("SR-MUG", 4, "5.00")], **new_twice)),
        ]
        self.assertEqual(self.process(), 4)
        self.assert_row(rows[1], "failed", "unknown_sku")
        self.assertIn("NOPE-202", rows[1].last_error)
        for row in rows[:1] + rows[2:]:
            self.assert_row(row, "done")
        # Nothing of the bad row was left behind: no sale order, no customer.
        self.assertFalse(self.sale_for("gid://shopify/Order/202"))
        self.assertFalse(self.partners("bad@example.com"))
        # The good ones are confirmed and reserve their stock.
        sales = [self.sale_for(f"gid://shopify/Order/{n}") for n in (201, 203, 204)]
        self.assertEqual([s.state for s in sales], ["sale"] * 3)
        self.assertEqual((self.reserved(), self.reserved(self.mug)), (1, 7))
        # The returning customer is matched; the new one is created once, with one invoice and one
        # delivery address, shared by both of their orders.
        self.assertEqual(sales[1].partner_id, known)
        first, second = sales[0], sales[2]
        self.assertEqual(first.partner_id, second.partner_id)
        self.assertEqual(len(self.partners("new@example.com").filtered(lambda p: not p.parent_id)), 1)
        self.assertEqual(first.partner_id.name, "Newt Customer")
        self.assertEqual((first.partner_invoice_id, first.partner_shipping_id),
                         (second.partner_invoice_id, second.partner_shipping_id))
        self.assertEqual(sorted(first.partner_id.child_ids.mapped("type")), ["delivery", "invoice"])
        self.assertEqual(first.partner_shipping_id.street, "Canal 5")

    def test_two_events_of_one_order_in_one_batch(self):
        self.set_stock(self.product, 20)
        created = self.insert_event(order("gid://shopify/Order/301", "#301", [line("SR-001", 1, "10.00")]))
        other = self.insert_event(order("gid://shopify/Order/302", "#302", [line("SR-001", 5, "10.00")],
                                        email="other@example.com"))
        updated = self.insert_event(order("gid://shopify/Order/301", "#301", [line("SR-001", 2, "10.00")],
                                          updated="2026-11-30T10:02:00Z"), topic="order_updated")
        self.assertEqual(self.process(), 3)
        for row in (created, other, updated):
            self.assert_row(row, "done")
        sale = self.sale_for("gid://shopify/Order/301")
        self.assertEqual(len(sale), 1)
        self.assertEqual((sale.state, sale.order_line.product_uom_qty), ("sale", 2), "the newer event applies")
        self.assertEqual(self.sale_for("gid://shopify/Order/302").state, "sale")
        self.assertEqual(self.reserved(), 7)

    def test_an_order_created_and_cancelled_in_one_batch_reserves_nothing(self):
        self.set_stock(self.product, 20)
        created = self.insert_event(order("gid://shopify/Order/401", "#401", [line("SR-001", 3, "10.00")]))
        cancelled = self.insert_event(order("gid://shopify/Order/401", "#401", [line("SR-001", 3, "10.00")],
                                            status="cancelled", updated="2026-11-30T10:03:00Z"),
                                      topic="order_cancelled")
        kept = self.insert_event(order("gid://shopify/Order/402", "#402", [line("SR-001", 1, "10.00")]))
        self.process()
        for row in (created, cancelled, kept):
            self.assert_row(row, "done")
        self.assertEqual(self.sale_for("gid://shopify/Order/401").state, "cancel")
        self.assertEqual(self.reserved(), 1)

    def test_a_batch_follows_the_channel_settings(self):
        team = self.env["crm.team"].create({"name": "Webshop batch"})
        self.woo.write({"sale_team_id": team.id, "sale_warehouse_id": self.warehouse.id,
                        "sale_auto_confirm": False, "sale_unknown_sku_policy": "fallback"})
        self.set_stock(self.product, 10)
        booking = self.insert_event(order("801", "#801", [line(None, 2, "35.00", name="Pottery class")]),
                                    channel=self.woo)
        plain = self.insert_event(order("802", "#802", [line("SR-001", 1, "10.00")], email="b@example.com"),
                                  channel=self.woo)
        self.process()
        self.assert_row(booking, "done")
        self.assert_row(plain, "done")
        sales = self.sale_for("801", self.woo) | self.sale_for("802", self.woo)
        self.assertEqual(sales.mapped("state"), ["draft", "draft"])
        self.assertEqual((sales.team_id, sales.warehouse_id), (team, self.warehouse))
        self.assertEqual(self.sale_for("801", self.woo).order_line.product_id,
                         self.env.ref("stock_relay_sale.product_shop_item"))
        self.assertEqual(self.reserved(), 0, "draft sale orders reserve nothing")
