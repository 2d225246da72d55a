"""Reconcile runs (issue 11): one row of the contract table stock_relay_reconcile per run.

Odoo requests a run (channel button, the per-channel schedule); stockrelayd
reads the shop into stock_relay_snapshot and sets the run to 'read'; Odoo's
compare job (stock_relay_reconcile_compare.py) writes the drift report and
sets it 'done'. At most one run per channel is open (pending or reading): the
contract's partial unique index makes a second request the same request.
"""
from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .schema import apply_contract

RUN_STATES = [("pending", "Requested"), ("reading", "Reading the Shop"), ("read", "Comparing"),
              ("done", "Done"), ("failed", "Failed"), ("cancelled", "Cancelled")]


class StockRelayReconcile(models.Model):
    _name = "stock.relay.reconcile"
    _inherit = ["mail.thread", "mail.activity.mixin"]   # the drift activity for the channel's responsible
    _description = "Stock Relay Reconcile Run"
    _table = "stock_relay_reconcile"
    _auto = False  # native/sql/stock_relay_schema.sql owns the table
    _log_access = False
    _order = "id desc"

    # --- columns of stock_relay_reconcile (keep in step with the contract) ---
    channel_id = fields.Many2one("stock.relay.channel", required=True, readonly=True, ondelete="cascade")
    heal = fields.Boolean(string="Heal", readonly=True, help="Push Odoo's number to every drifted key when done.")
    requested_by = fields.Char(readonly=True)
    state = fields.Selection(RUN_STATES, readonly=True)
    requested_at = fields.Datetime(string="Requested", readonly=True)
    started_at = fields.Datetime(string="Read Started", readonly=True)
    read_at = fields.Datetime(string="Read Finished", readonly=True)
    done_at = fields.Datetime(string="Compared", readonly=True)
    lease_until = fields.Datetime(readonly=True)
    leased_by = fields.Char(readonly=True)
    attempts = fields.Integer(readonly=True)
    cursor = fields.Json(readonly=True)
    method = fields.Char(string="Read Method", readonly=True)
    items_read = fields.Integer(string="Shop Items Read", readonly=True)
    malformed = fields.Integer(string="Malformed Items", readonly=True)
    api_calls = fields.Integer(string="API Calls", readonly=True)
    cost_points = fields.Integer(string="Cost Points", readonly=True)
    error_code = fields.Char(string="Error Code", readonly=True)
    last_error = fields.Text(string="Failure Reason", readonly=True)
    items_compared = fields.Integer(string="Items Compared", readonly=True)
    drift_found = fields.Integer(string="Drift Found", readonly=True)
    healed = fields.Integer(string="Healed", readonly=True, help="Outbox rows queued to heal drift.")

    # --- not stored ---
    drift_ids = fields.One2many("stock.relay.drift", "reconcile_id", string="Drift Report")
    drift_count = fields.Integer(string="Report Lines", compute="_compute_drift_count")

    def init(self):
        apply_contract(self.env.cr)

    @api.depends("drift_ids")
    def _compute_drift_count(self):
        counts = {}
        if self.ids:
            groups = self.env["stock.relay.drift"]._read_group(
                [("reconcile_id", "in", self.ids), ("in_motion", "=", False)], ["reconcile_id"], ["__count"])
            counts = {run.id: n for run, n in groups}
        for run in self:
            run.drift_count = counts.get(run.id, 0)

    def _compute_display_name(self):
        for run in self:
            run.display_name = _("%(channel)s reconcile #%(id)s", channel=run.channel_id.name, id=run.id)

    # ------------------------------------------------------------ requests
    @api.model
    def _request(self, channel, heal=False, requested_by="odoo"):
        """The open run of ``channel``: a new one, or the one already pending or reading.

        The INSERT relies on the contract's partial unique index (one open run
        per channel), so two requests racing each other end with one run.
        ``heal`` on a run already open turns healing on for it.
        """
        cr = self.env.cr
        cr.execute(
            """
            INSERT INTO stock_relay_reconcile (channel_id, heal, requested_by) VALUES (%s, %s, %s)
            ON CONFLICT (channel_id) WHERE state IN ('pending', 'reading') DO NOTHING
            RETURNING id
            """, [channel.id, bool(heal), requested_by])
        row = cr.fetchone()
        if not row:
            cr.execute(
                "UPDATE stock_relay_reconcile SET heal = heal OR %s "
                "WHERE channel_id = %s AND state IN ('pending', 'reading') RETURNING id",
                [bool(heal), channel.id])
            row = cr.fetchone()
        self.invalidate_model()
        return self.browse(row[0]) if row else self.browse()

    # ------------------------------------------------------------ actions
    def action_view_drift(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("stock_relay.action_stock_relay_drift")
        action["domain"] = [("reconcile_id", "=", self.id)]
        action["display_name"] = _("Drift report: %s", self.display_name)
        return action

    def action_heal(self):
        """Push Odoo's current number to every drifted and missing key of these runs (managers)."""
        self.channel_id.check_access("write")
        runs = self.sudo()
        disabled = runs.channel_id.filtered(lambda c: not c.enabled)
        if disabled:
            raise UserError(_("%s is disabled; enable it before healing.", ", ".join(disabled.mapped("name"))))
        queued = handed = 0
        for run in runs.filtered(lambda r: r.state == "done"):
            now, later = run._heal_by_hand()
            queued, handed = queued + now, handed + later
        message = _("%s outbox row(s) queued with trigger Reconcile (heal drift).", queued)
        if handed:
            message = _("%s key(s) are being queued in chunks with trigger Reconcile (heal drift); the channel "
                        "shows the progress.", handed)
        if not queued and not handed:
            message = _("Nothing to heal: no drifted or missing key of this reconcile is waiting.")
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"title": _("Healing queued"), "message": message,
                       "type": "success", "next": {"type": "ir.actions.client", "tag": "soft_reload"}},
        }
