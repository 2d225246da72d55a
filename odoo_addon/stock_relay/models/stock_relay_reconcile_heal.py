"""Healing a reconcile run: Odoo's current number for every drifted or missing key,
through the normal outbox path with trigger 'reconcile' (the sync log says why).

The compare cron heals in chunks (auto-heal, a run requested with heal); the
button heals up to ``stock_relay.republish_inline_limit`` keys in the user's
transaction and hands a larger heal to the chunked re-publish job.
"""
import logging
from collections import defaultdict

from odoo import models

from .capture import inline_limit
from .stock_relay_drift import HEALABLE

_logger = logging.getLogger(__name__)


class StockRelayReconcileHeal(models.Model):
    _inherit = "stock.relay.reconcile"

    def _healable_domain(self):
        return [("reconcile_id", "=", self.id), ("drift_class", "in", HEALABLE),
                ("in_motion", "=", False), ("healed", "=", False), ("product_id", "!=", False)]

    def _healable_by_key(self, limit=None):
        lines = self.env["stock.relay.drift"].sudo().search(self._healable_domain(), order="id", limit=limit)
        by_key = defaultdict(set)
        for line in lines:
            by_key[line.location_key or ""].add(line.product_id.id)
        return lines, by_key

    def _heal(self, limit=None):
        """Queue Odoo's current number for up to ``limit`` unhealed keys of this run;
        returns how many are left to heal."""
        self.ensure_one()
        lines, by_key = self._healable_by_key(limit)
        Outbox = self.env["stock.relay.outbox"]
        queued = sum(Outbox._enqueue_products(sorted(product_ids), trigger="reconcile", channels=self.channel_id,
                                              location_keys={(self.channel_id.id, key)})
                     for key, product_ids in by_key.items())
        lines.write({"healed": True})
        self._count_healed(queued)
        return self.env["stock.relay.drift"].sudo().search_count(self._healable_domain()) if limit else 0

    def _heal_by_hand(self):
        """The Heal drift button: inline when small, else through the chunked re-publish job.
        Returns (keys queued now, keys handed to the job)."""
        self.ensure_one()
        if self.env["stock.relay.drift"].sudo().search_count(self._healable_domain()) <= inline_limit(self.env):
            before = self.healed or 0
            self._heal()
            return (self.healed or 0) - before, 0
        lines, by_key = self._healable_by_key()
        Job = self.env["stock.relay.republish.job"].sudo()
        for key, product_ids in by_key.items():
            Job._start(self.channel_id, "reconcile", len(product_ids), location_keys=[key],
                       product_ids=sorted(product_ids))
        lines.write({"healed": True})
        self._count_healed(len(lines))
        return 0, len(lines)

    def _count_healed(self, n):
        if not n:
            return
        self.env.cr.execute("UPDATE stock_relay_reconcile SET healed = coalesce(healed, 0) + %s WHERE id = %s",
                            [n, self.id])
        self.invalidate_recordset(["healed"])
        _logger.info("stock_relay: reconcile run %s healed %s key(s) of channel %s", self.id, n, self.channel_id.id)
