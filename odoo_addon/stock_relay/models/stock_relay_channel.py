import logging

from psycopg2.extras import Json as PsycopgJson

from odoo import _, api, fields, models
from odoo.exceptions import UserError, ValidationError

from .. import native
from .schema import apply_contract
from .capture import inline_limit

_logger = logging.getLogger(__name__)

CHANNEL_TYPES = [("shopify", "Shopify"), ("woocommerce", "WooCommerce"), ("medusa", "Medusa")]

# Write-only inputs shown in the form, per channel type: field -> credentials key.
SECRET_INPUTS = {
    "shopify_access_token": ("shopify", "access_token"),
    # Orders in (contract v3): the keys stockrelayd verifies webhook signatures with.
    "shopify_client_secret": ("shopify", "client_secret"),
    "woo_webhook_secret": ("woocommerce", "webhook_secret"),
    "woo_consumer_key": ("woocommerce", "consumer_key"),
    "woo_consumer_secret": ("woocommerce", "consumer_secret"),
    "medusa_api_key": ("medusa", "api_key"),
    "medusa_email": ("medusa", "email"),
    "medusa_password": ("medusa", "password"),
}
# Stored credentials belong to the shop these fields name.
SHOP_FIELDS = {"base_url", "channel_type"}


class NullableInteger(fields.Integer):
    """An integer column where 0/empty means NULL ("not set").

    The contract forbids 0 for batch_size (NULL = the channel's default) and
    NULL is how "no cap" is spelled; Odoo's Integer would write 0.
    """

    def convert_to_column(self, value, record, values=None, validate=True):
        return int(value) if value else None


class JsonObject(fields.Json):
    """A jsonb column that is NOT NULL DEFAULT '{}': empty is {}, never NULL."""

    def convert_to_column(self, value, record, values=None, validate=True):
        return PsycopgJson(value or {})


def native_message(exc):
    """The exact text of a native exception, prefixed with its error code."""
    code = getattr(exc, "code", "") or ""
    return f"{code}: {exc}" if code else str(exc)


class StockRelayChannel(models.Model):
    _name = "stock.relay.channel"
    _description = "Stock Relay Shop Channel"
    _table = "stock_relay_channel"
    _auto = False  # native/sql/stock_relay_schema.sql owns the table
    _log_access = True
    _order = "name, id"

    # --- columns of stock_relay_channel (keep in step with the contract) ---
    name = fields.Char(required=True)
    channel_type = fields.Selection(CHANNEL_TYPES, string="Shop Type", required=True, default="shopify")
    enabled = fields.Boolean(default=True, help="Disabled channels receive no new outbox rows.")
    base_url = fields.Char(string="Shop URL", required=True,
                           help="Shopify: https://<shop>.myshopify.com; WooCommerce: the site URL; "
                                "Medusa: the backend URL. Saving another URL forgets the stored credentials.")
    api_version = fields.Char(string="API Version", help="Shopify Admin API version, e.g. 2025-10.")
    credentials = JsonObject(groups="base.group_system", copy=False,
                             help="Secrets by shop type; readable by administrators only.")
    settings = JsonObject(string="Extra Settings", groups="base.group_system")
    batch_size = NullableInteger(help="Items per shop request; empty = the shop's default "
                                      "(Shopify 250, WooCommerce 50, Medusa 250).")
    # contract v6 [in-flight]
    batches_in_flight = NullableInteger(
        string="Batches in Flight",
        help="How many batches the daemon sends to this shop at once, each on different products (1-16); "
             "empty = the daemon's default for the shop type: WooCommerce 4 (lower it for a site with fewer "
             "PHP workers), Medusa 2, Shopify 1 (its cost bucket is the limit). "
             "More helps slow shops that serve several requests at once.")
    max_attempts = fields.Integer(required=True, default=10,
                                  help="A row that failed transiently this many times is marked failed.")
    timeout_ms = fields.Integer(string="Timeout (ms)", required=True, default=15000)
    # contract v2 (issue 10): how long a transiently failing row keeps retrying
    retry_window_hours = fields.Float(string="Retry Window (h)", required=True, default=24.0,
                                      help="A row that keeps failing transiently while the rest of the channel works "
                                           "retries with backoff this long (and at least Max Attempts times) before "
                                           "it is marked failed. Rows are never failed while the whole shop is down "
                                           "or refuses the credentials: they wait and land when it answers again.")
    tls_verify = fields.Boolean(string="Verify TLS", default=True)
    # v2 (i10-channels): SKU cache revalidation
    sku_cache_max_age_seconds = fields.Integer(
        string="SKU Cache Max Age (s)", required=True, default=3600,
        help="How long a SKU's shop item found by a lookup is trusted; after that the next push looks the SKU "
             "up again (0 = on every push).")
    # contract v3: reconciliation and orders in
    reconcile_auto_heal = fields.Boolean(
        string="Heal Drift Automatically",
        help="After each reconcile, push Odoo's number to every shop item found to differ from it.")
    orders_enabled = fields.Boolean(
        string="Import Orders", help="Bring this shop's orders into Odoo as sale orders.")
    order_poll_seconds = fields.Integer(
        string="Order Polling (s)", required=True, default=120,
        help="How often the daemon asks the shop for new or changed orders (webhooks, when registered, "
             "bring them sooner; polling catches anything they missed).")
    # contract v4 [sales-aware]
    sales_grace_seconds = fields.Integer(
        string="Sales Grace Period (s)", required=True, default=900,
        help="How long a drop of the shop's stock that no order explains yet is held back as a presumed sale "
             "before it counts as drift and is overwritten with Odoo's number (keep it longer than the order "
             "polling interval).")
    # contract v5 [catalogue]: what the channel publishes (the same selection limits the stock relay)
    catalog_enabled = fields.Boolean(
        string="Publish Catalogue",
        help="Also publish products (variants, options, prices) to this shop, not only stock.")
    publish_scope = fields.Selection(
        [("all", "All sellable products"), ("category", "A product category"),
         ("flagged", "Products flagged for this channel")],
        string="Products Published", required=True, default="all")
    publish_category_id = fields.Many2one("product.category", string="Category", ondelete="restrict")
    pricelist_id = fields.Many2one(
        "product.pricelist", string="Pricelist", ondelete="restrict",
        help="Prices the shop gets; empty = the product's sales price in the company currency.")
    safety_buffer = fields.Float(default=0.0, help="Units held back from every shop location.")
    quantity_cap = NullableInteger(string="Cap", help="Never publish more than this; empty = no cap.")
    company_id = fields.Many2one("res.company", default=lambda self: self.env.company)

    # --- not stored ---
    location_line_ids = fields.One2many("stock.relay.channel.location", "channel_id", string="Location Mapping")
    shopify_access_token = fields.Char(string="Access Token", compute="_compute_secret_inputs",
                                       inverse="_inverse_secret_inputs")
    shopify_client_secret = fields.Char(
        string="App Client Secret", compute="_compute_secret_inputs", inverse="_inverse_secret_inputs",
        help="The app's client secret: Shopify signs order webhooks with it (X-Shopify-Hmac-Sha256).")
    woo_webhook_secret = fields.Char(
        string="Webhook Secret", compute="_compute_secret_inputs", inverse="_inverse_secret_inputs",
        help="WooCommerce signs order webhooks with it; Register webhooks generates one when empty.")
    woo_consumer_key = fields.Char(string="Consumer Key", compute="_compute_secret_inputs",
                                   inverse="_inverse_secret_inputs")
    woo_consumer_secret = fields.Char(string="Consumer Secret", compute="_compute_secret_inputs",
                                      inverse="_inverse_secret_inputs")
    medusa_api_key = fields.Char(string="Secret API Key", compute="_compute_secret_inputs",
                                 inverse="_inverse_secret_inputs")
    medusa_email = fields.Char(string="Admin Email", compute="_compute_secret_inputs",
                               inverse="_inverse_secret_inputs")
    medusa_password = fields.Char(string="Admin Password", compute="_compute_secret_inputs",
                                  inverse="_inverse_secret_inputs")
    credentials_status = fields.Char(string="Stored Credentials", compute="_compute_credentials_status")
    ca_file = fields.Char(string="CA File", compute="_compute_settings_inputs", inverse="_inverse_settings_inputs",
                          help="PEM bundle trusted for this shop (a private CA); empty = the system store.")
    allow_insecure_http = fields.Boolean(string="Allow Plain HTTP", compute="_compute_settings_inputs",
                                         inverse="_inverse_settings_inputs",
                                         help="Only for local test shops: send credentials without TLS.")
    pending_count = fields.Integer(string="Pending", compute="_compute_stats")
    failed_count = fields.Integer(string="Failed", compute="_compute_stats")
    oldest_pending_age = fields.Char(string="Oldest Pending", compute="_compute_stats")
    last_success_at = fields.Datetime(string="Last Success", compute="_compute_stats")
    # issue 10: what stockrelayd last saw of the shop as a whole (stock_relay_channel_state, written by the daemon)
    relay_state = fields.Char(string="Shop State", compute="_compute_relay_state")

    def init(self):
        apply_contract(self.env.cr)

    @api.model_create_multi
    def create(self, vals_list):
        channels = super().create(vals_list)
        channels.invalidate_recordset(list(SECRET_INPUTS))
        return channels

    def write(self, vals):
        moved = self._moving_to_another_shop(vals)
        result = super().write(vals)
        if moved:
            moved._keep_only_new_credentials(vals)
        if SECRET_INPUTS.keys() & vals.keys():
            # What was typed must not be sent back by the read that follows the save.
            self.invalidate_recordset(list(SECRET_INPUTS))
        return result

    # ------------------------------------------------------------ secrets
    def _moving_to_another_shop(self, vals):
        """The channels whose URL or type this write changes (their secrets were stored for another shop)."""
        if not SHOP_FIELDS & vals.keys():
            return self.browse()
        return self.filtered(lambda c: _same_url(c.base_url) != _same_url(vals.get("base_url", c.base_url))
                             or c.channel_type != vals.get("channel_type", c.channel_type))

    def _keep_only_new_credentials(self, vals):
        """Credentials follow the shop: after a URL or type change only what this write supplies stays.

        The contract's trigger (stock_relay_channel_credentials_follow_url)
        enforces the same rule for every writer; doing it here too keeps the
        ORM cache equal to the row, so a button pressed in the same
        transaction cannot send the old secret to the new URL.
        """
        for channel in self.sudo():
            if "credentials" in vals:
                fresh = dict(vals["credentials"] or {})
            else:
                fresh = {key: (value if key == "password" else value.strip())
                         for fname, (ctype, key) in SECRET_INPUTS.items()
                         if (value := vals.get(fname)) and ctype == channel.channel_type}
            channel.credentials = fresh
        self.flush_recordset()
        self.invalidate_recordset(["credentials"])

    def _compute_secret_inputs(self):
        # Write-only: what was saved is never sent back to the browser.
        for channel in self:
            for fname in SECRET_INPUTS:
                channel[fname] = False

    def _inverse_secret_inputs(self):
        for channel in self:
            creds = dict(channel.sudo().credentials or {})
            changed = False
            for fname, (ctype, key) in SECRET_INPUTS.items():
                value = channel[fname]
                if value and ctype == channel.channel_type:
                    creds[key] = value.strip() if key != "password" else value
                    changed = True
            if changed:
                channel.sudo().credentials = creds

    @api.depends("credentials", "channel_type", "base_url")
    def _compute_credentials_status(self):
        for channel in self:
            creds = channel.sudo().credentials or {}
            keys = [k for k, v in sorted(creds.items()) if v]
            channel.credentials_status = (", ".join(f"{k}: set" for k in keys)) if keys else _("not set")

    def _compute_settings_inputs(self):
        for channel in self:
            settings = channel.sudo().settings or {}
            channel.ca_file = settings.get("ca_file") or False
            channel.allow_insecure_http = bool(settings.get("allow_insecure_http"))

    def _inverse_settings_inputs(self):
        for channel in self:
            settings = dict(channel.sudo().settings or {})
            if channel.ca_file:
                settings["ca_file"] = channel.ca_file.strip()
            else:
                settings.pop("ca_file", None)
            if channel.allow_insecure_http:
                settings["allow_insecure_http"] = True
            else:
                settings.pop("allow_insecure_http", None)
            channel.sudo().settings = settings

    def action_clear_credentials(self):
        self.check_access("write")
        self.sudo().write({"credentials": {}})

    # ------------------------------------------------------------ stats
    def _compute_stats(self):
        # One indexed probe per figure and channel, never a scan of the whole log
        # (stock_relay_outbox_state_channel; stock_relay_outbox_done_at for the last success).
        stats = {}
        if self.ids:
            self.env.cr.execute(
                """
                SELECT c.id,
                       (SELECT count(*) FROM stock_relay_outbox o WHERE o.channel_id = c.id AND o.state = 'pending'),
                       (SELECT count(*) FROM stock_relay_outbox o WHERE o.channel_id = c.id AND o.state = 'failed'),
                       (SELECT min(o.enqueued_at) FROM stock_relay_outbox o
                         WHERE o.channel_id = c.id AND o.state = 'pending'),
                       (SELECT o.done_at FROM stock_relay_outbox o
                         WHERE o.channel_id = c.id AND o.state = 'done' AND o.done_at IS NOT NULL
                         ORDER BY o.done_at DESC LIMIT 1),
                       now() AT TIME ZONE 'UTC'
                  FROM unnest(%s::int[]) AS c(id)
                """,
                [list(self.ids)],
            )
            stats = {row[0]: row[1:] for row in self.env.cr.fetchall()}
        for channel in self:
            pending, failed, oldest, last_done, now = stats.get(channel.id, (0, 0, None, None, None))
            channel.pending_count = pending
            channel.failed_count = failed
            channel.oldest_pending_age = _format_age(now - oldest) if oldest else False
            channel.last_success_at = last_done

    def _compute_relay_state(self):
        states = {}
        if self.ids:
            self.env.cr.execute(
                "SELECT channel_id, state, since, reason FROM stock_relay_channel_state WHERE channel_id = ANY(%s)",
                [list(self.ids)])
            states = {row[0]: row[1:] for row in self.env.cr.fetchall()}
        labels = {"down": _("Unreachable since %s UTC: %s"), "refused": _("Credentials refused since %s UTC: %s")}
        for channel in self:
            state, since, reason = states.get(channel.id, ("flowing", None, None))
            if state in labels:
                channel.relay_state = labels[state] % (since.strftime("%Y-%m-%d %H:%M"), reason or "")
            else:
                channel.relay_state = _("Flowing")

    # ------------------------------------------------------------ constraints
    @api.constrains("safety_buffer", "quantity_cap", "batch_size", "timeout_ms", "max_attempts", "retry_window_hours",
                    "sku_cache_max_age_seconds", "order_poll_seconds", "batches_in_flight")
    def _check_numbers(self):
        for channel in self:
            if channel.safety_buffer < 0:
                raise ValidationError(_("The safety buffer cannot be negative."))
            if channel.quantity_cap and channel.quantity_cap < 0:
                raise ValidationError(_("The cap cannot be negative."))
            if channel.batch_size and channel.batch_size < 0:
                raise ValidationError(_("The batch size must be positive."))
            if channel.batches_in_flight and not 1 <= channel.batches_in_flight <= 16:
                raise ValidationError(_("Batches in flight must be between 1 and 16 (empty: the shop's default)."))
            if channel.timeout_ms <= 0 or channel.max_attempts <= 0 or channel.retry_window_hours <= 0:
                raise ValidationError(_("Timeout, maximum attempts and the retry window must be positive."))
            if channel.sku_cache_max_age_seconds < 0:
                raise ValidationError(_("The SKU cache max age cannot be negative."))
            if channel.order_poll_seconds <= 0:
                raise ValidationError(_("The order polling interval must be positive."))

    # ------------------------------------------------------------ native core
    def _native_config(self):
        """The channel row as the native core (and the sidecar) reads it."""
        self.ensure_one()
        rec = self.sudo()
        config = {
            "id": rec.id,
            "name": rec.name,
            "channel_type": rec.channel_type,
            "base_url": (rec.base_url or "").strip(),
            "credentials": rec.credentials or {},
            "settings": rec.settings or {},
            "max_attempts": rec.max_attempts,
            "retry_window_hours": rec.retry_window_hours,
            "timeout_ms": rec.timeout_ms,
            "tls_verify": rec.tls_verify,
            "sku_cache_max_age_seconds": rec.sku_cache_max_age_seconds,
        }
        if rec.api_version:
            config["api_version"] = rec.api_version.strip()
        if rec.batch_size:
            config["batch_size"] = rec.batch_size
        return config

    def _native_channel(self):
        # The buttons use the stored secrets: only people who may edit the channel.
        self.check_access("write")
        try:
            return native.module().Channel(self._native_config())
        except native.error_class() as exc:
            raise UserError(_("%(channel)s: %(error)s", channel=self.name, error=native_message(exc))) from exc

    def _native_call(self, what, method, *args):
        channel = self._native_channel()
        try:
            return getattr(channel, method)(*args)
        except native.error_class() as exc:
            raise UserError(_("%(what)s failed for %(channel)s.\n%(error)s",
                              what=what, channel=self.name, error=native_message(exc))) from exc

    def action_test_connection(self):
        self.ensure_one()
        message = self._native_call(_("Test connection"), "test_connection")
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"title": _("Connection OK"), "message": message or _("The shop answered."),
                       "type": "success", "sticky": False},
        }

    def action_load_locations(self):
        self.ensure_one()
        remote = self._native_call(_("Loading shop locations"), "list_locations")
        Line = self.env["stock.relay.channel.location"]
        existing = {line.location_key: line for line in self.location_line_ids}
        default_locations = self._default_odoo_locations() if not existing and len(remote) == 1 else Line.browse()
        for loc in remote:
            key, name = str(loc.get("id")), loc.get("name") or str(loc.get("id"))
            if not loc.get("active", True):
                name = _("%s (inactive in the shop)", name)
            if key in existing:
                existing[key].location_name = name
            else:
                Line.create({"channel_id": self.id, "location_key": key, "location_name": name,
                             "location_ids": [fields.Command.set(default_locations.ids)]})
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"title": _("Shop locations loaded"),
                       "message": _("%s location(s) found; map each one to Odoo locations.", len(remote)),
                       "type": "success", "next": {"type": "ir.actions.act_window_close"}},
        }

    def _default_odoo_locations(self):
        company = self.company_id or self.env.company
        warehouses = self.env["stock.warehouse"].search([("company_id", "=", company.id)])
        return warehouses.lot_stock_id if len(warehouses) == 1 else self.env["stock.location"]

    def _open_tool(self, model, title):
        self.ensure_one()
        tool = self.env[model].create({"channel_id": self.id})
        return {"type": "ir.actions.act_window", "res_model": model, "res_id": tool.id, "name": title,
                "view_mode": "form", "target": "new"}

    def action_open_lookup(self):
        return self._open_tool("stock.relay.sku.lookup", _("Look up SKU"))

    def action_open_preview(self):
        return self._open_tool("stock.relay.preview", _("Preview"))

    def action_resync_all(self):
        self.check_access("write")
        n = 0
        for channel in self:
            if not channel.enabled:
                raise UserError(_("%s is disabled; enable it before a full sync.", channel.name))
            # Every product the channel relays, whatever companies the clicking user works in.
            product_ids = channel._relay_product_ids()
            if len(product_ids) > inline_limit(self.env):
                channel._stock_relay_republish("full_sync")  # in chunks, with progress on the channel
                continue
            n += self.env["stock.relay.outbox"]._enqueue_products(
                product_ids, trigger="full_sync", channels=channel)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"title": _("Full sync queued"), "message": _("%s outbox row(s) queued.", n),
                       "type": "success"},
        }

    def action_view_outbox(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("stock_relay.action_stock_relay_outbox")
        action["domain"] = [("channel_id", "=", self.id)]
        state = self.env.context.get("outbox_state")
        filters = ["state_%s" % state] if state else []
        # The dashboard's figures: each opens the log on exactly the rows it counts.
        filters += self.env.context.get("outbox_filters") or []
        action["context"] = {"search_default_%s" % name: 1 for name in filters} or {"search_default_recent": 1}
        return action


def _same_url(url):
    """The URL as the contract compares it: blanks and trailing slashes do not make another shop."""
    return (url or "").strip().rstrip("/")


def _format_age(delta):
    seconds = int(delta.total_seconds()) if delta else 0
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    if seconds < 86400:
        return f"{seconds // 3600} h {seconds % 3600 // 60} min"
    return f"{seconds // 86400} d {seconds % 86400 // 3600} h"

