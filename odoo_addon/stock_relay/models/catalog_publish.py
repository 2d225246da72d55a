"""The catalogue's buttons: publish a channel's whole selection (catalog_sync)
and dry runs for a channel or one product (stock_relay_catalog_preview)."""
from odoo import _, fields, models
from odoo.exceptions import UserError

from .catalog_background import catalog_inline_limit

CHUNK = 1000


class StockRelayChannelCatalog(models.Model):
    _inherit = "stock.relay.channel"

    catalog_preview_ids = fields.One2many("stock.relay.catalog.preview", "channel_id", string="Dry Runs")

    def _check_catalog(self):
        self.check_access("write")
        for channel in self:
            if not channel.enabled or not channel.catalog_enabled:
                raise UserError(_("%s does not publish its catalogue: enable the channel and "
                                  "'Publish Catalogue' first.", channel.name))

    def _selected_templates(self):
        Template = self.env["product.template"].sudo().with_context(active_test=False)
        return Template.browse(sorted(self._selected_template_ids()))

    def action_publish_catalog(self):
        """Queue the document of every product of the selection (trigger catalog_sync, bulk priority)."""
        self._check_catalog()
        catalog = self.env["stock.relay.catalog"].sudo()
        written = background = 0
        for channel in self.sudo():
            templates = channel._selected_templates()
            if len(templates) > catalog_inline_limit(self.env):
                background += self.env["stock.relay.catalog.job"].sudo()._start(
                    channel, "product", templates.ids, trigger="catalog_sync").total
                continue
            for start in range(0, len(templates), CHUNK):
                docs = catalog._documents(channel, templates[start:start + CHUNK])
                written += catalog._enqueue_rows(
                    "product", [(channel.id, tid, doc) for tid, doc in docs.items()], "catalog_sync")
        message = _("%s product(s) queued for the shop.", written)
        if background:
            message = _("Publishing %s products in the background; the channel's Catalogue tab shows the progress.",
                        background + written)
        return {"type": "ir.actions.client", "tag": "display_notification",
                "params": {"title": _("Catalogue queued"), "type": "success", "message": message}}

    def action_catalog_dry_run(self):
        """A dry run of the whole selection: what publishing it would change in the shop."""
        self.ensure_one()
        self._check_catalog()
        preview = self._request_preview(self._selected_templates())
        return preview._open()

    def _request_preview(self, templates, template=None):
        docs = self.env["stock.relay.catalog"].sudo()._documents(self, templates)
        return self.env["stock.relay.catalog.preview"].sudo().create({
            "channel_id": self.id, "template_id": template.id if template else False,
            "documents": [docs[tid] for tid in sorted(docs)], "state": "requested",
            "requested_by": self.env.uid, "requested_at": fields.Datetime.now()})


class StockRelayCatalogPreviewOpen(models.Model):
    _inherit = "stock.relay.catalog.preview"

    def _open(self):
        action = {"type": "ir.actions.act_window", "res_model": self._name, "name": _("Catalogue dry run")}
        if len(self) == 1:
            return dict(action, res_id=self.id, view_mode="form", views=[(False, "form")])
        return dict(action, domain=[("id", "in", self.ids)], view_mode="list,form",
                    views=[(False, "list"), (False, "form")])


class ProductTemplateCatalogDryRun(models.Model):
    _inherit = "product.template"

    def action_stock_relay_dry_run(self):
        """A dry run of this product on every catalogue channel that selects it."""
        self.ensure_one()
        channels = self.env["stock.relay.catalog"].sudo()._catalog_channels()
        channels = channels.filtered(lambda c: self.id in c._selected_template_ids(self.ids))
        if not channels:
            raise UserError(_("No shop publishes the catalogue of %s: check the channels' catalogue settings "
                              "(scope, category, 'Publish on').", self.display_name))
        channels.with_env(self.env)._check_catalog()  # the user's own right to edit the channels
        previews = self.env["stock.relay.catalog.preview"].sudo()
        for channel in channels:
            previews |= channel._request_preview(self.sudo().with_context(active_test=False), template=self)
        return previews._open()
