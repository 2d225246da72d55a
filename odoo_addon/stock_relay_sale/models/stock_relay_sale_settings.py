from odoo import _, api, fields, models
from odoo.exceptions import ValidationError
from odoo.addons.stock_relay.compat import sql_constraints

UNKNOWN_SKU_POLICIES = [
    ("fail", "Fail the order (fix the product, then Retry)"),
    ("fallback", "Use the fallback product, described by the shop line"),
]


@sql_constraints
class StockRelaySaleSettings(models.Model):
    """Per-channel settings of the order import: Odoo-only, not part of the contract.

    The channel table belongs to the contract (native/sql), so these live in
    their own table, one row per channel; the channel form edits them through
    non-stored fields (stock_relay_channel.py).
    """

    _name = "stock.relay.sale.settings"
    _description = "Stock Relay Order Import Settings"
    _rec_name = "channel_id"

    channel_id = fields.Many2one("stock.relay.channel", required=True, ondelete="cascade", index=True)
    auto_confirm = fields.Boolean(string="Confirm Orders", default=True,
                                  help="Confirm imported orders at once, so Odoo reserves their stock.")
    unknown_sku_policy = fields.Selection(UNKNOWN_SKU_POLICIES, string="Unknown SKU", required=True,
                                          default="fail")
    fallback_product_id = fields.Many2one(
        "product.product", string="Fallback Product",
        default=lambda self: self.env.ref("stock_relay_sale.product_shop_item", raise_if_not_found=False),
        help="Lines whose SKU matches no product use this service product; their description carries the "
             "shop line's name, its details (a booking's date, persons) and price.")
    shipping_product_id = fields.Many2one(
        "product.product", string="Shipping Product",
        default=lambda self: self.env.ref("stock_relay_sale.product_shop_shipping", raise_if_not_found=False))
    team_id = fields.Many2one("crm.team", string="Sales Team")
    warehouse_id = fields.Many2one("stock.warehouse", string="Warehouse")
    public_url = fields.Char(string="Webhook Public URL",
                             help="Where shops reach stockrelayd's webhook listener (behind your reverse proxy), "
                                  "e.g. https://relay.example.com; each channel receives on /webhooks/<database>/<channel id>.")
    webhooks_registered = fields.Text(string="Registered Webhooks", readonly=True)

    _sql_constraints = [("channel_uniq", "unique(channel_id)", "One order import setting per channel.")]


@sql_constraints
class StockRelaySaleTaxMap(models.Model):
    """A shop tax rate that must become a given Odoo tax (overrides the match by rate)."""

    _name = "stock.relay.sale.tax.map"
    _description = "Stock Relay Shop Tax Mapping"
    _order = "channel_id, rate"

    channel_id = fields.Many2one("stock.relay.channel", required=True, ondelete="cascade", index=True)
    rate = fields.Float(string="Shop Rate (%)", required=True, digits=(16, 4))
    price_include = fields.Boolean(string="Prices Include Tax",
                                   help="Applies to shop lines whose prices include this tax.")
    tax_id = fields.Many2one("account.tax", string="Odoo Tax", required=True,
                             domain="[('type_tax_use', '=', 'sale')]")

    _sql_constraints = [("rate_uniq", "unique(channel_id, rate, price_include)",
                         "One Odoo tax per shop rate and price mode.")]

    @api.constrains("tax_id")
    def _check_tax(self):
        for line in self:
            if line.tax_id.type_tax_use != "sale":
                raise ValidationError(_("%s is not a sales tax.", line.tax_id.display_name))
