"""The compare job: a run the daemon has read ('read') becomes a drift report ('done').

Odoo's side of a key is computed by the code that fills the outbox
(stock_relay_outbox._sellable_rows: buffer, cap, kits, archive policy), so a
reconcile reports exactly what a push would change.

Large channels are compared in chunks of ``stock_relay.reconcile_chunk``
products (default 1000), one transaction per chunk: the cron reports progress
(ir.cron._notify_progress) and Odoo's cron runner commits and calls again.
Each step locks the run's row (FOR UPDATE SKIP LOCKED) for its transaction,
and its progress is committed with its report lines, so two cron workers never
compare one chunk twice.
"""
import logging
from collections import defaultdict

from psycopg2.extras import Json

from odoo import _, api, fields, models
from ..compat import sql_constraints

from .stock_relay_drift import cascade_to_contract

_logger = logging.getLogger(__name__)

CHUNK_PARAM = "stock_relay.reconcile_chunk"
DEFAULT_CHUNK = 1000
COMPARE_CRON = "stock_relay.ir_cron_stock_relay_reconcile"


@sql_constraints
class StockRelayReconcileProgress(models.Model):
    """Where the comparison of a run resumes (one row per run being compared)."""

    _name = "stock.relay.reconcile.progress"
    _description = "Stock Relay Reconcile Progress"

    reconcile_id = fields.Many2one("stock.relay.reconcile", required=True, ondelete="cascade", index=True)
    phase = fields.Selection([("products", "Odoo products"), ("shop", "Shop-only items"), ("heal", "Healing")],
                             required=True, default="products")
    last_product_id = fields.Integer(default=0)
    compared = fields.Integer(default=0)

    _sql_constraints = [("reconcile_uniq", "unique(reconcile_id)", "One progress row per run.")]

    def init(self):
        cascade_to_contract(self.env.cr, self._table, "reconcile_id", "stock_relay_reconcile")


class StockRelayReconcileCompare(models.Model):
    _inherit = "stock.relay.reconcile"

    @api.model
    def _chunk_size(self):
        value = self.env["ir.config_parameter"].sudo().get_param(CHUNK_PARAM, DEFAULT_CHUNK)
        try:
            return max(1, int(value))
        except (TypeError, ValueError):
            return DEFAULT_CHUNK

    @api.model
    def _cron_compare(self):
        """One step of the oldest run that is read and not locked by another worker."""
        cr = self.env.cr
        cr.execute("SELECT id FROM stock_relay_reconcile WHERE state = 'read' ORDER BY id LIMIT 1 "
                   "FOR UPDATE SKIP LOCKED")
        row = cr.fetchone()
        if not row:
            return
        self.invalidate_model()
        run = self.sudo().browse(row[0])
        try:
            with cr.savepoint():
                finished = run._compare_step(self._chunk_size())
        except Exception as exc:  # noqa: BLE001 - a broken run is marked failed, never breaks the cron
            _logger.exception("stock_relay: comparing reconcile run %s failed", run.id)
            run._fail("compare_failed", _("Odoo could not compare the snapshot: %s", exc))
            finished = True
        cr.execute("SELECT count(*) FROM stock_relay_reconcile WHERE state = 'read'")
        remaining = cr.fetchone()[0]
        self.env["ir.cron"]._notify_progress(done=1, remaining=remaining)
        return finished

    def _fail(self, code, message):
        self.ensure_one()
        self.env.cr.execute(
            "UPDATE stock_relay_reconcile SET state = 'failed', error_code = %s, last_error = %s, "
            "done_at = (now() AT TIME ZONE 'UTC') WHERE id = %s", [code, message, self.id])
        self.env["stock.relay.reconcile.progress"].sudo().search([("reconcile_id", "=", self.id)]).unlink()
        self.invalidate_recordset()

    def _compare_step(self, chunk_size):
        """Compare the next chunk of this run (its row is locked by the caller); True once it is done."""
        self.ensure_one()
        Progress = self.env["stock.relay.reconcile.progress"].sudo()
        progress = Progress.search([("reconcile_id", "=", self.id)]) or Progress.create({"reconcile_id": self.id})
        if progress.phase == "products":
            product_ids = self._next_products(progress.last_product_id, chunk_size)
            if product_ids:
                progress.compared += self._compare_products(product_ids)
                progress.last_product_id = product_ids[-1]
            if len(product_ids) == chunk_size:
                return False
            progress.compared += self._compare_shop_only()
            progress.phase = "heal"
        if progress.phase == "heal" and (self.heal or self.channel_id.reconcile_auto_heal) and self.channel_id.enabled:
            if self._heal(limit=chunk_size):
                return False
        self._finish(progress.compared)
        progress.unlink()
        return True

    def _next_products(self, after_id, limit):
        Product = self.env["product.product"].sudo().with_context(active_test=False)
        domain = self.channel_id._relay_product_domain() + [("id", ">", after_id)]
        return Product.search(domain, order="id", limit=limit).ids

    def _started_at(self):
        return self.started_at or self.requested_at

    # ------------------------------------------------------------ Odoo's keys
    def _compare_products(self, product_ids):
        """Report lines for the keys of ``product_ids``; returns the number of keys compared."""
        channel = self.channel_id
        rows = self.env["stock.relay.outbox"]._sellable_rows(product_ids, channels=channel, include_disabled=True)
        if not rows:
            return 0
        shop = self._snapshot_by_sku({row["sku"] for row in rows})
        moving = self._moving_keys(product_ids)
        lines = []
        for row in rows:
            line = self._classify(row, shop.get(row["sku"], []))
            if line:
                line["in_motion"] = line["drift_class"] == "drift" and \
                    (row["product"].id, row["location_key"]) in moving
                lines.append(line)
        self._write_lines(lines)
        return len(rows)

    def _snapshot_by_sku(self, skus):
        self.env.cr.execute(
            "SELECT sku, location_key, remote_id, parent_id, quantity, tracked, problem FROM stock_relay_snapshot "
            "WHERE reconcile_id = %s AND sku = ANY(%s) ORDER BY remote_id, location_key",
            [self.id, sorted(skus)])
        by_sku = defaultdict(list)
        for sku, key, remote_id, parent_id, qty, tracked, problem in self.env.cr.fetchall():
            by_sku[sku].append({"location_key": key, "remote_id": remote_id, "parent_id": parent_id,
                                "quantity": qty, "tracked": tracked, "problem": problem})
        return by_sku

    def _moving_keys(self, product_ids):
        """(product, shop location) keys whose shop number was changing while the shop was read.

        A key with an outbox row pending or in flight is about to change in
        the shop; a key whose push landed (done_at) after the read started
        may have been read before or after it landed; the snapshot cannot
        tell which. Either way, Odoo's number and the shop's may differ for a
        moment without anyone being wrong. Calling that drift would raise
        false alarms (and a heal would push what the outbox pushes anyway),
        so these keys are reported "in motion", not counted and not healed.
        A key whose last push landed before the read started and that has
        nothing queued must equal Odoo now: any Odoo change since then queued
        a row in its own transaction (the outbox is transactional).
        """
        self.env.cr.execute(
            """
            SELECT DISTINCT product_id, location_key FROM stock_relay_outbox
             WHERE channel_id = %s AND kind = 'stock' AND product_id = ANY(%s)
               AND (state IN ('pending', 'in_flight') OR done_at >= %s)
            """, [self.channel_id.id, list(product_ids), self._started_at()])
        return set(self.env.cr.fetchall())

    def _classify(self, row, items):
        """The report line for one of Odoo's keys given the shop's items carrying its SKU (None: in step)."""
        key = row["location_key"]
        line = {"product_id": row["product"].id, "sku": row["sku"], "location_key": key,
                "location_name": row["line"].location_name or key, "odoo_qty": row["quantity"]}
        remote_ids = sorted({item["remote_id"] for item in items})
        if len(remote_ids) > 1:
            return dict(line, drift_class="duplicate_in_shop", remote_id=", ".join(remote_ids),
                        detail=_("%s shop items carry this SKU", len(remote_ids)))
        here = [item for item in items if item["location_key"] == key]
        if not here:
            detail = _("The shop item is not stocked at this location") if items else False
            return dict(line, drift_class="missing_in_shop", remote_id=remote_ids[0] if items else False,
                        detail=detail)
        item = here[0]
        line.update(remote_id=item["remote_id"], parent_id=item["parent_id"] or False)
        if item["problem"]:
            return None  # reported once, as malformed, by _compare_shop_only
        if not item["tracked"]:
            return dict(line, drift_class="not_tracked_in_shop",
                        detail=_("The shop does not track inventory for this item"))
        if item["quantity"] is None:
            return dict(line, drift_class="malformed", detail=_("The shop gave no quantity"))
        shop_qty = float(item["quantity"])
        if shop_qty == float(row["quantity"]):
            return None
        return dict(line, drift_class="drift", shop_qty=shop_qty)

    # ------------------------------------------------------------ shop-only items
    def _compare_shop_only(self):
        """Lines for shop items no Odoo key accounts for: malformed, without SKU, SKUs Odoo does not relay.

        Written with one INSERT ... SELECT (a shop can hold far more such items
        than a chunk of products); the relayed SKUs are an anti-join, not an
        array test per row. Returns the number of shop items reported.
        """
        cr = self.env.cr
        names = {line.location_key or "": line.location_name
                 for line in self.channel_id.sudo().location_line_ids}
        cr.execute(
            """
            WITH relayed AS (SELECT DISTINCT btrim(default_code) AS sku FROM product_product
                              WHERE id = ANY(%(products)s))
            INSERT INTO stock_relay_drift
                   (reconcile_id, channel_id, drift_class, sku, remote_id, parent_id, location_key, location_name,
                    shop_qty, detail, in_motion, healed, create_uid, create_date, write_uid, write_date)
            SELECT s.reconcile_id, %(channel)s,
                   CASE WHEN s.problem IS NOT NULL THEN 'malformed'
                        WHEN coalesce(btrim(s.sku), '') = '' THEN 'no_sku_in_shop'
                        ELSE 'unknown_in_odoo' END,
                   s.sku, s.remote_id, nullif(s.parent_id, ''), s.location_key,
                   coalesce((%(names)s::jsonb) ->> s.location_key, s.location_key),
                   s.quantity, left(s.problem, 500), false, false,
                   %(uid)s, now() AT TIME ZONE 'UTC', %(uid)s, now() AT TIME ZONE 'UTC'
              FROM stock_relay_snapshot s
              LEFT JOIN relayed r ON r.sku = s.sku
             WHERE s.reconcile_id = %(run)s
               AND (s.problem IS NOT NULL OR coalesce(btrim(s.sku), '') = '' OR r.sku IS NULL)
            """,
            {"channel": self.channel_id.id, "names": Json(names), "uid": self.env.uid, "run": self.id,
             "products": self.channel_id._relay_product_ids()})
        return cr.rowcount

    def _write_lines(self, lines):
        base = {"reconcile_id": self.id, "channel_id": self.channel_id.id}
        self.env["stock.relay.drift"].sudo().create([dict(base, **line) for line in lines])

    # ------------------------------------------------------------ finish
    def _finish(self, compared):
        Drift = self.env["stock.relay.drift"].sudo()
        found = Drift.search_count([("reconcile_id", "=", self.id), ("in_motion", "=", False)])
        self.env.cr.execute(
            "UPDATE stock_relay_reconcile SET state = 'done', done_at = (now() AT TIME ZONE 'UTC'), "
            "items_compared = %s, drift_found = %s, healed = coalesce(healed, 0) WHERE id = %s",
            [compared, found, self.id])
        self.invalidate_recordset()
        _logger.info("stock_relay: reconcile run %s of channel %s: %s item(s) compared, %s difference(s)",
                     self.id, self.channel_id.id, compared, found)
        try:
            with self.env.cr.savepoint():
                self._notify_drift()
        except Exception:  # noqa: BLE001 - the report stands even when the activity cannot be created
            _logger.exception("stock_relay: reconcile run %s: the drift activity could not be created", self.id)
