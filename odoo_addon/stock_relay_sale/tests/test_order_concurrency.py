import json
import threading
import time
import uuid

import odoo
from odoo import api
from odoo.modules.registry import Registry
from odoo.tests import BaseCase, get_db_name, tagged
from odoo.tools import mute_logger

from .common import line, order


@tagged("post_install", "-at_install", "stock_relay_sale")
class TestConcurrentWorkers(BaseCase):
    """Two Odoo cron workers on real, committed transactions never import one shop order twice."""

    def setUp(self):
        super().setUp()
        self.registry = Registry(get_db_name())
        self.sku = f"SR-CONC-{uuid.uuid4().hex[:8]}"
        self.order_id = f"gid://shopify/Order/{uuid.uuid4().int % 10**12}"
        with self.registry.cursor() as cr:
            env = api.Environment(cr, odoo.SUPERUSER_ID, {})
            env.ref("base.EUR").active = True
            channel = env["stock.relay.channel"].create({
                "name": f"{self.sku} shop", "channel_type": "shopify", "base_url": "https://127.0.0.1:9",
                "orders_enabled": True, "sale_auto_confirm": False})
            self.channel_id = channel.id
            self.product_id = env["product.product"].create(
                {"name": self.sku, "default_code": self.sku, "type": "consu", "sale_ok": True}).id
        self.addCleanup(self._remove_committed_data)

    def _remove_committed_data(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, odoo.SUPERUSER_ID, {})
            sales = env["sale.order"].search([("stock_relay_channel_id", "=", self.channel_id)])
            partners = sales.partner_id
            sales.unlink()
            partners.with_context(active_test=False).child_ids.unlink()
            partners.unlink()
            env["stock.relay.channel"].browse(self.channel_id).unlink()
            env["product.product"].browse(self.product_id).write({"active": False, "default_code": False})

    def insert(self, updated, qty):
        norm = order(self.order_id, "#C1", [line(self.sku, qty, "10.00")], updated=updated,
                     email=f"{self.sku.lower()}@example.com")
        with self.registry.cursor() as cr:
            cr.execute(
                "INSERT INTO stock_relay_inbox (channel_id, shop_order_id, shop_order_name, topic, event_key, "
                "shop_updated_at, payload, received_via) VALUES (%s, %s, '#C1', 'order_updated', %s, %s, %s, "
                "'webhook') RETURNING id",
                [self.channel_id, self.order_id, f"{self.order_id}@{updated}", updated.replace("T", " ").rstrip("Z"),
                 json.dumps({"order": norm, "raw": {}})])
            return cr.fetchone()[0]

    def state(self):
        with self.registry.cursor() as cr:
            cr.execute("SELECT state FROM stock_relay_inbox WHERE channel_id = %s ORDER BY id", [self.channel_id])
            states = [r[0] for r in cr.fetchall()]
            cr.execute("SELECT count(*) FROM sale_order WHERE stock_relay_channel_id = %s", [self.channel_id])
            return states, cr.fetchone()[0]

    def worker(self, cr):
        return api.Environment(cr, odoo.SUPERUSER_ID, {})["stock.relay.inbox"]

    def test_a_row_claimed_by_one_worker_is_skipped_by_the_other(self):
        self.insert("2026-11-30T10:00:00Z", 1)
        with self.registry.cursor() as cr_a:
            self.assertEqual(self.worker(cr_a)._cron_process(), 1)   # holds the row until it commits
            with self.registry.cursor() as cr_b:
                self.assertEqual(self.worker(cr_b)._cron_process(), 0, "SKIP LOCKED: B must not take A's row")
        self.assertEqual(self.state(), (["done"], 1))

    def test_two_events_of_one_order_on_two_workers_make_one_sale_order(self):
        self.insert("2026-11-30T10:00:00Z", 1)
        self.insert("2026-11-30T10:01:00Z", 2)
        outcome = {}
        # Environments are made here: the registry lock is held by the test runner's thread.
        cr_b = self.registry.cursor()
        self.addCleanup(cr_b.close)
        env_b = self.worker(cr_b)
        with mute_logger("odoo.sql_db"):  # B's unique violation is logged as a bad query
            with self.registry.cursor() as cr_a:
                self.assertEqual(self.worker(cr_a)._cron_process(batch_size=1), 1)  # creates it, uncommitted

                def worker_b():
                    # B takes the second event, finds no committed order and tries to create it too:
                    # the unique (channel, shop order id) makes it wait for A, then fail.
                    outcome["b"] = env_b._cron_process(batch_size=1)

                thread = threading.Thread(target=worker_b)
                thread.start()
                time.sleep(1.0)
                self.assertTrue(thread.is_alive(), "B should be waiting on A's uncommitted sale order")
            thread.join(30)
            cr_b.commit()
        self.assertEqual(outcome["b"], 0, "B postponed its row")
        self.assertEqual(self.state(), (["done", "pending"], 1))
        with self.registry.cursor() as cr:
            self.assertEqual(self.worker(cr)._cron_process(), 1)
        self.assertEqual(self.state(), (["done", "done"], 1))
        with self.registry.cursor() as cr:
            cr.execute("SELECT product_uom_qty FROM sale_order_line l JOIN sale_order o ON o.id = l.order_id "
                       "WHERE o.stock_relay_channel_id = %s", [self.channel_id])
            self.assertEqual([float(r[0]) for r in cr.fetchall()], [2.0], "the draft order took the newer update")
