"""Large catalogue changes are built after the user's save, in chunks.

A change whose documents fit under ``stock_relay.catalog_inline_limit``
(channel x template pairs, default 500) is written at precommit, in the
user's transaction, exactly as before. A larger one (a global pricelist rule,
a category's scope, "Publish catalogue" on a large selection) records
the affected templates in a job per channel and kind instead; the "Stock
Relay: publish the catalogue in chunks" cron builds one chunk per transaction,
from the data committed when the chunk runs.

Newest wins: a chunk computes and enqueues in one REPEATABLE READ
transaction, and stock_relay_enqueue_documents bumps the template's row of
stock_relay_catalog_clock. A user's edit of one of its templates committed
after the chunk's snapshot makes that bump fail with a serialization failure,
and the chunk is run again on a fresh snapshot: an older chunk never
overwrites a newer document.
"""
import logging

from psycopg2.errors import SerializationFailure

from odoo import _, api, fields, models

_logger = logging.getLogger(__name__)

INLINE_LIMIT_PARAM = "stock_relay.catalog_inline_limit"
DEFAULT_INLINE_LIMIT = 500
ATTEMPTS = 3


def catalog_inline_limit(env):
    """Documents a change may build inside the user's own transaction; more go to a background job."""
    value = env["ir.config_parameter"].sudo().get_param(INLINE_LIMIT_PARAM, DEFAULT_INLINE_LIMIT)
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return DEFAULT_INLINE_LIMIT


class StockRelayCatalogJob(models.Model):
    """Templates of one channel whose catalogue documents are still to be built."""

    _name = "stock.relay.catalog.job"
    _description = "Stock Relay Catalogue Background Job"
    _order = "id"

    channel_id = fields.Many2one("stock.relay.channel", required=True, ondelete="cascade", index=True)
    kind = fields.Selection([("product", "Product"), ("price", "Price")], required=True)
    trigger = fields.Char(required=True, default="catalog")
    template_ids = fields.Json(help="Templates still to build (ascending ids).")
    leaving_ids = fields.Json(help="Templates that left the selection: unpublished when built.")
    total = fields.Integer()
    done_count = fields.Integer(default=0)

    @api.model
    def _start(self, channel, kind, template_ids, leaving_ids=(), trigger="catalog"):
        ids, gone = sorted(set(template_ids)), sorted(set(leaving_ids))
        if not ids and not gone:
            return self
        job = self.sudo().create({"channel_id": channel.id, "kind": kind, "trigger": trigger,
                                  "template_ids": ids, "leaving_ids": gone, "total": len(ids) + len(gone)})
        self.env.ref("stock_relay.ir_cron_catalog_background").sudo()._trigger()
        _logger.info("stock_relay: %s %s document(s) of channel %s handed to background job %s",
                     job.total, kind, channel.id, job.id)
        return job

    def _take_chunk(self, size):
        """(template ids, leaving ids) of the next chunk; the job keeps the rest."""
        self.ensure_one()
        ids, gone = list(self.template_ids or []), list(self.leaving_ids or [])
        chunk, rest = ids[:size], ids[size:]
        left, rest_gone = gone[:size - len(chunk)], gone[size - len(chunk):]
        if rest or rest_gone:
            self.write({"template_ids": rest, "leaving_ids": rest_gone,
                        "done_count": self.done_count + len(chunk) + len(left)})
        else:
            self.unlink()
        return chunk, left

    @api.model
    def _run_chunk(self):
        """Build one chunk of the oldest job. Returns the number of templates handled."""
        job = self.sudo().search([], limit=1)
        if not job:
            return 0
        channel, kind, trigger = job.channel_id, job.kind, job.trigger
        chunk, left = job._take_chunk(catalog_inline_limit(self.env))
        if channel.enabled and channel.catalog_enabled:
            catalog = self.env["stock.relay.catalog"].sudo()
            catalog._enqueue_wanted(kind, {channel: set(chunk)} if chunk else {},
                                    {(channel.id, tid) for tid in left}, trigger)
        return len(chunk) + len(left)

    @api.model
    def _remaining(self):
        return sum(max(0, j.total - j.done_count) for j in self.sudo().search([]))

    @api.model
    def _cron_run(self):
        """One chunk per call; Odoo's cron runner commits and calls again while work remains."""
        for attempt in range(1, ATTEMPTS + 1):
            try:
                done = self._run_chunk()
                self.env.flush_all()
                break
            except SerializationFailure:
                # A user's edit of one of the chunk's templates committed after our snapshot:
                # build the chunk again from the newer data.
                if attempt == ATTEMPTS:
                    raise
                _logger.info("stock_relay: catalogue chunk met a newer edit, attempt %s of %s", attempt, ATTEMPTS)
                self.env.cr.rollback()
                self.env.invalidate_all()
        self.env["ir.cron"]._notify_progress(done=done, remaining=self._remaining())


class StockRelayChannelCatalogBackground(models.Model):
    _inherit = "stock.relay.channel"

    catalog_job_ids = fields.One2many("stock.relay.catalog.job", "channel_id", string="Catalogue Jobs")
    catalog_background_count = fields.Integer(
        string="Publishing in the Background", compute="_compute_catalog_background")
    catalog_background_status = fields.Char(compute="_compute_catalog_background")

    @api.depends("catalog_job_ids.total", "catalog_job_ids.done_count")
    def _compute_catalog_background(self):
        for channel in self:
            jobs = channel.sudo().catalog_job_ids
            count = sum(max(0, j.total - j.done_count) for j in jobs)
            channel.catalog_background_count = count
            channel.catalog_background_status = (
                _("Publishing %s products in the background", count) if count else False)
