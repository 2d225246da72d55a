import select
import time
import uuid

import psycopg2

import odoo
from odoo import api
from odoo.modules.registry import Registry
from odoo.tests import BaseCase, get_db_name, tagged


@tagged("post_install", "-at_install", "stock_relay")
class TestRealCommit(BaseCase):
    """What a real COMMIT publishes (and a real ROLLBACK does not), seen from another connection.

    TransactionCase never commits; this test uses its own cursors, commits
    its own data, and removes it again.
    """

    def setUp(self):
        super().setUp()
        self.registry = Registry(get_db_name())
        self.sku = f"SR-COMMIT-{uuid.uuid4().hex[:8]}"
        with self.registry.cursor() as cr:
            env = api.Environment(cr, odoo.SUPERUSER_ID, {})
            wh = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
            self.channel_id = env["stock.relay.channel"].create({
                "name": "Commit test", "channel_type": "shopify", "base_url": "https://127.0.0.1:9",
                "location_line_ids": [(0, 0, {"location_key": "loc-commit", "location_ids": [(6, 0, wh.lot_stock_id.ids)]})],
            }).id
            self.product_id = env["product.product"].create(
                {"name": self.sku, "default_code": self.sku, "type": "consu", "is_storable": True}).id
            self.location_id = wh.lot_stock_id.id
        self.addCleanup(self.cleanup)
        # A listener on its own connection, as stockrelayd would be.
        _db, info = odoo.sql_db.connection_info_for(get_db_name())
        self.conn = psycopg2.connect(**info)
        self.conn.autocommit = True
        self.addCleanup(self.conn.close)
        self.listener = self.conn.cursor()
        self.listener.execute("LISTEN stock_relay")

    def cleanup(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, odoo.SUPERUSER_ID, {})
            env["stock.relay.channel"].browse(self.channel_id).unlink()
            product = env["product.product"].browse(self.product_id)
            product.stock_quant_ids.sudo().unlink()
            product.active = False

    def rows(self):
        # Read from the listener's connection: only committed rows are visible there.
        self.listener.execute("SELECT quantity, state FROM stock_relay_outbox WHERE channel_id = %s",
                              [self.channel_id])
        return self.listener.fetchall()

    def notifications(self, wait=0.5):
        conn = self.conn
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            select.select([conn], [], [], max(0.0, deadline - time.monotonic()))
            conn.poll()
        got = list(conn.notifies)
        conn.notifies.clear()
        return [n.channel for n in got]

    def adjust(self, cr, qty):
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        env["stock.quant"].with_context(inventory_mode=True).create(
            {"product_id": self.product_id, "location_id": self.location_id, "inventory_quantity": qty},
        ).action_apply_inventory()

    def test_rollback_publishes_nothing_commit_publishes_once(self):
        self.notifications(0.1)
        cr = self.registry.cursor()
        try:
            self.adjust(cr, 5)
            cr.flush()          # precommit has run: the row exists inside the transaction ...
            cr.execute("SELECT count(*) FROM stock_relay_outbox WHERE channel_id = %s", [self.channel_id])
            self.assertEqual(cr.fetchone()[0], 1)
            self.assertEqual(self.rows(), [], "... and is invisible to everybody else")
            cr.rollback()
        finally:
            cr.close()
        self.assertEqual(self.rows(), [], "a rolled-back stock change never reaches the outbox")
        self.assertEqual(self.notifications(), [], "nor wakes the sidecar")

        with self.registry.cursor() as cr:
            self.adjust(cr, 5)
            self.assertEqual(self.rows(), [], "nothing is visible before COMMIT")
        self.assertEqual([(float(q), s) for q, s in self.rows()], [(5.0, "pending")])
        self.assertEqual(self.notifications(), ["stock_relay"], "exactly one NOTIFY for the transaction")
