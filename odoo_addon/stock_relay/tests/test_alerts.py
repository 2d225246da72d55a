from datetime import timedelta

from odoo.tests import new_test_user, tagged

from .common import StockRelayCase


@tagged("post_install", "-at_install", "stock_relay")
class TestAlerts(StockRelayCase):
    """One activity for the channel's responsible user per incident, not per row."""

    def setUp(self):
        super().setUp()
        self.manager = new_test_user(self.env, "relay_alerts", groups="stock.group_stock_manager",
                                     email="alerts@example.com")
        self.channel.reconcile_responsible_id = self.manager
        self.clear_outbox()

    def activities(self):
        return self.env["mail.activity"].search([("res_model", "=", "stock.relay.channel"),
                                                 ("res_id", "=", self.channel.id)])

    def fail_rows(self, n):
        for i in range(n):
            product = self.make_product(f"SR-ALERT-{i}-{self.id()[-6:]}")
            self.set_stock(product, 1)
        rows = self.publish_own()
        self.env.cr.execute("UPDATE stock_relay_outbox SET state = 'failed', error_code = 'sku_not_found' "
                            "WHERE id = ANY(%s)", [[r["id"] for r in rows]])
        self.channel.invalidate_recordset()

    def check(self):
        self.env["stock.relay.channel"]._cron_check_alerts()

    def test_failed_rows_one_activity_per_incident(self):
        self.check()
        self.assertFalse(self.activities())
        self.fail_rows(3)
        self.check()
        self.check()
        activity = self.activities()
        self.assertEqual(len(activity), 1, "three failed rows, two runs: one activity")
        self.assertEqual(activity.user_id, self.manager)
        self.assertIn("Failed rows", activity.summary)
        mails = self.env["mail.message"].search([("model", "=", "stock.relay.channel"), ("res_id", "=", self.channel.id),
                                                 ("partner_ids", "in", self.manager.partner_id.ids)])
        self.assertEqual(len(mails), 1, "Odoo's usual notification (email) of the assigned activity, once")
        self.assertIn("assigned to you", mails.subject)
        activity.action_feedback("looking at it")  # done by the user while the incident lasts
        self.check()
        self.assertFalse(self.activities(), "not repeated while the incident lasts")
        self.env.cr.execute("UPDATE stock_relay_outbox SET state = 'superseded' WHERE state = 'failed'")
        self.channel.invalidate_recordset()
        self.check()
        incidents = self.channel.incident_ids
        self.assertEqual(len(incidents), 1)
        self.assertTrue(incidents.closed_at, "recovery closes the incident")
        self.fail_rows(1)
        self.check()
        self.assertEqual(len(self.activities()), 1, "a new incident after recovery: a new activity")
        self.assertEqual(len(self.channel.incident_ids), 2)

    def test_refused_channel_and_recovery_closes_the_activity(self):
        self.env.cr.execute("INSERT INTO stock_relay_channel_state (channel_id, state, reason) "
                            "VALUES (%s, 'refused', 'HTTP 401')", [self.channel.id])
        self.check()
        self.assertEqual(self.activities().mapped("summary"), ["Test shop: Credentials refused"])
        self.env.cr.execute("UPDATE stock_relay_channel_state SET state = 'flowing' WHERE channel_id = %s",
                            [self.channel.id])
        self.check()
        self.assertFalse(self.activities(), "the shop accepts the credentials again: the activity is closed")

    def test_old_pending_row_alerts_after_the_threshold(self):
        self.env["ir.config_parameter"].sudo().set_param("stock_relay.alert_pending_minutes", 10)
        self.set_stock(self.product, 4)
        self.publish_own()
        self.check()
        self.assertFalse(self.activities(), "a fresh pending row is no incident")
        self.env.cr.execute("UPDATE stock_relay_outbox SET enqueued_at = enqueued_at - %s",
                            [timedelta(minutes=11)])
        self.check()
        self.assertEqual(len(self.activities()), 1)
        self.assertIn("waits since", str(self.activities().note))
