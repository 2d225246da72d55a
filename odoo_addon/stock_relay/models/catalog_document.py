"""product.template -> the catalogue document of contract v5 [catalogue] (format 1).

Pure reads plus Odoo's own external-id helper (raw SQL, safe at precommit), in
batches: the fields of a batch of templates and their variants are prefetched
together, prices come from one pricelist call per batch. Images are left out:
Odoo serves product images only to logged-in users unless a website module
publishes them, so there is no cheap, publicly reachable URL to give the shop.
"""
import logging
import re
import unicodedata

from odoo import api, fields, models
from odoo.tools import html2plaintext

_logger = logging.getLogger(__name__)

FORMAT = 1
BATCH = 500


def slugify(text):
    """An URL slug suggestion: ASCII, lower case, words joined by '-'."""
    text = unicodedata.normalize("NFKD", text or "").encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "product"


def price_string(currency, value):
    """The price as a decimal string rounded to the currency ("12.50")."""
    if value is None:
        return None
    return f"{currency.round(value):.{currency.decimal_places}f}"


class StockRelayCatalog(models.AbstractModel):
    """Builds, queues and previews the catalogue documents of the channels."""

    _name = "stock.relay.catalog"
    _description = "Stock Relay Catalogue"

    # ------------------------------------------------------------ external ids
    @api.model
    def _external_ids(self, records):
        """{id: external id}; Odoo's own helper creates the missing __export__ ids (raw SQL, no flush)."""
        return {record.id: xid for record, xid in records._BaseModel__ensure_xml_id()}

    # ------------------------------------------------------------ documents
    @api.model
    def _documents(self, channel, templates, kind="product", active=None):
        """{template id: document} for ``templates`` as ``channel`` would publish them.

        ``active=False`` builds the unpublishing document of a template that left
        the channel's selection. A template whose document cannot be computed is
        logged and left out (the user's save never fails because of it).
        """
        templates = templates.sudo().with_context(active_test=False, prefetch_fields=True)
        documents = {}
        for start in range(0, len(templates), BATCH):
            batch = templates[start:start + BATCH]
            try:
                documents.update(self._batch_documents(channel, batch, kind, active))
            except Exception:  # noqa: BLE001 - one bad template must not lose the batch
                for template in batch:
                    try:
                        documents.update(self._batch_documents(channel, template, kind, active))
                    except Exception:  # noqa: BLE001
                        _logger.exception("stock_relay: no %s document for template %s (channel %s)",
                                          kind, template.id, channel.id)
        return documents

    @api.model
    def _batch_documents(self, channel, templates, kind, active):
        variants = templates.with_context(active_test=False).product_variant_ids
        template_xids = self._external_ids(templates)
        variant_xids = self._external_ids(variants)
        currency = channel._catalog_currency()
        prices = self._prices(channel, variants, currency)
        weight_unit = self.env["product.template"]._get_weight_uom_name_from_ir_config_parameter()
        documents = {}
        for template in templates:
            options, lines = self._options(template)
            rows = []
            for variant in template.with_context(active_test=False).product_variant_ids:
                row = {"external_id": variant_xids[variant.id], "product_id": variant.id,
                       "sku": (variant.default_code or "").strip() or None,
                       "price": price_string(currency, prices.get(variant.id))}
                if kind == "product":
                    by_line = {v.attribute_line_id.id: v.name for v in variant.product_template_attribute_value_ids}
                    row.update({"barcode": variant.barcode or None, "weight": variant.weight or None,
                                "weight_unit": weight_unit, "options": [by_line.get(line.id) for line in lines],
                                "active": bool(variant.active and template.active and active is not False)})
                rows.append(row)
            document = {"format": FORMAT, "external_id": template_xids[template.id], "template_id": template.id,
                        "currency": currency.name, "variants": rows}
            if kind == "product":
                document.update({"name": template.name, "description": self._description_text(template),
                                 "handle": slugify(template.name),
                                 "active": bool(template.active and active is not False), "options": options})
            documents[template.id] = document
        return documents

    @api.model
    def _options(self, template):
        """The document's options (attribute lines that create variants, values in Odoo's sequence) and their lines."""
        lines = template.attribute_line_ids._without_no_variant_attributes()
        options = [{"name": line.attribute_id.name, "values": line.value_ids.sorted().mapped("name")}
                   for line in lines]
        return options, lines

    @api.model
    def _description_text(self, template):
        if template.description_sale:
            return template.description_sale.strip()
        return html2plaintext(template.description).strip() if template.description else ""

    @api.model
    def _prices(self, channel, variants, currency):
        """{variant id: price in ``currency``} from the channel's pricelist, else the sales price."""
        pricelist = channel.sudo().pricelist_id
        if pricelist:
            try:
                return pricelist._get_products_price(variants, 1.0, currency=currency)
            except Exception:  # noqa: BLE001 - a broken rule: no price, the document says so (null)
                _logger.exception("stock_relay: pricelist %s gives no price (channel %s)", pricelist.id, channel.id)
                return {}
        today = fields.Date.context_today(self)
        company = channel.company_id or self.env.company
        return {v.id: v.currency_id._convert(v.lst_price, currency, company, today) for v in variants}


class StockRelayChannelCurrency(models.Model):
    _inherit = "stock.relay.channel"

    def _catalog_currency(self):
        """The currency of the channel's prices: its pricelist's, else its company's."""
        self.ensure_one()
        if self.sudo().pricelist_id:
            return self.sudo().pricelist_id.currency_id
        return (self.company_id or self.env.company).currency_id
