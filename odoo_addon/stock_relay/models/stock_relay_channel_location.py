from odoo import fields, models
from ..compat import sql_constraints


@sql_constraints
class StockRelayChannelLocation(models.Model):
    """One shop location and the Odoo internal locations (children included) it sells from."""

    _name = "stock.relay.channel.location"
    _description = "Stock Relay Location Mapping"
    _order = "channel_id, sequence, id"
    _rec_name = "location_name"

    channel_id = fields.Many2one("stock.relay.channel", required=True, ondelete="cascade", index=True)
    sequence = fields.Integer(default=10)
    location_key = fields.Char(string="Shop Location ID",
                               help="The shop's id for the location (Shopify location GID, Medusa stock "
                                    "location id; WooCommerce has a single, empty key).")
    location_name = fields.Char(string="Shop Location")
    location_ids = fields.Many2many(
        "stock.location", "stock_relay_channel_location_rel", "line_id", "location_id",
        string="Odoo Locations", domain=[("usage", "=", "internal")],
        help="Stock in these internal locations and their children is offered at the shop location.")

    _sql_constraints = [
        ("location_key_uniq", "unique(channel_id, location_key)",
         "Each shop location can be mapped only once per channel."),
    ]
