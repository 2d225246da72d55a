from odoo.tests import Form, tagged

from .catalog_common import CatalogCase


@tagged("post_install", "-at_install", "stock_relay")
class TestCatalogScreens(CatalogCase):
    """The catalogue settings through the forms a shop manager uses."""

    def test_channel_form_asks_for_the_category_of_a_category_scope(self):
        form = Form(self.channel)
        form.publish_scope = "category"
        with self.assertRaisesRegex(AssertionError, "publish_category_id"):
            form.save()
        form.publish_category_id = self.category
        form.save()
        self.assertEqual(self.channel._selected_template_ids(), {self.tshirt.id})

    def test_product_form_flags_the_product_for_a_channel(self):
        self.channel.publish_scope = "flagged"
        self.publish()
        self.clear_outbox()
        with Form(self.tshirt) as form:
            form.stock_relay_channel_ids.add(self.channel)
        rows = self.publish_catalog()
        self.assertEqual([(r["template_id"], r["payload"]["active"]) for r in rows], [(self.tshirt.id, True)])
        arch = self.env["product.template"].get_views([(False, "form")])["views"]["form"]["arch"]
        for name in ("stock_relay_map_ids", "action_stock_relay_dry_run", "stock_relay_channel_ids"):
            self.assertIn(name, arch)
