"""The "Shop Sync" dashboard: one card per channel, every figure from an indexed SQL aggregate.

Nothing here reads log rows one by one: counts come from the (channel_id, state)
index, the last 24 hours of successes from the partial index on done rows
(contract v4 [heartbeat] block, stock_relay_outbox_done_at).
"""
from markupsafe import Markup

from odoo import _, api, fields, models

DASHBOARD_STATES = [("flowing", "Flowing"), ("paused", "Paused"), ("refused", "Credentials refused"),
                    ("disabled", "Disabled")]
CHART_HOURS = 24


class StockRelayChannel(models.Model):
    _inherit = "stock.relay.channel"

    dashboard_state = fields.Selection(DASHBOARD_STATES, string="State", compute="_compute_dashboard_state")
    dashboard_state_label = fields.Char(string="State Detail", compute="_compute_dashboard_state")
    done_24h = fields.Integer(string="Pushed (24 h)", compute="_compute_dashboard_24h")
    failed_24h = fields.Integer(string="Failed (24 h)", compute="_compute_dashboard_24h")
    success_rate_24h = fields.Float(string="Success Rate (24 h)", compute="_compute_dashboard_24h",
                                    help="Rows pushed ÷ rows finished (pushed or failed) in the last 24 hours.")
    hourly_chart = fields.Html(string="Pushed per Hour", compute="_compute_dashboard_24h", sanitize=False)
    daemon_status = fields.Char(string="Daemon", compute="_compute_daemon_status")
    daemon_warning = fields.Boolean(compute="_compute_daemon_status")

    @api.depends("enabled")
    def _compute_dashboard_state(self):
        self.env.cr.execute(
            "SELECT channel_id, state, since FROM stock_relay_channel_state WHERE channel_id = ANY(%s)",
            [list(self.ids)])
        states = {row[0]: row[1:] for row in self.env.cr.fetchall()}
        for channel in self:
            state, since = states.get(channel.id, ("flowing", None))
            since_text = since and fields.Datetime.context_timestamp(channel, since).strftime("%Y-%m-%d %H:%M")
            if not channel.enabled:
                channel.dashboard_state, channel.dashboard_state_label = "disabled", _("Disabled")
            elif state == "refused":
                channel.dashboard_state = "refused"
                channel.dashboard_state_label = _("Credentials refused since %s", since_text)
            elif state == "down":
                channel.dashboard_state = "paused"
                channel.dashboard_state_label = _("Paused: shop unreachable since %s", since_text)
            else:
                channel.dashboard_state, channel.dashboard_state_label = "flowing", _("Flowing")

    def _compute_dashboard_24h(self):
        hourly, failed = {}, {}
        if self.ids:
            cr = self.env.cr
            cr.execute("""
                SELECT channel_id, floor(extract(epoch FROM (now() AT TIME ZONE 'UTC') - done_at) / 3600)::int,
                       count(*)
                  FROM stock_relay_outbox
                 WHERE state = 'done' AND channel_id = ANY(%s)
                   AND done_at >= (now() AT TIME ZONE 'UTC') - interval '24 hours'
                 GROUP BY 1, 2""", [list(self.ids)])
            for channel_id, hours_ago, count in cr.fetchall():
                hourly.setdefault(channel_id, [0] * CHART_HOURS)[min(hours_ago, CHART_HOURS - 1)] += count
            cr.execute("""
                SELECT channel_id, count(*) FROM stock_relay_outbox
                 WHERE state = 'failed' AND channel_id = ANY(%s)
                   AND updated_at >= (now() AT TIME ZONE 'UTC') - interval '24 hours'
                 GROUP BY 1""", [list(self.ids)])
            failed = dict(cr.fetchall())
        for channel in self:
            per_hour = hourly.get(channel.id, [0] * CHART_HOURS)
            done, bad = sum(per_hour), failed.get(channel.id, 0)
            channel.done_24h, channel.failed_24h = done, bad
            channel.success_rate_24h = 100.0 * done / (done + bad) if done + bad else 0.0
            channel.hourly_chart = _sparkline(self.env, list(reversed(per_hour)))

    def _compute_daemon_status(self):
        text, warn = self.env["stock.relay.daemon"]._status()
        for channel in self:
            channel.daemon_status = text
            channel.daemon_warning = warn and channel.enabled and channel.pending_count > 0


def _sparkline(env, counts, width=168, height=32):
    """Bars of items pushed per hour, oldest hour on the left (inline SVG: no chart library, no request)."""
    top = max(counts) or 1
    step = width / len(counts)
    bars = Markup("").join(
        Markup('<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s</title></rect>') % (
            i * step, height - max(1.0, height * n / top) if n else height - 1, step - 1,
            max(1.0, height * n / top) if n else 1, env._("%(n)s pushed, %(h)s h ago", n=n, h=len(counts) - i - 1))
        for i, n in enumerate(counts))
    return Markup('<svg class="o_stock_relay_sparkline" width="%s" height="%s" viewBox="0 0 %s %s" '
                  'fill="currentColor" role="img" aria-label="%s">%s</svg>') % (
        width, height, width, height, env._("Items pushed per hour, last 24 hours"), bars)
