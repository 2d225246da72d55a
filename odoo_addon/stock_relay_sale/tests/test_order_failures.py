from unittest.mock import patch

from odoo.exceptions import UserError
from odoo.tests import tagged

from odoo.addons.stock_relay.compat import SALE_LINE_TAXES

from .common import OrderCase, line, order


@tagged("post_install", "-at_install", "stock_relay_sale")
class TestOrderFailures(OrderCase):
    """Bad input fails the row with a specific reason, leaves nothing behind, and Retry works after the fix."""

    def counts(self):
        return (self.env["sale.order"].search_count([]), self.env["res.partner"].search_count([]),
                self.env["product.pricelist"].search_count([]))

    def test_unknown_sku_fails_with_the_sku_and_retry_after_fixing_imports_it(self):
        before = self.counts()
        row = self.insert_event(order("gid://shopify/Order/9", "#9", [line("SR-001", 1, "10.00"),
                                                                      line("NEW-SKU-42", 1, "7.00")]))
        self.process()
        self.assert_row(row, "failed", "unknown_sku")
        self.assertIn("NEW-SKU-42", row.last_error)
        self.assertEqual(self.counts(), before, "nothing half-created: no sale order, customer or pricelist")
        self.make_product("NEW-SKU-42")
        row.action_retry()
        self.assert_row(row, "pending")
        self.process()
        self.assert_row(row, "done")
        self.assertEqual(row.attempts, 2)
        self.assertEqual(self.sale_for("gid://shopify/Order/9").order_line.product_id.mapped("default_code"),
                         ["SR-001", "NEW-SKU-42"])

    def test_unknown_sku_goes_to_the_fallback_product_when_the_channel_says_so(self):
        self.woo.sale_unknown_sku_policy = "fallback"
        booking = line(None, 2, "35.00", name="Pottery class",
                       meta=[("Booking date", "2026-12-12 10:00"), ("Persons", "2")])
        row = self.insert_event(order("731", "#731", [booking]), channel=self.woo)
        self.process()
        self.assert_row(row, "done")
        sold = self.sale_for("731", self.woo).order_line
        self.assertEqual(sold.product_id, self.env.ref("stock_relay_sale.product_shop_item"))
        self.assertEqual((sold.product_uom_qty, sold.price_unit), (2, 35.0))
        for text in ("Pottery class", "Booking date: 2026-12-12 10:00", "Persons: 2", "35.00 EUR"):
            self.assertIn(text, sold.name)

    def test_product_that_cannot_be_sold(self):
        self.mug.sale_ok = False
        row = self.insert_event(order("gid://shopify/Order/10", "#10", [line("SR-MUG", 1, "5.00")]))
        self.process()
        self.assert_row(row, "failed", "not_sellable")
        self.assertIn(self.mug.display_name, row.last_error)

    def test_currency_the_company_lacks_then_activated(self):
        jpy = self.env.ref("base.JPY")
        jpy.active = False
        before = self.counts()
        row = self.insert_event(order("order_01JPY", "#13", [line("SR-001", 1, "1500")], currency="JPY"),
                                channel=self.medusa)
        self.process()
        self.assert_row(row, "failed", "unknown_currency")
        self.assertIn("JPY", row.last_error)
        self.assertEqual(self.counts(), before)
        jpy.active = True
        row.action_retry()
        self.process()
        self.assert_row(row, "done")
        self.assertEqual(self.sale_for("order_01JPY", self.medusa).currency_id, jpy)

    def test_tax_rate_without_odoo_tax_fails_and_channel_mapping_fixes_it(self):
        row = self.insert_event(order("gid://shopify/Order/11", "#11",
                                      [line("SR-001", 1, "10.00", taxes=[("0.09", "0.90")])]))
        self.process()
        self.assert_row(row, "failed", "unknown_tax")
        self.assertIn("9%", row.last_error)
        reduced = self.env["account.tax"].create({"name": "Reduced (test)", "amount": 9.5, "amount_type": "percent",
                                                  "type_tax_use": "sale"})
        self.env["stock.relay.sale.tax.map"].create({"channel_id": self.channel.id, "rate": 9.0,
                                                     "tax_id": reduced.id})
        row.action_retry()
        self.process()
        self.assert_row(row, "done")
        self.assertEqual(self.sale_for("gid://shopify/Order/11").order_line[SALE_LINE_TAXES], reduced)

    def test_one_bad_row_does_not_block_the_others(self):
        self.set_stock(self.product, 10)
        self.publish()
        bad = self.insert_event(order("gid://shopify/Order/12", "#12", [line("NOPE", 1, "1.00")]))
        good = self.insert_event(order("gid://shopify/Order/13", "#13", [line("SR-001", 1, "1.00")]))
        garbage = self.insert_event(dict(order("gid://shopify/Order/14", "#14", []), lines=None), raw={"id": 14})
        unsellable = self.insert_event(order("gid://shopify/Order/15", "#15", [line("SR-001", 2, "1.00"),
                                                                               line("NOPE", 1, "1.00")]))
        self.process()
        self.assert_row(bad, "failed", "unknown_sku")
        self.assert_row(garbage, "failed", "invalid_payload")
        self.assert_row(unsellable, "failed", "unknown_sku")
        self.assert_row(good, "done")
        # The good order's reservation still reaches every shop: the failed rows after it in the
        # same transaction must not drop what the relay captured for it.
        self.assertEqual(self.reserved(), 1)
        rows = {(r["channel_id"], r["quantity"]) for r in self.publish() if r["product_id"] == self.product.id}
        self.assertIn((self.other_channel.id, 9.0), rows)

    def test_order_without_email_fails(self):
        row = self.insert_event(order("gid://shopify/Order/15", "#15", [line("SR-001", 1, "1.00")], email=""))
        self.process()
        self.assert_row(row, "failed", "no_customer_email")

    def test_an_order_odoo_refuses_to_confirm_fails_alone_and_leaves_nothing(self):
        # A batch's new orders are confirmed together; when Odoo refuses one, the batch is
        # processed again row by row so that only that order's event fails.
        self.set_stock(self.product, 10)
        SaleOrder = type(self.env["sale.order"])
        confirm = SaleOrder.action_confirm

        def refuse_1017(orders):
            if "#1017" in orders.mapped("client_order_ref"):
                raise UserError("Credit limit exceeded for this customer")
            return confirm(orders)

        first = self.insert_event(order("gid://shopify/Order/16", "#1016", [line("SR-001", 1, "1.00")]))
        refused = self.insert_event(order("gid://shopify/Order/17", "#1017", [line("SR-001", 2, "1.00")],
                                          email="refused@example.com"))
        last = self.insert_event(order("gid://shopify/Order/18", "#1018", [line("SR-001", 3, "1.00")]))
        with patch.object(SaleOrder, "action_confirm", refuse_1017):
            self.process()
        self.assert_row(first, "done")
        self.assert_row(last, "done")
        self.assert_row(refused, "failed", "odoo_refused")
        self.assertIn("Credit limit exceeded", refused.last_error)
        self.assertFalse(self.sale_for("gid://shopify/Order/17"))
        self.assertFalse(self.env["res.partner"].search([("email", "=", "refused@example.com")]))
        self.assertEqual(self.sale_for("gid://shopify/Order/16").state, "sale")
        self.assertEqual(self.sale_for("gid://shopify/Order/18").state, "sale")
        self.assertEqual(self.reserved(), 4)
