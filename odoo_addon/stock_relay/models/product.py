"""A product's own inputs of what the shops show: its SKU, whether Odoo tracks
its stock, whether it is archived, and its company."""
from odoo import models

from .capture import queue_republish

# is_storable lives on the template, but writing it through a variant puts the new
# value in the cache before the template's write() could see the old one.
PRODUCT_INPUTS = {"default_code", "active", "company_id", "is_storable"}
TEMPLATE_INPUTS = {"is_storable", "active", "company_id"}


class ProductProduct(models.Model):
    _inherit = "product.product"

    def write(self, vals):
        watched = PRODUCT_INPUTS & vals.keys()
        before = self._stock_relay_snapshot() if watched else {}
        result = super().write(vals)
        if watched:
            self._stock_relay_changed(before)
        return result

    def _stock_relay_snapshot(self):
        return {p.id: (p.default_code, p.active, p.is_storable, p.company_id.id)
                for p in self.sudo().with_context(active_test=False)}

    def _stock_relay_changed(self, before):
        """Queue the products whose SKU, tracking, archive state or company changed."""
        products = self.sudo().with_context(active_test=False)
        now = products._stock_relay_snapshot()
        changed = products.filtered(lambda p: now[p.id] != before.get(p.id, now[p.id]))
        if not changed:
            return
        archived = changed.filtered(lambda p: before[p.id][1] and not p.active)
        queue_republish(self.env, "archive", archived.ids)
        queue_republish(self.env, "product", (changed - archived).ids)
        moved = changed.filtered(lambda p: before[p.id][0] != p.default_code or before[p.id][2] != p.is_storable)
        if moved:
            self._stock_relay_move_skus(moved, {before[p.id][0] for p in moved})

    def _stock_relay_move_skus(self, moved, old_skus):
        """A shop SKU follows its Odoo product at once.

        Products whose SKU changed, or that stopped being relayed, give up the
        SKU-cache ownership of the SKUs they no longer publish (the daemon then
        lets the next product with that SKU take it over, and never names a
        product that no longer has it), and the products that carry an old SKU
        now are re-published to its shop item.
        """
        kits = self.env["stock.relay.outbox"]._kit_components(moved)
        current = [(p.default_code or "").strip() if p.is_storable or p.id in kits else "" for p in moved]
        self.env.cr.execute("SELECT stock_relay_release_skus(%s::int[], %s::varchar[])",
                            [moved.ids, [sku or None for sku in current]])
        old_skus = [sku.strip() for sku in old_skus if sku and sku.strip()]
        if old_skus:
            heirs = self.sudo().with_context(active_test=False).search(
                [("default_code", "in", old_skus), ("id", "not in", moved.ids)])
            queue_republish(self.env, "product", heirs.ids)


class ProductTemplate(models.Model):
    _inherit = "product.template"

    def write(self, vals):
        watched = TEMPLATE_INPUTS & vals.keys()
        variants = self.sudo().with_context(active_test=False).product_variant_ids if watched else None
        before = variants._stock_relay_snapshot() if watched else {}
        result = super().write(vals)
        if watched:
            variants._stock_relay_changed(before)
        return result
