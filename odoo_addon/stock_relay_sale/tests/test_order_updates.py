from odoo.tests import tagged

from .common import OrderCase, line, order

OID = "gid://shopify/Order/777"


@tagged("post_install", "-at_install", "stock_relay_sale")
class TestOrderUpdates(OrderCase):
    """Updates and cancellations of an order Odoo already imported."""

    def setUp(self):
        super().setUp()
        self.set_stock(self.product, 10)
        self.norm = order(OID, "#1777", [line("SR-001", 2, "10.00")], updated="2026-11-30T10:00:00Z")
        self.insert_event(self.norm)
        self.process()
        self.sale = self.sale_for(OID)
        self.assertEqual(self.reserved(), 2)

    def test_older_update_is_ignored(self):
        newer = self.insert_event(dict(self.norm, updated_at="2026-11-30T12:00:00Z"), topic="order_updated")
        self.process()
        self.assert_row(newer, "done")
        older = self.insert_event(dict(self.norm, updated_at="2026-11-30T11:00:00Z",
                                       lines=[line("SR-001", 5, "10.00")]), topic="order_updated")
        self.process()
        self.assert_row(older, "ignored", "stale_event")
        self.assertEqual(self.sale.order_line.product_uom_qty, 2)

    def test_change_after_confirmation_is_logged_on_the_order(self):
        messages = len(self.sale.message_ids)
        row = self.insert_event(dict(self.norm, updated_at="2026-11-30T11:00:00Z",
                                     lines=[line("SR-001", 3, "10.00", name="Big item")]), topic="order_updated")
        self.process()
        self.assert_row(row, "done", "update_logged")
        self.assertEqual(self.sale.order_line.product_uom_qty, 2, "not applied to a confirmed order")
        self.assertEqual(len(self.sale.message_ids), messages + 1)
        body = self.sale.message_ids[0].body
        self.assertIn("NOT applied", body)
        self.assertIn("Big item: 3 x 10.00", body)

    def test_change_of_a_draft_order_is_applied(self):
        self.sale._action_cancel()
        self.sale.action_draft()
        self.channel.sale_auto_confirm = False
        row = self.insert_event(dict(self.norm, updated_at="2026-11-30T11:00:00Z",
                                     lines=[line("SR-001", 4, "9.00"), line("SR-MUG", 1, "5.00")]),
                                topic="order_updated")
        self.process()
        self.assert_row(row, "done")
        self.assertEqual(sorted(self.sale.order_line.mapped("product_uom_qty")), [1, 4])
        self.assertAlmostEqual(self.sale.amount_total, 41.0)

    def test_cancel_in_the_shop_cancels_and_releases_the_reservation(self):
        self.publish()
        row = self.insert_event(dict(self.norm, status="cancelled", updated_at="2026-11-30T11:00:00Z"),
                                topic="order_cancelled")
        self.process()
        self.assert_row(row, "done")
        self.assertEqual(self.sale.state, "cancel")
        self.assertEqual(self.reserved(), 0)
        rows = {(r["channel_id"], r["quantity"]) for r in self.publish() if r["product_id"] == self.product.id}
        self.assertIn((self.other_channel.id, 10.0), rows)
        # The shop re-delivers the cancellation: nothing more happens.
        again = self.insert_event(dict(self.norm, status="cancelled", updated_at="2026-11-30T11:00:01Z"),
                                  topic="order_cancelled")
        self.process()
        self.assert_row(again, "ignored", "already_cancelled")

    def test_cancel_after_delivery_asks_a_person(self):
        picking = self.sale.picking_ids
        self.validate(picking)
        row = self.insert_event(dict(self.norm, status="cancelled", updated_at="2026-11-30T11:00:00Z"),
                                topic="order_cancelled")
        self.process()
        self.assert_row(row, "done", "cancel_needs_review")
        self.assertEqual(self.sale.state, "sale")
        activity = self.sale.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertIn("delivered", activity.note)
