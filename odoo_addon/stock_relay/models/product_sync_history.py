"""A product's shop sync history, one click from the product form (smart button)."""
from odoo import fields, models


class ProductTemplate(models.Model):
    _inherit = "product.template"

    stock_relay_row_count = fields.Integer(string="Shop Sync", compute="_compute_stock_relay_row_count",
                                           groups="stock.group_stock_user")

    def _compute_stock_relay_row_count(self):
        variants = self.with_context(active_test=False).product_variant_ids
        counts = {}
        if variants:
            # Naming every channel lets stock_relay_outbox_product (channel_id, product_id, id) serve
            # the count without reading the rest of the log.
            # Stock rows name a variant, catalogue rows (contract v5) the template.
            self.env.cr.execute(
                "SELECT kind = 'stock', product_id, count(*) FROM stock_relay_outbox "
                "WHERE channel_id = ANY(ARRAY(SELECT id FROM stock_relay_channel)) AND product_id = ANY(%s) "
                "AND ((kind = 'stock' AND product_id = ANY(%s)) OR (kind <> 'stock' AND product_id = ANY(%s))) "
                "GROUP BY 1, 2", [variants.ids + self.ids, variants.ids, self.ids])
            counts = {(is_stock, pid): n for is_stock, pid, n in self.env.cr.fetchall()}
        for template in self:
            template.stock_relay_row_count = counts.get((False, template.id), 0) + sum(
                counts.get((True, pid), 0) for pid in template.with_context(active_test=False).product_variant_ids.ids)

    def action_view_stock_relay_log(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("stock_relay.action_stock_relay_outbox")
        variants = self.with_context(active_test=False).product_variant_ids
        action["domain"] = ["|", "&", ("kind", "=", "stock"), ("product_id", "in", variants.ids),
                            "&", ("kind", "!=", "stock"), ("product_id", "in", self.ids)]
        action["context"] = {}
        action["name"] = f"{action['name']}: {self.display_name}"
        return action
