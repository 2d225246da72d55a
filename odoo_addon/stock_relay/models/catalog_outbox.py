"""Catalogue rows in the sync log: their product_id is a product.template id (contract v5
[catalogue]), so the log shows the template and the document instead of a variant."""
import json

from odoo import api, fields, models


class StockRelayOutboxCatalog(models.Model):
    _inherit = "stock.relay.outbox"

    catalog_template_id = fields.Many2one("product.template", string="Catalogue Product",
                                          compute="_compute_catalog_template_id")
    payload_text = fields.Text(string="Document (JSON)", compute="_compute_payload_text")

    @api.depends("kind", "product_id")
    def _compute_catalog_template_id(self):
        Template = self.env["product.template"]
        for row in self:
            is_catalog = row.kind in ("product", "price")
            row.catalog_template_id = Template.browse(row.product_id.id) if is_catalog else Template

    @api.depends("payload")
    def _compute_payload_text(self):
        for row in self:
            row.payload_text = json.dumps(row.payload, indent=2, ensure_ascii=False) if row.payload else False
