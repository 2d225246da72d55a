import json
import logging

import psycopg2.errors

from odoo import _, api, fields, models
from odoo.exceptions import AccessError, UserError, ValidationError

from odoo.addons.stock_relay.models.schema import apply_contract

from .order_batch import BatchImport
from .order_import import ImportFailure, OrderImport

_logger = logging.getLogger(__name__)

STATES = [("pending", "Pending"), ("processing", "Processing"), ("done", "Done"), ("failed", "Failed"),
          ("ignored", "Ignored")]
TOPICS = [("order_created", "Order Created"), ("order_updated", "Order Updated"),
          ("order_cancelled", "Order Cancelled")]
VIA = [("webhook", "Webhook"), ("poll", "Polling"), ("manual", "Manual")]
CRON_XMLID = "stock_relay_sale.ir_cron_stock_relay_inbox"
BATCH_SIZE = 50  # see docs/BENCHMARKS.md row 7: 25, 50 and 100 cost the same per order; 50 commits every few seconds
# Another worker holds this order (its sale order is being created or changed): try again later.
RETRY_LATER = (psycopg2.errors.UniqueViolation, psycopg2.errors.SerializationFailure,
               psycopg2.errors.LockNotAvailable, psycopg2.errors.DeadlockDetected)
ONE_ORDER_CONSTRAINT = "sale_order_stock_relay_order_uniq"


def _concurrent(exc):
    """A conflict with another worker (retry later), not bad data (another unique index)."""
    if isinstance(exc, psycopg2.errors.UniqueViolation):
        return getattr(exc.diag, "constraint_name", None) == ONE_ORDER_CONSTRAINT
    return True


class StockRelayInbox(models.Model):
    """Shop order events written by stockrelayd, turned into sale orders by the cron below."""

    _name = "stock.relay.inbox"
    _description = "Stock Relay Shop Order Event"
    _table = "stock_relay_inbox"
    _auto = False  # native/sql/stock_relay_schema.sql owns the table
    _log_access = False
    _order = "id desc"
    _rec_name = "shop_order_name"

    # --- columns of stock_relay_inbox (keep in step with the contract) ---
    channel_id = fields.Many2one("stock.relay.channel", required=True, readonly=True, ondelete="cascade")
    shop_order_id = fields.Char(string="Shop Order Id", required=True, readonly=True)
    shop_order_name = fields.Char(string="Shop Order", readonly=True)
    topic = fields.Selection(TOPICS, required=True, readonly=True)
    event_key = fields.Char(string="Event Key", required=True, readonly=True)
    delivery_id = fields.Char(string="Delivery Id", readonly=True)
    shop_updated_at = fields.Datetime(string="Shop Updated", readonly=True)
    payload = fields.Json(required=True, readonly=True)
    received_via = fields.Selection(VIA, string="Received Via", required=True, readonly=True)
    received_at = fields.Datetime(string="Received", readonly=True)
    state = fields.Selection(STATES, readonly=True, default="pending")
    attempts = fields.Integer(readonly=True)
    error_code = fields.Char(string="Error Code", readonly=True)
    last_error = fields.Text(string="Error", readonly=True)
    processed_at = fields.Datetime(string="Processed", readonly=True)
    odoo_model = fields.Char(string="Odoo Model", readonly=True)
    odoo_id = fields.Integer(string="Odoo Record Id", readonly=True)

    # --- not stored ---
    payload_pretty = fields.Text(string="Payload (formatted)", compute="_compute_payload_pretty")
    sale_order_id = fields.Many2one("sale.order", string="Sale Order", compute="_compute_sale_order_id")

    def init(self):
        apply_contract(self.env.cr)

    def _compute_payload_pretty(self):
        for row in self:
            row.payload_pretty = json.dumps(row.payload, indent=2, sort_keys=True, ensure_ascii=False) \
                if row.payload else False

    def _compute_sale_order_id(self):
        for row in self:
            row.sale_order_id = row.odoo_id if row.odoo_model == "sale.order" and row.odoo_id else False

    def action_open_sale_order(self):
        self.ensure_one()
        if not self.sale_order_id:
            raise UserError(_("This event did not become a sale order."))
        return {"type": "ir.actions.act_window", "res_model": "sale.order", "res_id": self.sale_order_id.id,
                "view_mode": "form"}

    # ------------------------------------------------------------ retry
    def action_retry(self):
        """Process failed (or ignored) events again, with the products, taxes and settings Odoo has now."""
        self.check_access("write")
        rows = self.filtered(lambda r: r.state in ("failed", "ignored"))
        if not rows:
            raise UserError(_("Only failed or ignored events can be retried."))
        self.env.cr.execute(
            "UPDATE stock_relay_inbox SET state = 'pending', error_code = NULL, last_error = NULL "
            "WHERE id = ANY(%s) AND state IN ('failed', 'ignored')", [rows.ids])
        self.invalidate_model()
        self.env.ref(CRON_XMLID)._trigger()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"title": _("Retry queued"),
                       "message": _("%s event(s) will be processed again in a few seconds.", len(rows)),
                       "type": "success", "next": {"type": "ir.actions.client", "tag": "soft_reload"}},
        }

    # ------------------------------------------------------------ processing
    @api.model
    def _cron_process(self, batch_size=BATCH_SIZE):
        """Process one batch of pending events; Odoo's cron commits and calls again while some remain.

        The rows are claimed with FOR UPDATE SKIP LOCKED: a second cron worker
        takes the next rows, never these. Each row runs in its own savepoint,
        so a bad row leaves nothing half-created and the others go on.
        """
        self.env.cr.execute(
            "SELECT id FROM stock_relay_inbox WHERE state = 'pending' ORDER BY received_at, id "
            "LIMIT %s FOR UPDATE SKIP LOCKED", [batch_size])
        ids = [row[0] for row in self.env.cr.fetchall()]
        done = self.browse(ids)._process_batch()
        self.env.cr.execute("SELECT count(*) FROM stock_relay_inbox WHERE state = 'pending'")
        remaining = self.env.cr.fetchone()[0]
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining if done else 0)
        return done

    def _process_batch(self):
        """Process these rows; returns how many left 'pending'.

        Fast path (order_batch.py): the batch's new orders are created in one
        ``create`` and confirmed in one ``action_confirm`` (Odoo plans their
        deliveries and reservations in one pass, far cheaper than one by one),
        all in one savepoint; a row with bad shop data fails alone there. If
        Odoo refuses anything, the whole batch is rolled back and processed
        again row by row, each order confirmed in its own row's savepoint, so
        the order Odoo refuses fails alone and leaves nothing behind. If it
        conflicted with another worker, the whole batch waits for the next call.
        """
        if len(self) > 1:
            try:
                with self.env.cr.savepoint():
                    done, to_confirm = BatchImport(self).run()
                    # A later event of the same order in this batch may have confirmed it already.
                    to_confirm = to_confirm.filtered(lambda s: s.state in ("draft", "sent"))
                    for company in to_confirm.company_id:
                        to_confirm.filtered(lambda s: s.company_id == company).with_company(company).with_context(
                            tracking_disable=True).sudo().action_confirm()
                    return done
            except RETRY_LATER as exc:
                if _concurrent(exc):
                    # Another worker committed a change to the same orders or stock (the reservation, the
                    # relay's outbox) after this transaction began: row by row, this transaction's snapshot
                    # would conflict again. Leave the rows pending for the next call, which sees that change.
                    _logger.info("stock_relay_sale: %s rows postponed (%s)", len(self), type(exc).__name__)
                    self.env.ref(CRON_XMLID)._trigger()
                    return 0
                _logger.info("stock_relay_sale: importing %s rows together failed; one by one now",
                             len(self), exc_info=True)
            except Exception:  # noqa: BLE001 - any refusal: find the order it came from, row by row
                _logger.info("stock_relay_sale: importing %s rows together failed; one by one now",
                             len(self), exc_info=True)
        return sum(row._process_one()[0] for row in self)

    def _process_one(self, defer_confirm=False):
        """Turn this event into (a change of) a sale order.

        Returns (1 when the row left 'pending', the new sale order still to confirm when
        ``defer_confirm``)."""
        self.ensure_one()
        to_confirm = self.env["sale.order"]
        try:
            with self.env.cr.savepoint():
                job = OrderImport(self.sudo(), defer_confirm=defer_confirm)
                state, order, note = job.run()
        except ImportFailure as exc:
            self._finish("failed", code=exc.code, error=exc.message)
        except RETRY_LATER as exc:
            if not _concurrent(exc):
                self._finish("failed", code="odoo_refused", error=_("Odoo refused the order: %s", exc))
                return 1, to_confirm
            # A concurrent worker created or changed this order: its snapshot is newer, try again then.
            _logger.info("stock_relay_sale: event %s postponed (%s)", self.id, type(exc).__name__)
            self.env.ref(CRON_XMLID)._trigger()
            return 0, to_confirm
        except (UserError, ValidationError, AccessError) as exc:
            self._finish("failed", code="odoo_refused", error=_("Odoo refused the order: %s", exc))
        except Exception as exc:  # a bug must not block the other events
            _logger.exception("stock_relay_sale: event %s could not be processed", self.id)
            self._finish("failed", code="internal_error", error=f"{type(exc).__name__}: {exc}")
        else:
            self._finish(state, order=order, code=note and note[0], error=note and note[1])
            to_confirm = job.to_confirm
        return 1, to_confirm

    def _finish(self, state, order=None, code=None, error=None):
        self.env.cr.execute(
            """UPDATE stock_relay_inbox
                  SET state = %s, attempts = attempts + 1, error_code = %s, last_error = %s,
                      processed_at = (now() AT TIME ZONE 'UTC'), odoo_model = %s, odoo_id = %s
                WHERE id = %s""",
            [state, code or None, error or None, order and order._name, order and order.id, self.id])
        self.invalidate_recordset()
