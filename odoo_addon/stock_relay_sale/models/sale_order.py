from odoo import fields, models
from odoo.addons.stock_relay.compat import sql_constraints


@sql_constraints
class SaleOrder(models.Model):
    _inherit = "sale.order"

    # Which shop order this is: one sale order per (channel, shop order id),
    # enforced by the database so two cron workers can never create two.
    stock_relay_channel_id = fields.Many2one("stock.relay.channel", string="Shop Channel", readonly=True,
                                             copy=False, index=True, ondelete="set null")
    stock_relay_order_id = fields.Char(string="Shop Order Id", readonly=True, copy=False)
    stock_relay_updated_at = fields.Datetime(
        string="Shop Update Applied", readonly=True, copy=False,
        help="The shop's update time of the newest event applied to this order; older events are ignored.")

    _sql_constraints = [
        ("stock_relay_order_uniq", "unique(stock_relay_channel_id, stock_relay_order_id)",
         "A shop order can only become one sale order per channel."),
    ]
