import odoo
from odoo import api
from odoo.service.model import retrying
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import RealCommitCase


@tagged("post_install", "-at_install", "stock_relay")
class TestCatalogRealCommit(RealCommitCase):
    """Catalogue rows at a real COMMIT, and two requests racing on one product (Odoo's REPEATABLE READ)."""

    SKU_PREFIX = "SR-CATRACE"

    def setUp(self):
        super().setUp()
        with self.registry.cursor() as cr:
            env = api.Environment(cr, odoo.SUPERUSER_ID, {})
            env["stock.relay.channel"].browse(self.channel_id).catalog_enabled = True
            self.template_id = env["product.product"].browse(self.product_id).product_tmpl_id.id
        self.watch.execute("DELETE FROM stock_relay_outbox WHERE channel_id = %s", [self.channel_id])

    def documents(self):
        """(name, description, state) of the channel's product rows, oldest first (committed only)."""
        self.watch.execute("SELECT payload->>'name', payload->>'description', state FROM stock_relay_outbox "
                           "WHERE channel_id = %s AND kind = 'product' ORDER BY id", [self.channel_id])
        return self.watch.fetchall()

    def edit(self, cr, vals):
        api.Environment(cr, odoo.SUPERUSER_ID, {})["product.template"].browse(self.template_id).write(vals)

    def test_rollback_publishes_nothing_commit_publishes_once(self):
        cr = self.registry.cursor()
        try:
            self.edit(cr, {"name": "Never"})
            cr.flush()
            cr.rollback()
        finally:
            cr.close()
        self.assertEqual(self.documents(), [])
        with self.registry.cursor() as cr:
            self.edit(cr, {"name": "Committed"})
            self.assertEqual(self.documents(), [], "nothing is visible before COMMIT")
        self.assertEqual(self.documents(), [("Committed", "", "pending")])

    def test_a_racing_edit_is_replayed_and_its_document_holds_both_edits(self):
        cr_b = self.registry.cursor()
        attempts = []
        try:
            env_b = api.Environment(cr_b, odoo.SUPERUSER_ID, {})
            cr_b.execute("SELECT 1")  # request B's snapshot is taken now, before A commits
            with self.registry.cursor() as cr_a:
                self.edit(cr_a, {"name": "Renamed by A"})
            self.watch.execute("UPDATE stock_relay_outbox SET state = 'in_flight', leased_by = 'test', "
                               "lease_until = (now() AT TIME ZONE 'UTC') + interval '1 hour' "
                               "WHERE channel_id = %s AND kind = 'product'", [self.channel_id])

            def describe():
                attempts.append(len(attempts) + 1)
                env_b["product.template"].browse(self.template_id).write({"description_sale": "Described by B"})

            with mute_logger("odoo.sql_db"):  # the expected serialization failure logs as a "bad query"
                retrying(describe, env_b)
        finally:
            cr_b.close()
        self.assertEqual(attempts, [1, 2], "B's first attempt must have met a serialization failure")
        self.assertEqual(self.documents(), [("Renamed by A", "", "in_flight"),
                                            ("Renamed by A", "Described by B", "pending")])
