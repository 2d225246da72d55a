"""Sync statistics: the log as Odoo pivot and graph views, and the lag of each row.

stock.relay.statistics is a SQL view over the outbox with one row per log
row; ``success`` is 100 for a pushed row, 0 for a failed one and NULL while
the row is unfinished or superseded, so its average (Odoo's own pivot/graph
aggregation) is the success rate of whatever group the person picks: per
channel, trigger, error code, day, over the period the search selects.
"""
from odoo import fields, models, tools

from .schema import apply_contract
from .stock_relay_channel import _format_age
from .stock_relay_outbox import STATES, TRIGGERS


class StockRelayOutbox(models.Model):
    _inherit = "stock.relay.outbox"

    lag = fields.Char(string="Lag", compute="_compute_lag",
                      help="From the change being queued in Odoo to the shop accepting it (enqueued → done).")

    def _compute_lag(self):
        for row in self:
            row.lag = _format_age(row.done_at - row.enqueued_at) if row.done_at and row.enqueued_at else False


class StockRelayStatistics(models.Model):
    _name = "stock.relay.statistics"
    _description = "Stock Relay Sync Statistics"
    _auto = False
    _order = "enqueued_at desc"
    _rec_name = "sku"

    channel_id = fields.Many2one("stock.relay.channel", readonly=True)
    # Catalogue rows carry a template id in the log's product_id: apart, so neither flow hides the other.
    flow = fields.Selection([("stock", "Stock"), ("catalogue", "Catalogue")], readonly=True)
    product_id = fields.Many2one("product.product", readonly=True)
    template_id = fields.Many2one("product.template", string="Catalogue Product", readonly=True)
    sku = fields.Char(string="SKU", readonly=True)
    trigger = fields.Selection(TRIGGERS, readonly=True)
    state = fields.Selection(STATES, readonly=True)
    error_code = fields.Char(string="Error Code", readonly=True)
    enqueued_at = fields.Datetime(string="Enqueued", readonly=True)
    done_at = fields.Datetime(string="Done", readonly=True)
    success = fields.Float(string="Success Rate (%)", readonly=True, aggregator="avg",
                           help="Pushed rows ÷ finished (pushed or failed) rows of the group.")
    lag_seconds = fields.Float(string="Lag (s)", readonly=True, aggregator="avg",
                               help="Average seconds from queued in Odoo to accepted by the shop.")
    attempts = fields.Integer(readonly=True, aggregator="sum")

    def init(self):
        apply_contract(self.env.cr)
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(f"""
            CREATE VIEW {self._table} AS (
            SELECT o.id, o.channel_id,
                   CASE WHEN o.kind IN ('product', 'price') THEN 'catalogue' ELSE 'stock' END AS flow,
                   CASE WHEN o.kind IN ('product', 'price') THEN NULL ELSE o.product_id END AS product_id,
                   CASE WHEN o.kind IN ('product', 'price') THEN o.product_id END AS template_id, o.sku, o.trigger, o.state, o.error_code,
                   o.enqueued_at, o.done_at, o.attempts,
                   CASE o.state WHEN 'done' THEN 100.0 WHEN 'failed' THEN 0.0 END AS success,
                   CASE WHEN o.state = 'done' THEN extract(epoch FROM o.done_at - o.enqueued_at) END AS lag_seconds
              FROM stock_relay_outbox o
            )""")
