"""A location's place in the tree, its usage and its active flag decide which
mapping lines count its stock: changing one re-publishes the products stored
in it and below it, on every channel (a location moved under a mapped
warehouse counts from then on; one moved out stops counting)."""
from odoo import models

from .capture import queue_republish

LOCATION_INPUTS = {"location_id", "usage", "active"}


class StockLocation(models.Model):
    _inherit = "stock.location"

    def write(self, vals):
        watched = LOCATION_INPUTS & vals.keys()
        before = {loc.id: [loc[f] for f in watched] for loc in self} if watched else {}
        result = super().write(vals)
        if watched:
            changed = self.filtered(lambda loc: [loc[f] for f in watched] != before[loc.id])
            changed._stock_relay_republish()
        return result

    def _stock_relay_republish(self):
        if not self:
            return
        self.flush_model(["location_id", "parent_path", "usage", "active"])
        self.env["stock.quant"].flush_model(["product_id", "location_id"])
        self.env.cr.execute(
            """
            SELECT DISTINCT q.product_id
              FROM stock_quant q
              JOIN stock_location l ON l.id = q.location_id
             WHERE l.parent_path LIKE ANY(%s)
            """,
            [[f"{path}%" for path in self.sudo().with_context(active_test=False).mapped("parent_path")]],
        )
        queue_republish(self.env, "location", [row[0] for row in self.env.cr.fetchall()])
