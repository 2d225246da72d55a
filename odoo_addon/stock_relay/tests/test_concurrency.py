import odoo
from odoo import api
from odoo.service.model import retrying
from odoo.tests import tagged
from odoo.tools import mute_logger

from .common import RealCommitCase


@tagged("post_install", "-at_install", "stock_relay")
class TestConcurrentRequests(RealCommitCase):
    """Two Odoo requests racing on one product, on two real cursors (Odoo's
    REPEATABLE READ), committed for real and watched from a third connection,
    as stockrelayd would see them.

    The later request meets the per-product commit clock. Before contract v6
    [commit-clock] that was a serialization failure and Odoo's ``retrying``
    replayed the whole request; now the capture defers its keys and the
    request commits at once (no replay, no error for a user past five
    replays), publishing nothing computed from its stale snapshot; right after
    its commit the keys are recomputed from a fresh snapshot: exactly one new
    row, with the quantity computed from the stock both requests committed.
    (The plain rolled-back case is in test_commit.py.)
    """

    SKU_PREFIX = "SR-RACE"

    def test_a_conflicting_request_commits_at_once_and_publishes_once_with_the_fresh_quantity(self):
        self.notifications(0.1)
        cr_b = self.registry.cursor()
        attempts = []
        try:
            env_b = api.Environment(cr_b, odoo.SUPERUSER_ID, {})
            cr_b.execute("SELECT 1")  # request B's snapshot is taken now, before A commits

            # Request A: an inventory adjustment to 5, committed.
            with self.registry.cursor() as cr_a:
                self.adjust(cr_a, 5)
            self.assertEqual(self.rows(), [(5.0, "pending")])
            self.assertEqual(self.notifications(), ["stock_relay"])
            # The sidecar has claimed A's row, so B's row cannot coalesce into it.
            self.watch.execute("UPDATE stock_relay_outbox SET state = 'in_flight', leased_by = 'test', "
                               "lease_until = (now() AT TIME ZONE 'UTC') + interval '1 hour' WHERE channel_id = %s",
                               [self.channel_id])

            # Request B: receives 2 more units (relative), under Odoo's own retrying() as a request is.
            def receive_two():
                attempts.append(len(attempts) + 1)
                product = env_b["product.product"].browse(self.product_id)
                location = env_b["stock.location"].browse(self.location_id)
                env_b["stock.quant"]._update_available_quantity(product, location, 2)

            with mute_logger("odoo.sql_db"):  # the expected serialization failure logs as a "bad query"
                retrying(receive_two, env_b)
        finally:
            cr_b.close()

        self.assertEqual(attempts, [1], "B must commit at once: its conflict is deferred, not replayed")
        # B's number (computed from its stale snapshot: 0 + 2) was never written; the recheck after
        # B's commit published once, from the stock both committed: 5 + 2.
        self.assertEqual(self.rows(), [(5.0, "in_flight"), (7.0, "pending")])
        self.assertEqual(self.notifications(), ["stock_relay"], "one NOTIFY, for the recheck's row only")
        self.watch.execute("SELECT count(*) FROM stock_relay_recheck WHERE channel_id = %s", [self.channel_id])
        self.assertEqual(self.watch.fetchone()[0], 0, "the recheck consumed the deferred key")

    def test_keys_a_crash_left_deferred_are_published_by_the_recheck_cron(self):
        """A deferred capture committed, then the process died before its post-commit recheck:
        the key waits in stock_relay_recheck and the cron publishes it from the committed stock."""
        with self.registry.cursor() as cr:
            self.adjust(cr, 4)
        # What the crashed transaction left: stock committed (6 now), its key deferred, no row of 6.
        self.watch.execute("UPDATE stock_relay_outbox SET state = 'done' WHERE channel_id = %s", [self.channel_id])
        self.watch.execute("SELECT location_key FROM stock_relay_channel_location WHERE channel_id = %s",
                           [self.channel_id])
        location_key = self.watch.fetchone()[0]
        with self.registry.cursor() as cr:
            env = api.Environment(cr, odoo.SUPERUSER_ID, {})
            product = env["product.product"].browse(self.product_id)
            location = env["stock.location"].browse(self.location_id)
            env["stock.quant"]._update_available_quantity(product, location, 2)
            cr.precommit.clear()  # the crash: no capture of its own ...
            cr.execute("INSERT INTO stock_relay_recheck (channel_id, product_id, location_key, trigger) "
                       "VALUES (%s, %s, %s, 'picking')", [self.channel_id, self.product_id, location_key])
        self.assertEqual(self.rows(), [(4.0, "done")])
        with self.registry.cursor() as cr:
            api.Environment(cr, odoo.SUPERUSER_ID, {})["stock.relay.outbox"]._cron_recheck()
        self.assertEqual(self.rows(), [(4.0, "done"), (6.0, "pending")])
        self.watch.execute("SELECT trigger FROM stock_relay_outbox WHERE channel_id = %s AND state = 'pending'",
                           [self.channel_id])
        self.assertEqual(self.watch.fetchone()[0], "picking", "the deferred row keeps its trigger")
        self.watch.execute("SELECT count(*) FROM stock_relay_recheck WHERE channel_id = %s", [self.channel_id])
        self.assertEqual(self.watch.fetchone()[0], 0)
