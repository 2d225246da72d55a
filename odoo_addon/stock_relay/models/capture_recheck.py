"""Deferred captures (contract v6 [commit-clock]).

When the precommit's enqueue meets the commit clock (another transaction published one of its
products after this one's snapshot), stock_relay_enqueue_or_defer records the keys in
stock_relay_recheck instead of failing the user's transaction (which Odoo would replay whole).
Right after the commit they are recomputed here, in a new transaction whose snapshot sees every
committed change; a cron sweeps what a crash between the two left behind.
"""
import logging
import random
import time
from collections import defaultdict

from psycopg2 import OperationalError

from odoo import SUPERUSER_ID, api, models

_logger = logging.getLogger(__name__)

HOOKED = "stock_relay.recheck_hooked"
BATCH = 5000
PASSES = 5
RETRY_CODES = {"40001", "40P01"}  # serialization failure, deadlock: another pass, a fresh snapshot


def recheck_now(registry):
    """Post-commit: recompute the deferred keys in new transactions (never raises: the cron catches up)."""
    for attempt in range(PASSES):
        try:
            with registry.cursor() as cr:
                if not api.Environment(cr, SUPERUSER_ID, {})["stock.relay.outbox"]._stock_relay_recheck():
                    return
        except OperationalError as e:
            if e.pgcode not in RETRY_CODES:
                _logger.exception("stock_relay: recheck failed; the recheck cron will retry")
                return
            time.sleep(random.uniform(0, 0.05 * (attempt + 1)))
        except Exception:  # noqa: BLE001 -- the user's transaction is committed: never break it now
            _logger.exception("stock_relay: recheck failed; the recheck cron will retry")
            return


class StockRelayOutboxRecheck(models.Model):
    _inherit = "stock.relay.outbox"

    def _stock_relay_recheck_after_commit(self):
        """Recompute this transaction's deferred keys once it has committed."""
        postcommit = self.env.cr.postcommit
        if not postcommit.data.get(HOOKED):
            postcommit.data[HOOKED] = True
            postcommit.add(lambda registry=self.env.registry: recheck_now(registry))

    @api.model
    def _stock_relay_recheck(self):
        """Take up to BATCH deferred keys and publish them from this transaction's snapshot.

        Keys deferred again (a new conflict) are recorded again by the same function and taken by
        the caller's next pass (recheck_now, the cron). Returns the number of keys taken."""
        cr = self.env.cr
        cr.execute("""DELETE FROM stock_relay_recheck WHERE id IN (
                          SELECT id FROM stock_relay_recheck ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED)
                      RETURNING channel_id, product_id, location_key, trigger""", [BATCH])
        taken = cr.fetchall()
        wanted = defaultdict(lambda: (set(), set()))
        for channel_id, product_id, location_key, trigger in taken:
            wanted[trigger][0].add(product_id)
            wanted[trigger][1].add((channel_id, location_key or ""))
        for trigger, (product_ids, keys) in sorted(wanted.items()):
            products = self.env["product.product"].sudo().with_context(active_test=False).browse(
                sorted(product_ids)).exists()
            self.with_context(stock_relay_rechecking=True)._enqueue_products(
                products.ids, trigger=trigger, location_keys=keys, defer=True)
        if taken:
            _logger.info("stock_relay: rechecked %s deferred key(s)", len(taken))
        return len(taken)

    @api.model
    def _cron_recheck(self):
        """Keys a crash left between a deferred commit and its recheck."""
        while self._stock_relay_recheck() == BATCH:
            self.env.cr.commit()
