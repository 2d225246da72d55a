import logging
from unittest.mock import patch

from odoo.tests import tagged

from .catalog_common import CatalogCase


@tagged("post_install", "-at_install", "stock_relay")
class TestCatalogDocument(CatalogCase):
    """product.template -> the format-1 document of the contract."""

    def test_options_and_variants_follow_odoo_sequences(self):
        doc = self.document()
        self.assertEqual(doc["format"], 1)
        self.assertEqual(doc["options"], [{"name": "Color", "values": ["Blue", "Red"]},
                                          {"name": "Size", "values": ["S", "M"]}])
        by_sku = {v["sku"]: v for v in doc["variants"]}
        self.assertEqual(set(by_sku), {"TS-Blue-S", "TS-Blue-M", "TS-Red-S", "TS-Red-M"})
        self.assertEqual(by_sku["TS-Red-S"]["options"], ["Red", "S"])
        self.assertEqual((doc["name"], doc["description"], doc["handle"], doc["active"], doc["currency"]),
                         ("Relay T-Shirt", "Soft cotton.", "relay-t-shirt", True, self.env.company.currency_id.name))
        self.assertEqual(by_sku["TS-Red-S"]["price"], "20.00")

    def test_variant_fields_and_stable_external_ids(self):
        red_s = self.variant("TS-Red-S")
        red_s.write({"barcode": "4006381333931", "weight": 0.25})
        doc = self.document()
        row = next(v for v in doc["variants"] if v["sku"] == "TS-Red-S")
        self.assertEqual((row["barcode"], row["weight"], row["weight_unit"], row["product_id"]),
                         ("4006381333931", 0.25, "kg", red_s.id))
        self.assertEqual(doc["external_id"], self.tshirt.get_external_id()[self.tshirt.id])
        self.assertEqual(row["external_id"], red_s.get_external_id()[red_s.id])
        self.assertTrue(doc["external_id"].startswith("__export__."), doc["external_id"])
        self.assertEqual(self.document()["external_id"], doc["external_id"], "a re-run keeps the same id")

    def test_pricelist_prices_per_variant_in_the_channels_currency(self):
        eur = self.env.ref("base.EUR")
        eur.active = True
        pricelist = self.env["product.pricelist"].create({
            "name": "Shop EUR", "currency_id": eur.id, "item_ids": [
                (0, 0, {"applied_on": "0_product_variant", "product_id": self.variant("TS-Red-M").id,
                        "compute_price": "fixed", "fixed_price": 12.499}),
                (0, 0, {"applied_on": "1_product", "product_tmpl_id": self.tshirt.id,
                        "compute_price": "fixed", "fixed_price": 15.0}),
            ]})
        self.channel.pricelist_id = pricelist
        doc = self.document()
        self.assertEqual(doc["currency"], "EUR")
        prices = {v["sku"]: v["price"] for v in doc["variants"]}
        self.assertEqual(prices, {"TS-Red-M": "12.50", "TS-Red-S": "15.00", "TS-Blue-S": "15.00",
                                  "TS-Blue-M": "15.00"})

    def test_archived_template_is_an_inactive_document(self):
        self.tshirt.action_archive()
        doc = self.document()
        self.assertFalse(doc["active"])
        self.assertEqual({v["active"] for v in doc["variants"]}, {False})

    def test_single_variant_product_has_no_options(self):
        doc = self.document(self.product.product_tmpl_id)
        self.assertEqual(doc["options"], [])
        self.assertEqual([(v["sku"], v["options"], v["barcode"], v["weight"]) for v in doc["variants"]],
                         [("SR-001", [], None, None)])

    def test_description_is_plain_text(self):
        template = self.product.product_tmpl_id
        template.description = "<p>Hello <b>world</b></p>"
        self.assertEqual(self.document(template)["description"], "Hello *world*")

    def test_price_document_holds_only_prices(self):
        doc = self.env["stock.relay.catalog"]._documents(self.channel, self.tshirt, kind="price")[self.tshirt.id]
        self.assertEqual(set(doc), {"format", "external_id", "template_id", "currency", "variants"})
        self.assertEqual(set(doc["variants"][0]), {"external_id", "product_id", "sku", "price"})

    def test_price_is_null_when_the_pricelist_cannot_compute_it(self):
        self.channel.pricelist_id = self.env["product.pricelist"].create({"name": "Broken"})
        Pricelist = type(self.env["product.pricelist"])
        with patch.object(Pricelist, "_get_products_price", side_effect=ZeroDivisionError("rule")), \
                self.assertLogs("odoo.addons.stock_relay.models.catalog_document", logging.ERROR):
            doc = self.document()
        self.assertEqual({v["price"] for v in doc["variants"]}, {None})
        self.assertEqual(doc["name"], "Relay T-Shirt", "the rest of the document is still published")

