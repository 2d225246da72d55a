from datetime import timedelta

from odoo import fields
from odoo.tests import new_test_user, tagged

from .common import StockRelayCase


@tagged("post_install", "-at_install", "stock_relay")
class TestRetry(StockRelayCase):
    """Retry publishes what Odoo holds now; failures that a newer row made moot stop counting.

    The daemon's acks are played with SQL on the outbox row (what stockrelayd's
    ack statement does). Inputs are changed with SQL where noted, so that the
    tests show what Retry itself does, whether or not the change re-published.
    """

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.manager = new_test_user(cls.env, "sr_retry_manager", groups="stock_relay.group_stock_relay_manager")

    def ack(self, row_id, state, error_code=None):
        """stockrelayd claims a row, pushes it and records the outcome."""
        self.env.cr.execute("UPDATE stock_relay_outbox SET state = 'in_flight' WHERE id = %s", [row_id])
        self.env.cr.execute(
            "UPDATE stock_relay_outbox SET state = %s, error_code = %s, "
            "done_at = CASE WHEN %s = 'done' THEN now() AT TIME ZONE 'UTC' END WHERE id = %s",
            [state, error_code, state, row_id])

    def fail_newest(self, product=None, error_code="sku_not_found"):
        row = self.pending(product)[-1]
        self.ack(row["id"], "failed", error_code)
        return row

    def log(self, row_id):
        return self.env["stock.relay.outbox"].browse(row_id).with_user(self.manager)

    def failed_count(self):
        self.channel.invalidate_recordset(["failed_count"])
        return self.channel.failed_count

    def test_retry_sends_the_sku_and_quantity_odoo_holds_now(self):
        self.set_stock(self.product, 5)
        self.publish()
        failed = self.fail_newest()
        self.assertEqual((failed["sku"], failed["quantity"]), ("SR-001", 5))
        # The SKU is fixed and the buffer raised behind the outbox's back.
        self.env.cr.execute("UPDATE product_product SET default_code = 'SR-001-OK' WHERE id = %s",
                            [self.product.id])
        self.env.cr.execute("UPDATE stock_relay_channel SET safety_buffer = 2 WHERE id = %s", [self.channel.id])
        self.env.invalidate_all()
        self.log(failed["id"]).action_retry()
        [row] = self.pending()
        self.assertEqual((row["sku"], row["quantity"], row["trigger"]), ("SR-001-OK", 3, "manual_retry"))
        self.assertEqual(self.outbox_rows(id=failed["id"])[0]["state"], "superseded")
        self.assertEqual(self.failed_count(), 0)

    def test_mass_retry_recomputes_every_selected_key(self):
        other = self.make_product("SR-002")
        self.set_stock(self.product, 4)
        self.set_stock(other, 6)
        self.publish()
        rows = [self.fail_newest(), self.fail_newest(other)]
        self.env.cr.execute("UPDATE product_product SET default_code = default_code || '-NEW' WHERE id IN %s",
                            [(self.product.id, other.id)])
        self.env.cr.execute("UPDATE stock_quant SET quantity = quantity + 1 WHERE product_id IN %s",
                            [(self.product.id, other.id)])
        self.env.invalidate_all()
        log = self.env["stock.relay.outbox"].with_user(self.manager).browse([r["id"] for r in rows])
        action = self.env.ref("stock_relay.action_stock_relay_outbox_retry")
        action.with_user(self.manager).with_context(active_model=log._name, active_ids=log.ids).run()
        got = {(r["sku"], r["quantity"]) for r in self.outbox_rows(state="pending")}
        self.assertEqual(got, {("SR-001-NEW", 5), ("SR-002-NEW", 7)})
        self.assertEqual(self.failed_count(), 0)

    def test_retry_of_a_row_no_longer_relayed_closes_it_and_sends_nothing(self):
        self.set_stock(self.product, 5)
        self.publish()
        failed = self.fail_newest()
        self.env.cr.execute("UPDATE product_product SET default_code = NULL WHERE id = %s", [self.product.id])
        self.env.invalidate_all()
        result = self.log(failed["id"]).action_retry()
        self.assertIn("no longer relayed", result["params"]["message"])
        self.assertEqual(self.outbox_rows(state="pending"), [])
        self.assertEqual(self.outbox_rows(id=failed["id"])[0]["state"], "superseded")

    def test_a_newer_row_closes_the_failure_and_resync_does_not_pile_up_failures(self):
        self.set_stock(self.product, 5)
        self.publish()
        self.fail_newest()
        self.assertEqual(self.failed_count(), 1)
        for _run in range(3):  # the SKU is still unknown to the shop: the same standing problem
            self.channel.action_resync_all()
            self.assertEqual(self.failed_count(), 0, "a queued newer row makes the old failure moot")
            self.fail_newest()
            self.assertEqual(self.failed_count(), 1)
        failed = self.env["stock.relay.outbox"].with_user(self.manager).search(
            [("channel_id", "=", self.channel.id), ("state", "=", "failed")])  # the log's Failed filter
        self.assertEqual(len(failed), 1)
        self.assertEqual(failed.trigger, "full_sync")

    def test_a_newer_row_landing_closes_an_older_failure(self):
        self.set_stock(self.product, 5)
        [first] = self.publish()
        self.env.cr.execute("UPDATE stock_relay_outbox SET state = 'in_flight' WHERE id = %s", [first["id"]])
        self.set_stock(self.product, 6)
        self.publish()
        [second] = self.pending()
        # The older row's push failed after the newer one was queued.
        self.env.cr.execute("UPDATE stock_relay_outbox SET state = 'failed', error_code = 'transient' "
                            "WHERE id = %s", [first["id"]])
        self.assertEqual(self.failed_count(), 1)
        self.ack(second["id"], "done")
        self.assertEqual(self.failed_count(), 0)
        self.assertEqual(self.outbox_rows(id=first["id"])[0]["state"], "superseded")

    def test_purge_never_makes_an_old_failure_the_newest_row_of_its_key(self):
        # A key's history from before v2: an old failure with a stale SKU, then
        # the push that landed since, both past the retention period.
        old = fields.Datetime.now() - timedelta(days=90)
        key = [self.channel.id, self.product.id, "gid://shopify/Location/1"]
        self.env.cr.execute(
            "INSERT INTO stock_relay_outbox (channel_id, product_id, sku, location_key, quantity, state, "
            "error_code, updated_at) VALUES (%s, %s, 'STALE-SKU', %s, 9, 'failed', 'sku_not_found', %s)",
            [*key, old])
        for qty in (3, 4):  # two pushes landed since; the older one may go, the newest stays
            self.env.cr.execute(
                "INSERT INTO stock_relay_outbox (channel_id, product_id, sku, location_key, quantity, state, "
                "updated_at, done_at) VALUES (%s, %s, 'SR-001', %s, %s, 'done', %s, %s) RETURNING id",
                [*key, qty, old, old])
        newest_done = self.env.cr.fetchone()[0]
        self.env["stock.relay.outbox"]._cron_purge()
        self.assertEqual([(r["quantity"], r["state"]) for r in self.outbox_rows(product_id=self.product.id)],
                         [(9, "failed"), (4, "done")])
        self.assertEqual(self.outbox_rows(product_id=self.product.id)[-1]["id"], newest_done)
        # What `stockrelayd retry --failed` runs: the stale row is not the newest, so nothing is re-sent.
        self.env.cr.execute("SELECT requeued, closed FROM stock_relay_retry_failed(NULL, NULL, NULL)")
        self.assertEqual(self.env.cr.fetchone(), (0, 1))
        self.assertEqual(self.outbox_rows(state="pending"), [])

    def test_upgrade_to_v2_republishes_failed_keys_from_current_numbers(self):
        """A v1 failure whose SKU went stale (v1 did not re-publish SKU changes) is not left for
        `stockrelayd retry --failed` to re-send: the upgrade publishes the key from Odoo's numbers."""
        self.set_stock(self.product, 5)
        self.publish()
        failed = self.fail_newest()
        self.env.cr.execute("UPDATE product_product SET default_code = 'SR-001-V2' WHERE id = %s",
                            [self.product.id])
        self.env.invalidate_all()
        self.assertEqual(self.env["stock.relay.outbox"]._republish_failed_keys(), 1)
        self.assertEqual(self.outbox_rows(id=failed["id"])[0]["state"], "superseded")
        self.env.cr.execute("SELECT requeued FROM stock_relay_retry_failed(NULL, NULL, NULL)")
        self.assertEqual(self.env.cr.fetchone()[0], 0)
        self.assertEqual([(r["sku"], r["quantity"]) for r in self.pending()], [("SR-001-V2", 5)])
