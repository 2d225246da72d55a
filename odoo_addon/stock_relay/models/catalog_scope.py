"""What a channel publishes (contract v5 [catalogue]): its scope.

One predicate, two spellings that must agree (tests/test_catalog_scope.py):
``_publish_scope_domain()`` for searches (full sync, re-publish, reconcile's
expected numbers, the catalogue's selection) and ``_in_publish_scope(product)``
for the per-product check of the stock capture (``_sells``). Scope 'all' adds
nothing, so it keeps the stock relay's behaviour exactly.
"""
from odoo import _, api, fields, models
from odoo.exceptions import ValidationError

from .capture import queue_republish

SCOPE_FIELDS = ("publish_scope", "publish_category_id", "flagged_template_ids", "company_id", "archived_products")
NOTHING = [("id", "=", 0)]


class StockRelayChannelScope(models.Model):
    _inherit = "stock.relay.channel"

    flagged_template_ids = fields.Many2many(
        "product.template", "stock_relay_channel_product_template_rel", "channel_id", "template_id",
        string="Flagged Products", help="Products published when the scope is 'Products flagged for this channel'.")

    @api.constrains("publish_scope", "publish_category_id")
    def _check_publish_scope(self):
        for channel in self:
            if channel.publish_scope == "category" and not channel.publish_category_id:
                raise ValidationError(_("Choose the product category this channel publishes."))

    # ------------------------------------------------------------ the predicate
    def _publish_scope_domain(self):
        """product.product domain of the channel's scope ([] for 'all')."""
        self.ensure_one()
        if self.publish_scope == "category":
            category = self.sudo().publish_category_id
            return [("categ_id", "child_of", category.id)] if category else list(NOTHING)
        if self.publish_scope == "flagged":
            return [("product_tmpl_id.stock_relay_channel_ids", "in", self.id)]
        return []

    def _in_publish_scope(self, product):
        """``_publish_scope_domain()`` evaluated on one product (no query for 'all')."""
        self.ensure_one()
        if self.publish_scope == "category":
            category = self.sudo().publish_category_id
            path = product.sudo().categ_id.parent_path or ""
            return bool(category) and path.startswith(category.parent_path or "//")
        if self.publish_scope == "flagged":
            return self.id in product.sudo().product_tmpl_id.stock_relay_channel_ids.ids
        return True

    def _relay_product_domain(self):
        return super()._relay_product_domain() + self._publish_scope_domain()

    def _sells(self, product):
        return super()._sells(product) and self._in_publish_scope(product)

    # ------------------------------------------------------------ the selection
    def _selected_products(self, template_ids=None):
        """Products of the channel's selection (archived ones included when the channel publishes them)."""
        self.ensure_one()
        domain = self._relay_product_domain()
        if template_ids is not None:
            domain = domain + [("product_tmpl_id", "in", list(template_ids))]
        Product = self.env["product.product"].sudo().with_context(active_test=False)
        return Product.search(domain, order="id")

    def _selected_template_ids(self, template_ids=None):
        """Templates with at least one product in the channel's selection."""
        return set(self._selected_products(template_ids).product_tmpl_id.ids)

    # ------------------------------------------------------------ scope changes
    def write(self, vals):
        watched = [f for f in SCOPE_FIELDS if f in vals]
        before = {c.id: set(c._selected_products().ids) for c in self} if watched else {}
        pricelists = {c.id: c.pricelist_id for c in self} if "pricelist_id" in vals else {}
        result = super().write(vals)
        for channel in self.browse(before):
            channel._scope_changed(before[channel.id])
        for channel in self.browse(pricelists):
            if channel.pricelist_id != pricelists[channel.id] and channel.catalog_enabled:
                self.env["stock.relay.catalog"]._queue(
                    "price", channel._selected_template_ids(), channels=channel)
        return result

    def _scope_changed(self, before_product_ids):
        """Newly selected products get stock (and product rows); leaving ones are unpublished."""
        after = self._selected_products()
        new_ids = set(after.ids) - before_product_ids
        queue_republish(self.env, "channel", new_ids, channels=self)
        if not self.catalog_enabled:
            return
        Product = self.env["product.product"].sudo().with_context(active_test=False)
        new_templates = set(Product.browse(list(new_ids)).product_tmpl_id.ids)
        after_templates = set(after.product_tmpl_id.ids)
        gone = set(Product.browse(list(before_product_ids - set(after.ids))).exists().product_tmpl_id.ids)
        catalog = self.env["stock.relay.catalog"]
        catalog._queue("product", new_templates, channels=self)
        catalog._queue("product", gone - after_templates, channels=self, leaving=True)


class ProductTemplateScope(models.Model):
    _inherit = "product.template"

    stock_relay_channel_ids = fields.Many2many(
        "stock.relay.channel", "stock_relay_channel_product_template_rel", "template_id", "channel_id",
        string="Publish on", copy=False,
        help="Shops with the scope 'Products flagged for this channel' publish this product.")
