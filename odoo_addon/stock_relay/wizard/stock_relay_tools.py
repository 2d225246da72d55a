from markupsafe import Markup, escape

from odoo import _, fields, models
from odoo.exceptions import UserError

from .. import native
from ..models.stock_relay_channel import native_message


def _table(headers, rows):
    head = Markup("").join(Markup("<th>%s</th>") % h for h in headers)
    body = Markup("").join(
        Markup("<tr>%s</tr>") % Markup("").join(Markup("<td>%s</td>") % c for c in row) for row in rows)
    return Markup('<table class="table table-sm o_stock_relay_table"><thead><tr>%s</tr></thead>'
                  '<tbody>%s</tbody></table>') % (head, body)


def _levels(channel, levels):
    """A shop item's levels as a person reads them: "Main warehouse: 5 · Backroom: 0".

    Shops key levels by their location id (a Shopify GID, a Medusa id); the
    channel's mapping knows the names. An unmapped location shows its id.
    """
    if not levels:
        return ""
    names = {line.location_key or "": line.location_name for line in channel.sudo().location_line_ids}
    parts = sorted((names.get(key) or key or channel.env._("(default)"), qty) for key, qty in levels.items())
    return " · ".join(f"{name}: {_number(qty)}" for name, qty in parts)


def _number(qty):
    return str(int(qty)) if isinstance(qty, float) and qty.is_integer() else str(qty)


class StockRelaySkuLookup(models.TransientModel):
    _name = "stock.relay.sku.lookup"
    _description = "Stock Relay: look up a SKU in the shop"

    channel_id = fields.Many2one("stock.relay.channel", required=True, ondelete="cascade")
    sku = fields.Char(string="SKU")
    product_id = fields.Many2one("product.product", string="Or Product",
                                 domain=[("default_code", "!=", False)])
    result = fields.Html(readonly=True, sanitize=True)

    def action_lookup(self):
        self.ensure_one()
        sku = (self.sku or self.product_id.default_code or "").strip()
        if not sku:
            raise UserError(_("Enter a SKU or pick a product that has an Internal Reference."))
        items = self.channel_id._native_call(_("Looking up SKU %s", sku), "lookup_sku", sku)
        if not items:
            self.result = Markup("<p>%s</p>") % _("The shop has no item with SKU %s.", sku)
        else:
            rows = []
            for item in items:
                levels = item.get("levels") or {}
                rows.append((item.get("sku"), item.get("title") or "", item.get("remote_id"),
                             _("yes") if item.get("tracked") else _("no"),
                             _levels(self.channel_id, levels)))
            self.result = _table([_("SKU"), _("Title"), _("Shop ID"), _("Tracked"), _("Levels")], rows)
        return {"type": "ir.actions.act_window", "res_model": self._name, "res_id": self.id,
                "view_mode": "form", "target": "new", "name": _("Look up SKU")}


class StockRelayPreview(models.TransientModel):
    _name = "stock.relay.preview"
    _description = "Stock Relay: preview what would be pushed"

    channel_id = fields.Many2one("stock.relay.channel", required=True, ondelete="cascade")
    product_id = fields.Many2one("product.product", string="Product")
    include_shop = fields.Boolean(string="Compare with the shop", default=True)
    result = fields.Html(readonly=True, sanitize=True)

    def action_preview(self):
        self.ensure_one()
        if not self.product_id:
            raise UserError(_("Pick a product to preview."))
        self.result = self._explain()
        return {"type": "ir.actions.act_window", "res_model": self._name, "res_id": self.id,
                "view_mode": "form", "target": "new", "name": _("Preview")}

    def _explain(self):
        product, channel = self.product_id, self.channel_id
        parts = []
        if not product.is_storable and not self.env["stock.relay.outbox"]._kit_components(product):
            return Markup("<p>%s</p>") % _("%s is not a storable product: it is not relayed.", product.display_name)
        sku = (product.default_code or "").strip()
        if not sku:
            return Markup("<p>%s</p>") % _(
                "%s has no Internal Reference (SKU): it is not relayed and appears in the unmatched report.",
                product.display_name)
        if not channel.enabled:
            parts.append(Markup("<p><b>%s</b></p>") % _("This channel is disabled: nothing is queued for it."))
        rows = self.env["stock.relay.outbox"]._sellable_rows([product.id], channels=channel, include_disabled=True)
        if not rows:
            parts.append(Markup("<p>%s</p>") % _(
                "No shop location of this channel is mapped to an Odoo internal location."))
        Quant = self.env["stock.quant"].sudo()
        for row in rows:
            quants = Quant.search([("product_id", "=", product.id), ("location_id", "in", list(row["locations"]))])
            quant_rows = [(q.location_id.complete_name, q.lot_id.name or "", q.quantity, q.reserved_quantity)
                          for q in quants]
            parts.append(Markup("<h5>%s</h5>") % (row["line"].location_name or row["location_key"] or _("(default)")))
            parts.append(_table([_("Location"), _("Lot"), _("Quantity"), _("Reserved")], quant_rows)
                         if quant_rows else Markup("<p>%s</p>") % _("No quants in the mapped locations."))
            formula = _("floor(max(0, %(on_hand)s − %(reserved)s) − buffer %(buffer)s)%(cap)s =",
                        on_hand=row["on_hand"], reserved=row["reserved"], buffer=row["safety_buffer"],
                        cap=_(", capped at %s", row["cap"]) if row["cap"] else "")
            if row.get("kit"):
                formula = _("A kit: the smallest, over its %(n)s component(s), of floor(component sellable "
                            "(buffer %(buffer)s held back) ÷ quantity per kit)%(cap)s =", n=len(row["kit"]),
                            buffer=row["safety_buffer"], cap=_(", capped at %s", row["cap"]) if row["cap"] else "")
            parts.append(Markup("<p>%s <b>%s</b> %s</p>") % (formula, row["quantity"], product.uom_id.name))
        if self.include_shop:
            parts.append(Markup("<h5>%s</h5>") % _("In the shop now"))
            try:
                items = channel._native_channel().lookup_sku(sku)
                parts.append(_table([_("Shop ID"), _("Title"), _("Levels")],
                                    [(i.get("remote_id"), i.get("title") or "",
                                      _levels(channel, i.get("levels"))) for i in items])
                             if items else Markup("<p>%s</p>") % _("The shop has no item with SKU %s.", sku))
            except (native.error_class(), UserError) as exc:
                message = native_message(exc) if isinstance(exc, native.error_class()) else str(exc)
                parts.append(Markup("<p class='text-danger'>%s</p>") % escape(message))
        return Markup("").join(parts)
