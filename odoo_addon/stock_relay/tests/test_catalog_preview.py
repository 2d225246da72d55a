import json

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from .catalog_common import CatalogCase


@tagged("post_install", "-at_install", "stock_relay")
class TestCatalogPreview(CatalogCase):
    """Dry runs: Odoo writes the request, the daemon answers in SQL, Odoo shows the answer."""

    def answer(self, preview, result=None, error=None):
        """What the daemon does: fill the row's result (or error) by SQL."""
        self.env.cr.execute(
            "UPDATE stock_relay_catalog_preview SET state = %s, result = %s, error = %s, "
            "finished_at = now() AT TIME ZONE 'UTC' WHERE id = %s",
            ["failed" if error else "done", json.dumps(result) if result else None, error, preview.id])
        preview.invalidate_recordset()

    def test_channel_dry_run_writes_the_selection_and_shows_the_answer(self):
        action = self.channel.action_catalog_dry_run()
        preview = self.env["stock.relay.catalog.preview"].browse(action["res_id"])
        self.assertEqual((preview.state, preview.template_id.id, preview.requested_by, preview.channel_id),
                         ("requested", False, self.env.user, self.channel))
        self.assertIn(self.tshirt.id, [d["template_id"] for d in preview.documents])
        self.assertEqual(preview.summary, "Waiting for the daemon")
        self.answer(preview, {
            "created": [{"external_id": "x1", "name": "Product SR-001"}],
            "updated": [{"external_id": "x2", "name": "Relay T-Shirt",
                         "fields": {"title": {"shop": "Old Tee", "odoo": "Relay T-Shirt"}}}],
            "unchanged": [],
            "conflicts": [{"external_id": "x3", "name": "Mug", "code": "duplicate_sku", "message": "SKU M-1 twice"}]})
        self.assertEqual(preview.summary, "1 to create, 1 to update, 0 unchanged, 1 conflict(s)")
        html = str(preview.report_html)
        for text in ("Would be created", "Product SR-001", "title: Old Tee &#8594; Relay T-Shirt",
                     "duplicate_sku", "SKU M-1 twice"):
            self.assertIn(text, html)

    def test_failed_dry_run_shows_its_error(self):
        preview = self.env["stock.relay.catalog.preview"].browse(self.channel.action_catalog_dry_run()["res_id"])
        self.answer(preview, error="shop unreachable: connection refused")
        self.assertEqual(preview.summary, "Failed: shop unreachable: connection refused")

    def test_product_dry_run(self):
        action = self.tshirt.action_stock_relay_dry_run()
        preview = self.env["stock.relay.catalog.preview"].browse(action["res_id"])
        self.assertEqual(preview.template_id, self.tshirt)
        self.assertEqual([d["template_id"] for d in preview.documents], [self.tshirt.id])
        self.channel.catalog_enabled = False
        with self.assertRaisesRegex(UserError, "No shop publishes the catalogue"):
            self.tshirt.action_stock_relay_dry_run()

    def test_shop_links_on_the_product(self):
        self.env.cr.execute(
            "INSERT INTO stock_relay_catalog_map (channel_id, external_id, object, template_id, remote_id, adopted) "
            "VALUES (%s, 'x', 'product', %s, 'prod_01', true)", [self.channel.id, self.tshirt.id])
        self.tshirt.invalidate_recordset()
        self.assertEqual([(m.channel_id, m.remote_id, m.adopted) for m in self.tshirt.stock_relay_map_ids],
                         [(self.channel, "prod_01", True)])

    def test_inventory_users_read_dry_runs_but_cannot_request_them(self):
        user = new_test_user(self.env, "sr_catalog_user", groups="stock.group_stock_user")
        preview = self.env["stock.relay.catalog.preview"].browse(self.channel.action_catalog_dry_run()["res_id"])
        self.assertEqual(preview.with_user(user).summary, "Waiting for the daemon")
        for request in (self.channel.with_user(user).action_catalog_dry_run,
                        self.tshirt.with_user(user).action_stock_relay_dry_run,
                        self.channel.with_user(user).action_publish_catalog):
            with self.subTest(request.__name__), self.assertRaises(AccessError):
                request()

