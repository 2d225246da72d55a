"""Edits of what a catalogue document holds queue the template (catalog_capture.py).

Product and variant fields, attribute lines and values, archive/unarchive, and
the items of the channels' pricelists ('price' rows). Edits that move a product
into or out of a channel's selection (category, 'Publish on' flags, SKU,
company, tracking) also re-publish its stock and unpublish it where it left.
"""
from odoo import api, models

from .capture import queue_republish

# product.template fields held by the document ('price': only the prices move).
TEMPLATE_DOC = {"name", "description", "description_sale", "active", "attribute_line_ids", "weight",
                "barcode", "default_code"}
TEMPLATE_PRICE = {"list_price"}
# product.template fields that decide whether a channel selects the template.
TEMPLATE_SCOPE = {"categ_id", "stock_relay_channel_ids", "company_id", "is_storable", "default_code", "active"}
VARIANT_DOC = {"default_code", "barcode", "weight", "active", "product_template_attribute_value_ids"}
VARIANT_SCOPE = {"default_code", "company_id", "is_storable", "categ_id", "active"}
# Scope inputs product.py does not re-publish the stock of already.
STOCK_SCOPE = {"categ_id", "stock_relay_channel_ids"}


def _catalog(env):
    return env["stock.relay.catalog"].sudo()


def _selected_before(templates):
    """{channel: template ids it selects now} for the catalogue channels (before a scope edit)."""
    channels = _catalog(templates.env)._catalog_channels()
    return {channel: channel._selected_template_ids(templates.ids) for channel in channels}


def _queue_edit(env, templates, vals, doc_fields, price_fields, scope_fields, before):
    """Queue what an edit of ``vals`` on ``templates`` changes in the shops."""
    catalog = _catalog(env)
    if doc_fields & vals.keys() or scope_fields & vals.keys():
        catalog._queue("product", templates.ids)
    elif price_fields & vals.keys():
        catalog._queue("price", templates.ids)
    for channel, selected in before.items():
        catalog._queue("product", selected, channels=channel, leaving=True)  # unpublished if no longer selected
    if STOCK_SCOPE & vals.keys():
        queue_republish(env, "product", templates.with_context(active_test=False).product_variant_ids.ids)


class ProductTemplateCatalog(models.Model):
    _inherit = "product.template"

    @api.model_create_multi
    def create(self, vals_list):
        templates = super().create(vals_list)
        _catalog(self.env)._queue("product", templates.ids)
        return templates

    def write(self, vals):
        scope = TEMPLATE_SCOPE & vals.keys()
        before = _selected_before(self) if scope else {}
        result = super().write(vals)
        if (TEMPLATE_DOC | TEMPLATE_PRICE | TEMPLATE_SCOPE) & vals.keys():
            _queue_edit(self.env, self.sudo(), vals, TEMPLATE_DOC, TEMPLATE_PRICE, TEMPLATE_SCOPE, before)
        return result


class ProductProductCatalog(models.Model):
    _inherit = "product.product"

    @api.model_create_multi
    def create(self, vals_list):
        variants = super().create(vals_list)
        _catalog(self.env)._queue("product", variants.product_tmpl_id.ids)
        return variants

    def write(self, vals):
        scope = VARIANT_SCOPE & vals.keys()
        templates = self.sudo().with_context(active_test=False).product_tmpl_id
        before = _selected_before(templates) if scope else {}
        result = super().write(vals)
        if (VARIANT_DOC | VARIANT_SCOPE) & vals.keys():
            _queue_edit(self.env, templates, vals, VARIANT_DOC, set(), VARIANT_SCOPE, before)
        return result

    def unlink(self):
        templates = self.sudo().product_tmpl_id
        result = super().unlink()
        _catalog(self.env)._queue("product", templates.exists().ids)
        return result


class ProductTemplateAttributeLine(models.Model):
    _inherit = "product.template.attribute.line"

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        _catalog(self.env)._queue("product", lines.sudo().product_tmpl_id.ids)
        return lines

    def write(self, vals):
        templates = self.sudo().product_tmpl_id
        result = super().write(vals)
        _catalog(self.env)._queue("product", (templates | self.sudo().product_tmpl_id).ids)
        return result

    def unlink(self):
        templates = self.sudo().product_tmpl_id
        result = super().unlink()
        _catalog(self.env)._queue("product", templates.exists().ids)
        return result


class ProductTemplateAttributeValue(models.Model):
    _inherit = "product.template.attribute.value"

    def write(self, vals):
        result = super().write(vals)
        kind = "price" if vals.keys() <= {"price_extra"} else "product"
        _catalog(self.env)._queue(kind, self.sudo().product_tmpl_id.ids)
        return result


class ProductAttributeValue(models.Model):
    _inherit = "product.attribute.value"

    def write(self, vals):
        result = super().write(vals)
        if {"name", "sequence"} & vals.keys():
            ptavs = self.env["product.template.attribute.value"].sudo().with_context(active_test=False).search(
                [("product_attribute_value_id", "in", self.ids)])
            _catalog(self.env)._queue("product", ptavs.product_tmpl_id.ids)
        return result


class ProductAttribute(models.Model):
    _inherit = "product.attribute"

    def write(self, vals):
        result = super().write(vals)
        if {"name", "sequence"} & vals.keys():
            lines = self.env["product.template.attribute.line"].sudo().search([("attribute_id", "in", self.ids)])
            _catalog(self.env)._queue("product", lines.product_tmpl_id.ids)
        return result


class ProductPricelistItem(models.Model):
    _inherit = "product.pricelist.item"

    @api.model_create_multi
    def create(self, vals_list):
        items = super().create(vals_list)
        items._stock_relay_queue_prices()
        return items

    def write(self, vals):
        self._stock_relay_queue_prices()  # what the rule priced before
        result = super().write(vals)
        self._stock_relay_queue_prices()
        return result

    def unlink(self):
        self._stock_relay_queue_prices()
        return super().unlink()

    def _stock_relay_queue_prices(self):
        """'price' rows for the templates these rules price, on the channels selling through their pricelists."""
        channels = _catalog(self.env)._catalog_channels().filtered(
            lambda c: c.pricelist_id in self.sudo().pricelist_id)
        for channel in channels:
            items = self.sudo().filtered(lambda i: i.pricelist_id == channel.pricelist_id)
            _catalog(self.env)._queue("price", items._stock_relay_template_ids(channel), channels=channel)

    def _stock_relay_template_ids(self, channel):
        """Templates (of the channel's selection) whose price these rules may set."""
        Product = self.env["product.product"].sudo().with_context(active_test=False)
        ids = set()
        for item in self:
            if item.applied_on == "0_product_variant":
                ids |= set(item.product_id.product_tmpl_id.ids)
            elif item.applied_on == "1_product":
                ids |= set(item.product_tmpl_id.ids)
            elif item.applied_on == "2_product_category" and item.categ_id:
                ids |= set(Product.search(channel._relay_product_domain()
                                          + [("categ_id", "child_of", item.categ_id.id)]).product_tmpl_id.ids)
            else:
                return channel._selected_template_ids()
        return ids
