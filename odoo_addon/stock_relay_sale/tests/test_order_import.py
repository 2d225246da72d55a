from odoo.tests import tagged

from odoo.addons.stock_relay.compat import SALE_LINE_TAXES

from .common import OrderCase, address, line, order


@tagged("post_install", "-at_install", "stock_relay_sale")
class TestOrderImport(OrderCase):
    """A shop order event becomes one confirmed sale order that reserves the stock."""

    def test_shopify_order_new_customer_becomes_confirmed_sale_order_and_reserves_stock(self):
        self.set_stock(self.product, 10)
        self.publish()
        norm = order("gid://shopify/Order/450789469", "#1001",
                     [line("SR-001", 2, "12.50", discount="2.50", taxes=[("0.21", "4.73")])],
                     shipping=[{"name": "Standard", "price": "4.95", "discount": "0",
                                "taxes": [{"name": "VAT", "rate": "0.21", "amount": "1.04"}]}],
                     shipping_address=address(name="Ada at work", street="Dam 1"))
        partners_before = self.env["res.partner"].search_count([])
        row = self.insert_event(norm, delivery="b54557e4-bdd9-4b37-8a5f-bf7d70bcd043")
        self.assertEqual(self.process(), 1)
        self.assert_row(row, "done")
        sale = self.sale_for("gid://shopify/Order/450789469")
        self.assertEqual((row.odoo_model, row.odoo_id), ("sale.order", sale.id))
        self.assertEqual(sale.state, "sale")
        self.assertEqual(sale.client_order_ref, "#1001")
        self.assertEqual(sale.currency_id, self.env.ref("base.EUR"))
        # Customer, invoice and delivery addresses were created.
        self.assertEqual(self.env["res.partner"].search_count([]), partners_before + 3)
        self.assertEqual(sale.partner_id.email, "ada@example.com")
        self.assertEqual(sale.partner_id.name, "Ada Lovelace")
        self.assertEqual((sale.partner_invoice_id.type, sale.partner_invoice_id.parent_id),
                         ("invoice", sale.partner_id))
        self.assertEqual((sale.partner_shipping_id.type, sale.partner_shipping_id.street), ("delivery", "Dam 1"))
        self.assertEqual(sale.partner_shipping_id.country_id.code, "NL")
        item, ship = sale.order_line.sorted("sequence")
        self.assertEqual((item.product_id, item.product_uom_qty, item.price_unit, item.discount),
                         (self.product, 2, 12.5, 10.0))
        self.assertEqual(item[SALE_LINE_TAXES], self.vat21)
        self.assertEqual((ship.product_id, ship.name, ship.price_unit, ship[SALE_LINE_TAXES]),
                         (self.env.ref("stock_relay_sale.product_shop_shipping"), "Standard", 4.95, self.vat21))
        # As charged: 22.50 + 4.95 untaxed, 4.73 + 1.04 tax.
        self.assertAlmostEqual(sale.amount_untaxed, 27.45)
        self.assertAlmostEqual(sale.amount_total, 33.22)
        # Confirmed: the stock is reserved, and every shop relaying WH/Stock gets the new number.
        self.assertEqual(self.reserved(), 2)
        rows = {(r["channel_id"], r["quantity"]) for r in self.publish() if r["product_id"] == self.product.id}
        self.assertIn((self.channel.id, 8.0), rows)
        self.assertIn((self.other_channel.id, 8.0), rows)

    def test_woocommerce_order_existing_customer_prices_including_tax(self):
        customer = self.env["res.partner"].create({"name": "Grace Hopper", "email": "Grace.Hopper@Example.com"})
        norm = order("727", "#727", [line("SR-MUG", 3, "12.10", taxes=[("0.21", "6.30")], included=True)],
                     email="grace.hopper@example.com", first="Grace", last="Hopper",
                     shipping=[{"name": "Flat rate", "price": "6.05", "discount": "0",
                                "taxes": [{"name": "VAT", "rate": "0.21", "amount": "1.05"}]}])
        row = self.insert_event(norm, channel=self.woo, via="poll")
        self.process()
        self.assert_row(row, "done")
        sale = self.sale_for("727", self.woo)
        self.assertEqual(sale.partner_id, customer, "matched by email, whatever its case")
        self.assertEqual(self.env["res.partner"].search_count([("email", "=ilike", "grace.hopper@example.com"),
                                                               ("parent_id", "=", False)]), 1)
        self.assertEqual(sale.order_line[SALE_LINE_TAXES], self.vat21_incl)
        self.assertAlmostEqual(sale.amount_total, 42.35)
        self.assertAlmostEqual(sale.amount_tax, 7.35)

    def test_medusa_order_in_another_currency(self):
        usd = self.env.ref("base.USD")
        usd.active = True
        norm = order("order_01JDXKQ3", "#12", [line("SR-001", 1, "20.00")], currency="USD",
                     email="alan@example.com", first="Alan", last="Turing")
        row = self.insert_event(norm, channel=self.medusa, via="poll")
        self.process()
        self.assert_row(row, "done")
        sale = self.sale_for("order_01JDXKQ3", self.medusa)
        self.assertEqual(sale.currency_id, usd)
        self.assertEqual(sale.pricelist_id.currency_id, usd)
        self.assertAlmostEqual(sale.amount_total, 20.0)
        self.assertFalse(sale.order_line[SALE_LINE_TAXES], "the shop charged no tax: none is added from the product")

    def test_sales_team_warehouse_and_no_auto_confirm(self):
        team = self.env["crm.team"].create({"name": "Webshop"})
        self.channel.write({"sale_team_id": team.id, "sale_warehouse_id": self.warehouse.id,
                            "sale_auto_confirm": False})
        self.set_stock(self.product, 10)
        self.insert_event(order("gid://shopify/Order/2", "#1002", [line("SR-001", 1, "10.00")]))
        self.process()
        sale = self.sale_for("gid://shopify/Order/2")
        self.assertEqual((sale.team_id, sale.warehouse_id, sale.state), (team, self.warehouse, "draft"))
        self.assertEqual(self.reserved(), 0, "a draft sale order reserves nothing")

    def test_duplicate_events_make_one_sale_order(self):
        norm = order("gid://shopify/Order/3", "#1003", [line("SR-001", 1, "10.00")])
        first = self.insert_event(norm, delivery="d1")
        # Polling brought the same update: the contract keeps one row per event key.
        self.env.cr.execute(
            "INSERT INTO stock_relay_inbox (channel_id, shop_order_id, topic, event_key, payload, received_via) "
            "SELECT channel_id, shop_order_id, 'order_updated', event_key, payload, 'poll' FROM stock_relay_inbox "
            "WHERE id = %s ON CONFLICT (channel_id, event_key) DO NOTHING", [first.id])
        self.assertEqual(self.env.cr.rowcount, 0)
        # A later update with nothing new, and the first event processed again (Retry of an old row).
        later = self.insert_event(dict(norm, updated_at="2026-11-30T10:05:00Z"), topic="order_updated")
        self.process()
        self.env.cr.execute("UPDATE stock_relay_inbox SET state = 'pending' WHERE id = %s", [first.id])
        self.process()
        self.assertEqual(len(self.sale_for("gid://shopify/Order/3")), 1)
        self.assert_row(later, "done")
        self.assert_row(first, "ignored", "stale_event")
        self.assertEqual(len(self.sale_for("gid://shopify/Order/3").order_line), 1)
