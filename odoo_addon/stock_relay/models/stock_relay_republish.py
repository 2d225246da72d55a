"""Re-publishing when an input of the sellable quantity other than a quant changes.

A channel's buffer, cap or enabled flag, its mapping lines, a product's SKU,
storable or active flag, a location's place in the tree, a kit's bill of
materials: each queues the affected (channel, product, location) keys here, and
the transaction's one precommit hook (stock_quant.py) writes them with their
own trigger, from the state the transaction is about to commit — exactly as
quant changes are written.

A change that touches more products than ``stock_relay.republish_inline_limit``
(default 1000) is not written by the user's transaction: a job record queues it
in chunks of that many products, one transaction per chunk, run by the
"Stock Relay: re-publish in chunks" cron (triggered at once), with progress on
the channel.
"""
import logging

from odoo import api, fields, models

from .capture import inline_limit, queue_republish
from .stock_relay_outbox import TRIGGERS

_logger = logging.getLogger(__name__)


class StockRelayOutboxRepublish(models.Model):
    _inherit = "stock.relay.outbox"

    def _enqueue_republish(self, requests, defer=False):
        """Write the queued re-publish requests (called by the precommit hook)."""
        Channel = self.env["stock.relay.channel"].sudo()
        limit, jobs = inline_limit(self.env), False
        for (trigger, channel_ids, location_keys), requested in requests.items():
            # Compared before kits are added: a job's chunk (at most the limit) never spawns another job.
            large = len(requested) > limit
            product_ids = set(requested) | self._kits_using(requested)
            channels = None
            if channel_ids is not None:
                channels = Channel.browse(channel_ids).exists()  # deleted later in the transaction: moot
                if not channels:
                    continue
            if large:
                jobs = self._start_jobs(trigger, product_ids, channels, location_keys) or jobs
                continue
            keys = None
            if location_keys is not None:  # always narrowed to given channels
                keys = {(cid, k) for cid in channel_ids for k in location_keys}
            n = self._enqueue_products(sorted(product_ids), trigger=trigger, channels=channels, location_keys=keys,
                                       defer=defer)
            _logger.info("stock_relay: %s: %s outbox row(s) for %s product(s)", trigger, n, len(product_ids))
        if jobs:
            self.env.flush_all()  # created at precommit: nothing flushes after this hook

    def _start_jobs(self, trigger, product_ids, channels, location_keys):
        Job = self.env["stock.relay.republish.job"].sudo()
        if channels is None:
            channels = self.env["stock.relay.channel"].sudo().search([("enabled", "=", True)])
        started = Job
        for channel in channels.filtered("enabled"):
            started |= Job._start(channel, trigger, len(product_ids), location_keys=location_keys,
                                  product_ids=product_ids)
        _logger.info("stock_relay: %s: %s product(s) handed to %s re-publish job(s)", trigger, len(product_ids),
                     len(started))
        return started

    def _add_touched_kits(self, touched):
        """Quant changes of a component re-publish every kit that uses it, where it changed."""
        kits = self._kits_using(set(touched))
        if kits:
            where = set().union(*touched.values())
            for kit_id in kits:
                touched.setdefault(kit_id, set()).update(where)


class StockRelayRepublishJob(models.Model):
    """A large re-publish (a channel's whole catalogue), written in chunks by a cron."""

    _name = "stock.relay.republish.job"
    _description = "Stock Relay Re-publish Job"
    _order = "id"

    channel_id = fields.Many2one("stock.relay.channel", required=True, ondelete="cascade", index=True)
    trigger = fields.Selection(TRIGGERS, required=True)
    location_keys = fields.Json(help="Shop location keys to write; empty = every mapping line.")
    product_ids = fields.Json(help="Products to write; empty = every product the channel relays.")
    last_product_id = fields.Integer(default=0, help="Products up to this id are queued.")
    total = fields.Integer()
    done_count = fields.Integer(default=0)

    @api.model
    def _start(self, channel, trigger, total, location_keys=None, product_ids=None):
        if location_keys is None and product_ids is None:
            # A whole-catalogue job makes the channel's older jobs moot.
            self.search([("channel_id", "=", channel.id)]).unlink()
        job = self.create({"channel_id": channel.id, "trigger": trigger, "total": total,
                           "location_keys": sorted(location_keys) if location_keys is not None else False,
                           "product_ids": sorted(product_ids) if product_ids is not None else False})
        self.env.ref("stock_relay.ir_cron_republish").sudo()._trigger()
        return job

    def _next_chunk(self, size):
        self.ensure_one()
        if self.product_ids:
            ids = sorted(pid for pid in self.product_ids if pid > self.last_product_id)
            return ids[:size]
        domain = self.channel_id._relay_product_domain() + [("id", ">", self.last_product_id)]
        Product = self.env["product.product"].sudo().with_context(active_test=False)
        return Product.search(domain, order="id", limit=size).ids

    @api.model
    def _cron_run(self):
        """Queue one chunk of the oldest job; the cron framework commits and calls again."""
        job = self.sudo().search([], limit=1)
        if not job:
            return
        size = inline_limit(self.env)
        ids = job._next_chunk(size)
        if job.channel_id.enabled and ids:
            keys = job.location_keys or None
            queue_republish(self.env, job.trigger, ids, channels=job.channel_id, location_keys=keys)
        if len(ids) < size or not job.channel_id.enabled:
            job.unlink()
        else:
            job.write({"last_product_id": ids[-1], "done_count": job.done_count + len(ids)})
        jobs = self.sudo().search([])
        remaining = sum(max(0, j.total - j.done_count) for j in jobs)
        if jobs and not remaining:
            remaining = 1  # a job's catalogue grew past its estimate: keep going
        self.env["ir.cron"]._notify_progress(done=len(ids), remaining=remaining)
