import odoo
from odoo import api
from odoo.tests import tagged

from .common import RealCommitCase


@tagged("post_install", "-at_install", "stock_relay")
class TestReconcileConcurrentWorkers(RealCommitCase):
    """Two cron workers on real cursors: the run's row is locked by the worker comparing
    it, so the other skips it, and each chunk of a run is compared exactly once."""

    SKU_PREFIX = "SR-RECON"

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, odoo.SUPERUSER_ID, {})
            self.second_id = env["product.product"].create(
                {"name": self.sku + "-2", "default_code": self.sku + "-2", "type": "consu",
                 "is_storable": True}).id
            env["ir.config_parameter"].set_param("stock_relay.reconcile_chunk", 1)
            cr.execute("INSERT INTO stock_relay_reconcile (channel_id, state, started_at, read_at) "
                       "VALUES (%s, 'read', now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC') RETURNING id",
                       [self.channel_id])
            self.run_id = cr.fetchone()[0]
        self.addCleanup(self._remove_second_product)

    def _remove_second_product(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, odoo.SUPERUSER_ID, {})
            env["ir.config_parameter"].set_param("stock_relay.reconcile_chunk", 1000)
            env["product.product"].browse(self.second_id).write({"active": False, "default_code": False})

    def compare_on(self, cr):
        return api.Environment(cr, odoo.SUPERUSER_ID, {})["stock.relay.reconcile"]._cron_compare()

    def test_a_locked_run_is_skipped_and_no_chunk_is_compared_twice(self):
        cr_a = self.registry.cursor()
        try:
            self.assertIs(self.compare_on(cr_a), False, "worker A compares the first product, keeps the lock")
            with self.registry.cursor() as cr_b:
                cr_b.execute("SET LOCAL lock_timeout = '3s'")  # a regression fails here instead of hanging
                self.assertIsNone(self.compare_on(cr_b), "worker B finds no unlocked run to compare")
            cr_a.commit()
        finally:
            cr_a.close()
        for _step in range(100):
            with self.registry.cursor() as cr:
                if self.compare_on(cr) in (True, None):
                    break
        # The snapshot is empty: every relayed product (this test's two, and any other committed to the
        # database) is missing in the shop, each reported once.
        self.watch.execute("SELECT state, items_compared, drift_found FROM stock_relay_reconcile WHERE id = %s",
                           [self.run_id])
        state, compared, found = self.watch.fetchone()
        self.assertEqual((state, found), ("done", compared))
        self.watch.execute("SELECT sku, count(*) FROM stock_relay_drift WHERE reconcile_id = %s "
                           "GROUP BY sku HAVING count(*) > 1", [self.run_id])
        self.assertEqual(self.watch.fetchall(), [], "no product compared twice")
        self.watch.execute("SELECT sku FROM stock_relay_drift WHERE reconcile_id = %s AND sku LIKE %s ORDER BY sku",
                           [self.run_id, self.sku + "%"])
        self.assertEqual(self.watch.fetchall(), [(self.sku,), (self.sku + "-2",)])
