from datetime import timedelta

from odoo import fields
from odoo.tests import tagged

from .common import StockRelayCase


@tagged("post_install", "-at_install", "stock_relay")
class TestDashboard(StockRelayCase):
    """The "Shop Sync" dashboard: what each channel card says, and where its numbers lead."""

    def make_rows(self, n, state, ago=timedelta(0), error_code=None):
        """``n`` rows of distinct products in ``state``, finished ``ago``."""
        ids = []
        for _i in range(n):
            product = self.make_product(f"SR-DASH-{len(self._made)}")
            self._made.append(product)
            self.env.cr.execute(
                "INSERT INTO stock_relay_outbox (channel_id, product_id, sku, location_key, quantity, state, "
                "error_code, enqueued_at, updated_at, done_at) VALUES (%s, %s, %s, 'gid://shopify/Location/1', 1, "
                "%s, %s, (now() AT TIME ZONE 'UTC') - %s - interval '5 seconds', (now() AT TIME ZONE 'UTC') - %s, "
                "CASE WHEN %s = 'done' THEN (now() AT TIME ZONE 'UTC') - %s END) RETURNING id",
                [self.channel.id, product.id, product.default_code, state, error_code, ago, ago, state, ago])
            ids.append(self.env.cr.fetchone()[0])
        return ids

    def setUp(self):
        super().setUp()
        self._made = []
        self.clear_outbox()
        self.channel.invalidate_recordset()

    def test_card_figures_count_the_last_24_hours(self):
        self.make_rows(3, "done", ago=timedelta(minutes=10))
        self.make_rows(1, "done", ago=timedelta(hours=5, minutes=10))
        self.make_rows(2, "done", ago=timedelta(days=2))        # outside the 24 h window
        self.make_rows(1, "failed", ago=timedelta(hours=1), error_code="sku_not_found")
        self.make_rows(2, "pending", ago=timedelta(hours=2))
        card = self.channel
        self.assertEqual((card.pending_count, card.failed_count, card.done_24h, card.failed_24h), (2, 1, 4, 1))
        self.assertAlmostEqual(card.success_rate_24h, 80.0)
        self.assertTrue(card.oldest_pending_age.startswith("2 h"), card.oldest_pending_age)
        chart = str(card.hourly_chart)
        self.assertEqual(chart.count("<rect"), 24, "one bar per hour of the last day")
        self.assertIn("3 pushed, 0 h ago", chart)
        self.assertIn("1 pushed, 5 h ago", chart)
        self.assertLess(abs((card.last_success_at - (fields.Datetime.now() - timedelta(minutes=10))).total_seconds()),
                        60, "the newest pushed row")

    def test_card_state_flowing_paused_refused_disabled(self):
        self.assertEqual(self.channel.dashboard_state_label, "Flowing")
        self.env.cr.execute(
            "INSERT INTO stock_relay_channel_state (channel_id, state, since, reason) "
            "VALUES (%s, 'refused', '2030-01-01 14:02:00', 'HTTP 401')", [self.channel.id])
        self.channel.invalidate_recordset()
        self.assertEqual(self.channel.dashboard_state, "refused")
        self.assertRegex(self.channel.dashboard_state_label, r"^Credentials refused since 2030-01-0[12] \d\d:02$")
        self.env.cr.execute("UPDATE stock_relay_channel_state SET state = 'down' WHERE channel_id = %s",
                            [self.channel.id])
        self.channel.invalidate_recordset()
        self.assertEqual(self.channel.dashboard_state, "paused")
        self.channel.enabled = False
        self.assertEqual((self.channel.dashboard_state, self.channel.dashboard_state_label), ("disabled", "Disabled"))

    def test_each_number_opens_the_log_on_its_rows(self):
        failed = self.make_rows(2, "failed", ago=timedelta(hours=1))
        self.make_rows(1, "pending")
        action = self.channel.with_context(outbox_state="failed").action_view_outbox()
        self.assertEqual(action["context"], {"search_default_state_failed": 1})
        search = self.env["stock.relay.outbox"].get_views([(False, "search")])["views"]["search"]["arch"]
        self.assertIn('name="state_failed"', search)
        rows = self.env["stock.relay.outbox"].search(action["domain"] + [("state", "=", "failed")])
        self.assertEqual(sorted(rows.ids), sorted(failed), "the log shows exactly the rows the card counts")
        action = self.channel.with_context(outbox_state="done", outbox_filters=["last_24h"]).action_view_outbox()
        self.assertEqual(action["context"], {"search_default_state_done": 1, "search_default_last_24h": 1})
        self.assertIn('name="last_24h"', search)

    def test_log_opens_on_recent_or_open_rows(self):
        action = self.env["ir.actions.act_window"]._for_xml_id("stock_relay.action_stock_relay_outbox")
        self.assertIn("'search_default_recent': 1", action["context"])
        search = self.env["stock.relay.outbox"].get_views([(False, "search")])["views"]["search"]["arch"]
        self.assertIn('name="recent"', search)
        for fname in ("sku", "channel_id", "error_code"):
            self.assertIn(f'name="{fname}"', search)
        self.assertIn("('sku', 'ilike', self)", search, "SKU matches partially")

    def test_daemon_last_seen_and_warning(self):
        text, warn = self.env["stock.relay.daemon"]._status()
        self.assertIn("No daemon has run yet", text)
        self.env.cr.execute(
            "INSERT INTO stock_relay_daemon (host, pid, last_seen) "
            "VALUES ('relay-1', 4242, (now() AT TIME ZONE 'UTC') - interval '5 seconds')")
        self.make_rows(1, "pending")
        self.channel.invalidate_recordset()
        self.assertRegex(self.channel.daemon_status, r"^daemon last seen \d\d:\d\d \(relay-1:4242\)$")
        self.assertFalse(self.channel.daemon_warning)
        self.env.cr.execute("UPDATE stock_relay_daemon SET last_seen = last_seen - interval '3 minutes'")
        self.channel.invalidate_recordset()
        self.assertTrue(self.channel.daemon_warning, "no daemon for a minute while rows wait")
        self.assertIn("is stockrelayd running?", self.channel.daemon_status)
        self.env.cr.execute("UPDATE stock_relay_outbox SET state = 'done', done_at = now() AT TIME ZONE 'UTC'")
        self.channel.invalidate_recordset()
        self.assertFalse(self.channel.daemon_warning, "nothing waits: a stopped daemon is no emergency")

    def test_heartbeat_is_read_only(self):
        access = self.env["ir.model.access"].search([("model_id.model", "=", "stock.relay.daemon")])
        self.assertTrue(access)
        self.assertFalse(any(access.mapped("perm_write") + access.mapped("perm_create") + access.mapped("perm_unlink")),
                         "only stockrelayd writes its heartbeat")
        self.assertTrue(all(f.readonly for n, f in self.env["stock.relay.daemon"]._fields.items()
                            if f.store and n != "id"))

    def test_statistics_success_rate_per_channel_and_trigger(self):
        self.make_rows(3, "done", ago=timedelta(minutes=1))
        self.make_rows(1, "failed", ago=timedelta(minutes=1), error_code="sku_not_found")
        self.make_rows(2, "pending")
        Stats = self.env["stock.relay.statistics"]
        groups = Stats.read_group([("channel_id", "=", self.channel.id)], ["success:avg"], ["channel_id"])
        self.assertEqual(groups[0]["channel_id_count"], 6)
        self.assertAlmostEqual(groups[0]["success"], 75.0, msg="pushed ÷ finished: 3 of 4")
        by_code = Stats.read_group([("channel_id", "=", self.channel.id)], ["error_code"], ["error_code"])
        self.assertEqual({g["error_code"]: g["error_code_count"] for g in by_code}, {False: 5, "sku_not_found": 1})
        for view in ("pivot", "graph"):
            self.assertIn('name="success"', Stats.get_views([(False, view)])["views"][view]["arch"])

    def test_product_form_opens_its_sync_history(self):
        self.set_stock(self.product, 2)
        self.publish_own()
        template = self.product.product_tmpl_id
        self.assertEqual(template.stock_relay_row_count, 1)
        action = template.action_view_stock_relay_log()
        rows = self.env["stock.relay.outbox"].search(action["domain"])
        self.assertEqual(rows.product_id, self.product)
        arch = self.env["product.template"].get_views([(False, "form")])["views"]["form"]["arch"]
        self.assertIn("action_view_stock_relay_log", arch)

    def test_dashboard_is_the_first_screen_of_shop_sync(self):
        root = self.env.ref("stock_relay.menu_stock_relay_root")
        first = root.child_id.sorted(lambda m: (m.sequence, m.id))[:1]
        self.assertEqual(first, self.env.ref("stock_relay.menu_stock_relay_dashboard"))
        action = self.env.ref("stock_relay.action_stock_relay_dashboard")
        self.assertEqual(action.view_mode.split(",")[0], "kanban")
        arch = self.env["stock.relay.channel"].get_views(
            [(self.env.ref("stock_relay.stock_relay_channel_view_dashboard").id, "kanban")])["views"]["kanban"]["arch"]
        for figure in ("pending_count", "failed_count", "done_24h", "oldest_pending_age", "last_success_at",
                       "success_rate_24h", "hourly_chart", "dashboard_state_label", "daemon_status"):
            self.assertIn(f'name="{figure}"', arch)

    def test_last_success_reads_through_the_index(self):
        # On a big log the card's last success must not read every row of the channel (contract v4
        # index stock_relay_outbox_done_at: measured 3.6 s -> 15 ms for 4 cards over 2M rows); the
        # planner is told to avoid sequential scans so the tiny test table answers as a big one would.
        self.env.cr.execute("SET LOCAL enable_seqscan = off")
        self.addCleanup(self.env.cr.execute, "SET LOCAL enable_seqscan = on")
        self.env.cr.execute(
            "EXPLAIN SELECT o.done_at FROM stock_relay_outbox o WHERE o.channel_id = %s AND o.state = 'done' "
            "AND o.done_at IS NOT NULL ORDER BY o.done_at DESC LIMIT 1", [self.channel.id])
        plan = "\n".join(row[0] for row in self.env.cr.fetchall())
        self.assertIn("stock_relay_outbox_done_at", plan, plan)
