"""The daemon's heartbeat (contract v4 [heartbeat], table stock_relay_daemon).

stockrelayd inserts one row per process run, refreshes last_seen every few
seconds while its loops turn and sets stopped_at on a clean exit. Odoo only
reads it: the dashboard says when a daemon was last seen, and warns when none
has been seen for a minute while rows wait.
"""
from datetime import timedelta

from odoo import _, api, fields, models

from .schema import apply_contract

STALE_AFTER = timedelta(minutes=1)


class StockRelayDaemon(models.Model):
    _name = "stock.relay.daemon"
    _description = "Stock Relay Daemon Heartbeat"
    _table = "stock_relay_daemon"
    _auto = False  # native/sql/stock_relay_schema.sql owns the table; stockrelayd writes it
    _log_access = False
    _order = "last_seen desc, id desc"
    _rec_name = "host"

    # --- columns of stock_relay_daemon (keep in step with the contract) ---
    host = fields.Char(required=True, readonly=True)
    pid = fields.Integer(string="PID", required=True, readonly=True)
    version = fields.Char(readonly=True)
    listen = fields.Char(string="Listener", readonly=True, help="The daemon's HTTP listener (health, metrics).")
    started_at = fields.Datetime(string="Started", readonly=True)
    last_seen = fields.Datetime(string="Last Seen", readonly=True)
    stopped_at = fields.Datetime(string="Stopped", readonly=True)

    def init(self):
        apply_contract(self.env.cr)

    @api.model
    def _status(self):
        """What the dashboard says about the daemon: (text, warn).

        ``warn`` is set when no daemon was seen for a minute while rows wait:
        a stopped daemon shows at once, not as a slowly growing "Oldest Pending".
        """
        self.env.cr.execute("""
            SELECT host, pid, last_seen, stopped_at, now() AT TIME ZONE 'UTC'
              FROM stock_relay_daemon ORDER BY last_seen DESC LIMIT 1""")
        latest = self.env.cr.fetchone()
        self.env.cr.execute("SELECT EXISTS (SELECT 1 FROM stock_relay_outbox WHERE state = 'pending')")
        waiting = self.env.cr.fetchone()[0]
        if not latest:
            return _("No daemon has run yet (stockrelayd writes its heartbeat here)."), waiting
        host, pid, last_seen, stopped_at, now = latest
        when = fields.Datetime.context_timestamp(self, last_seen).strftime("%H:%M")
        if last_seen.date() != now.date():
            when = fields.Datetime.context_timestamp(self, last_seen).strftime("%Y-%m-%d %H:%M")
        text = _("daemon last seen %(when)s (%(host)s:%(pid)s)", when=when, host=host, pid=pid)
        if stopped_at:
            text += " " + _("— stopped")
        stale = now - last_seen > STALE_AFTER
        if stale and waiting:
            text += " " + _("— no daemon for %(age)s while rows wait: is stockrelayd running?",
                            age=_age(self.env, now - last_seen))
        return text, bool(stale and waiting)


def _age(env, delta):
    minutes = int(delta.total_seconds()) // 60
    return env._("%s min", minutes) if minutes < 120 else env._("%s h", minutes // 60)
