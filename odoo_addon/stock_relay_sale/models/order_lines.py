"""Sale order lines from a normalized shop order: products by SKU, prices, discounts and taxes as charged."""
from decimal import Decimal

from odoo import _
from odoo.fields import Command
from odoo.tools import float_compare
from odoo.addons.stock_relay.compat import SALE_LINE_TAXES

from .order_errors import ImportFailure, money


class LineBuilder:
    def __init__(self, importer, currency):
        self.imp = importer
        self.env = importer.env
        self.company = importer.company
        self.settings = importer.settings
        self.currency = currency
        self.order = importer.order
        self.cache = importer.cache
        # Shops price an order's shipping the way they price its items.
        self.included = any(line.get("taxes_included") for line in self.order.get("lines") or [])

    def build(self):
        lines = [self._item(line) for line in self.order["lines"] if int(line.get("quantity") or 0) > 0]
        if not lines:
            raise self._fail("invalid_payload", _("Order %s has no line with a quantity.", self.order.get("name")))
        lines += [self._shipping(ship) for ship in self.order.get("shipping") or []]
        return lines

    def _fail(self, code, message):
        return ImportFailure(code, message)

    # ------------------------------------------------------------ items
    def _item(self, line):
        qty = int(line.get("quantity") or 0)
        unit = money(line.get("unit_price"), _("unit price of %s", line.get("name")))
        product, description = self._product(line, unit)
        return self._vals(product, description, qty, unit, money(line.get("discount"), _("discount")),
                          line.get("taxes") or [], bool(line.get("taxes_included")))

    def _product(self, line, unit):
        sku = (line.get("sku") or "").strip()
        product = self.cache.product(sku) if sku else self.env["product.product"]
        if product:
            self._check_sellable(product)
            return product, line.get("name") or product.display_name
        what = _("SKU %(sku)s (line %(name)s)", sku=sku, name=line.get("name")) if sku \
            else _("line %s, which has no SKU", line.get("name"))
        if self.settings.unknown_sku_policy != "fallback":
            raise self._fail("unknown_sku", _(
                "%(what)s matches no Odoo product by Internal Reference: give a product that reference (or "
                "choose the fallback product policy on the channel), then Retry.", what=what))
        fallback = self.settings.fallback_product_id
        if not fallback:
            raise self._fail("unknown_sku", _("%s matches no product and the channel has no fallback product.", what))
        self._check_sellable(fallback)
        return fallback, self._describe(line, unit)

    def _describe(self, line, unit):
        parts = [line.get("name") or _("Shop item")]
        if line.get("sku"):
            parts[0] += f" [{line['sku']}]"
        parts += [f"{m.get('key')}: {m.get('value')}" for m in line.get("meta") or [] if m.get("key")]
        parts.append(_("Shop price: %(price)s %(currency)s", price=unit, currency=self.currency.name))
        return "\n".join(parts)

    def _check_sellable(self, product):
        if not product.sale_ok or not product.active:
            raise self._fail("not_sellable", _(
                "Product %s cannot be sold in Odoo (Sales > Can be Sold is off, or it is archived): "
                "allow it, then Retry.", product.display_name))

    # ------------------------------------------------------------ shipping
    def _shipping(self, ship):
        product = self.settings.shipping_product_id
        if not product:
            raise self._fail("no_shipping_product", _(
                "The order has shipping (%s) but the channel has no shipping product: set one on the channel's "
                "Orders tab, then Retry.", ship.get("name")))
        self._check_sellable(product)
        included = ship.get("taxes_included", self.included)
        return self._vals(product, ship.get("name") or product.display_name, 1,
                          money(ship.get("price"), _("shipping price")), money(ship.get("discount"), _("discount")),
                          ship.get("taxes") or [], bool(included))

    # ------------------------------------------------------------ money
    def _vals(self, product, name, qty, unit, discount, taxes, included):
        gross = unit * qty
        percent = (discount / gross * 100) if gross and discount else Decimal(0)
        return {
            "product_id": product.id,
            "name": name,
            "product_uom_qty": qty,
            "price_unit": float(unit),
            "discount": float(percent),
            SALE_LINE_TAXES: [Command.set(self._taxes(taxes, included).ids)],
        }

    def _taxes(self, taxes, included):
        found = self.env["account.tax"]
        for tax in taxes:
            percent = money(tax.get("rate"), _("tax rate")) * 100
            mapped = self._tax_for(float(percent), included)
            if not mapped and percent:
                raise self._fail("unknown_tax", _(
                    "No sales tax of %(rate)s%% (%(mode)s) in %(company)s for the shop's tax %(name)s: create one "
                    "or map the rate on the channel's Orders tab, then Retry.",
                    rate=f"{percent.normalize():f}", company=self.company.name, name=tax.get("name") or "",
                    mode=_("prices include tax") if included else _("prices exclude tax")))
            found |= mapped
        return found

    def _tax_for(self, percent, included):
        return self.cache.tax(percent, included, self._find_tax)

    def _find_tax(self, percent, included):
        for line in self.imp.channel.sale_tax_map_ids:
            if line.price_include == included and float_compare(line.rate, percent, precision_digits=4) == 0:
                return line.tax_id
        candidates = self.env["account.tax"].search([
            ("type_tax_use", "=", "sale"), ("amount_type", "=", "percent"), ("company_id", "=", self.company.id),
            ("price_include", "=", included)], order="sequence, id")
        return candidates.filtered(lambda t: float_compare(t.amount, percent, precision_digits=4) == 0)[:1]
