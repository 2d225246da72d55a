from datetime import timedelta

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from .reconcile_common import ReconcileCase


@tagged("post_install", "-at_install", "stock_relay")
class TestReconcileRequests(ReconcileCase):
    """Requests: the channel's button, the schedule, one open run per channel."""

    def setUp(self):
        super().setUp()
        # Other channels of the database (committed by other tests) are not this test's business.
        self.env["stock.relay.channel"].search([("id", "!=", self.channel.id)]).write({"enabled": False})
        self.env.cr.execute("DELETE FROM stock_relay_reconcile")

    def open_runs(self, channel=None):
        return self.Run.search([("channel_id", "=", (channel or self.channel).id),
                                ("state", "in", ("pending", "reading"))])

    def test_button_while_a_run_is_open_shows_the_open_one(self):
        first = self.channel.action_reconcile_now()
        run = self.Run.browse(first["res_id"])
        self.assertEqual((first["res_model"], run.state, run.channel_id), ("stock.relay.reconcile", "pending",
                                                                            self.channel))
        self.assertEqual(self.channel.action_reconcile_now()["res_id"], run.id)
        self.env.cr.execute("UPDATE stock_relay_reconcile SET state = 'reading' WHERE id = %s", [run.id])
        self.assertEqual(self.channel.action_reconcile_now()["res_id"], run.id, "still open while reading")
        self.assertEqual(len(self.open_runs()), 1)
        self.env.cr.execute("UPDATE stock_relay_reconcile SET state = 'read' WHERE id = %s", [run.id])
        self.assertNotEqual(self.channel.action_reconcile_now()["res_id"], run.id, "read: a new request is new")
        self.channel.invalidate_recordset()
        self.assertEqual(self.channel.last_reconcile_state, "pending")

    def test_heal_request_on_an_open_run_turns_healing_on(self):
        run = self.Run._request(self.channel)
        self.assertFalse(run.heal)
        self.assertEqual(self.Run._request(self.channel, heal=True), run)
        self.assertTrue(run.heal)

    def test_disabled_channel_cannot_be_reconciled_by_hand(self):
        self.channel.enabled = False
        with self.assertRaises(UserError):
            self.channel.action_reconcile_now()

    def test_scheduled_action_requests_due_enabled_channels_only(self):
        off = self.env["stock.relay.channel"].create({
            "name": "Disabled shop", "channel_type": "woocommerce", "base_url": "https://127.0.0.1:9/off",
            "enabled": False,
            "location_line_ids": [(0, 0, {"location_key": "", "location_ids": [(6, 0, self.stock.ids)]})]})
        Schedule = self.env["stock.relay.reconcile.schedule"]
        self.assertEqual(Schedule._cron_schedule(), 1)
        self.assertEqual(len(self.open_runs()), 1)
        self.assertEqual(self.open_runs().requested_by, "odoo:schedule")
        self.assertFalse(self.open_runs(off), "disabled channels are never scheduled")
        self.channel.invalidate_recordset()
        next_at = self.channel.reconcile_next_at
        self.assertAlmostEqual(next_at, fields.Datetime.now() + timedelta(days=1), delta=timedelta(minutes=5))
        self.env.cr.execute("DELETE FROM stock_relay_reconcile")
        self.assertEqual(Schedule._cron_schedule(), 0, "not due again before a day has passed")
        self.channel.write({"reconcile_interval_number": 6, "reconcile_interval_type": "hours",
                            "reconcile_next_at": fields.Datetime.now() - timedelta(minutes=1)})
        self.assertEqual(Schedule._cron_schedule(), 1)
        self.channel.invalidate_recordset()
        self.assertAlmostEqual(self.channel.reconcile_next_at, fields.Datetime.now() + timedelta(hours=6),
                               delta=timedelta(minutes=5))

    def test_schedule_can_be_turned_off(self):
        self.channel.reconcile_scheduled = False
        self.assertEqual(self.env["stock.relay.reconcile.schedule"]._cron_schedule(), 0)
        self.assertFalse(self.open_runs())

    def test_schedule_defaults_to_daily(self):
        self.assertEqual((self.channel.reconcile_scheduled, self.channel.reconcile_interval_number,
                          self.channel.reconcile_interval_type), (True, 1, "days"))

    def test_report_link_opens_the_last_runs_report(self):
        run = self.reconcile(("gid/1", "SR-001", 9))
        action = self.channel.action_view_last_reconcile()
        self.assertEqual(action["res_model"], "stock.relay.drift")
        self.assertEqual(action["domain"], [("reconcile_id", "=", run.id)])
        lines = self.env["stock.relay.drift"].search(action["domain"])
        self.assertEqual(lines.mapped("drift_class"), ["drift"])

    def test_purge_removes_old_runs_with_their_reports_but_keeps_the_newest(self):
        old = self.reconcile(("gid/1", "SR-001", 9))
        newer = self.reconcile(("gid/1", "SR-001", 8))
        self.env.cr.execute("UPDATE stock_relay_reconcile SET requested_at = %s",
                            [fields.Datetime.now() - timedelta(days=40)])
        self.env["stock.relay.outbox"]._cron_purge()
        self.assertFalse(old.exists())
        self.assertFalse(self.env["stock.relay.drift"].search([("reconcile_id", "=", old.id)]))
        self.env.cr.execute("SELECT count(*) FROM stock_relay_snapshot WHERE reconcile_id = %s", [old.id])
        self.assertEqual(self.env.cr.fetchone()[0], 0)
        self.assertTrue(newer.exists(), "each channel keeps its newest finished run")
        self.assertEqual(len(newer.drift_ids), 1)
