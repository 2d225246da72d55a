"""The drift report of a reconcile run: one line per difference between Odoo and a shop.

An ordinary Odoo table (Odoo-only data, not part of the contract), written by
the compare job (stock_relay_reconcile_compare.py).
"""
from odoo import fields, models

from .schema import apply_contract


def cascade_to_contract(cr, table, column, target):
    """ON DELETE CASCADE from an Odoo table's column to a contract table.

    Odoo creates no foreign key towards a model whose table it does not own
    (``_auto = False``), so a run or channel deleted by SQL (the daemon, the
    retention purge) would leave orphans; this adds it, idempotently, after
    removing rows that already point nowhere.
    """
    name = f"{table}_{column}_contract_fkey"
    cr.execute("SELECT 1 FROM pg_constraint WHERE conname = %s", [name])
    if cr.fetchone():
        return
    cr.execute(f'DELETE FROM "{table}" t WHERE NOT EXISTS (SELECT 1 FROM "{target}" x WHERE x.id = t."{column}")')
    cr.execute(f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" FOREIGN KEY ("{column}") '
               f'REFERENCES "{target}" (id) ON DELETE CASCADE')

DRIFT_CLASSES = [
    ("drift", "Quantity differs"),
    ("missing_in_shop", "Missing in the shop"),
    ("unknown_in_odoo", "Unknown to Odoo"),
    ("duplicate_in_shop", "Duplicate SKU in the shop"),
    ("not_tracked_in_shop", "Not tracked in the shop"),
    ("no_sku_in_shop", "No SKU in the shop"),
    ("malformed", "Malformed shop item"),
]
# The classes a heal fixes by pushing Odoo's number (the others need a person in the shop admin).
HEALABLE = ("drift", "missing_in_shop")


class StockRelayDrift(models.Model):
    _name = "stock.relay.drift"
    _description = "Stock Relay Drift Report Line"
    _order = "reconcile_id desc, drift_class, sku, id"
    _rec_name = "sku"

    reconcile_id = fields.Many2one("stock.relay.reconcile", string="Reconcile Run", required=True, readonly=True,
                                   ondelete="cascade", index=True)
    channel_id = fields.Many2one("stock.relay.channel", required=True, readonly=True, ondelete="cascade",
                                 index=True)
    drift_class = fields.Selection(DRIFT_CLASSES, string="Class", required=True, readonly=True)
    product_id = fields.Many2one("product.product", readonly=True, ondelete="set null")
    sku = fields.Char(string="SKU", readonly=True)
    remote_id = fields.Char(string="Shop Item", readonly=True)
    parent_id = fields.Char(string="Shop Parent Item", readonly=True)
    location_key = fields.Char(string="Shop Location ID", readonly=True)
    location_name = fields.Char(string="Shop Location", readonly=True)
    odoo_qty = fields.Float(string="Odoo Quantity", readonly=True, digits=(16, 0))
    shop_qty = fields.Float(string="Shop Quantity", readonly=True, digits=(16, 0))
    in_motion = fields.Boolean(
        string="In Motion", readonly=True,
        help="A push of this key was queued, in flight or landed while the shop was read: the shop's number "
             "was changing, so the difference is not counted as drift and not healed.")
    healed = fields.Boolean(readonly=True, help="Odoo's number was queued for this key (trigger Reconcile).")
    detail = fields.Char(readonly=True)

    def init(self):
        apply_contract(self.env.cr)
        cascade_to_contract(self.env.cr, self._table, "reconcile_id", "stock_relay_reconcile")
        cascade_to_contract(self.env.cr, self._table, "channel_id", "stock_relay_channel")
