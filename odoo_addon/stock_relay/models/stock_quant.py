from odoo import api, models

from .capture import HOOKED, REPUBLISH, TOUCHED, TRIGGER, capture_data

TRACKED_FIELDS = {"quantity", "reserved_quantity", "location_id", "product_id", "lot_id"}


class StockQuant(models.Model):
    _inherit = "stock.quant"

    # Capture: remember which (product, location) pairs changed; the outbox
    # rows are computed once, at precommit, from the state the transaction
    # is about to commit. Nothing here commits or talks to a shop.
    @api.model_create_multi
    def create(self, vals_list):
        quants = super().create(vals_list)
        quants.filtered(lambda q: q.quantity or q.reserved_quantity)._stock_relay_touch()
        return quants

    def write(self, vals):
        relevant = TRACKED_FIELDS.intersection(vals)
        if relevant and ("location_id" in relevant or "product_id" in relevant):
            self._stock_relay_touch()  # the quant leaves its old product/location
        result = super().write(vals)
        if relevant:
            self._stock_relay_touch()
        return result

    def unlink(self):
        self._stock_relay_touch()
        return super().unlink()

    def _stock_relay_touch(self):
        if not self:
            return
        touched = capture_data(self.env).setdefault(TOUCHED, {})
        for quant in self.sudo():
            touched.setdefault(quant.product_id.id, set()).add(quant.location_id.id)


class StockRelayOutboxPrecommit(models.Model):
    _inherit = "stock.relay.outbox"

    def _stock_relay_precommit(self):
        """Runs once per transaction, inside cr.flush(), just before COMMIT."""
        data = self.env.cr.precommit.data
        data.pop(HOOKED, None)
        touched = data.pop(TOUCHED, None)
        trigger = data.pop(TRIGGER, None) or "quant"
        requests = data.pop(REPUBLISH, None)
        if not touched and not requests:
            return
        # Quant writes made by other precommit hooks must be in the database
        # before the grouped query reads them.
        self.env.flush_all()
        if touched:
            self._add_touched_kits(touched)
            self._enqueue_products(list(touched), trigger=trigger, touched=touched, defer=True)
        if requests:
            self._enqueue_republish(requests, defer=True)


class StockPicking(models.Model):
    _inherit = "stock.picking"

    def _action_done(self):
        self.env.cr.precommit.data[TRIGGER] = "picking"
        return super()._action_done()
