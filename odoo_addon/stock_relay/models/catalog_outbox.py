"""Catalogue rows in the sync log: their product_id is a product.template id (contract v5
[catalogue]), so the log shows the template and the document instead of a variant."""
import json

from odoo import _, api, fields, models
from odoo.exceptions import UserError


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

    def action_retry(self):
        """Failed catalogue rows are retried with the document Odoo computes now (trigger manual_retry).

        Their product_id is a template: the stock retry must never see them.
        """
        catalog = self.filtered(lambda r: r.kind in ("product", "price") and r.state == "failed")
        if not catalog:
            return super().action_retry()
        self.check_access("write")
        requeued = self.env["stock.relay.catalog"].sudo()._retry(catalog.sudo())
        stock = (self - catalog).filtered(lambda r: r.state == "failed")
        if stock:
            super(StockRelayOutboxCatalog, stock).action_retry()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"title": _("Retry queued"), "type": "success",
                       "message": _("%s catalogue row(s) queued again with the document Odoo computes now.", requeued),
                       "next": {"type": "ir.actions.client", "tag": "soft_reload"}},
        }


class StockRelayCatalogRetry(models.AbstractModel):
    _inherit = "stock.relay.catalog"

    @api.model
    def _retry(self, rows):
        """Queue the keys of failed catalogue ``rows`` again; close those whose product left the selection."""
        disabled = rows.channel_id.filtered(lambda c: not c.enabled or not c.catalog_enabled)
        if disabled:
            raise UserError(_("%s does not publish its catalogue; enable it before retrying.",
                              ", ".join(disabled.mapped("name"))))
        requeued = 0
        for kind in ("product", "price"):
            wanted = {}
            for row in rows.filtered(lambda r: r.kind == kind):
                wanted.setdefault(row.channel_id, set()).add(row.product_id.id)
            if wanted:
                requeued += self._enqueue_wanted(kind, wanted, set(), "manual_retry")
        self.env.cr.execute(
            "UPDATE stock_relay_outbox SET state = 'superseded', updated_at = (now() AT TIME ZONE 'UTC') "
            "WHERE id = ANY(%s) AND state = 'failed'", [rows.ids])
        rows.invalidate_recordset()
        return requeued
