import logging
from unittest.mock import patch

from odoo.tests import tagged

from .catalog_common import CatalogCase


@tagged("post_install", "-at_install", "stock_relay")
class TestCatalogCapture(CatalogCase):
    """Edits of what a document holds queue one row per template and channel at precommit."""

    def assert_one_product_row(self, rows, template=None):
        template = template or self.tshirt
        self.assertEqual([(r["kind"], r["template_id"], r["trigger"]) for r in rows],
                         [("product", template.id, "catalog")])
        return rows[0]["payload"]

    def test_nothing_before_precommit_and_one_row_for_many_edits(self):
        self.tshirt.name = "Relay Tee"
        self.variant("TS-Red-S").barcode = "4006381333931"
        self.color.value_ids.filtered(lambda v: v.name == "Blue").name = "Navy"
        self.env.flush_all()
        self.assertEqual(self.catalog_rows(), [], "nothing is written before COMMIT")
        payload = self.assert_one_product_row(self.publish_catalog())
        self.assertEqual(payload["name"], "Relay Tee")
        self.assertEqual(payload["options"][0]["values"], ["Navy", "Red"])
        self.assertIn("4006381333931", [v["barcode"] for v in payload["variants"]])

    def test_each_kind_of_edit_queues_the_template(self):
        red_s = self.variant("TS-Red-S")
        edits = {
            "name": lambda: self.tshirt.write({"name": "Tee"}),
            "description": lambda: self.tshirt.write({"description_sale": "Linen."}),
            "sku": lambda: red_s.write({"default_code": "TS-RS"}),
            "weight": lambda: red_s.write({"weight": 0.3}),
            "archive variant": lambda: red_s.action_archive(),
            "archive": lambda: self.tshirt.action_archive(),
            "unarchive": lambda: self.tshirt.action_unarchive(),
            "attribute line": lambda: self.tshirt.attribute_line_ids.filtered(
                lambda l: l.attribute_id == self.size).write({"value_ids": [(0, 0, {
                    "name": "L", "sequence": 3, "attribute_id": self.size.id})]}),
            "attribute name": lambda: self.color.write({"name": "Colour"}),
            "value sequence": lambda: self.size.value_ids.filtered(lambda v: v.name == "M").write({"sequence": 0}),
        }
        for what, edit in edits.items():
            with self.subTest(what):
                self.clear_outbox()
                edit()
                self.assert_one_product_row(self.publish_catalog())
        payload = self.catalog_rows()[0]["payload"]
        self.assertEqual(payload["options"][1]["values"][0], "M", "M now comes first in Odoo's sequence")

    def test_archive_publishes_an_inactive_document(self):
        self.tshirt.action_archive()
        payload = self.assert_one_product_row(self.publish_catalog())
        self.assertFalse(payload["active"])

    def test_list_price_and_pricelist_items_queue_price_rows(self):
        self.tshirt.list_price = 25.0
        rows = self.publish_catalog()
        self.assertEqual([(r["kind"], r["template_id"]) for r in rows], [("price", self.tshirt.id)])
        self.assertEqual({v["price"] for v in rows[0]["payload"]["variants"]}, {"25.00"})
        pricelist = self.env["product.pricelist"].create({"name": "Shop"})
        self.channel.pricelist_id = pricelist
        rows = self.publish_catalog()
        self.assertIn(("price", self.tshirt.id), [(r["kind"], r["template_id"]) for r in rows],
                      "another pricelist re-prices the whole selection")
        self.clear_outbox()
        item = self.env["product.pricelist.item"].create({
            "pricelist_id": pricelist.id, "applied_on": "1_product", "product_tmpl_id": self.tshirt.id,
            "compute_price": "fixed", "fixed_price": 9.9})
        rows = self.publish_catalog()
        self.assertEqual([(r["kind"], r["template_id"]) for r in rows], [("price", self.tshirt.id)])
        self.assertEqual({v["price"] for v in rows[0]["payload"]["variants"]}, {"9.90"})
        self.clear_outbox()
        other = self.env["product.pricelist"].create({"name": "Not this shop's"})
        item.copy({"pricelist_id": other.id})
        self.assertEqual(self.publish_catalog(), [], "another pricelist's rules do not touch this shop")

    def test_channel_without_catalogue_gets_no_catalogue_rows(self):
        self.channel.catalog_enabled = False
        self.tshirt.name = "Tee"
        self.assertEqual(self.publish_catalog(), [])

    def test_a_document_that_cannot_be_built_never_breaks_the_save(self):
        Catalog = type(self.env["stock.relay.catalog"])
        with patch.object(Catalog, "_batch_documents", side_effect=ValueError("broken")), \
                self.assertLogs("odoo.addons.stock_relay.models.catalog_document", logging.ERROR) as logs:
            self.tshirt.name = "Tee"
            rows = self.publish_catalog()
        self.assertEqual(rows, [])
        self.assertIn(f"no product document for template {self.tshirt.id}", logs.output[0])
        self.assertEqual(self.tshirt.name, "Tee")

    def test_sync_log_names_the_template_and_shows_the_document(self):
        self.tshirt.name = "Relay Tee"
        self.publish()
        row = self.env["stock.relay.outbox"].search([("channel_id", "=", self.channel.id), ("kind", "=", "product")])
        self.assertEqual(row.catalog_template_id, self.tshirt)
        self.assertIn('"name": "Relay Tee"', row.payload_text)

    def test_retrying_a_failed_catalogue_row_sends_todays_document_and_no_stock(self):
        self.tshirt.name = "Old name"
        self.publish()
        self.env.cr.execute("UPDATE stock_relay_outbox SET state = 'failed', error_code = 'shop_rejected' "
                            "WHERE channel_id = %s AND kind = 'product'", [self.channel.id])
        self.env.cr.execute("UPDATE product_template SET name = %s WHERE id = %s",
                            ['{"en_US": "Fixed name"}', self.tshirt.id])  # fixed without a capture
        self.tshirt.invalidate_recordset()
        failed = self.env["stock.relay.outbox"].search([("channel_id", "=", self.channel.id), ("kind", "=", "product")])
        failed.action_retry()
        rows = self.catalog_rows()
        self.assertEqual([(r["state"], r["trigger"], r["payload"]["name"]) for r in rows],
                         [("superseded", "catalog", "Old name"), ("pending", "manual_retry", "Fixed name")])
        self.assertEqual(self.outbox_rows(channel_id=self.channel.id, kind="stock"), [],
                         "a catalogue row's product_id is a template: no stock row for it")

    def test_product_sync_history_counts_its_own_rows_of_each_kind(self):
        self.set_stock(self.variant("TS-Red-S"), 2)
        self.tshirt.name = "Relay Tee"
        self.publish()
        self.tshirt.invalidate_recordset()
        stock = self.outbox_rows(channel_id=self.channel.id, kind="stock", product_id=self.variant("TS-Red-S").id)
        self.assertEqual(self.tshirt.stock_relay_row_count, len(stock) + 1)
        log = self.env["stock.relay.outbox"].search(self.tshirt.action_view_stock_relay_log()["domain"])
        self.assertEqual(set(log.mapped("kind")), {"stock", "product"})
        self.assertEqual(log.filtered(lambda r: r.kind == "product").catalog_template_id, self.tshirt)
        # A catalogue row whose template id equals another product's variant id is not that product's.
        variant = self.variant("TS-Blue-M")
        self.env.cr.execute("SELECT stock_relay_enqueue_documents('product', %s, %s, ARRAY['x'], "
                            "ARRAY['{\"format\": 1}'::jsonb])", [[self.channel.id], [variant.id]])
        self.tshirt.invalidate_recordset()
        self.assertEqual(self.tshirt.stock_relay_row_count, len(stock) + 1)
