"""A batch of inbox rows imported together: the fast path of the import cron.

The rows that create a new sale order (the only event of that shop order in the
batch, no sale order for it yet, not a cancellation) are prepared one by one
(every check on the shop's data; a bad one fails alone, having written nothing),
then their customers are resolved together, their sale orders made in one
``create`` and confirmed in one ``action_confirm``. The other rows (updates,
cancellations, several events of one order) go through OrderImport row by row,
in the order they arrived. The caller runs all of it in one savepoint and, if
anything Odoo raises gets through, rolls it back and processes the rows one by
one instead, so the row Odoo refuses fails alone.
"""
from collections import Counter

from .order_cache import ChannelCache
from .order_errors import ImportFailure
from .order_import import OrderImport, partner_vals
from .order_partner import resolve_customers


class BatchImport:
    def __init__(self, rows):
        self.rows = rows.sudo()
        self.caches = {}

    def cache(self, row):
        if row.channel_id.id not in self.caches:
            self.caches[row.channel_id.id] = ChannelCache(row)
        return self.caches[row.channel_id.id]

    def run(self):
        """Process the rows; returns how many left 'pending' and the new sale orders still to confirm."""
        new, others = self._split()
        done, jobs = 0, []
        for row, job in new:
            try:
                jobs.append((row, job, job.prepare_create()))
            except ImportFailure as exc:
                row._finish("failed", code=exc.code, error=exc.message)
                done += 1
        to_confirm = self._create(jobs)
        for row in others:
            left, sale = row._process_one(defer_confirm=True)
            done, to_confirm = done + left, to_confirm | sale
        return done + len(jobs), to_confirm

    def _split(self):
        """([(row, OrderImport)] of rows that create a new sale order, [the other rows])."""
        jobs = []
        for row in self.rows:
            try:
                jobs.append((row, OrderImport(row, defer_confirm=True, cache=self.cache(row))))
            except ImportFailure:
                jobs.append((row, None))  # OrderImport fails it again, row by row, with its reason
        keys = [(job.channel.id, str(job.order["id"])) if job else None for row, job in jobs]
        count = Counter(keys)
        existing = self._existing({key for key in keys if key})
        new, others = [], []
        for (row, job), key in zip(jobs, keys):
            if job and count[key] == 1 and key not in existing and not job.cancelled:
                new.append((row, job))
                self.cache(row).prefetch_products(
                    (line.get("sku") or "").strip() for line in job.order["lines"] if isinstance(line, dict))
            else:
                others.append(row)
        return new, others

    def _existing(self, keys):
        """Which (channel id, shop order id) already have a sale order."""
        if not keys:
            return set()
        sales = self.rows.env["sale.order"].with_context(active_test=False).search_fetch([
            ("stock_relay_channel_id", "in", list({channel for channel, _id in keys})),
            ("stock_relay_order_id", "in", list({order_id for _channel, order_id in keys}))],
            ["stock_relay_channel_id", "stock_relay_order_id"])
        return {(sale.stock_relay_channel_id.id, sale.stock_relay_order_id) for sale in sales}

    def _create(self, jobs):
        """Create the prepared sale orders (one create per channel); returns those to confirm."""
        to_confirm = self.rows.env["sale.order"]
        for cache in self.caches.values():
            mine = [(row, job, vals) for row, job, vals in jobs if job.cache is cache]
            if not mine:
                continue
            customers = resolve_customers(cache, [job.order for _row, job, _vals in mine])
            sales = cache.env["sale.order"].create([vals | partner_vals(*found)
                                                    for (_row, _job, vals), found in zip(mine, customers)])
            for (row, _job, _vals), sale in zip(mine, sales):
                row._finish("done", order=sale)
            if cache.settings.auto_confirm:
                to_confirm |= sales
        return to_confirm
