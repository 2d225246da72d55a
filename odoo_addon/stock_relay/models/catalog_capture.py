"""Catalogue capture: edits of what a document holds queue its template; at
precommit one call per kind writes the documents of every catalogue channel
that selects the template (stock_relay_enqueue_documents coalesces per key).

Failures to compute a document are logged and the template left out (see
catalog_document.py): the user's save never fails because of the catalogue.
"""
import json
import logging

from odoo import api, models

from .catalog_background import catalog_inline_limit

_logger = logging.getLogger(__name__)

CATALOG = "stock_relay.catalog"          # {(kind, template_id): {channel id or None (all), ...}}
LEAVING = "stock_relay.catalog_leaving"  # {(channel_id, template_id)}: left the channel's selection
CATALOG_HOOKED = "stock_relay.catalog_hooked"


class StockRelayCatalogCapture(models.AbstractModel):
    _inherit = "stock.relay.catalog"

    @api.model
    def _queue(self, kind, template_ids, channels=None, leaving=False):
        """Queue ``template_ids`` for a ``kind`` ('product' or 'price') document at precommit.

        ``channels`` narrows the channels (default: every catalogue channel that
        selects the template); ``leaving`` unpublishes them from ``channels``.
        """
        template_ids = {tid for tid in template_ids if tid}
        if not template_ids:
            return
        precommit = self.env.cr.precommit
        if not precommit.data.get(CATALOG_HOOKED):
            precommit.data[CATALOG_HOOKED] = True
            precommit.add(self.sudo()._catalog_precommit)
        if leaving:
            precommit.data.setdefault(LEAVING, set()).update(
                (channel.id, tid) for channel in channels for tid in template_ids)
            return
        queued = precommit.data.setdefault(CATALOG, {})
        for tid in template_ids:
            targets = queued.setdefault((kind, tid), set())
            targets.update(channels.ids if channels is not None else [None])

    @api.model
    def _catalog_channels(self):
        return self.env["stock.relay.channel"].sudo().search(
            [("enabled", "=", True), ("catalog_enabled", "=", True)])

    def _catalog_precommit(self):
        """Runs once per transaction, just before COMMIT."""
        data = self.env.cr.precommit.data
        data.pop(CATALOG_HOOKED, None)
        queued = data.pop(CATALOG, None) or {}
        leaving = data.pop(LEAVING, None) or set()
        channels = self._catalog_channels()
        if not channels or not (queued or leaving):
            return
        self.env.flush_all()
        # A product document carries the prices too: no price row beside it.
        products = {tid for kind, tid in queued if kind == "product"}
        wanted = {"product": {}, "price": {}}
        for (kind, tid), targets in queued.items():
            if kind == "price" and tid in products:
                continue
            for channel in channels:
                if None in targets or channel.id in targets:
                    wanted[kind].setdefault(channel, set()).add(tid)
        if self._hand_to_background(wanted, leaving):
            return
        for kind in ("product", "price"):
            self._enqueue_wanted(kind, wanted[kind], leaving if kind == "product" else set(), "catalog")

    @api.model
    def _hand_to_background(self, wanted, leaving):
        """Above the inline limit the documents are built after the commit, in chunks (catalog_background.py)."""
        pairs = sum(len(tids) for per_kind in wanted.values() for tids in per_kind.values()) + len(leaving)
        if pairs <= catalog_inline_limit(self.env):
            return False
        Job = self.env["stock.relay.catalog.job"].sudo()
        Channel = self.env["stock.relay.channel"].sudo()
        for channel_id in {cid for cid, _tid in leaving} - {c.id for c in wanted["product"]}:
            wanted["product"].setdefault(Channel.browse(channel_id), set())
        for kind in ("product", "price"):
            for channel, tids in wanted[kind].items():
                gone = {tid for cid, tid in leaving if cid == channel.id} if kind == "product" else set()
                Job._start(channel, kind, tids, gone - tids)
        self.env.flush_all()  # created at precommit: nothing flushes after this hook
        return True

    @api.model
    def _enqueue_wanted(self, kind, wanted, leaving, trigger):
        """Documents of the selected templates, per channel, and unpublishing ones for ``leaving``."""
        Template = self.env["product.template"].sudo().with_context(active_test=False)
        for channel_id, tid in leaving:
            channel = self.env["stock.relay.channel"].sudo().browse(channel_id)
            if channel.enabled and channel.catalog_enabled:
                wanted.setdefault(channel, set()).add(tid)
        rows = []
        for channel, tids in wanted.items():
            selected = channel._selected_template_ids(tids)
            gone = {tid for cid, tid in leaving if cid == channel.id} - selected
            for active, ids in ((None, selected), (False, gone)):
                templates = Template.browse(sorted(ids)).exists()
                docs = self._documents(channel, templates, kind=kind, active=active)
                rows += [(channel.id, tid, doc) for tid, doc in docs.items()]
        return self._enqueue_rows(kind, rows, trigger)

    @api.model
    def _enqueue_rows(self, kind, rows, trigger):
        """One stock_relay_enqueue_documents call for [(channel id, template id, document)]."""
        if not rows:
            return 0
        self.env.cr.execute(
            "SELECT stock_relay_enqueue_documents(%s, %s::int[], %s::int[], %s::varchar[], %s::jsonb[], %s)",
            [kind, [r[0] for r in rows], [r[1] for r in rows], [r[2]["external_id"] for r in rows],
             [_json(r[2]) for r in rows], trigger])
        written = self.env.cr.fetchone()[0]
        _logger.debug("stock_relay: %s %s row(s), trigger %s", written, kind, trigger)
        return written


def _json(document):
    return json.dumps(document, separators=(",", ":"), ensure_ascii=False)
