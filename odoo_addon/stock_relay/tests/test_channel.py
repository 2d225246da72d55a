import re
from datetime import timedelta

import stockrelay_native

from odoo import fields
from odoo.exceptions import UserError
from odoo.tests import tagged

from .common import StockRelayCase


def native_error(config, method, *args):
    """What the native core itself says for this config (the button must say the same)."""
    try:
        channel = stockrelay_native.Channel(config)
        getattr(channel, method)(*args)
    except stockrelay_native.StockRelayError as exc:
        return exc
    return None


@tagged("post_install", "-at_install", "stock_relay")
class TestChannel(StockRelayCase):

    def test_credentials_are_write_only(self):
        self.assertFalse(self.channel.shopify_access_token, "a saved secret is never sent back")
        self.assertEqual(self.channel.credentials_status, "access_token: set")
        self.assertEqual(self.channel.sudo().credentials, {"access_token": "shpat_test_secret"})
        self.channel.shopify_access_token = ""  # saving the form with the field left empty keeps the secret
        self.assertEqual(self.channel.sudo().credentials, {"access_token": "shpat_test_secret"})
        self.channel.shopify_access_token = "shpat_new"
        self.assertEqual(self.channel.sudo().credentials, {"access_token": "shpat_new"})
        self.channel.action_clear_credentials()
        self.assertFalse(self.channel.sudo().credentials)
        self.env.flush_all()
        self.env.cr.execute("SELECT credentials FROM stock_relay_channel WHERE id = %s", [self.channel.id])
        self.assertEqual(self.env.cr.fetchone()[0], {})
        self.assertEqual(self.channel.credentials_status, "not set")

    def test_native_config_is_the_row(self):
        self.channel.write({"ca_file": "/etc/ssl/ca.pem", "batch_size": 100, "timeout_ms": 2000})
        config = self.channel._native_config()
        self.assertEqual(config["settings"], {"ca_file": "/etc/ssl/ca.pem"})
        self.assertEqual((config["batch_size"], config["timeout_ms"], config["tls_verify"]), (100, 2000, True))
        self.assertEqual(config["credentials"], {"access_token": "shpat_test_secret"})
        self.env.flush_all()
        self.env.cr.execute("SELECT settings, batch_size FROM stock_relay_channel WHERE id = %s", [self.channel.id])
        self.assertEqual(self.env.cr.fetchone(), ({"ca_file": "/etc/ssl/ca.pem"}, 100))

    def assert_button_reports_native_error(self, method, *args, action=None):
        expected = native_error(self.channel._native_config(), method, *args)
        if expected is None:
            self.skipTest(f"the native {method} unexpectedly succeeded against {self.channel.base_url}")
        with self.assertRaises(UserError) as caught:
            action()
        # libcurl says how long the refused connect took ("after 0 ms"): two calls may differ there only.
        message = re.sub(r"after \d+ ms", "after N ms", str(caught.exception))
        self.assertIn(re.sub(r"after \d+ ms", "after N ms", str(expected)), message,
                      "the exact text of the native error is shown")
        self.assertIn(expected.code, message)

    def test_test_connection_shows_the_exact_error(self):
        self.channel.base_url = "https://127.0.0.1:9"   # nothing listens on the discard port
        self.assert_button_reports_native_error("test_connection", action=self.channel.action_test_connection)

    def test_bad_url_is_a_clear_error(self):
        self.channel.base_url = "not a url"
        with self.assertRaises(UserError) as caught:
            self.channel.action_test_connection()
        self.assertIn("config", str(caught.exception))
        self.assertIn("base_url", str(caught.exception))

    def test_load_locations_and_lookup_show_the_exact_error(self):
        self.assert_button_reports_native_error("list_locations", action=self.channel.action_load_locations)
        lookup = self.env["stock.relay.sku.lookup"].create({"channel_id": self.channel.id, "sku": "SR-001"})
        self.assert_button_reports_native_error("lookup_sku", "SR-001", action=lookup.action_lookup)

    def test_preview_explains_the_number(self):
        self.channel.write({"safety_buffer": 1})
        self.set_stock(self.product, 9)
        self.set_stock(self.product, 2, location=self.shelf)
        self.make_picking(self.product, 3).action_assign()
        preview = self.env["stock.relay.preview"].create(
            {"channel_id": self.channel.id, "product_id": self.product.id, "include_shop": False})
        preview.action_preview()
        text = str(preview.result)
        self.assertIn("Shelf 1", text)
        self.assertIn("floor(max(0, 11.0 − 3.0) − buffer 1.0)", text)
        self.assertIn("<b>7</b>", text)
        nosku = self.make_product(False)
        preview.product_id = nosku
        preview.action_preview()
        self.assertIn("no Internal Reference", str(preview.result))

    def test_resync_all_queues_every_relayed_product(self):
        other = self.make_product("SR-002")
        self.make_product(False)
        self.set_stock(self.product, 4)
        self.publish()
        self.clear_outbox()
        self.channel.action_resync_all()
        rows = self.outbox_rows(channel_id=self.channel.id)
        by_sku = {r["sku"]: (r["quantity"], r["trigger"]) for r in rows}
        self.assertEqual(by_sku["SR-001"], (4, "full_sync"))
        self.assertEqual(by_sku["SR-002"], (0, "full_sync"), "products without stock are set to 0")
        self.assertNotIn(other.id, [r["product_id"] for r in rows if r["sku"] != "SR-002"])
        self.assertTrue(all(r["sku"] for r in rows))

    def test_retry_requeues_the_current_quantity(self):
        self.set_stock(self.product, 4)
        row = self.publish()[0]
        self.env.cr.execute(
            "UPDATE stock_relay_outbox SET state = 'failed', attempts = 10, error_code = 'transient', "
            "last_error = 'transient: timeout' WHERE id = %s", [row["id"]])
        self.set_stock(self.product, 6)
        self.publish()  # a new pending row for the newer quantity
        self.env.cr.execute("UPDATE stock_relay_outbox SET state = 'failed' WHERE state = 'pending'")
        failed = self.env["stock.relay.outbox"].search([("state", "=", "failed")])
        self.assertEqual(len(failed), 1, "queueing the newer row closed the older failure")
        failed.action_retry()
        rows = self.outbox_rows(product_id=self.product.id)
        self.assertEqual(sorted(r["state"] for r in rows), ["pending", "superseded", "superseded"])
        pending = [r for r in rows if r["state"] == "pending"][0]
        self.assertEqual((pending["quantity"], pending["trigger"]), (6, "manual_retry"),
                         "a retry publishes what Odoo has now, never an older quantity")
        self.assertEqual(self.channel.failed_count, 0)
        with self.assertRaises(UserError):
            self.env["stock.relay.outbox"].browse(pending["id"]).action_retry()

    def test_channel_statistics(self):
        self.set_stock(self.product, 4)
        other = self.make_product("SR-003")
        self.set_stock(other, 1)
        rows = self.publish()
        self.env.cr.execute(
            "UPDATE stock_relay_outbox SET enqueued_at = enqueued_at - interval '2 hours' WHERE id = %s",
            [rows[0]["id"]])
        self.env.cr.execute(
            "UPDATE stock_relay_outbox SET state = 'done', done_at = '2030-01-01 10:00:00' WHERE id = %s",
            [rows[1]["id"]])
        self.channel.invalidate_recordset()
        self.assertEqual((self.channel.pending_count, self.channel.failed_count), (1, 0))
        self.assertTrue(self.channel.oldest_pending_age.startswith("2 h"), self.channel.oldest_pending_age)
        self.assertEqual(self.channel.last_success_at, fields.Datetime.to_datetime("2030-01-01 10:00:00"))

    def test_shop_state_written_by_the_daemon_shows_on_the_channel(self):
        # issue 10: stockrelayd writes stock_relay_channel_state; the form shows it.
        self.assertEqual(self.channel.relay_state, "Flowing")
        self.assertEqual(self.channel._native_config()["retry_window_hours"], 24.0)
        self.env.cr.execute(
            "INSERT INTO stock_relay_channel_state (channel_id, state, since, reason, error_code) "
            "VALUES (%s, 'refused', '2030-01-01 14:02:00', 'auth: Shopify refused the access token (HTTP 401)', 'auth')",
            [self.channel.id])
        self.channel.invalidate_recordset(["relay_state"])
        self.assertEqual(self.channel.relay_state,
                         "Credentials refused since 2030-01-01 14:02 UTC: auth: Shopify refused the access token (HTTP 401)")

    def test_purge_cron_keeps_recent_and_unfinished_rows(self):
        self.env["ir.config_parameter"].sudo().set_param("stock_relay.retention_days", 7)
        self.set_stock(self.product, 1)
        old_done = self.publish()[0]["id"]
        old = fields.Datetime.now() - timedelta(days=8)
        self.env.cr.execute("UPDATE stock_relay_outbox SET state = 'done', done_at = %s WHERE id = %s",
                            [old, old_done])
        self.set_stock(self.product, 2)
        recent_done = self.publish()[0]["id"]
        self.env.cr.execute("UPDATE stock_relay_outbox SET state = 'done', done_at = now() WHERE id = %s",
                            [recent_done])
        self.set_stock(self.product, 3)
        pending = self.publish()[-1]["id"]
        self.env.cr.execute("UPDATE stock_relay_outbox SET enqueued_at = %s WHERE id = %s", [old, pending])
        cron = self.env.ref("stock_relay.ir_cron_purge_outbox")
        cron.method_direct_trigger()
        remaining = {r["id"] for r in self.outbox_rows()}
        self.assertEqual(remaining, {recent_done, pending})

    def test_settings_retention(self):
        settings = self.env["res.config.settings"].create({"stock_relay_retention_days": 90})
        settings.execute()
        self.assertEqual(self.env["ir.config_parameter"].sudo().get_param("stock_relay.retention_days"), "90")
        self.assertGreaterEqual(self.env["res.config.settings"].create({}).stock_relay_channel_count, 1)
