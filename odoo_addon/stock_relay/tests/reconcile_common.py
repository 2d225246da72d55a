"""Reconcile tests: the daemon is simulated with SQL, exactly as stockrelayd writes the contract
(a run taken pending -> reading, snapshot rows, then 'read')."""
from datetime import timedelta

from odoo import fields

from .common import StockRelayCase

KEY = "gid://shopify/Location/1"


class ReconcileCase(StockRelayCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Run = cls.env["stock.relay.reconcile"]
        # Products committed by other tiers (the end-to-end test, a kept database) are not this test's
        # catalogue: without a SKU (until this class's transaction rolls back) the channel does not relay them.
        cls.env.flush_all()
        cls.env.cr.execute("UPDATE product_product SET default_code = NULL WHERE default_code IS NOT NULL AND id <> %s",
                           [cls.product.id])
        cls.env.invalidate_all()

    def land_all(self, ago=timedelta(hours=1)):
        """stockrelayd pushed every queued row, ``ago`` before now."""
        self.publish()
        self.env.cr.execute(
            "UPDATE stock_relay_outbox SET state = 'done', done_at = %s WHERE state IN ('pending', 'in_flight')",
            [fields.Datetime.now() - ago])

    def start_run(self, heal=False, requested_by="odoo"):
        """A request the daemon has taken (state reading, started a minute ago)."""
        run = self.Run._request(self.channel, heal=heal, requested_by=requested_by)
        self.env.cr.execute(
            "UPDATE stock_relay_reconcile SET state = 'reading', started_at = %s, leased_by = 'test' WHERE id = %s",
            [fields.Datetime.now() - timedelta(minutes=1), run.id])
        run.invalidate_recordset()
        return run

    def snapshot(self, run, *items):
        """Snapshot rows: (remote_id, sku, quantity) or dicts with the other columns."""
        for item in items:
            if not isinstance(item, dict):
                item = dict(zip(("remote_id", "sku", "quantity"), item))
            row = {"parent_id": "", "location_key": KEY, "tracked": True, "problem": None, **item}
            self.env.cr.execute(
                "INSERT INTO stock_relay_snapshot (reconcile_id, channel_id, remote_id, parent_id, sku, location_key,"
                " quantity, tracked, problem) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                [run.id, self.channel.id, row["remote_id"], row["parent_id"], row["sku"], row["location_key"],
                 row["quantity"], row["tracked"], row["problem"]])

    def mark_read(self, run):
        self.env.cr.execute("UPDATE stock_relay_reconcile SET state = 'read', read_at = %s WHERE id = %s",
                            [fields.Datetime.now(), run.id])
        run.invalidate_recordset()

    def compare(self, run, max_steps=50):
        """Run the compare cron until ``run`` is no longer 'read'; returns the number of steps."""
        self.env.flush_all()
        for step in range(1, max_steps + 1):
            self.Run._cron_compare()
            run.invalidate_recordset()
            if run.state != "read":
                return step
        self.fail(f"run {run.id} still read after {max_steps} compare steps")

    def reconcile(self, *items, heal=False):
        run = self.start_run(heal=heal)
        self.snapshot(run, *items)
        self.mark_read(run)
        self.compare(run)
        return run

    def report(self, run, in_motion=False):
        lines = self.env["stock.relay.drift"].search(
            [("reconcile_id", "=", run.id), ("in_motion", "=", in_motion)])
        return sorted((line.drift_class, line.sku or None, line.remote_id or None,
                       line.odoo_qty if line.product_id else None,
                       line.shop_qty if line.drift_class in ("drift", "unknown_in_odoo") else None)
                      for line in lines)
