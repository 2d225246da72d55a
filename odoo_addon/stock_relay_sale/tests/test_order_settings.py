from unittest.mock import patch

from odoo.exceptions import AccessError, UserError
from odoo.tests import new_test_user, tagged

from odoo.addons.stock_relay.compat import IS_19
from odoo.addons.stock_relay.tests import test_contract

from .common import OrderCase, line, order


class FakeNativeChannel:
    """Stands in for stockrelay_native.Channel: what the shop answers is not under test here."""

    def __init__(self, with_webhooks):
        self.registered = []
        if with_webhooks:
            self.register_webhooks = lambda base, database: self.registered.append((base, database)) or {
                "address": f"{base}/webhooks/{database}/7", "webhooks": [], "new_secret": "whsec-generated"}
            self.list_webhooks = lambda: [{"topic": "orders/create",
                                           "address": "{}/webhooks/{}/7".format(*self.registered[-1])}]


@tagged("post_install", "-at_install", "stock_relay_sale")
class TestOrderSettings(OrderCase):

    def trigger(self, cron):
        """Run the scheduled action as the cron worker does, inside this test's transaction: Odoo 18
        runs it on the current cursor, Odoo 19 on a new one, which test mode points at this one."""
        if not IS_19:
            return cron.method_direct_trigger()
        self.registry_enter_test_mode(register_cleanup=False)
        try:
            return cron.method_direct_trigger()
        finally:
            self.registry_leave_test_mode()

    def test_wake_odoo_from_sql_triggers_the_import_cron(self):
        cron = self.env.ref("stock_relay_sale.ir_cron_stock_relay_inbox")
        self.env.cr.execute("DELETE FROM ir_cron_trigger WHERE cron_id = %s", [cron.id])
        self.env.cr.execute("SELECT stock_relay_wake_odoo('stock_relay_sale.ir_cron_stock_relay_inbox')")
        self.assertIs(self.env.cr.fetchone()[0], True)
        self.env.cr.execute("SELECT count(*) FROM ir_cron_trigger WHERE cron_id = %s", [cron.id])
        self.assertEqual(self.env.cr.fetchone()[0], 1)
        # Running the scheduled action (what the cron worker does once triggered) imports the order.
        row = self.insert_event(order("gid://shopify/Order/19", "#19", [line("SR-001", 1, "1.00")]))
        self.trigger(cron)
        self.assert_row(row, "done")
        self.assertEqual(self.sale_for("gid://shopify/Order/19").state, "sale")

    def test_access_rights_sales_users_read_managers_retry_and_configure(self):
        row = self.insert_event(order("gid://shopify/Order/20", "#20", [line("NOPE", 1, "1.00")]))
        self.process()
        self.assert_row(row, "failed", "unknown_sku")
        salesman = new_test_user(self.env, "relay_salesman", groups="sales_team.group_sale_salesman")
        manager = new_test_user(self.env, "relay_manager",
                                groups="sales_team.group_sale_salesman,stock_relay.group_stock_relay_manager")
        as_salesman = row.with_user(salesman)
        self.assertEqual(as_salesman.error_code, "unknown_sku")
        with self.assertRaises(AccessError):
            as_salesman.action_retry()
        with self.assertRaises(AccessError):
            self.channel.with_user(salesman).write({"sale_auto_confirm": False})
        row.with_user(manager).action_retry()
        self.assert_row(row, "pending")
        self.channel.with_user(manager).write({"sale_auto_confirm": False, "sale_unknown_sku_policy": "fallback"})
        settings = self.env["stock.relay.sale.settings"].search([("channel_id", "=", self.channel.id)])
        self.assertEqual((settings.auto_confirm, settings.unknown_sku_policy), (False, "fallback"))

    def test_settings_default_to_confirm_and_fail(self):
        self.assertTrue(self.channel.sale_auto_confirm)
        self.assertEqual(self.channel.sale_unknown_sku_policy, "fail")
        self.assertEqual(self.channel.sale_shipping_product_id, self.env.ref("stock_relay_sale.product_shop_shipping"))

    def test_register_webhooks_needs_an_https_public_url(self):
        with self.assertRaisesRegex(UserError, "Webhook Public URL"):
            self.channel.action_register_webhooks()
        for url in ("http://relay.example.com", "http://127.0.0.1.example.com:8080", "ftp://127.0.0.1"):
            self.channel.sale_public_url = url
            with self.assertRaisesRegex(UserError, "https://"):
                self.channel.action_register_webhooks()

    def test_register_webhooks_says_clearly_when_the_native_module_cannot(self):
        self.woo.sale_public_url = "https://relay.example.com/"
        fake = FakeNativeChannel(with_webhooks=False)
        with patch.object(type(self.woo), "_native_channel", lambda channel: fake), \
                self.assertRaisesRegex(UserError, "cannot register webhooks yet"):
            self.woo.action_register_webhooks()

    def test_register_webhooks_calls_the_native_module_and_shows_what_is_registered(self):
        self.woo.sale_public_url = "https://relay.example.com/"
        fake = FakeNativeChannel(with_webhooks=True)
        with patch.object(type(self.woo), "_native_channel", lambda channel: fake):
            self.woo.action_register_webhooks()
        db = self.env.cr.dbname
        endpoint = f"https://relay.example.com/webhooks/{db}/7"
        self.assertEqual(fake.registered, [("https://relay.example.com", db)],
                         "the native call appends the route, with this database (one daemon may serve several)")
        self.woo.invalidate_recordset()
        self.assertEqual(self.woo.sale_webhooks_registered, f"orders/create {endpoint}")
        self.assertEqual(self.woo.sudo().credentials.get("webhook_secret"), "whsec-generated")


@tagged("post_install", "-at_install", "stock_relay_sale")
class TestInboxContract(OrderCase):
    """The ORM model over stock_relay_inbox agrees with the contract's SQL, column for column."""

    columns = test_contract.TestContract.columns
    stored_fields = test_contract.TestContract.stored_fields
    assert_model_matches_table = test_contract.TestContract.assert_model_matches_table

    def test_inbox_model_matches_contract(self):
        self.assert_model_matches_table("stock.relay.inbox", "stock_relay_inbox")

    def test_selections_match_check_constraints(self):
        self.env.cr.execute("SELECT pg_get_constraintdef(oid) FROM pg_constraint "
                            "WHERE conrelid = 'stock_relay_inbox'::regclass AND contype = 'c'")
        checks = " ".join(row[0] for row in self.env.cr.fetchall())
        for fname in ("state", "topic", "received_via"):
            for value, _label in self.env["stock.relay.inbox"]._fields[fname].selection:
                self.assertIn(f"'{value}'", checks, f"inbox.{fname} value {value!r} is not allowed by the SQL")
