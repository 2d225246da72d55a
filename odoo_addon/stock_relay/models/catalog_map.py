"""Where Odoo's products are in the shops: stock_relay_catalog_map (daemon-written), read-only in Odoo.

The contract table is keyed by (channel_id, external_id); the ORM needs one
integer id, so the model reads it through an Odoo-side view that numbers the
rows (read-only, shown on the product form).
"""
from odoo import fields, models

from .schema import apply_contract

MAP_COLUMNS = ("channel_id", "external_id", "object", "template_id", "product_id", "remote_id",
               "parent_remote_id", "handle", "document_hash", "adopted", "synced_at")


class StockRelayCatalogMap(models.Model):
    _name = "stock.relay.catalog.map"
    _description = "Stock Relay Product in a Shop"
    _table = "stock_relay_catalog_map_view"
    _auto = False
    _log_access = False
    _order = "channel_id, object, external_id"
    _rec_name = "external_id"

    # --- columns of stock_relay_catalog_map (keep in step with the contract) ---
    channel_id = fields.Many2one("stock.relay.channel", string="Shop", readonly=True)
    external_id = fields.Char(string="Odoo External ID", readonly=True)
    object = fields.Selection([("product", "Product"), ("variant", "Variant")], readonly=True)
    template_id = fields.Many2one("product.template", string="Product", readonly=True)
    product_id = fields.Many2one("product.product", string="Variant", readonly=True)
    remote_id = fields.Char(string="Shop ID", readonly=True)
    parent_remote_id = fields.Char(string="Shop Parent ID", readonly=True)
    handle = fields.Char(readonly=True)
    document_hash = fields.Char(readonly=True)
    adopted = fields.Boolean(readonly=True, help="Matched to a shop product created by hand with the same SKU.")
    synced_at = fields.Datetime(string="Last Synced", readonly=True)

    def init(self):
        apply_contract(self.env.cr)
        columns = ", ".join(MAP_COLUMNS)
        self.env.cr.execute(
            f"CREATE OR REPLACE VIEW stock_relay_catalog_map_view AS "
            f"SELECT row_number() OVER (ORDER BY channel_id, external_id) AS id, {columns} "
            f"FROM stock_relay_catalog_map")


class ProductTemplateCatalogMap(models.Model):
    _inherit = "product.template"

    stock_relay_map_ids = fields.One2many("stock.relay.catalog.map", "template_id", string="In the Shops",
                                          readonly=True)
