"""Alerts: one activity for a channel's responsible user per incident, not per row.

An incident is a condition of a channel that a person must look at: the shop
refuses the credentials, failed rows exist, or the oldest pending row is older
than the threshold. The cron opens an incident (and schedules one activity,
which Odoo mails to the user as for any assigned activity) when a condition
starts, leaves it alone while the condition lasts, even if the activity was
marked done, and closes it when the condition ends; the next time the
condition starts is a new incident with a new activity.
"""
from datetime import timedelta

from markupsafe import Markup

from odoo import _, api, fields, models
from ..compat import sql_constraints

from .stock_relay_drift import cascade_to_contract

PENDING_ALERT_PARAM = "stock_relay.alert_pending_minutes"
DEFAULT_PENDING_ALERT_MINUTES = 30
INCIDENT_KINDS = [("refused", "Credentials refused"), ("failed", "Failed rows"),
                  ("stale", "Oldest pending row too old")]


@sql_constraints
class StockRelayIncident(models.Model):
    _name = "stock.relay.incident"
    _description = "Stock Relay Incident"
    _order = "opened_at desc, id desc"

    channel_id = fields.Many2one("stock.relay.channel", required=True, ondelete="cascade", index=True)
    kind = fields.Selection(INCIDENT_KINDS, required=True)
    opened_at = fields.Datetime(required=True, default=fields.Datetime.now)
    closed_at = fields.Datetime()
    user_id = fields.Many2one("res.users", string="Responsible")
    activity_id = fields.Many2one("mail.activity", ondelete="set null")

    def init(self):
        cascade_to_contract(self.env.cr, self._table, "channel_id", "stock_relay_channel")

    _sql_constraints = [
        # Odoo only: at most one open incident per channel and kind.
        ("open_uniq", "EXCLUDE (channel_id WITH =, kind WITH =) WHERE (closed_at IS NULL)",
         "A channel has one open incident of each kind."),
    ]


class StockRelayChannel(models.Model):
    _name = "stock.relay.channel"
    _inherit = ["stock.relay.channel", "mail.thread", "mail.activity.mixin"]

    incident_ids = fields.One2many("stock.relay.incident", "channel_id", string="Incidents")

    # ------------------------------------------------------------ incidents
    @api.model
    def _cron_check_alerts(self):
        channels = self.sudo().search([])
        conditions = channels._alert_conditions()
        for channel in channels:
            channel._update_incidents(conditions.get(channel.id, {}))

    def _alert_conditions(self):
        """{channel id: {kind: detail}} of the conditions that hold now."""
        minutes = _int_param(self.env, PENDING_ALERT_PARAM, DEFAULT_PENDING_ALERT_MINUTES)
        self.env.cr.execute(
            "SELECT channel_id, since, reason FROM stock_relay_channel_state "
            "WHERE state = 'refused' AND channel_id = ANY(%s)", [self.ids])
        refused = {cid: (since, reason) for cid, since, reason in self.env.cr.fetchall()}
        now = fields.Datetime.now()
        result = {}
        for channel in self.filtered("enabled"):
            found = {}
            if channel.id in refused:
                since, reason = refused[channel.id]
                found["refused"] = _("%(shop)s refuses the credentials since %(since)s UTC: %(reason)s",
                                     shop=channel.name, since=since, reason=reason or "")
            if channel.failed_count:
                found["failed"] = _("%(n)s row(s) of %(shop)s failed and will not be retried by themselves.",
                                    n=channel.failed_count, shop=channel.name)
            oldest = channel._oldest_pending_at()
            if oldest and now - oldest > timedelta(minutes=minutes):
                found["stale"] = _("The oldest pending change of %(shop)s waits since %(since)s UTC "
                                   "(threshold %(minutes)s min).", shop=channel.name, since=oldest,
                                   minutes=minutes)
            result[channel.id] = found
        return result

    def _oldest_pending_at(self):
        self.env.cr.execute("SELECT min(enqueued_at) FROM stock_relay_outbox WHERE channel_id = %s "
                            "AND state = 'pending'", [self.id])
        return self.env.cr.fetchone()[0]

    def _update_incidents(self, conditions):
        """Open an incident per new condition, close the ones whose condition ended."""
        self.ensure_one()
        Incident = self.env["stock.relay.incident"].sudo()
        open_incidents = {i.kind: i for i in Incident.search([("channel_id", "=", self.id),
                                                               ("closed_at", "=", False)])}
        for kind, incident in open_incidents.items():
            if kind not in conditions:
                if incident.activity_id:
                    incident.activity_id.unlink()
                incident.closed_at = fields.Datetime.now()
        for kind, detail in conditions.items():
            if kind not in open_incidents:
                # The channel's Responsible (tab Reconcile), else whoever created the channel.
                user = self.reconcile_responsible_id or self.create_uid or self.env.ref("base.user_admin")
                label = dict(INCIDENT_KINDS)[kind]
                activity = self.sudo().activity_schedule(
                    "mail.mail_activity_data_warning", user_id=user.id,
                    summary=_("%(shop)s: %(what)s", shop=self.name, what=label),
                    note=Markup("<p>%s</p>") % detail)
                Incident.create({"channel_id": self.id, "kind": kind, "user_id": user.id,
                                 "activity_id": activity.id})


def _int_param(env, key, default):
    try:
        return max(1, int(env["ir.config_parameter"].sudo().get_param(key, default)))
    except (TypeError, ValueError):
        return default
