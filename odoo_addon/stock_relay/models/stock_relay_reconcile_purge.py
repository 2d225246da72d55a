"""Retention of reconcile runs: the daily purge (stock_relay.retention_days) also removes
finished runs older than the retention, with their snapshot rows and drift reports
(both cascade from the run), keeping each channel's newest finished run."""
import logging
from datetime import timedelta

from odoo import api, fields, models

from .stock_relay_outbox import DEFAULT_RETENTION_DAYS, RETENTION_PARAM

_logger = logging.getLogger(__name__)


class StockRelayOutboxPurgeReconcile(models.Model):
    _inherit = "stock.relay.outbox"

    @api.model
    def _cron_purge(self):
        purged = super()._cron_purge()
        days = self.env["ir.config_parameter"].sudo().get_param(RETENTION_PARAM, DEFAULT_RETENTION_DAYS)
        try:
            days = max(0, int(days))
        except (TypeError, ValueError):
            days = DEFAULT_RETENTION_DAYS
        self.env["stock.relay.reconcile"]._purge_runs(fields.Datetime.now() - timedelta(days=days))
        return purged


class StockRelayReconcilePurge(models.Model):
    _inherit = "stock.relay.reconcile"

    @api.model
    def _purge_runs(self, cutoff):
        """Delete finished runs requested before ``cutoff`` except each channel's newest one."""
        self.env.cr.execute(
            """
            DELETE FROM stock_relay_reconcile r
             WHERE r.state IN ('done', 'failed', 'cancelled') AND r.requested_at < %s
               AND r.id <> (SELECT max(n.id) FROM stock_relay_reconcile n
                             WHERE n.channel_id = r.channel_id AND n.state IN ('done', 'failed', 'cancelled'))
            """, [cutoff])
        purged = self.env.cr.rowcount
        self.invalidate_model()
        self.env["stock.relay.drift"].invalidate_model()
        _logger.info("stock_relay: purged %s reconcile run(s) requested before %s", purged, cutoff)
        return purged
