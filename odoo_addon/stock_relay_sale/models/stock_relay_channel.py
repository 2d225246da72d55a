import json
from urllib.parse import urlparse

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .stock_relay_sale_settings import UNKNOWN_SKU_POLICIES

# Channel form field -> stock.relay.sale.settings field.
SALE_SETTINGS = {
    "sale_auto_confirm": "auto_confirm",
    "sale_unknown_sku_policy": "unknown_sku_policy",
    "sale_fallback_product_id": "fallback_product_id",
    "sale_shipping_product_id": "shipping_product_id",
    "sale_team_id": "team_id",
    "sale_warehouse_id": "warehouse_id",
    "sale_public_url": "public_url",
    "sale_webhooks_registered": "webhooks_registered",
}


def _pop_sale_settings(vals):
    """Take the order settings out of a channel write: {settings field: value}."""
    return {SALE_SETTINGS[fname]: vals.pop(fname) for fname in list(vals)
            if fname in SALE_SETTINGS and fname != "sale_webhooks_registered"}


class StockRelayChannel(models.Model):
    _inherit = "stock.relay.channel"

    # Odoo-only settings: stored in stock.relay.sale.settings (the channel table is the contract's).
    sale_settings_ids = fields.One2many("stock.relay.sale.settings", "channel_id")
    sale_tax_map_ids = fields.One2many("stock.relay.sale.tax.map", "channel_id", string="Tax Mapping")
    sale_auto_confirm = fields.Boolean(string="Confirm Orders", compute="_compute_sale_settings",
                                       inverse="_inverse_sale_settings",
                                       help="Confirm imported orders at once, so Odoo reserves their stock.")
    sale_unknown_sku_policy = fields.Selection(UNKNOWN_SKU_POLICIES, string="Unknown SKU",
                                               compute="_compute_sale_settings", inverse="_inverse_sale_settings")
    sale_fallback_product_id = fields.Many2one("product.product", string="Fallback Product",
                                               compute="_compute_sale_settings", inverse="_inverse_sale_settings")
    sale_shipping_product_id = fields.Many2one("product.product", string="Shipping Product",
                                               compute="_compute_sale_settings", inverse="_inverse_sale_settings")
    sale_team_id = fields.Many2one("crm.team", string="Sales Team", compute="_compute_sale_settings",
                                   inverse="_inverse_sale_settings")
    sale_warehouse_id = fields.Many2one("stock.warehouse", string="Order Warehouse",
                                        compute="_compute_sale_settings", inverse="_inverse_sale_settings")
    sale_public_url = fields.Char(string="Webhook Public URL", compute="_compute_sale_settings",
                                  inverse="_inverse_sale_settings",
                                  help="Where shops reach stockrelayd's webhook listener, e.g. "
                                       "https://relay.example.com (this channel receives on /webhooks/<database>/<id>).")
    sale_webhooks_registered = fields.Text(string="Registered Webhooks", compute="_compute_sale_settings",
                                           readonly=True)
    inbox_pending_count = fields.Integer(string="Orders Waiting", compute="_compute_inbox_stats")
    inbox_failed_count = fields.Integer(string="Orders Failed", compute="_compute_inbox_stats")

    def _compute_sale_settings(self):
        Settings = self.env["stock.relay.sale.settings"].sudo()
        for channel in self:
            settings = (channel.id and Settings.search([("channel_id", "=", channel.id)], limit=1)) \
                or Settings.new({})
            for fname, sname in SALE_SETTINGS.items():
                channel[fname] = settings[sname]

    def _inverse_sale_settings(self):
        pass  # create() and write() store these fields in stock.relay.sale.settings

    @api.model_create_multi
    def create(self, vals_list):
        sale_vals = [_pop_sale_settings(vals) for vals in vals_list]
        channels = super().create(vals_list)
        for channel, values in zip(channels, sale_vals):
            if values:
                channel._write_sale_settings(values)
        return channels

    def write(self, vals):
        values = _pop_sale_settings(vals)
        result = super().write(vals) if vals else True
        if values:
            self.check_access("write")
            for channel in self:
                channel._write_sale_settings(values)
        return result

    def _write_sale_settings(self, values):
        """Store the channel form's order settings (only those given) in this channel's settings row."""
        Settings = self.env["stock.relay.sale.settings"].sudo()
        settings = Settings.search([("channel_id", "=", self.id)], limit=1) \
            or Settings.create({"channel_id": self.id})
        settings.write(values)
        self.invalidate_recordset(list(SALE_SETTINGS))

    def _compute_inbox_stats(self):
        counts = {}
        if self.ids:
            self.env.cr.execute(
                "SELECT channel_id, count(*) FILTER (WHERE state = 'pending'), count(*) FILTER (WHERE state = 'failed') "
                "FROM stock_relay_inbox WHERE channel_id = ANY(%s) GROUP BY channel_id", [list(self.ids)])
            counts = {row[0]: row[1:] for row in self.env.cr.fetchall()}
        for channel in self:
            channel.inbox_pending_count, channel.inbox_failed_count = counts.get(channel.id, (0, 0))

    def action_view_inbox(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("stock_relay_sale.action_stock_relay_inbox")
        action["domain"] = [("channel_id", "=", self.id)]
        state = self.env.context.get("inbox_state")
        action["context"] = {f"search_default_state_{state}": 1} if state else {}
        return action

    # ------------------------------------------------------------ webhooks
    def _webhook_base(self):
        """The public URL shops reach stockrelayd at: https, or plain http to this machine's loopback
        (a daemon with no TLS proxy in front, for development and tests)."""
        self.ensure_one()
        base = (self.sale_public_url or "").strip().rstrip("/")
        if not base:
            raise UserError(_("Set the Webhook Public URL of %s first (where shops reach stockrelayd).", self.name))
        url = urlparse(base)
        loopback = url.scheme == "http" and url.hostname in ("127.0.0.1", "localhost", "::1")
        if url.scheme != "https" and not loopback:
            raise UserError(_("The Webhook Public URL must start with https:// (shops send order data to it)."))
        return base

    def action_register_webhooks(self):
        """Create the shop's order webhooks pointing at stockrelayd, then show what the shop has registered."""
        self.ensure_one()
        self.check_access("write")
        base = self._webhook_base()
        native = self._native_channel()
        if not hasattr(native, "register_webhooks") or not hasattr(native, "list_webhooks"):
            raise UserError(_(
                "This build of stockrelay_native cannot register webhooks yet (Channel.register_webhooks is "
                "missing). Update stockrelay_native and stockrelayd, or create the webhooks in the shop's admin "
                "pointing at %s.", f"{base}/webhooks/{self.env.cr.dbname}/{self.id}"))
        # The native call appends /webhooks/<database>/<channel id> (the form a daemon serving several
        # databases routes by) and answers {address, webhooks, new_secret}.
        result = self._native_call(_("Registering webhooks"), "register_webhooks", base, self.env.cr.dbname)
        secret = result.get("new_secret") if isinstance(result, dict) else None
        if secret:  # WooCommerce: the generated secret the daemon checks signatures with
            self.sudo().credentials = dict(self.sudo().credentials or {}, webhook_secret=secret)
        self._show_webhooks(self._native_call(_("Listing webhooks"), "list_webhooks"))
        return True

    def action_list_webhooks(self):
        self.ensure_one()
        self.check_access("write")
        native = self._native_channel()
        if not hasattr(native, "list_webhooks"):
            raise UserError(_("This build of stockrelay_native cannot list webhooks yet "
                              "(Channel.list_webhooks is missing)."))
        self._show_webhooks(self._native_call(_("Listing webhooks"), "list_webhooks"))
        return True

    def _show_webhooks(self, hooks):
        lines = []
        for hook in hooks or []:
            if isinstance(hook, dict):
                lines.append(" ".join(str(hook.get(k)) for k in ("topic", "address", "status") if hook.get(k))
                             or json.dumps(hook, sort_keys=True))
            else:
                lines.append(str(hook))
        settings = self.env["stock.relay.sale.settings"].sudo().search([("channel_id", "=", self.id)], limit=1) \
            or self.env["stock.relay.sale.settings"].sudo().create({"channel_id": self.id})
        settings.webhooks_registered = "\n".join(lines) or _("none")
