from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .reconcile_common import KEY, ReconcileCase


@tagged("post_install", "-at_install", "stock_relay")
class TestReconcileHeal(ReconcileCase):
    """Healing pushes Odoo's numbers through the outbox (trigger 'reconcile'), only when asked."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.p_drift = cls.make_product("SR-B")
        cls.p_missing = cls.make_product("SR-C")
        cls.inventory_user = new_test_user(cls.env, "sr_rec_inventory", groups="stock.group_stock_user")
        cls.relay_manager = new_test_user(cls.env, "sr_rec_manager", groups="stock_relay.group_stock_relay_manager")

    def setUp(self):
        super().setUp()
        for product, qty in ((self.product, 5), (self.p_drift, 3), (self.p_missing, 4)):
            self.set_stock(product, qty)
        self.land_all()
        self.drifted = [("gid/1", "SR-001", 5), ("gid/2", "SR-B", 9), ("gid/9", "SHOP-ONLY", 1)]

    def queued(self):
        return sorted((r["sku"], r["location_key"], r["quantity"], r["trigger"])
                      for r in self.outbox_rows(state="pending", channel_id=self.channel.id))

    def test_heal_button_queues_odoos_current_numbers(self):
        run = self.reconcile(*self.drifted)
        self.assertEqual(self.queued(), [], "no heal asked: nothing pushed")
        self.set_stock(self.p_drift, 2)  # Odoo moved on since the compare: the heal pushes today's number
        self.land_all()
        self.channel.with_user(self.relay_manager).action_heal_drift()
        self.assertEqual(self.queued(), [("SR-B", KEY, 2, "reconcile"), ("SR-C", KEY, 4, "reconcile")])
        self.assertEqual(run.healed, 2)
        self.assertEqual(sorted(run.drift_ids.filtered("healed").mapped("sku")), ["SR-B", "SR-C"])
        self.assertFalse(run.drift_ids.filtered(lambda line: line.sku == "SHOP-ONLY").healed,
                         "a SKU Odoo does not relay has no number to push")
        log = self.env["stock.relay.outbox"].search([("channel_id", "=", self.channel.id), ("state", "=", "pending")])
        self.assertEqual(set(log.mapped(lambda r: dict(r._fields["trigger"].selection)[r.trigger])),
                         {"Reconcile (heal drift)"}, "the sync log says why they were pushed")

    def test_a_large_heal_by_hand_is_queued_in_chunks(self):
        self.env["ir.config_parameter"].sudo().set_param("stock_relay.republish_inline_limit", 1)
        run = self.reconcile(*self.drifted)
        run.with_user(self.relay_manager).action_heal()
        self.assertEqual(self.queued(), [], "more keys than the inline limit: not in the user's transaction")
        self.assertEqual(run.healed, 2)
        Job = self.env["stock.relay.republish.job"]
        self.assertEqual(Job.search([("channel_id", "=", self.channel.id)]).mapped("trigger"), ["reconcile"])
        for _chunk in range(3):
            Job._cron_run()
            self.publish()
        self.assertEqual(self.queued(), [("SR-B", KEY, 3, "reconcile"), ("SR-C", KEY, 4, "reconcile")])

    def test_second_reconcile_after_healing_finds_no_drift(self):
        run = self.reconcile(*self.drifted)
        run.with_user(self.relay_manager).action_heal()
        self.land_all()  # stockrelayd pushed the healed numbers before the next read
        again = self.reconcile(("gid/1", "SR-001", 5), ("gid/2", "SR-B", 3), ("gid/3", "SR-C", 4))
        self.assertEqual(self.report(again), [])
        self.assertEqual(again.drift_found, 0)

    def test_auto_heal_channel_heals_after_compare(self):
        self.channel.reconcile_auto_heal = True
        run = self.reconcile(*self.drifted)
        self.assertEqual(self.queued(), [("SR-B", KEY, 3, "reconcile"), ("SR-C", KEY, 4, "reconcile")])
        self.assertEqual((run.state, run.drift_found, run.healed), ("done", 3, 2))

    def test_run_heal_flag_heals_like_the_cli(self):
        run = self.reconcile(*self.drifted, heal=True)  # stockrelayd reconcile --heal
        self.assertEqual(self.queued(), [("SR-B", KEY, 3, "reconcile"), ("SR-C", KEY, 4, "reconcile")])
        self.assertEqual(run.healed, 2)

    def test_auto_heal_in_chunks(self):
        self.env["ir.config_parameter"].sudo().set_param("stock_relay.reconcile_chunk", 1)
        self.channel.reconcile_auto_heal = True
        run = self.reconcile(*self.drifted)
        self.assertEqual(self.queued(), [("SR-B", KEY, 3, "reconcile"), ("SR-C", KEY, 4, "reconcile")])
        self.assertEqual(run.healed, 2)

    def test_activity_for_the_responsible_above_threshold_once_per_run(self):
        self.channel.write({"reconcile_responsible_id": self.relay_manager.id, "reconcile_drift_threshold": 2})
        quiet = self.reconcile(("gid/1", "SR-001", 5), ("gid/2", "SR-B", 3))  # one difference: SR-C missing
        self.assertEqual(quiet.drift_found, 1)
        self.assertFalse(quiet.activity_ids, "at or below the threshold: no activity")
        loud = self.reconcile(*self.drifted)
        self.assertEqual(loud.drift_found, 3)
        self.assertEqual(len(loud.activity_ids), 1)
        self.assertEqual(loud.activity_ids.user_id, self.relay_manager)
        self.assertIn("3 stock difference(s)", loud.activity_ids.summary)
        self.Run._cron_compare()  # nothing left to compare: no second activity
        self.assertEqual(len(loud.activity_ids), 1)

    def test_stock_user_reads_runs_and_reports_but_cannot_heal_or_request(self):
        run = self.reconcile(*self.drifted)
        as_user = run.with_user(self.inventory_user)
        self.assertEqual(as_user.read(["drift_found"])[0]["drift_found"], 3)
        lines = self.env["stock.relay.drift"].with_user(self.inventory_user).search([("reconcile_id", "=", run.id)])
        self.assertEqual(len(lines), 3)
        self.assertEqual(self.channel.with_user(self.inventory_user).last_reconcile_drift, 3)
        # What the channel form and the report show, as the inventory user opens them.
        channel_fields = self.env["stock.relay.channel"].with_user(self.inventory_user).get_views(
            [(False, "form")])["models"]["stock.relay.channel"]["fields"]
        readable = [f for f in channel_fields if f not in ("credentials", "settings", "ca_file", "allow_insecure_http")]
        data = self.channel.with_user(self.inventory_user).read(readable)[0]
        self.assertEqual((data["last_reconcile_state"], data["reconcile_interval_type"]), ("done", "days"))
        run_fields = self.Run.with_user(self.inventory_user).get_views([(False, "form")])["models"][
            "stock.relay.reconcile"]["fields"]
        self.assertEqual(as_user.read(list(run_fields))[0]["drift_count"], 3)
        with self.assertRaises(AccessError):
            as_user.action_heal()
        with self.assertRaises(AccessError):
            self.channel.with_user(self.inventory_user).action_heal_drift()
        with self.assertRaises(AccessError):
            self.channel.with_user(self.inventory_user).action_reconcile_now()
        with self.assertRaises(AccessError):
            self.channel.with_user(self.inventory_user).write({"reconcile_drift_threshold": 5})
        self.assertEqual(self.queued(), [])

    def test_other_companys_runs_are_hidden(self):
        other = self.env["res.company"].create({"name": "Other relay company"})
        run = self.reconcile(*self.drifted)
        self.channel.company_id = other
        self.land_all()
        user = new_test_user(self.env, "sr_rec_other", groups="stock.group_stock_user",
                             company_id=self.env.company.id, company_ids=[(6, 0, self.env.company.ids)])
        self.assertFalse(self.Run.with_user(user).search([("id", "=", run.id)]))
        self.assertFalse(self.env["stock.relay.drift"].with_user(user).search([("reconcile_id", "=", run.id)]))
