"""Reconcile on the channel: the buttons, the schedule, the last run, the drift activity.

The per-channel settings (schedule, responsible, threshold) are Odoo-only
data: they live in stock.relay.reconcile.schedule (one row per channel), not
in the contract's channel table, and show on the channel as computed fields.

Scheduling: ONE cron ("Stock Relay: schedule reconciles", hourly) requests a
run for every enabled channel whose schedule is on and whose next run is due,
then moves that channel's next run one interval on. A disabled channel is
never scheduled. Default: daily.
"""
from datetime import timedelta

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from ..compat import sql_constraints

from .stock_relay_drift import cascade_to_contract
from .stock_relay_reconcile import RUN_STATES

INTERVALS = [("hours", "Hours"), ("days", "Days"), ("weeks", "Weeks")]
# Channel field -> schedule field (computed on the channel, stored on the schedule).
SCHEDULE_DEFAULTS = {"scheduled": True, "interval_number": 1, "interval_type": "days", "next_at": False,
                     "responsible_id": False, "drift_threshold": 0}
SCHEDULE_FIELDS = {
    "reconcile_scheduled": "scheduled",
    "reconcile_interval_number": "interval_number",
    "reconcile_interval_type": "interval_type",
    "reconcile_next_at": "next_at",
    "reconcile_responsible_id": "responsible_id",
    "reconcile_drift_threshold": "drift_threshold",
}


@sql_constraints
class StockRelayReconcileSchedule(models.Model):
    _name = "stock.relay.reconcile.schedule"
    _description = "Stock Relay Reconcile Schedule"
    _rec_name = "channel_id"

    channel_id = fields.Many2one("stock.relay.channel", required=True, ondelete="cascade", index=True)
    scheduled = fields.Boolean(default=SCHEDULE_DEFAULTS["scheduled"])
    interval_number = fields.Integer(default=SCHEDULE_DEFAULTS["interval_number"])
    interval_type = fields.Selection(INTERVALS, default=SCHEDULE_DEFAULTS["interval_type"], required=True)
    next_at = fields.Datetime()
    responsible_id = fields.Many2one("res.users", ondelete="set null")
    drift_threshold = fields.Integer(default=SCHEDULE_DEFAULTS["drift_threshold"])

    _sql_constraints = [
        ("channel_uniq", "unique(channel_id)", "One reconcile schedule per channel."),
        ("interval_positive", "CHECK(interval_number > 0)", "The reconcile interval must be positive."),
        ("threshold_positive", "CHECK(drift_threshold >= 0)", "The drift threshold cannot be negative."),
    ]

    def init(self):
        cascade_to_contract(self.env.cr, self._table, "channel_id", "stock_relay_channel")

    def _interval(self):
        return timedelta(**{self.interval_type: self.interval_number})

    @api.model
    def _cron_schedule(self):
        """Request a reconcile of every enabled channel whose scheduled run is due."""
        now = fields.Datetime.now()
        channels = self.env["stock.relay.channel"].sudo().search([("enabled", "=", True)])
        requested = 0
        for channel in channels:
            schedule = channel._reconcile_schedule()
            if not schedule.scheduled or (schedule.next_at and schedule.next_at > now):
                continue
            if channel.location_line_ids:
                self.env["stock.relay.reconcile"]._request(channel, requested_by="odoo:schedule")
                requested += 1
            schedule.next_at = now + schedule._interval()
        return requested


def _schedule_field(cfield):
    """compute and inverse of one channel field stored on the schedule row.

    One pair per field (not one shared method): Odoo protects every field of a
    compute group while one of them is written, so a shared inverse would
    read the others as empty.
    """
    sfield = SCHEDULE_FIELDS[cfield]

    def compute(channels):
        for channel in channels:
            schedule = channel.sudo().reconcile_schedule_ids[:1]
            channel[cfield] = schedule[sfield] if schedule else SCHEDULE_DEFAULTS[sfield]

    compute._depends = (f"reconcile_schedule_ids.{sfield}",)

    def inverse(channels):
        for channel in channels.filtered("id"):
            value = channel[cfield]
            if sfield in ("interval_number", "interval_type") and not value:
                raise UserError(_("Give the reconcile interval a number and a unit."))
            channel._reconcile_schedule().write({sfield: value.id if isinstance(value, models.BaseModel) else value})

    # The default fills the form of a new channel: Odoo's onchange does not compute a field whose
    # dependencies got no value, so without it the form saved 0 and refused the interval.
    return {"compute": compute, "inverse": inverse, "default": SCHEDULE_DEFAULTS[sfield]}


class StockRelayChannelReconcile(models.Model):
    _inherit = "stock.relay.channel"

    reconcile_schedule_ids = fields.One2many("stock.relay.reconcile.schedule", "channel_id")
    reconcile_scheduled = fields.Boolean(
        string="Scheduled Reconcile", **_schedule_field("reconcile_scheduled"),
        help="Read the shop's levels and compare them with Odoo's every interval (never while the channel is "
             "disabled).")
    reconcile_interval_number = fields.Integer(string="Reconcile Every",
                                               **_schedule_field("reconcile_interval_number"))
    reconcile_interval_type = fields.Selection(INTERVALS, string="Reconcile Interval Unit",
                                               **_schedule_field("reconcile_interval_type"))
    reconcile_next_at = fields.Datetime(string="Next Reconcile", **_schedule_field("reconcile_next_at"),
                                        help="Empty: at the scheduler's next run.")
    reconcile_responsible_id = fields.Many2one(
        "res.users", string="Responsible", **_schedule_field("reconcile_responsible_id"),
        help="Gets an activity when a reconcile finds more differences than the threshold, and one per incident "
             "when the shop refuses the credentials, rows fail or changes wait too long (empty: whoever created "
             "the channel).")
    reconcile_drift_threshold = fields.Integer(
        string="Drift Threshold", **_schedule_field("reconcile_drift_threshold"),
        help="An activity is created when a reconcile finds more differences than this (0: any difference).")

    last_reconcile_id = fields.Many2one("stock.relay.reconcile", string="Last Reconcile",
                                        compute="_compute_last_reconcile")
    last_reconcile_at = fields.Datetime(string="Last Reconcile Requested", compute="_compute_last_reconcile")
    last_reconcile_done_at = fields.Datetime(string="Last Reconcile Compared", compute="_compute_last_reconcile")
    last_reconcile_state = fields.Selection(RUN_STATES, string="Last Reconcile State",
                                            compute="_compute_last_reconcile")
    last_reconcile_compared = fields.Integer(string="Items Compared", compute="_compute_last_reconcile")
    last_reconcile_drift = fields.Integer(string="Drift Found", compute="_compute_last_reconcile")
    last_reconcile_healed = fields.Integer(string="Healed", compute="_compute_last_reconcile")
    last_reconcile_error = fields.Text(string="Failure Reason", compute="_compute_last_reconcile")

    # ------------------------------------------------------------ schedule
    def _reconcile_schedule(self):
        """This channel's schedule row (created with the defaults on first use)."""
        self.ensure_one()
        Schedule = self.env["stock.relay.reconcile.schedule"].sudo()
        return Schedule.search([("channel_id", "=", self.id)], limit=1) or Schedule.create({"channel_id": self.id})

    def _compute_last_reconcile(self):
        last = {}
        if self.ids:
            self.env.cr.execute("SELECT DISTINCT ON (channel_id) channel_id, id FROM stock_relay_reconcile "
                                "WHERE channel_id = ANY(%s) ORDER BY channel_id, id DESC", [list(self.ids)])
            last = dict(self.env.cr.fetchall())
        Run = self.env["stock.relay.reconcile"]
        for channel in self:
            run = Run.browse(last.get(channel.id))
            channel.update({
                "last_reconcile_id": run, "last_reconcile_at": run.requested_at, "last_reconcile_done_at": run.done_at,
                "last_reconcile_state": run.state, "last_reconcile_compared": run.items_compared,
                "last_reconcile_drift": run.drift_found, "last_reconcile_healed": run.healed,
                "last_reconcile_error": run.last_error,
            })

    # ------------------------------------------------------------ buttons
    def action_reconcile_now(self):
        """Request a reconcile, or show the one already pending or reading (managers)."""
        self.ensure_one()
        self.check_access("write")
        if not self.enabled:
            raise UserError(_("%s is disabled; enable it before reconciling.", self.name))
        if not self.location_line_ids:
            raise UserError(_("%s maps no shop location yet: load and map its locations first.", self.name))
        run = self.env["stock.relay.reconcile"].sudo()._request(self, requested_by=f"odoo:{self.env.user.login}")
        return {"type": "ir.actions.act_window", "res_model": "stock.relay.reconcile", "res_id": run.id,
                "view_mode": "form", "name": _("Reconcile")}

    def action_heal_drift(self):
        """Heal the drift the last finished reconcile found (managers)."""
        self.ensure_one()
        self.check_access("write")
        run = self.env["stock.relay.reconcile"].sudo().search(
            [("channel_id", "=", self.id), ("state", "=", "done")], order="id desc", limit=1)
        if not run:
            raise UserError(_("%s has no finished reconcile to heal.", self.name))
        return run.action_heal()

    def action_view_last_reconcile(self):
        self.ensure_one()
        if not self.last_reconcile_id:
            raise UserError(_("%s has not been reconciled yet.", self.name))
        return self.last_reconcile_id.action_view_drift()


class StockRelayReconcileNotify(models.Model):
    _inherit = "stock.relay.reconcile"

    def _notify_drift(self):
        """An activity for the channel's responsible when this run found more drift than the threshold."""
        self.ensure_one()
        schedule = self.channel_id._reconcile_schedule()
        if not schedule.responsible_id or (self.drift_found or 0) <= schedule.drift_threshold:
            return False
        return self.sudo().activity_schedule(
            "mail.mail_activity_data_todo", user_id=schedule.responsible_id.id,
            summary=_("%(n)s stock difference(s) with %(channel)s", n=self.drift_found, channel=self.channel_id.name),
            note=_("The reconcile found %(n)s difference(s) between Odoo and the shop (threshold %(t)s); "
                   "open the run's drift report.", n=self.drift_found, t=schedule.drift_threshold))
