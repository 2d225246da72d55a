"""A shop manager's path through the screens, in headless Chromium (Odoo's HttpCase tours).

The shop is the Shopify emulator of this repository (tests/emulators/shopify), over
plain HTTP on 127.0.0.1 (the channel allows it explicitly, as a local test shop must).
The failed row the manager retries is written the way stockrelayd writes one; no
daemon runs here. Each screen is saved as a PNG under build/tour-screenshots/
(STOCKRELAY_SCREENSHOTS overrides the folder).
"""
import base64
import json
import os
import pathlib
import sys
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tests import HttpCase, tagged
from odoo.tests.common import ChromeBrowser

REPO = pathlib.Path(__file__).resolve().parents[3]
SHOT_PREFIX = "stock_relay_screenshot:"


def screenshot_dir():
    path = pathlib.Path(os.environ.get("STOCKRELAY_SCREENSHOTS") or REPO / "build" / "tour-screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def shopify_emulator():
    """The repository's Shopify emulator; the tour tier requires it (scripts/bootstrap installs it)."""
    if str(REPO / "tests") not in sys.path:
        sys.path.insert(0, str(REPO / "tests"))
    from emulators.shopify import ShopifyEmulator  # noqa: PLC0415 (found through the repository only)
    return ShopifyEmulator(token="shpat_emulator_token", log_path=screenshot_dir() / "shopify-tour.log")


@tagged("post_install", "-at_install", "stock_relay", "stock_relay_tour")
class TestShopManagerTour(HttpCase):

    def setUp(self):
        super().setUp()
        self.shop = shopify_emulator()
        self.shop.start()
        self.addCleanup(self.shop.stop)
        self.shop.seed(locations=[{"name": "Tour Warehouse"}],
                       products=[{"title": "Tour product", "variants": [{"sku": "TOUR-1",
                                                                        "levels": {"Tour Warehouse": 0}}]}])
        env = self.env
        stock = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1).lot_stock_id
        main = env["stock.relay.channel"].create({
            "name": "Main Shopify", "channel_type": "shopify", "base_url": "https://main.example.myshopify.com",
            "api_version": "2025-10", "location_line_ids": [(0, 0, {
                "location_key": "gid://shopify/Location/1", "location_name": "Main",
                "location_ids": [(6, 0, stock.ids)]})]})
        products = env["product.product"].create([
            {"name": "Tour product", "default_code": "TOUR-1", "is_storable": True},
            {"name": "Tour failing product", "default_code": "TOUR-FAIL-1", "is_storable": True}])
        for product, qty in zip(products, (12, 3)):
            env["stock.quant"].with_context(inventory_mode=True).create(
                {"product_id": product.id, "location_id": stock.id, "inventory_quantity": qty}).action_apply_inventory()
        env.cr.flush()  # runs the precommit hooks: the stock changes above are queued now, not later
        # What stockrelayd would have written: pushes over the last hours and one row the shop refused.
        now = fields.Datetime.now()
        cr = env.cr
        cr.execute("DELETE FROM stock_relay_outbox WHERE channel_id = %s", [main.id])
        for hours_ago in (1, 1, 2, 3, 3, 3, 5, 8, 8, 13):
            cr.execute("INSERT INTO stock_relay_outbox (channel_id, product_id, sku, location_key, quantity, state, "
                       "trigger, enqueued_at, updated_at, done_at) VALUES (%s, %s, 'TOUR-1', "
                       "'gid://shopify/Location/1', 12, 'done', 'quant', %s, %s, %s)",
                       [main.id, products[0].id, now - timedelta(hours=hours_ago, seconds=2),
                        now - timedelta(hours=hours_ago), now - timedelta(hours=hours_ago)])
        cr.execute("INSERT INTO stock_relay_outbox (channel_id, product_id, sku, location_key, quantity, state, "
                   "trigger, error_code, last_error, attempts, updated_at) VALUES (%s, %s, 'TOUR-FAIL-1', "
                   "'gid://shopify/Location/1', 3, 'failed', 'quant', 'sku_not_found', "
                   "'no shop item has SKU TOUR-FAIL-1', 1, %s)", [main.id, products[1].id, now])
        cr.execute("INSERT INTO stock_relay_daemon (host, pid, version, last_seen) "
                   "VALUES ('relay-host', 4242, 'tour', now() AT TIME ZONE 'UTC')")
        # A second shop whose credentials were refused, with changes waiting for it.
        outlet = env["stock.relay.channel"].create({
            "name": "Outlet WooCommerce", "channel_type": "woocommerce", "base_url": "https://outlet.example",
            "location_line_ids": [(0, 0, {"location_key": "", "location_name": "Store",
                                          "location_ids": [(6, 0, stock.ids)]})]})
        env.cr.flush()
        cr.execute("INSERT INTO stock_relay_channel_state (channel_id, state, since, reason, error_code) "
                   "VALUES (%s, 'refused', %s, 'WooCommerce refused the consumer key (HTTP 401)', 'auth')",
                   [outlet.id, now - timedelta(minutes=42)])
        self.main = main

    def test_shop_manager_path(self):
        shots = []
        original = ChromeBrowser._handle_console

        def handle_console(browser, type, args=None, stackTrace=None, **kw):  # noqa: A002 (CDP's name)
            first = args and browser._from_remoteobject(args[0])
            if isinstance(first, str) and first.startswith(SHOT_PREFIX):
                name = first[len(SHOT_PREFIX):]
                path = screenshot_dir() / f"{len(shots) + 1:02d}-{name}.png"
                shots.append(path)
                future = browser._websocket_send("Page.captureScreenshot", params={"format": "png"},
                                                 with_future=True)
                future.add_done_callback(lambda f: path.write_bytes(base64.b64decode(f.result()["data"])))
            return original(browser, type, args=args, stackTrace=stackTrace, **kw)

        code = (f"odoo.__stock_relay_shop_url__ = {json.dumps(self.shop.base_url)}; "
                "odoo.startTour('stock_relay_shop_manager', {stepDelay: 0, keepWatchBrowser: false, debug: false, "
                "startUrl: '/odoo/action-stock_relay.action_stock_relay_dashboard'})")
        with patch.object(ChromeBrowser, "_handle_console", handle_console):
            self.start_tour("/odoo/action-stock_relay.action_stock_relay_dashboard", "stock_relay_shop_manager",
                            login="admin", timeout=180, code=code)
        # What the manager did is in the database, not only on the screen.
        tour_shop = self.env["stock.relay.channel"].search([("name", "=", "Tour shop")])
        self.assertEqual(tour_shop.location_line_ids.location_name, "Tour Warehouse")
        self.assertEqual(tour_shop.location_line_ids.location_ids.complete_name, "WH/Stock")
        self.env.cr.execute("SELECT state, trigger FROM stock_relay_outbox WHERE channel_id = %s AND sku = 'TOUR-FAIL-1' "
                            "ORDER BY id", [self.main.id])
        self.assertEqual(self.env.cr.fetchall(), [("superseded", "quant"), ("pending", "manual_retry")])
        self.env.cr.execute("SELECT count(*) FROM stock_relay_outbox WHERE channel_id = %s AND trigger = 'full_sync'",
                            [tour_shop.id])
        self.assertGreaterEqual(self.env.cr.fetchone()[0], 2, "Resync queued the relayed products")
        self.assertEqual([p.name for p in shots], ["01-dashboard.png", "02-channel_form.png", "03-locations.png",
                                                   "04-log_failed.png", "05-retried.png"])
        for path in shots:
            self.assertTrue(path.is_file() and path.stat().st_size > 10000, f"{path} was not captured")
