"""A kit's bill of materials is an input of its sellable quantity: creating,
changing or removing a phantom BoM or one of its lines re-publishes the kit."""
from odoo import api, models

from odoo.addons.stock_relay.models.capture import queue_republish


def _kit_ids(boms):
    """The products whose kit quantity these BoMs define (phantom BoMs only)."""
    ids = set()
    for bom in boms.sudo().with_context(active_test=False).filtered(lambda b: b.type == "phantom"):
        ids.update((bom.product_id or bom.product_tmpl_id.with_context(active_test=False).product_variant_ids).ids)
    return ids


class MrpBom(models.Model):
    _inherit = "mrp.bom"

    @api.model_create_multi
    def create(self, vals_list):
        boms = super().create(vals_list)
        queue_republish(self.env, "bom", _kit_ids(boms))
        return boms

    def write(self, vals):
        before = _kit_ids(self)  # a BoM that stops being a kit re-publishes its product too
        result = super().write(vals)
        queue_republish(self.env, "bom", before | _kit_ids(self))
        return result

    def unlink(self):
        queue_republish(self.env, "bom", _kit_ids(self))
        return super().unlink()


class MrpBomLine(models.Model):
    _inherit = "mrp.bom.line"

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        queue_republish(self.env, "bom", _kit_ids(lines.bom_id))
        return lines

    def write(self, vals):
        before = _kit_ids(self.bom_id)
        result = super().write(vals)
        queue_republish(self.env, "bom", before | _kit_ids(self.bom_id))
        return result

    def unlink(self):
        queue_republish(self.env, "bom", _kit_ids(self.bom_id))
        return super().unlink()
