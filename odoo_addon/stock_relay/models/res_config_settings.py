from odoo import api, fields, models

from .stock_relay_alert import DEFAULT_PENDING_ALERT_MINUTES, PENDING_ALERT_PARAM
from .stock_relay_outbox import DEFAULT_RETENTION_DAYS, RETENTION_PARAM


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    stock_relay_retention_days = fields.Integer(
        string="Sync Log Retention (days)", config_parameter=RETENTION_PARAM, default=DEFAULT_RETENTION_DAYS,
        help="Done rows of the shop sync log older than this are purged daily.")
    stock_relay_alert_pending_minutes = fields.Integer(
        string="Pending Alert (minutes)", config_parameter=PENDING_ALERT_PARAM, default=DEFAULT_PENDING_ALERT_MINUTES)
    stock_relay_channel_count = fields.Integer(compute="_compute_stock_relay_channel_count")

    # Without a dependency the settings form (a new record filled by onchange) never computed it
    # and said "0 channel(s) configured" while channels existed.
    @api.depends("company_id")
    def _compute_stock_relay_channel_count(self):
        count = self.env["stock.relay.channel"].sudo().search_count([])
        for settings in self:
            settings.stock_relay_channel_count = count
