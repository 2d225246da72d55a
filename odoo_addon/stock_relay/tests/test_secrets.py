import http.server
import threading

from odoo.exceptions import UserError
from odoo.tests import Form, new_test_user, tagged

from .common import StockRelayCase

TOKEN = "shpat_test_secret"  # StockRelayCase's channel token


class _Sink(http.server.ThreadingHTTPServer):
    """A host that records every request it receives (headers and body) and refuses it."""

    def __init__(self):
        self.requests = []
        sink = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def _record(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode("latin-1") if length else ""
                sink.requests.append(f"{self.command} {self.path}\n{self.headers}\n{body}")
                payload = b'{"errors": "[API] Invalid API key or access token"}'
                self.send_response(401)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = _record

            def log_message(self, *args):
                pass

        super().__init__(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server_address[1]}"
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.shutdown()
        self.server_close()

    def received(self, text):
        return any(text in r for r in self.requests)


@tagged("post_install", "-at_install", "stock_relay")
class TestSecretsFollowTheShop(StockRelayCase):
    """Credentials are stored for one shop: moving the channel elsewhere leaves them behind, for every writer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(cls.env, "sr_secret_manager", groups="stock_relay.group_stock_relay_manager")

    def setUp(self):
        super().setUp()
        self.sink = _Sink()
        self.addCleanup(self.sink.close)

    def stored(self, channel=None):
        self.env.flush_all()
        self.env.cr.execute("SELECT credentials FROM stock_relay_channel WHERE id = %s", [(channel or self.channel).id])
        return self.env.cr.fetchone()[0]

    def test_manager_pointing_the_channel_elsewhere_cannot_send_the_token_there(self):
        channel = self.channel.with_user(self.manager)
        channel.write({"base_url": self.sink.url})
        # Every button that talks to the shop, pressed by the same user.
        for press in (channel.action_test_connection, channel.action_load_locations,
                      lambda: self.env["stock.relay.sku.lookup"].with_user(self.manager).create(
                          {"channel_id": channel.id, "sku": "SR-001"}).action_lookup(),
                      lambda: self.env["stock.relay.preview"].with_user(self.manager).create(
                          {"channel_id": channel.id, "product_id": self.product.id}).action_preview()):
            try:
                press()
            except UserError:
                pass  # no credentials: refusing is fine, sending the old ones is not
        self.assertFalse(self.sink.received(TOKEN), self.sink.requests)
        self.assertEqual(self.stored(), {})
        self.assertEqual(channel.credentials_status, "not set")

    def test_the_new_shop_gets_only_credentials_typed_for_it(self):
        channel = self.channel.with_user(self.manager)
        channel.write({"base_url": self.sink.url, "shopify_access_token": "shpat_for_the_new_shop"})
        self.assertEqual(self.stored(), {"access_token": "shpat_for_the_new_shop"})
        with self.assertRaises(UserError):
            channel.action_test_connection()  # the sink refuses it, but it did reach the sink
        self.assertTrue(self.sink.received("shpat_for_the_new_shop"), self.sink.requests)
        self.assertFalse(self.sink.received(TOKEN))

    def test_typing_half_of_a_key_pair_for_a_new_url_does_not_carry_the_other_half(self):
        woo = self.env["stock.relay.channel"].create({
            "name": "Woo", "channel_type": "woocommerce", "base_url": "https://woo.example",
            "woo_consumer_key": "ck_old", "woo_consumer_secret": "cs_old_secret"})
        woo.with_user(self.manager).write({"base_url": self.sink.url, "woo_consumer_key": "ck_new"})
        self.assertEqual(self.stored(woo), {"consumer_key": "ck_new"})
        self.assertEqual(woo.credentials_status, "consumer_key: set")

    def test_changing_the_shop_type_clears_the_credentials(self):
        self.channel.with_user(self.manager).write({"channel_type": "medusa"})
        self.assertEqual(self.stored(), {})

    def test_the_form_shows_credentials_not_set_after_a_url_change(self):
        with Form(self.channel.with_user(self.manager)) as form:
            self.assertEqual(form.credentials_status, "access_token: set")
            form.base_url = "https://another-shop.myshopify.com"
        self.assertEqual(self.channel.with_user(self.manager).credentials_status, "not set")
        self.assertEqual(self.stored(), {})

    def test_cosmetic_url_edits_and_other_fields_keep_the_credentials(self):
        self.channel.with_user(self.manager).write({"base_url": "  https://127.0.0.1:9  ", "safety_buffer": 2})
        self.assertEqual(self.stored(), {"access_token": TOKEN})

    def test_raw_sql_writers_are_held_to_the_same_rule(self):
        cr = self.env.cr
        self.env.flush_all()
        cr.execute("UPDATE stock_relay_channel SET base_url = %s WHERE id = %s", [self.sink.url, self.channel.id])
        self.assertEqual(self.stored(), {})
        cr.execute("UPDATE stock_relay_channel SET credentials = '{\"access_token\": \"a\", \"extra\": \"b\"}' "
                   "WHERE id = %s", [self.channel.id])
        self.assertEqual(self.stored(), {"access_token": "a", "extra": "b"})  # no URL change: kept
        cr.execute("UPDATE stock_relay_channel SET base_url = 'https://x.example', "
                   "credentials = credentials || '{\"access_token\": \"new\"}' WHERE id = %s", [self.channel.id])
        self.assertEqual(self.stored(), {"access_token": "new"})  # the merged-in old value stayed behind
        cr.execute("UPDATE stock_relay_channel SET channel_type = 'woocommerce' WHERE id = %s", [self.channel.id])
        self.assertEqual(self.stored(), {})
        self.env.invalidate_all()
