import select
import time
import uuid

import psycopg2

import odoo
from odoo import api
from odoo.modules.registry import Registry
from odoo.tests import BaseCase, TransactionCase, get_db_name

from ..compat import move_vals


class StockRelayCase(TransactionCase):
    """A warehouse, a channel mapping WH/Stock to one shop location, and helpers.

    Odoo's test cursor never commits, so precommit hooks do not run by
    themselves: ``publish()`` runs them the way COMMIT would (flush, then the
    precommit callbacks) and returns the outbox rows written.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        cls.warehouse = cls.env["stock.warehouse"].search([("company_id", "=", cls.env.company.id)], limit=1)
        cls.stock = cls.warehouse.lot_stock_id
        cls.shelf = cls.env["stock.location"].create({"name": "Shelf 1", "location_id": cls.stock.id})
        cls.elsewhere = cls.env["stock.location"].create(
            {"name": "Not for sale", "location_id": cls.warehouse.view_location_id.id, "usage": "internal"})
        cls.customers = cls.env.ref("stock.stock_location_customers")
        cls.suppliers = cls.env.ref("stock.stock_location_suppliers")
        cls.partner = cls.env["res.partner"].create({"name": "Relay Customer"})
        cls.channel = cls.env["stock.relay.channel"].create({
            "name": "Test shop", "channel_type": "shopify", "base_url": "https://127.0.0.1:9/",
            "api_version": "2025-10", "shopify_access_token": "shpat_test_secret",
        })
        cls.line = cls.env["stock.relay.channel.location"].create({
            "channel_id": cls.channel.id, "location_key": "gid://shopify/Location/1", "location_name": "Main",
            "location_ids": [(6, 0, cls.stock.ids)],
        })
        cls.product = cls.make_product("SR-001")
        cls.publish_rows()  # forget whatever setUpClass queued

    @classmethod
    def make_product(cls, sku, **vals):
        return cls.env["product.product"].create(dict(
            {"name": f"Product {sku or 'without SKU'}", "default_code": sku, "type": "consu",
             "is_storable": True}, **vals))

    @classmethod
    def publish_rows(cls):
        cls.env.cr.flush()   # flush the ORM, then run the precommit hooks, as COMMIT does
        return cls.outbox_rows()

    def publish(self):
        return self.publish_rows()

    def publish_own(self):
        """publish(), keeping this test's channel's rows (a database may hold other channels' committed rows)."""
        return [r for r in self.publish() if r["channel_id"] == self.channel.id]

    @classmethod
    def outbox_rows(cls, **where):
        cond = " AND ".join(f"{k} = %s" for k in where) or "true"
        cls.env.cr.execute(
            f"SELECT id, channel_id, product_id, sku, location_key, quantity, trigger, state, version "
            f"FROM stock_relay_outbox WHERE {cond} ORDER BY id", list(where.values()))
        return [dict(zip(("id", "channel_id", "product_id", "sku", "location_key", "quantity", "trigger",
                          "state", "version"), row)) for row in cls.env.cr.fetchall()]

    def pending(self, product=None):
        product = product or self.product
        return self.outbox_rows(product_id=product.id, state="pending")

    def pending_qty(self, product=None):
        rows = self.pending(product)
        self.assertEqual(len(rows), 1, f"expected one pending row, got {rows}")
        return rows[0]["quantity"]

    def clear_outbox(self):
        self.env.cr.execute("DELETE FROM stock_relay_outbox")

    def set_stock(self, product, qty, location=None):
        """An inventory adjustment the way the UI applies it."""
        location = location or self.stock
        quant = self.env["stock.quant"].with_context(inventory_mode=True).search(
            [("product_id", "=", product.id), ("location_id", "=", location.id)], limit=1)
        if quant:
            quant.with_context(inventory_mode=True).inventory_quantity = qty
        else:
            quant = self.env["stock.quant"].with_context(inventory_mode=True).create(
                {"product_id": product.id, "location_id": location.id, "inventory_quantity": qty})
        quant.action_apply_inventory()
        return quant

    def make_picking(self, product, qty, kind="out", location=None):
        wh = self.warehouse
        ptype = wh.out_type_id if kind == "out" else wh.in_type_id
        src = (location or self.stock) if kind == "out" else self.suppliers
        dst = self.customers if kind == "out" else (location or self.stock)
        picking = self.env["stock.picking"].create({
            "picking_type_id": ptype.id, "partner_id": self.partner.id,
            "location_id": src.id, "location_dest_id": dst.id,
            "move_ids": [(0, 0, move_vals({"name": product.display_name, "product_id": product.id,
                                           "product_uom_qty": qty, "product_uom": product.uom_id.id,
                                           "location_id": src.id, "location_dest_id": dst.id}))],
        })
        picking.action_confirm()
        return picking

    def validate(self, picking):
        picking.move_ids.picked = True
        result = picking.button_validate()
        self.assertIs(result, True, f"button_validate returned {result}")
        self.assertEqual(picking.state, "done")


class RealCommitCase(BaseCase):
    """Real cursors that really COMMIT, watched from another connection the
    way stockrelayd watches: a channel mapping WH/Stock, one storable product,
    and a LISTEN on ``stock_relay``. The data is committed, so it is removed
    again after the test. Subclasses set ``SKU_PREFIX``.
    """

    SKU_PREFIX = "SR-REAL"

    def setUp(self):
        super().setUp()
        self.registry = Registry(get_db_name())
        self.sku = f"{self.SKU_PREFIX}-{uuid.uuid4().hex[:8]}"
        with self.registry.cursor() as cr:
            env = api.Environment(cr, odoo.SUPERUSER_ID, {})
            wh = env["stock.warehouse"].search([("company_id", "=", env.company.id)], limit=1)
            self.channel_id = env["stock.relay.channel"].create({
                "name": f"{self.SKU_PREFIX} test", "channel_type": "shopify", "base_url": "https://127.0.0.1:9",
                "location_line_ids": [(0, 0, {"location_key": f"loc-{self.sku}",
                                              "location_ids": [(6, 0, wh.lot_stock_id.ids)]})],
            }).id
            self.product_id = env["product.product"].create(
                {"name": self.sku, "default_code": self.sku, "type": "consu", "is_storable": True}).id
            self.location_id = wh.lot_stock_id.id
        self.addCleanup(self._remove_committed_data)
        # A listener on its own connection, as stockrelayd would be.
        _db, info = odoo.sql_db.connection_info_for(get_db_name())
        self.conn = psycopg2.connect(**info)
        self.conn.autocommit = True
        self.addCleanup(self.conn.close)
        self.watch = self.conn.cursor()
        # Mapping the channel's location published the products committed before: not this test's rows.
        self.watch.execute("DELETE FROM stock_relay_outbox WHERE channel_id = %s", [self.channel_id])
        self.watch.execute("LISTEN stock_relay")

    def _remove_committed_data(self):
        with self.registry.cursor() as cr:
            env = api.Environment(cr, odoo.SUPERUSER_ID, {})
            env["stock.relay.channel"].browse(self.channel_id).unlink()
            product = env["product.product"].browse(self.product_id)
            product.stock_quant_ids.sudo().unlink()
            # Archived and without SKU: later tests' channels do not relay it (an archived product publishes 0).
            product.write({"active": False, "default_code": False})

    def rows(self):
        """(quantity, state) of the channel's rows, oldest first: only committed rows are visible here."""
        self.watch.execute("SELECT quantity, state FROM stock_relay_outbox WHERE channel_id = %s ORDER BY id",
                           [self.channel_id])
        return [(float(q), s) for q, s in self.watch.fetchall()]

    def notifications(self, wait=0.5):
        """Channels of the notifications received within ``wait`` seconds."""
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            select.select([self.conn], [], [], max(0.0, deadline - time.monotonic()))
            self.conn.poll()
        got = [n.channel for n in self.conn.notifies]
        self.conn.notifies.clear()
        return got

    def adjust(self, cr, qty):
        """An inventory adjustment of the product to ``qty`` on ``cr`` (not committed here)."""
        env = api.Environment(cr, odoo.SUPERUSER_ID, {})
        env["stock.quant"].with_context(inventory_mode=True).create(
            {"product_id": self.product_id, "location_id": self.location_id, "inventory_quantity": qty},
        ).action_apply_inventory()
