"""What the channel form and the Shop Sync dashboard say when the native module is unusable."""
from odoo import fields, models

from .. import native


class StockRelayChannel(models.Model):
    _inherit = "stock.relay.channel"

    native_problem = fields.Text(
        string="Native Module Problem", compute="_compute_native_problem",
        help="Why stockrelay_native cannot be used in this Odoo process, and the command that fixes it. "
             "Stock changes are captured either way.")

    def _compute_native_problem(self):
        text = native.problem() or False
        for channel in self:
            channel.native_problem = text
