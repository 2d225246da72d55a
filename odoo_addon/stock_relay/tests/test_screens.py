"""What a new shop manager found wrong on today's screens; each test failed before its fix."""
from unittest.mock import patch

import stockrelay_native

from odoo.tests import Form, tagged

from ..models.stock_relay_channel import StockRelayChannel
from .common import StockRelayCase


@tagged("post_install", "-at_install", "stock_relay")
class TestScreens(StockRelayCase):

    def test_settings_count_the_channels_that_exist(self):
        # The settings page is a new record filled by onchange, as in the browser.
        settings = Form(self.env["res.config.settings"])
        self.assertEqual(settings.stock_relay_channel_count, self.env["stock.relay.channel"].search_count([]))
        self.assertGreaterEqual(settings.stock_relay_channel_count, 1)

    def test_channel_created_through_the_form(self):
        # Found by the browser tour: saving a new channel's form said "Give the reconcile interval a
        # number and a unit" (the form held 0 for it).
        form = Form(self.env["stock.relay.channel"])
        form.name = "Through the form"
        form.base_url = "https://form.myshopify.com"
        # Every setting kept outside the contract's table (this addon's and its bridges', e.g. the order
        # settings of stock_relay_sale) starts at the value a blank channel computes.
        blank = self.env["stock.relay.channel"].new({})
        side = [name for name, field in blank._fields.items()
                if field.compute and field.inverse and not field.store and not field.readonly and blank[name]]
        self.assertIn("reconcile_interval_type", side)
        for name in side:
            self.assertEqual(form[name], blank[name], name)
        channel = form.save()
        self.assertEqual((channel.reconcile_interval_number, channel.reconcile_interval_type), (1, "days"))

    def test_log_list_shows_the_shop_location(self):
        self.env["stock.relay.channel.location"].create({
            "channel_id": self.channel.id, "location_key": "gid://shopify/Location/2", "location_name": "Backroom",
            "location_ids": [(6, 0, self.shelf.ids)]})
        self.set_stock(self.product, 3)
        self.set_stock(self.product, 2, location=self.shelf)
        rows = self.env["stock.relay.outbox"].browse([r["id"] for r in self.publish_own()])
        self.assertEqual(sorted(rows.mapped("location_name")), ["Backroom", "Main"],
                         "a SKU's two rows are told apart by their shop location")
        arch = self.env["stock.relay.outbox"].get_views([(False, "list")])["views"]["list"]["arch"]
        self.assertRegex(arch, r'<field name="location_name"[^>]*/>', "the list shows the location name")
        self.assertNotRegex(arch, r'<field name="location_name"[^>]*optional="hide"')

    def test_log_form_shows_the_lag(self):
        self.set_stock(self.product, 3)
        row_id = self.publish_own()[0]["id"]
        self.env.cr.execute("UPDATE stock_relay_outbox SET state = 'done', enqueued_at = '2030-01-01 10:00:00', "
                            "done_at = '2030-01-01 10:00:42' WHERE id = %s", [row_id])
        row = self.env["stock.relay.outbox"].browse(row_id)
        row.invalidate_recordset()
        self.assertEqual(row.lag, "42 s")
        arch = self.env["stock.relay.outbox"].get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn('name="lag"', arch)

    def shop_item(self):
        return [{"sku": "SR-001", "title": "Product", "remote_id": "gid://shopify/InventoryItem/77",
                 "tracked": True, "levels": {"gid://shopify/Location/1": 5.0, "gid://shopify/Location/9": 2.0}}]

    def test_lookup_shows_location_names_not_json(self):
        lookup = self.env["stock.relay.sku.lookup"].create({"channel_id": self.channel.id, "sku": "SR-001"})
        with patch.object(StockRelayChannel, "_native_call", lambda *a: self.shop_item()):
            lookup.action_lookup()
        text = str(lookup.result)
        self.assertIn("Main: 5", text, "the mapped shop location by its name")
        self.assertIn("gid://shopify/Location/9: 2", text, "an unmapped location keeps its id")
        self.assertNotIn("{", text, "no raw JSON")

    def test_preview_shows_location_names_not_json(self):
        preview = self.env["stock.relay.preview"].create(
            {"channel_id": self.channel.id, "product_id": self.product.id, "include_shop": True})

        class Shop:
            def lookup_sku(_self, sku):
                return self.shop_item()
        with patch.object(StockRelayChannel, "_native_channel", lambda *a: Shop()):
            preview.action_preview()
        text = str(preview.result)
        self.assertIn("Main: 5", text)
        self.assertNotIn("{&#34;", text)
        self.assertNotIn('{"', text)

    def test_unmatched_duplicate_sku_shows_its_stock(self):
        self.set_stock(self.product, 7)
        row_id = self.publish_own()[0]["id"]
        self.env.cr.execute("UPDATE stock_relay_outbox SET state = 'failed', error_code = 'duplicate_sku', "
                            "last_error = 'two shop items' WHERE id = %s", [row_id])
        self.env.flush_all()
        line = self.env["stock.relay.unmatched"].search([("product_id", "=", self.product.id)])
        self.assertEqual(line.mapped("reason"), ["duplicate_sku"])
        self.assertEqual(line.quantity, 7.0)

    def test_batch_size_help_names_the_real_defaults(self):
        help_text = self.env["stock.relay.channel"]._fields["batch_size"].help
        configs = {
            "Shopify": {"channel_type": "shopify", "base_url": "https://x.myshopify.com", "api_version": "2025-10",
                        "credentials": {"access_token": "t"}},
            "WooCommerce": {"channel_type": "woocommerce", "base_url": "https://shop.example",
                            "credentials": {"consumer_key": "k", "consumer_secret": "s"}},
            "Medusa": {"channel_type": "medusa", "base_url": "https://medusa.example",
                       "credentials": {"api_key": "k"}},
        }
        for label, config in configs.items():
            config.update({"id": 1, "name": label, "settings": {}, "max_attempts": 3, "timeout_ms": 1000,
                           "tls_verify": True})
            default = stockrelay_native.Channel(config).batch_size
            self.assertIn(f"{label} {default}", help_text)
