from odoo.tests import tagged

from .common import RealCommitCase


@tagged("post_install", "-at_install", "stock_relay")
class TestRealCommit(RealCommitCase):
    """What a real COMMIT publishes (and a real ROLLBACK does not), seen from another connection.

    TransactionCase never commits; this test uses its own cursors, commits
    its own data, and removes it again.
    """

    SKU_PREFIX = "SR-COMMIT"

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
        self.assertEqual(self.rows(), [(5.0, "pending")])
        self.assertEqual(self.notifications(), ["stock_relay"], "exactly one NOTIFY for the transaction")
