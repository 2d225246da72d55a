"""Kits (phantom bills of materials) in the relay: a kit's sellable on a mapping
line is what its components allow there (stock_relay's _kit_quantity), and any
change of a component re-publishes every kit that uses it."""
from collections import defaultdict

from odoo import api, models
from odoo.osv import expression


class StockRelayOutboxKits(models.Model):
    _inherit = "stock.relay.outbox"

    @api.model
    def _kit_components(self, products):
        """{kit id: [(storable component id, quantity per kit in the component's UoM)]}."""
        result = {}
        if not products:
            return result
        boms = self.env["mrp.bom"].sudo()._bom_find(products.sudo(), bom_type="phantom")
        for product, bom in boms.items():
            if not bom:
                continue
            _done, lines = bom.explode(product, 1)  # nested kits are exploded down to real components
            per_kit = defaultdict(float)
            for line, data in lines:
                component = line.product_id
                if not component.is_storable or not data["qty"]:
                    continue  # consumables and optional (0) lines do not limit the kit, as in mrp
                qty = line.product_uom_id._compute_quantity(data["qty"] / data["original_qty"], component.uom_id,
                                                            round=False, raise_if_failure=False)
                per_kit[component.id] += qty / (bom.product_qty or 1.0)
            if per_kit:
                result[product.id] = sorted(per_kit.items())
        return result

    @api.model
    def _kits_using(self, product_ids):
        """Every active kit whose components (at any depth) include ``product_ids``."""
        found, frontier = set(), set(product_ids)
        Line = self.env["mrp.bom.line"].sudo()
        while frontier:
            lines = Line.search([("product_id", "in", list(frontier)), ("bom_id.type", "=", "phantom"),
                                 ("bom_id.active", "=", True)])
            kits = set()
            for bom in lines.bom_id:
                kits.update((bom.product_id or bom.product_tmpl_id.product_variant_ids).ids)
            frontier = kits - found - set(product_ids)
            found |= kits
        return found


class StockRelayChannelKits(models.Model):
    _inherit = "stock.relay.channel"

    def _relay_kind_domain(self):
        return expression.OR([super()._relay_kind_domain(), [("is_kits", "=", True)]])
