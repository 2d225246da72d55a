"""Catalogue dry runs: Odoo writes the documents it would publish to
stock_relay_catalog_preview; the daemon reads the shop and answers in
``result`` (created / updated with field-level differences / unchanged /
conflicts). Odoo shows the answer to the shop manager; nothing changes in the shop.
"""
import json

from markupsafe import Markup, escape

from odoo import _, api, fields, models

from .schema import apply_contract

SECTIONS = ("created", "updated", "unchanged", "conflicts")


class StockRelayCatalogPreview(models.Model):
    _name = "stock.relay.catalog.preview"
    _description = "Stock Relay Catalogue Dry Run"
    _table = "stock_relay_catalog_preview"
    _auto = False  # native/sql/stock_relay_schema.sql owns the table; stockrelayd answers in it
    _log_access = False
    _order = "id desc"

    # --- columns of stock_relay_catalog_preview (keep in step with the contract) ---
    channel_id = fields.Many2one("stock.relay.channel", string="Shop", required=True, readonly=True,
                                 ondelete="cascade")
    template_id = fields.Many2one("product.template", string="Product", readonly=True,
                                  help="Empty: the channel's whole selection.")
    documents = fields.Json(readonly=True)
    state = fields.Selection([("requested", "Waiting for the daemon"), ("running", "Reading the shop"),
                              ("done", "Done"), ("failed", "Failed")], readonly=True, default="requested")
    result = fields.Json(readonly=True)
    error = fields.Text(readonly=True)
    requested_by = fields.Many2one("res.users", readonly=True)
    requested_at = fields.Datetime(readonly=True)
    started_at = fields.Datetime(readonly=True)
    finished_at = fields.Datetime(readonly=True)

    # --- not stored ---
    summary = fields.Char(compute="_compute_report")
    report_html = fields.Html(string="What Would Change", compute="_compute_report", sanitize=False)
    document_count = fields.Integer(string="Products", compute="_compute_report")

    def init(self):
        apply_contract(self.env.cr)

    @api.depends("state", "result", "error", "documents")
    def _compute_report(self):
        for preview in self:
            preview.document_count = len(preview.documents or [])
            result = preview.result or {}
            if preview.state != "done":
                preview.summary = dict(self._fields["state"].selection).get(preview.state) \
                    if preview.state != "failed" else _("Failed: %s", preview.error or "")
                preview.report_html = Markup("<p>%s</p>") % (preview.error or preview.summary)
                continue
            counts = {}
            html = Markup("")
            none = _("(none)")
            titles = {"created": _("Would be created"), "updated": _("Would be updated"),
                      "unchanged": _("Unchanged"), "conflicts": _("Conflicts")}
            for key in SECTIONS:  # a plain loop: _() finds the user's language in this frame
                items = result.get(key) or []
                counts[key] = len(items)
                if items:
                    html += _section(titles[key], items, key, none)
            preview.summary = _("%(created)s to create, %(updated)s to update, %(unchanged)s unchanged, "
                                "%(conflicts)s conflict(s)", **counts)
            preview.report_html = html

    def action_refresh(self):
        self.invalidate_recordset()
        return {"type": "ir.actions.client", "tag": "soft_reload"}


def _section(title, items, key, none):
    rows = Markup("")
    for item in items:
        rows += _item(item, key, none)
    return Markup("<h4>%s (%s)</h4><ul>%s</ul>") % (title, len(items), rows)


def _item(item, key, none):
    name = item.get("name") or item.get("external_id") or "?"
    text = Markup("<b>%s</b> <small class='text-muted'>%s</small>") % (name, item.get("external_id") or "")
    if key == "conflicts":
        text += Markup(": %s %s") % (item.get("code") or "", item.get("message") or "")
    if key == "updated":
        changes = Markup("")
        for field, diff in sorted((item.get("fields") or {}).items()):
            if isinstance(diff, dict):
                changes += Markup("<li>%s: %s &#8594; %s</li>") % (
                    field, _show(diff.get("shop"), none), _show(diff.get("odoo"), none))
        text += Markup("<ul>%s</ul>") % changes
    return Markup("<li>%s</li>") % text


def _show(value, none):
    if value is None:
        return escape(none)
    return escape(value if isinstance(value, str) else json.dumps(value, ensure_ascii=False))
