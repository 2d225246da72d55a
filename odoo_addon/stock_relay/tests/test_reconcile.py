from odoo import fields
from odoo.tests import tagged

from . import test_contract
from .reconcile_common import ReconcileCase


@tagged("post_install", "-at_install", "stock_relay")
class TestReconcileCompare(ReconcileCase):
    """The compare job turns a snapshot the daemon read into the drift report."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.p_drift = cls.make_product("SR-B")
        cls.p_missing = cls.make_product("SR-C")
        cls.p_dup = cls.make_product("SR-D")
        cls.p_untracked = cls.make_product("SR-E")

    def setUp(self):
        super().setUp()
        for product, qty in ((self.product, 5), (self.p_drift, 3), (self.p_missing, 4), (self.p_dup, 2),
                             (self.p_untracked, 7)):
            self.set_stock(product, qty)
        self.land_all()

    def test_each_class_is_reported_with_both_numbers(self):
        run = self.reconcile(
            ("gid/1", "SR-001", 5),                                  # in step: no line
            ("gid/2", "SR-B", 9),                                    # drift
            ("gid/4a", "SR-D", 2), ("gid/4b", "SR-D", 2),            # one SKU on two shop items
            {"remote_id": "gid/5", "sku": "SR-E", "quantity": None, "tracked": False},
            ("gid/9", "SHOP-ONLY", 4),                               # a SKU Odoo does not relay
            ("gid/10", None, 1),                                     # no SKU at all
            {"remote_id": "gid/11", "sku": "SR-X", "quantity": None, "problem": "inventoryLevel is not a number"},
        )
        self.assertEqual(self.report(run), sorted([
            ("drift", "SR-B", "gid/2", 3.0, 9.0),
            ("missing_in_shop", "SR-C", None, 4.0, None),
            ("duplicate_in_shop", "SR-D", "gid/4a, gid/4b", 2.0, None),
            ("not_tracked_in_shop", "SR-E", "gid/5", 7.0, None),
            ("unknown_in_odoo", "SHOP-ONLY", "gid/9", None, 4.0),
            ("no_sku_in_shop", None, "gid/10", None, None),
            ("malformed", "SR-X", "gid/11", None, None),
        ]))
        self.assertEqual(run.state, "done")
        self.assertEqual(run.drift_found, 7)
        self.assertEqual(run.items_compared, 5 + 3, "five Odoo keys and three shop-only items")
        self.assertEqual(run.healed, 0)
        malformed = run.drift_ids.filtered(lambda line: line.drift_class == "malformed")
        self.assertEqual(malformed.detail, "inventoryLevel is not a number")
        self.assertEqual(run.drift_ids.filtered(lambda line: line.sku == "SR-B").location_name, "Main")
        self.assertFalse(self.outbox_rows(state="pending"), "a reconcile without heal pushes nothing")

    def test_a_shop_in_step_gives_an_empty_report(self):
        run = self.reconcile(("gid/1", "SR-001", 5), ("gid/2", "SR-B", 3), ("gid/3", "SR-C", 4),
                             ("gid/4", "SR-D", 2), ("gid/5", "SR-E", 7))
        self.assertEqual(self.report(run), [])
        self.assertEqual((run.state, run.drift_found, run.items_compared), ("done", 0, 5))

    def test_item_not_stocked_at_a_mapped_location_is_missing_there(self):
        other = self.env["stock.relay.channel.location"].create({
            "channel_id": self.channel.id, "location_key": "gid://shopify/Location/2", "location_name": "Outlet",
            "location_ids": [(6, 0, self.shelf.ids)]})
        self.land_all()
        items = [("gid/1", "SR-001", 5), ("gid/2", "SR-B", 3), ("gid/3", "SR-C", 4), ("gid/4", "SR-D", 2),
                 ("gid/5", "SR-E", 7)]
        run = self.start_run()
        self.snapshot(run, *items)
        self.snapshot(run, *({"remote_id": r, "sku": s, "quantity": 0, "location_key": other.location_key}
                             for r, s, _q in items if s != "SR-B"))
        self.mark_read(run)
        self.compare(run)
        lines = run.drift_ids
        self.assertEqual([(line.drift_class, line.sku, line.location_name, line.remote_id) for line in lines],
                         [("missing_in_shop", "SR-B", "Outlet", "gid/2")])

    def test_moving_keys_are_in_motion_not_drift(self):
        run = self.start_run()
        # Pushed while the shop was read: the snapshot may hold the number before or after it landed.
        self.set_stock(self.p_drift, 8)
        self.publish()
        self.env.cr.execute("UPDATE stock_relay_outbox SET state = 'done', done_at = %s WHERE state = 'pending'",
                            [fields.Datetime.now()])
        # Changed in Odoo and still queued: the shop is about to get the new number.
        self.set_stock(self.product, 6)
        self.publish()
        self.snapshot(run, ("gid/1", "SR-001", 5), ("gid/2", "SR-B", 3), ("gid/3", "SR-C", 1),
                      ("gid/4", "SR-D", 2), ("gid/5", "SR-E", 7))
        self.mark_read(run)
        self.compare(run)
        self.assertEqual(self.report(run), [("drift", "SR-C", "gid/3", 4.0, 1.0)], "only the key that stood still")
        self.assertEqual(self.report(run, in_motion=True), sorted([
            ("drift", "SR-001", "gid/1", 6.0, 5.0), ("drift", "SR-B", "gid/2", 8.0, 3.0)]))
        self.assertEqual(run.drift_found, 1, "keys in motion are not counted")

    def test_large_channel_is_compared_in_chunks(self):
        self.env["ir.config_parameter"].sudo().set_param("stock_relay.reconcile_chunk", 2)
        run = self.start_run()
        self.snapshot(run, ("gid/1", "SR-001", 5), ("gid/2", "SR-B", 9), ("gid/4", "SR-D", 2),
                      ("gid/5", "SR-E", 7))
        self.mark_read(run)
        self.env.flush_all()
        self.assertFalse(self.Run._cron_compare(), "the first chunk leaves work for the next call")
        run.invalidate_recordset()
        self.assertEqual(run.state, "read")
        progress = self.env["stock.relay.reconcile.progress"].search([("reconcile_id", "=", run.id)])
        self.assertEqual(progress.last_product_id, sorted((self.product | self.p_drift).ids)[-1])
        steps = 1 + self.compare(run)
        self.assertEqual(steps, 3, "5 products in chunks of 2")
        self.assertEqual(self.report(run), sorted([("drift", "SR-B", "gid/2", 3.0, 9.0),
                                                   ("missing_in_shop", "SR-C", None, 4.0, None)]))
        self.assertEqual(run.items_compared, 5)
        self.assertFalse(progress.exists())

    def test_a_failing_compare_marks_the_run_failed_with_the_reason(self):
        run = self.start_run()
        self.mark_read(run)

        def explode(*_args, **_kwargs):
            raise ValueError("policy exploded")
        self.patch(type(self.env["stock.relay.outbox"]), "_sellable_rows", explode)
        with self.assertLogs("odoo.addons.stock_relay.models.stock_relay_reconcile_compare", level="ERROR"):
            self.compare(run)
        self.assertEqual((run.state, run.error_code), ("failed", "compare_failed"))
        self.assertIn("policy exploded", run.last_error)
        self.assertEqual(self.channel.last_reconcile_error, run.last_error)

    def test_wake_odoo_from_sql_triggers_the_compare_cron(self):
        cron = self.env.ref("stock_relay.ir_cron_stock_relay_reconcile")
        self.env["ir.cron.trigger"].sudo().search([("cron_id", "=", cron.id)]).unlink()
        self.env.flush_all()
        self.env.cr.execute("SELECT stock_relay_wake_odoo('stock_relay.ir_cron_stock_relay_reconcile')")
        self.assertIs(self.env.cr.fetchone()[0], True)
        self.assertEqual(self.env["ir.cron.trigger"].sudo().search_count([("cron_id", "=", cron.id)]), 1)
        self.assertEqual(cron.code.strip(), "model._cron_compare()")

    columns = test_contract.TestContract.columns
    stored_fields = test_contract.TestContract.stored_fields

    def test_reconcile_model_matches_contract(self):
        test_contract.TestContract.assert_model_matches_table(self, "stock.relay.reconcile", "stock_relay_reconcile")
        self.env.cr.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                            "WHERE conrelid = 'stock_relay_reconcile'::regclass AND contype = 'c'")
        checks = " ".join(row[0] for row in self.env.cr.fetchall())
        for value, _label in self.Run._fields["state"].selection:
            self.assertIn(f"'{value}'", checks)


@tagged("post_install", "-at_install", "stock_relay")
class TestReconcileKits(ReconcileCase):
    """A kit's expected number is what its components allow, as in the outbox."""

    def test_kit_expected_is_what_components_allow(self):
        if "mrp.bom" not in self.env:
            self.skipTest("mrp is not installed: no kits")
        bolt, nut = self.make_product("SR-BOLT"), self.make_product("SR-NUT")
        kit = self.make_product("SR-KIT", is_storable=False)
        self.set_stock(bolt, 7)
        self.set_stock(nut, 5)
        self.env["mrp.bom"].create({
            "product_tmpl_id": kit.product_tmpl_id.id, "type": "phantom",
            "bom_line_ids": [(0, 0, {"product_id": bolt.id, "product_qty": 2}),
                             (0, 0, {"product_id": nut.id, "product_qty": 1})]})
        self.land_all()
        run = self.reconcile(("gid/1", "SR-001", 0), ("gid/b", "SR-BOLT", 7), ("gid/n", "SR-NUT", 5),
                             ("gid/k", "SR-KIT", 5))
        self.assertEqual(self.report(run), [("drift", "SR-KIT", "gid/k", 3.0, 5.0)], "min(floor(7/2), 5/1) = 3")
