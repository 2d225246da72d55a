from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import StockRelayCase


@tagged("post_install", "-at_install", "stock_relay")
class TestSecurity(StockRelayCase):
    """Inventory users read the log, not the secrets; only administrators read the secrets."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.inventory_user = new_test_user(cls.env, "sr_inventory", groups="stock.group_stock_user")
        cls.relay_manager = new_test_user(cls.env, "sr_manager", groups="stock_relay.group_stock_relay_manager")
        cls.admin = new_test_user(cls.env, "sr_admin", groups="base.group_system,stock.group_stock_manager")

    def test_inventory_user_reads_the_log_but_not_credentials(self):
        self.set_stock(self.product, 3)
        self.publish()
        log = self.env["stock.relay.outbox"].with_user(self.inventory_user).search([])
        self.assertEqual(log.mapped("sku"), ["SR-001"])
        self.assertEqual(log.channel_id.name, "Test shop")
        channel = self.channel.with_user(self.inventory_user)
        self.assertEqual(channel.read(["name", "pending_count"])[0]["pending_count"], 1)
        with self.assertRaises(AccessError):
            channel.read(["credentials"])
        with self.assertRaises(AccessError):
            channel.search_read([], ["credentials"])
        self.assertNotIn("credentials", channel.fields_get())
        with self.assertRaises(AccessError):
            channel.write({"name": "mine"})
        with self.assertRaises(AccessError):
            log.action_retry()
        with self.assertRaises(AccessError):
            channel.action_test_connection()
        with self.assertRaises(AccessError):
            channel.action_resync_all()

    def test_relay_manager_sets_but_cannot_read_credentials(self):
        channel = self.channel.with_user(self.relay_manager)
        channel.write({"shopify_access_token": "shpat_from_manager", "safety_buffer": 1})
        self.assertEqual(self.channel.sudo().credentials, {"access_token": "shpat_from_manager"})
        self.assertFalse(channel.shopify_access_token)
        self.assertEqual(channel.credentials_status, "access_token: set")
        with self.assertRaises(AccessError):
            channel.read(["credentials"])
        created = self.env["stock.relay.channel"].with_user(self.relay_manager).create(
            {"name": "New", "channel_type": "medusa", "base_url": "https://medusa.example",
             "medusa_email": "ops@example.com", "medusa_password": "s3cret"})
        self.assertEqual(created.sudo().credentials, {"email": "ops@example.com", "password": "s3cret"})

    def test_administrator_reads_credentials(self):
        data = self.channel.with_user(self.admin).read(["credentials"])[0]
        self.assertEqual(data["credentials"], {"access_token": "shpat_test_secret"})

    def test_credentials_column_is_restricted_to_administrators(self):
        field = self.env["stock.relay.channel"]._fields["credentials"]
        self.assertEqual(field.groups, "base.group_system")
        self.assertEqual(self.env["stock.relay.channel"]._fields["settings"].groups, "base.group_system")
