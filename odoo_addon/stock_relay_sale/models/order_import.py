"""One inbox event -> one sale order (created, updated, cancelled or left alone).

The payload's "order" is the normalized shape documented in the contract
(native/sql/stock_relay_schema.sql, v3 [orders]); money is a decimal string.
Every check that can fail runs before anything is written where it can, and
the caller runs all of it in a savepoint, so a failure leaves nothing behind.
"""
from datetime import datetime, timezone

from markupsafe import Markup

from odoo import _
from odoo.fields import Command

from .order_cache import ChannelCache
from .order_errors import ImportFailure  # noqa: F401 - imported from here by stock_relay_inbox
from .order_lines import LineBuilder
from .order_partner import customer_email, find_or_create_customer


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


class OrderImport:
    def __init__(self, row, defer_confirm=False, cache=None):
        """``cache``: the batch's ChannelCache of ``row``'s channel (a fresh one when None)."""
        self.row = row
        # With defer_confirm, a new order that should be confirmed is left in ``to_confirm``
        # for the caller to confirm together with the rest of its batch.
        self.defer_confirm = defer_confirm
        self.to_confirm = row.env["sale.order"]
        self.cache = cache or ChannelCache(row)
        self.channel, self.company, self.env = self.cache.channel, self.cache.company, self.cache.env
        self.settings = self.cache.settings
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
        vals = self.prepare_create()
        vals.update(partner_vals(*find_or_create_customer(self.cache, self.order)))
        sale = self.env["sale.order"].create(vals)
        if self.settings.auto_confirm and self.defer_confirm:
            self.to_confirm = sale
        elif self.settings.auto_confirm:
            sale.action_confirm()  # reserves the stock; stock_relay publishes the new numbers to every shop
        return sale

    def prepare_create(self):
        """The new sale order's values but its customer and addresses (see partner_vals); every check
        that can fail on the shop's data runs here, before anything is written."""
        currency = self.cache.currency((self.order.get("currency") or "").strip().upper())
        lines = LineBuilder(self, currency).build()
        customer_email(self.env, self.order)
        vals = {
            "company_id": self.company.id,
            "pricelist_id": self.cache.pricelist(currency).id,
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
        return vals

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


def partner_vals(customer, invoice, delivery):
    return {"partner_id": customer.id, "partner_invoice_id": invoice.id, "partner_shipping_id": delivery.id}


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
