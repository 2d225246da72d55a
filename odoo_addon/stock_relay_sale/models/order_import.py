"""One inbox event -> one sale order (created, updated, cancelled or left alone).

The payload's "order" is the normalized shape documented in the contract
(native/sql/stock_relay_schema.sql, v3 [orders]); money is a decimal string.
Every check that can fail runs before anything is written where it can, and
the caller runs all of it in a savepoint, so a failure leaves nothing behind.
"""
from datetime import datetime, timezone
from decimal import Decimal, InvalidOperation

from markupsafe import Markup

from odoo import _
from odoo.fields import Command

from .order_lines import LineBuilder
from .order_partner import find_or_create_customer


class ImportFailure(Exception):
    """Bad input the shop manager can fix: the row fails with ``code`` and ``message``."""

    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def parse_time(value):
    """A shop timestamp as Odoo stores it (naive UTC), or None."""
    if not value:
        return None
    if isinstance(value, datetime):
        return value
    try:
        parsed = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed.astimezone(timezone.utc).replace(tzinfo=None) if parsed.tzinfo else parsed


def money(value, what):
    try:
        return Decimal(str(value if value not in (None, "") else "0"))
    except InvalidOperation:
        raise ImportFailure("invalid_payload", f"{what}: {value!r} is not a number")


class OrderImport:
    def __init__(self, row, defer_confirm=False):
        self.row = row
        # With defer_confirm, a new order that should be confirmed is left in ``to_confirm``
        # for the caller to confirm together with the rest of its batch.
        self.defer_confirm = defer_confirm
        self.to_confirm = row.env["sale.order"]
        self.channel = row.channel_id
        self.company = self.channel.company_id or row.env.company
        # No field tracking on what the import writes (the inbox row is the audit trail): it halves the work.
        self.env = row.env(context=dict(row.env.context, allowed_company_ids=[self.company.id],
                                        tracking_disable=True), su=True)
        self.settings = self.env["stock.relay.sale.settings"].search([("channel_id", "=", self.channel.id)],
                                                                     limit=1) or self.env["stock.relay.sale.settings"].new({})
        self.order = (row.payload or {}).get("order")
        if not isinstance(self.order, dict) or not self.order.get("id") or not isinstance(self.order.get("lines"), list):
            raise ImportFailure("invalid_payload", _("The event has no normalized order (order.id and order.lines)."))
        self.updated_at = parse_time(row.shop_updated_at) or parse_time(self.order.get("updated_at"))
        self.cancelled = self.order.get("status") == "cancelled" or row.topic == "order_cancelled"

    # ------------------------------------------------------------ dispatch
    def run(self):
        """Returns (state, sale order or None, (code, note) or None)."""
        sale = self.env["sale.order"].search([("stock_relay_channel_id", "=", self.channel.id),
                                              ("stock_relay_order_id", "=", str(self.order["id"]))], limit=1)
        if not sale:
            if self.cancelled:
                return "ignored", None, ("cancelled_before_import",
                                         _("The order was cancelled in the shop before Odoo imported it."))
            return "done", self._create(), None
        applied = sale.stock_relay_updated_at
        if applied and self.updated_at and self.updated_at < applied:
            return "ignored", sale, ("stale_event", _("Older than the shop update already applied (%s UTC).",
                                                      applied))
        if self.cancelled:
            return self._cancel(sale)
        if applied and self.updated_at == applied:
            return "ignored", sale, ("already_applied", _("This shop update was already applied."))
        return self._update(sale)

    # ------------------------------------------------------------ create
    def _create(self):
        currency, pricelist = self._currency()
        lines = LineBuilder(self, currency).build()
        customer, invoice, delivery = find_or_create_customer(self.env, self.company, self.order)
        vals = {
            "partner_id": customer.id,
            "partner_invoice_id": invoice.id,
            "partner_shipping_id": delivery.id,
            "company_id": self.company.id,
            "pricelist_id": pricelist.id,
            "client_order_ref": self.order.get("name") or self.row.shop_order_name,
            "origin": f"{self.channel.name} {self.order.get('name') or self.order['id']}",
            "stock_relay_channel_id": self.channel.id,
            "stock_relay_order_id": str(self.order["id"]),
            "stock_relay_updated_at": self.updated_at,
            "order_line": [Command.create(line) for line in lines],
        }
        if created := parse_time(self.order.get("created_at")):
            vals["date_order"] = created
        if self.settings.team_id:
            vals["team_id"] = self.settings.team_id.id
        if self.settings.warehouse_id:
            vals["warehouse_id"] = self.settings.warehouse_id.id
        sale = self.env["sale.order"].create(vals)
        if self.settings.auto_confirm and self.defer_confirm:
            self.to_confirm = sale
        elif self.settings.auto_confirm:
            sale.action_confirm()  # reserves the stock; stock_relay publishes the new numbers to every shop
        return sale

    def _currency(self):
        code = (self.order.get("currency") or "").strip().upper()
        currency = self.env["res.currency"].with_context(active_test=False).search([("name", "=", code)], limit=1)
        if not currency or not currency.active:
            raise ImportFailure("unknown_currency", _(
                "The order is in %(code)s, which is not an active currency in Odoo: activate it "
                "(Accounting/Invoicing > Configuration > Currencies), then Retry.", code=code or _("(no currency)")))
        Pricelist = self.env["product.pricelist"]
        pricelist = Pricelist.search([("currency_id", "=", currency.id),
                                      ("company_id", "in", [False, self.company.id])], limit=1)
        if not pricelist:
            pricelist = Pricelist.create({"name": _("Shop orders (%s)", currency.name), "currency_id": currency.id,
                                          "company_id": self.company.id})
        return currency, pricelist

    # ------------------------------------------------------------ update
    def _update(self, sale):
        lines = LineBuilder(self, sale.currency_id).build()
        if sale.state in ("draft", "sent"):
            sale.write({"order_line": [Command.clear()] + [Command.create(line) for line in lines],
                        "stock_relay_updated_at": self.updated_at})
            if self.settings.auto_confirm:
                sale.action_confirm()
            return "done", sale, None
        sale.stock_relay_updated_at = self.updated_at
        wanted = sorted(_line_key(line) for line in lines)
        have = sorted(_line_key(line) for line in sale.order_line)
        if wanted == have and sale.state != "cancel":
            return "done", sale, None
        sale.message_post(body=_render_change(self.order.get("name"), sale, wanted))
        return "done", sale, ("update_logged", _("Logged on the sale order: the shop changed an order Odoo "
                                                 "had already confirmed."))

    # ------------------------------------------------------------ cancel
    def _cancel(self, sale):
        if sale.state == "cancel":
            return "ignored", sale, ("already_cancelled", _("The sale order is already cancelled."))
        sale.stock_relay_updated_at = self.updated_at
        blocker = _cancel_blocker(sale)
        if not blocker:
            try:
                with self.env.cr.savepoint():
                    sale.with_context(disable_cancel_warning=True).action_cancel()
            except Exception as exc:  # Odoo refused: a person decides
                blocker = str(exc)
        if not blocker:
            sale.message_post(body=_("Cancelled in the shop; the reserved stock was released."))
            return "done", sale, None
        sale.activity_schedule(
            "mail.mail_activity_data_todo", user_id=sale.user_id.id or self.env.ref("base.user_admin").id,
            summary=_("Cancelled in the shop"),
            note=_("Order %(name)s was cancelled in the shop, but Odoo cannot cancel it automatically: %(why)s",
                   name=self.order.get("name"), why=blocker))
        return "done", sale, ("cancel_needs_review", _("Odoo could not cancel it automatically (%s); an "
                                                       "activity was created on the sale order.", blocker))


def _cancel_blocker(sale):
    """Why Odoo should not cancel ``sale`` on its own, or None."""
    _ = sale.env._
    if sale.locked:
        return _("the order is locked")
    if any(p.state == "done" for p in sale.picking_ids):
        return _("goods were already delivered")
    if any(inv.state == "posted" for inv in sale.invoice_ids):
        return _("an invoice is posted")
    return None


def _line_key(line):
    if isinstance(line, dict):
        return (line["product_id"], float(line["product_uom_qty"]), round(float(line["price_unit"]), 2),
                line.get("name") or "")
    return (line.product_id.id, float(line.product_uom_qty), round(line.price_unit, 2), line.name or "")


def _render_change(name, sale, wanted):
    _ = sale.env._
    state = dict(sale._fields["state"].selection)[sale.state]
    lines = Markup("").join(Markup("<li>%s: %s x %s</li>") % (label, f"{qty:g}", f"{price:.2f}")
                            for _pid, qty, price, label in wanted)
    return Markup(_("The shop changed order %(name)s after it was confirmed in Odoo (state: %(state)s); the "
                    "change was NOT applied automatically. The shop now has: %(lines)s Adjust this sale order "
                    "by hand if needed.")) % {"name": name or sale.client_order_ref, "state": state,
                                               "lines": Markup("<ul>%s</ul>") % lines}
