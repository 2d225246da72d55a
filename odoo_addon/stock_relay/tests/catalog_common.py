from .common import StockRelayCase


class CatalogCase(StockRelayCase):
    """StockRelayCase's channel publishing its catalogue, and a T-shirt in two colours and two sizes.

    The attribute values are created out of their sequence (Red before Blue,
    M before S) so the documents show Odoo's order, not the creation order.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.channel.catalog_enabled = True
        Attribute = cls.env["product.attribute"]
        cls.size = Attribute.create({"name": "Size", "sequence": 1, "value_ids": [
            (0, 0, {"name": "M", "sequence": 2}), (0, 0, {"name": "S", "sequence": 1})]})
        cls.color = Attribute.create({"name": "Color", "sequence": 2, "value_ids": [
            (0, 0, {"name": "Red", "sequence": 2}), (0, 0, {"name": "Blue", "sequence": 1})]})
        cls.category = cls.env["product.category"].create({"name": "Shirts"})
        cls.tshirt = cls.env["product.template"].create({
            "name": "Relay T-Shirt", "is_storable": True, "type": "consu", "list_price": 20.0,
            "categ_id": cls.category.id, "description_sale": "Soft cotton.",
            "attribute_line_ids": [
                (0, 0, {"attribute_id": cls.color.id, "sequence": 1, "value_ids": [(6, 0, cls.color.value_ids.ids)]}),
                (0, 0, {"attribute_id": cls.size.id, "sequence": 2, "value_ids": [(6, 0, cls.size.value_ids.ids)]}),
            ]})
        for variant in cls.tshirt.product_variant_ids:
            names = variant.product_template_attribute_value_ids.sorted(lambda v: v.attribute_id.sequence).mapped("name")
            variant.default_code = "TS-" + "-".join(reversed(names))  # TS-<colour>-<size>
        cls.publish_rows()

    def setUp(self):
        super().setUp()
        self.clear_outbox()

    def variant(self, sku):
        return self.tshirt.product_variant_ids.filtered(lambda v: v.default_code == sku)

    def catalog_rows(self, channel=None, **where):
        """(kind, template id, trigger, payload) of the catalogue rows (of ``channel``), oldest first."""
        channel = channel or self.channel
        cond = "".join(f" AND {k} = %s" for k in where)
        self.env.cr.execute(
            "SELECT kind, product_id, trigger, payload, state FROM stock_relay_outbox "
            f"WHERE kind IN ('product', 'price') AND channel_id = %s{cond} ORDER BY id",
            [channel.id, *where.values()])
        return [dict(zip(("kind", "template_id", "trigger", "payload", "state"), r)) for r in self.env.cr.fetchall()]

    def publish_catalog(self, channel=None):
        self.publish()
        return self.catalog_rows(channel)

    def document(self, template=None, channel=None):
        template = template or self.tshirt
        return self.env["stock.relay.catalog"]._documents(channel or self.channel, template)[template.id]
