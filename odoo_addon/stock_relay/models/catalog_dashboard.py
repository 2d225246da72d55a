"""The dashboard's catalogue figures, apart from the stock ones.

Catalogue rows (kinds 'product' and 'price') carry a template id in
product_id and are slower, larger requests than stock rows: mixing them
would hide a stuck catalogue behind a healthy stock relay, and the reverse.
Each card shows, per flow, what is pending and failed, what was published in
the last 24 hours and the average latency (queued in Odoo -> accepted by the
shop); the catalogue's failures open with their error and a Retry button.
"""
from datetime import timedelta

from odoo import _, fields, models

from .stock_relay_channel import _format_age

CATALOG_KINDS = ("product", "price")
_FLOW_SQL = "CASE WHEN kind IN ('product', 'price') THEN 'catalogue' ELSE 'stock' END"


class StockRelayChannelCatalogDashboard(models.Model):
    _inherit = "stock.relay.channel"

    catalog_pending_count = fields.Integer(string="Catalogue Pending", compute="_compute_flow_figures")
    catalog_failed_count = fields.Integer(string="Catalogue Failed", compute="_compute_flow_figures")
    catalog_done_24h = fields.Integer(string="Catalogue Published (24 h)", compute="_compute_flow_figures")
    catalog_latency_24h = fields.Char(string="Catalogue Latency (24 h)", compute="_compute_flow_figures",
                                      help="Average time from queued in Odoo to accepted by the shop.")
    stock_pending_count = fields.Integer(string="Stock Pending", compute="_compute_flow_figures")
    stock_failed_count = fields.Integer(string="Stock Failed", compute="_compute_flow_figures")
    stock_done_24h = fields.Integer(string="Stock Pushed (24 h)", compute="_compute_flow_figures")
    stock_latency_24h = fields.Char(string="Stock Latency (24 h)", compute="_compute_flow_figures",
                                    help="Average time from queued in Odoo to accepted by the shop.")

    def _compute_flow_figures(self):
        figures = {}
        if self.ids:
            # Indexed: (channel_id, state) for pending/failed, the partial done_at index for the 24 hours.
            self.env.cr.execute(f"""
                SELECT channel_id, {_FLOW_SQL}, state, count(*),
                       avg(extract(epoch FROM done_at - enqueued_at)) FILTER (WHERE state = 'done')
                  FROM stock_relay_outbox
                 WHERE channel_id = ANY(%s)
                   AND (state IN ('pending', 'failed')
                        OR (state = 'done' AND done_at >= (now() AT TIME ZONE 'UTC') - interval '24 hours'))
                 GROUP BY 1, 2, 3""", [list(self.ids)])
            for channel_id, flow, state, count, lag in self.env.cr.fetchall():
                figures[(channel_id, flow, state)] = (count, lag)
        for channel in self:
            for flow in ("catalog", "stock"):
                key = "catalogue" if flow == "catalog" else "stock"
                done, lag = figures.get((channel.id, key, "done"), (0, None))
                channel[f"{flow}_pending_count"] = figures.get((channel.id, key, "pending"), (0, None))[0]
                channel[f"{flow}_failed_count"] = figures.get((channel.id, key, "failed"), (0, None))[0]
                channel[f"{flow}_done_24h"] = done
                channel[f"{flow}_latency_24h"] = _format_lag(lag)

    def action_view_catalog_failures(self):
        """The channel's failed catalogue rows, with their error, the template and a Retry button."""
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("stock_relay.action_stock_relay_outbox")
        name = _("Catalogue failures: %s", self.display_name)
        action.update({
            "name": name, "display_name": name,
            "domain": [("channel_id", "=", self.id), ("kind", "in", list(CATALOG_KINDS)), ("state", "=", "failed")],
            "context": {"search_default_state_failed": 1},
            "views": [(self.env.ref("stock_relay.stock_relay_outbox_view_list_catalog_failures").id, "list"),
                      (False, "form")],
            "view_mode": "list,form",
        })
        return action


def _format_lag(seconds):
    """Average latency: tenths of a second below 10 s, else the log's own age format."""
    if seconds is None:
        return False
    return f"{seconds:.1f} s" if seconds < 10 else _format_age(timedelta(seconds=float(seconds)))
