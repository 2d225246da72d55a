import select
import time
import uuid

import psycopg2

import odoo
from odoo import api
from odoo.modules.registry import Registry
from odoo.service.model import retrying
from odoo.tests import BaseCase, get_db_name, tagged
from odoo.tools import mute_logger


@tagged("post_install", "-at_install", "stock_relay")
class TestConcurrentRequests(BaseCase):
    """Two Odoo requests racing on one product, on two real cursors (Odoo's
    REPEATABLE READ), committed for real and watched from a third connection,
    as stockrelayd would see them.

    The later request meets a serialization failure (the per-product commit
    clock makes it conflict) and Odoo's own ``retrying`` replays it: the
    failed attempt must publish nothing, the replay must publish exactly once,
    with the quantity computed from the stock the other request committed.
    (The plain rolled-back case is in test_commit.py.)
    """

    def setUp(self):
        super().setUp()
        self.registry = Registry(get_db_name())
        self.sku = f"SR-RACE-{uuid.uuid4().hex[:8]}"
        with self.registry.cursor() as cr:
            env = api.Environment(cr, odoo.SUPERUSER_ID, {})
            wh = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
            self.channel_id = env["stock.relay.channel"].create({
                "name": "Race test", "channel_type": "shopify", "base_url": "https://127.0.0.1:9",
                "location_line_ids": [(0, 0, {"location_key": "loc-race",
                                              "location_ids": [(6, 0, wh.lot_stock_id.ids)]})],
            }).id
            self.product_id = env["product.product"].create(
                {"name": self.sku, "default_code": self.sku, "type": "consu", "is_storable": True}).id
            self.location_id = wh.lot_stock_id.id
        self.addCleanup(self.cleanup)
        _db, info = odoo.sql_db.connection_info_for(get_db_name())
        self.conn = psycopg2.connect(**info)
        self.conn.autocommit = True
        self.addCleanup(self.conn.close)
        self.watch = self.conn.cursor()
        self.watch.execute("LISTEN stock_relay")

    def cleanup(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, odoo.SUPERUSER_ID, {})
            env["stock.relay.channel"].browse(self.channel_id).unlink()
            product = env["product.product"].browse(self.product_id)
            product.stock_quant_ids.sudo().unlink()
            product.active = False

    def rows(self):
        self.watch.execute("SELECT quantity, state FROM stock_relay_outbox WHERE channel_id = %s ORDER BY id",
                           [self.channel_id])
        return [(float(q), s) for q, s in self.watch.fetchall()]

    def notifications(self, wait=0.5):
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            select.select([self.conn], [], [], max(0.0, deadline - time.monotonic()))
            self.conn.poll()
        got = [n.channel for n in self.conn.notifies]
        self.conn.notifies.clear()
        return got

    def test_a_serialization_failure_retry_publishes_once_with_the_fresh_quantity(self):
        self.notifications(0.1)
        cr_b = self.registry.cursor()
        attempts = []
        try:
            env_b = api.Environment(cr_b, odoo.SUPERUSER_ID, {})
            cr_b.execute("SELECT 1")  # request B's snapshot is taken now, before A commits

            # Request A: an inventory adjustment to 5, committed.
            with self.registry.cursor() as cr_a:
                env_a = api.Environment(cr_a, odoo.SUPERUSER_ID, {})
                env_a["stock.quant"].with_context(inventory_mode=True).create(
                    {"product_id": self.product_id, "location_id": self.location_id, "inventory_quantity": 5},
                ).action_apply_inventory()
            self.assertEqual(self.rows(), [(5.0, "pending")])
            self.assertEqual(self.notifications(), ["stock_relay"])
            # The sidecar has claimed A's row, so B's row cannot coalesce into it.
            self.watch.execute("UPDATE stock_relay_outbox SET state = 'in_flight', leased_by = 'test', "
                               "lease_until = (now() AT TIME ZONE 'UTC') + interval '1 hour' WHERE channel_id = %s",
                               [self.channel_id])

            # Request B: receives 2 more units (relative), replayed by Odoo on serialization failure.
            def receive_two():
                attempts.append(len(attempts) + 1)
                product = env_b["product.product"].browse(self.product_id)
                location = env_b["stock.location"].browse(self.location_id)
                env_b["stock.quant"]._update_available_quantity(product, location, 2)

            with mute_logger("odoo.sql_db"):  # the expected serialization failure logs as a "bad query"
                retrying(receive_two, env_b)
        finally:
            cr_b.close()

        self.assertEqual(attempts, [1, 2], "B's first attempt must have met a serialization failure")
        # The failed attempt (computed from the stale snapshot: 0 + 2) published nothing; the
        # replay published once, from A's committed stock: 5 + 2.
        self.assertEqual(self.rows(), [(5.0, "in_flight"), (7.0, "pending")])
        self.assertEqual(self.notifications(), ["stock_relay"], "one NOTIFY, for the committed replay only")
