"""The catalogue screens a shop manager sees, in headless Chromium (Odoo's HttpCase tours), saved
as PNG like test_tour.py's (README's catalogue section shows them).

No daemon runs here: what stockrelayd would have written (published and failed catalogue rows,
the shop mapping, the dry run's answer) is written the way it writes it, and the background job
of a large change is the one a global pricelist rule on 1,200 products leaves behind.
"""
import base64
import json
from datetime import timedelta
from unittest.mock import patch

from odoo import fields
from odoo.tests import HttpCase, tagged
from odoo.tests.common import ChromeBrowser

from ..models.catalog_publish import StockRelayChannelCatalog
from .test_tour import SHOT_PREFIX, screenshot_dir


@tagged("post_install", "-at_install", "stock_relay", "stock_relay_tour")
class TestCatalogTour(HttpCase):

    def setUp(self):
        super().setUp()
        env = self.env
        category = env["product.category"].create({"name": "Shirts"})
        self.channel = channel = env["stock.relay.channel"].create({
            "name": "Medusa Shop", "channel_type": "medusa", "base_url": "https://shop.example",
            "publish_scope": "category", "publish_category_id": category.id, "catalog_enabled": True})
        color = env["product.attribute"].create({"name": "Color", "value_ids": [
            (0, 0, {"name": "Red"}), (0, 0, {"name": "Blue"})]})
        self.tshirt = env["product.template"].create({
            "name": "Relay T-Shirt", "is_storable": True, "list_price": 20.0, "categ_id": category.id,
            "attribute_line_ids": [(0, 0, {"attribute_id": color.id, "value_ids": [(6, 0, color.value_ids.ids)]})]})
        for variant in self.tshirt.product_variant_ids:
            variant.default_code = "TS-" + variant.product_template_attribute_value_ids.name
        mug = env["product.template"].create({"name": "Relay Mug", "is_storable": True, "default_code": "MUG-1",
                                              "categ_id": category.id})
        env.cr.flush()
        cr, now = env.cr, fields.Datetime.now()
        cr.execute("DELETE FROM stock_relay_outbox WHERE channel_id = %s", [channel.id])
        external = env["stock.relay.catalog"]._documents(channel, self.tshirt)[self.tshirt.id]["external_id"]
        cr.execute("INSERT INTO stock_relay_catalog_map (channel_id, external_id, object, template_id, remote_id) "
                   "VALUES (%s, %s, 'product', %s, 'prod_01TSHIRT')", [channel.id, external, self.tshirt.id])
        for i, variant in enumerate(self.tshirt.product_variant_ids):
            cr.execute("INSERT INTO stock_relay_catalog_map (channel_id, external_id, object, template_id, product_id, "
                       "remote_id, parent_remote_id) VALUES (%s, %s, 'variant', %s, %s, %s, 'prod_01TSHIRT')",
                       [channel.id, f"{external}-{i}", self.tshirt.id, variant.id, f"variant_01TS{i}"])
        for minutes, kind, template, state in ((50, "product", self.tshirt, "done"), (20, "price", self.tshirt, "done"),
                                               (5, "product", mug, "failed")):
            cr.execute(
                "INSERT INTO stock_relay_outbox (channel_id, kind, product_id, sku, location_key, quantity, state, "
                "trigger, enqueued_at, updated_at, done_at, error_code, last_error, attempts, payload) VALUES "
                "(%s, %s, %s, %s, '', 0, %s, 'catalog', %s, %s, %s, %s, %s, 1, '{}')",
                [channel.id, kind, template.id, f"__export__.tmpl_{template.id}", state,
                 now - timedelta(minutes=minutes, seconds=4), now - timedelta(minutes=minutes),
                 now - timedelta(minutes=minutes) if state == "done" else None,
                 "duplicate_handle" if state == "failed" else None,
                 "Medusa refused the handle 'relay-mug': product prod_01HAND (made by hand) has it; rename one of "
                 "them or adopt it by giving it SKU MUG-1" if state == "failed" else None])
        for minutes in (30, 70, 70, 130, 190, 250):  # the stock of the T-shirt, pushed meanwhile
            cr.execute(
                "INSERT INTO stock_relay_outbox (channel_id, product_id, sku, location_key, quantity, state, trigger, "
                "enqueued_at, updated_at, done_at) VALUES (%s, %s, 'TS-Red', 'sloc_01', 7, 'done', 'quant', %s, %s, %s)",
                [channel.id, self.tshirt.product_variant_ids[0].id, now - timedelta(minutes=minutes, seconds=1),
                 now - timedelta(minutes=minutes), now - timedelta(minutes=minutes)])
        env["stock.relay.catalog.job"].create({"channel_id": channel.id, "kind": "price", "trigger": "catalog",
                                               "template_ids": list(range(1, 801)), "total": 1200,
                                               "done_count": 400})

    def _answered(self, original):
        """The dry run request, answered the way stockrelayd answers it (the shop's title was edited by hand)."""
        def request(channel, templates, template=None):
            preview = original(channel, templates, template=template)
            doc = preview.documents[0]
            preview.write({"state": "done", "finished_at": fields.Datetime.now(), "result": {
                "created": [], "unchanged": [], "conflicts": [],
                "updated": [{"external_id": doc["external_id"], "name": doc["name"], "fields": {
                    "title": {"shop": "Relay Tee (edited in Medusa)", "odoo": doc["name"]},
                    "variants[TS-Red].price": {"shop": "18.00", "odoo": "20.00"}}}]}})
            return preview
        return request

    def test_catalogue_screens(self):
        shots = []
        original = ChromeBrowser._handle_console

        def handle_console(browser, type, args=None, stackTrace=None, **kw):  # noqa: A002 (CDP's name)
            first = args and browser._from_remoteobject(args[0])
            if isinstance(first, str) and first.startswith(SHOT_PREFIX):
                path = screenshot_dir() / f"catalog-{len(shots) + 1:02d}-{first[len(SHOT_PREFIX):]}.png"
                shots.append(path)
                future = browser._websocket_send("Page.captureScreenshot", params={"format": "png"},
                                                 with_future=True)
                future.add_done_callback(lambda f: path.write_bytes(base64.b64decode(f.result()["data"])))
            return original(browser, type, args=args, stackTrace=stackTrace, **kw)

        request = self._answered(StockRelayChannelCatalog._request_preview)
        with patch.object(ChromeBrowser, "_handle_console", handle_console), \
                patch.object(StockRelayChannelCatalog, "_request_preview", request):
            self.start_tour("/odoo/action-stock_relay.action_stock_relay_dashboard", "stock_relay_catalog",
                            login="admin", timeout=180)
            self.start_tour(f"/odoo/action-stock.product_template_action_product/{self.tshirt.id}",
                            "stock_relay_catalog_product", login="admin", timeout=180)
        self.assertEqual([p.name for p in shots], [
            "catalog-01-catalog_dashboard.png", "catalog-02-catalog_failures.png", "catalog-03-catalog_channel.png",
            "catalog-04-catalog_dry_run.png"])
        for path in shots:
            self.assertTrue(path.is_file() and path.stat().st_size > 10000, f"{path} was not captured")
        preview = self.env["stock.relay.catalog.preview"].search([("template_id", "=", self.tshirt.id)])
        self.assertEqual(preview.requested_by, self.env.ref("base.user_admin"), "the manager asked for it")
        self.assertEqual(json.loads(json.dumps(preview.documents))[0]["name"], "Relay T-Shirt")
