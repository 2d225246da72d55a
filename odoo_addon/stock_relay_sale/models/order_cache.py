"""What the import looks up per channel (settings, currencies, pricelists, products by SKU, taxes,
countries), resolved once per batch of inbox rows instead of once per order.

A cache lives for one batch only (one cron call), so a product, tax or currency
fixed in Odoo is seen by the next batch, and by Retry.
"""
from odoo import _

from .order_errors import ImportFailure


class ChannelCache:
    def __init__(self, row):
        self.channel = row.channel_id
        self.company = self.channel.company_id or row.env.company
        # No field tracking on what the import writes (the inbox row is the audit trail): it halves the work.
        self.env = row.env(context=dict(row.env.context, allowed_company_ids=[self.company.id],
                                        tracking_disable=True), su=True)
        Settings = self.env["stock.relay.sale.settings"]
        self.settings = Settings.search([("channel_id", "=", self.channel.id)], limit=1) or Settings.new({})
        self._currencies, self._pricelists, self._products, self._taxes = {}, {}, {}, {}
        self._countries, self._states = {}, {}

    # ------------------------------------------------------------ money
    def currency(self, code):
        """The active currency ``code``, or ImportFailure."""
        if code not in self._currencies:
            self._currencies[code] = self.env["res.currency"].with_context(active_test=False).search(
                [("name", "=", code)], limit=1)
        currency = self._currencies[code]
        if not currency or not currency.active:
            raise ImportFailure("unknown_currency", _(
                "The order is in %(code)s, which is not an active currency in Odoo: activate it "
                "(Accounting/Invoicing > Configuration > Currencies), then Retry.", code=code or _("(no currency)")))
        return currency

    def pricelist(self, currency):
        """A pricelist in ``currency`` for the company, created when there is none."""
        if currency.id not in self._pricelists:
            Pricelist = self.env["product.pricelist"]
            pricelist = Pricelist.search([("currency_id", "=", currency.id),
                                          ("company_id", "in", [False, self.company.id])], limit=1)
            if not pricelist:
                pricelist = Pricelist.create({"name": _("Shop orders (%s)", currency.name),
                                              "currency_id": currency.id, "company_id": self.company.id})
            self._pricelists[currency.id] = pricelist
        return self._pricelists[currency.id]

    def tax(self, percent, included, find):
        """``find(percent, included)``, asked once per (rate, price mode)."""
        key = (percent, included)
        if key not in self._taxes:
            self._taxes[key] = find(percent, included)
        return self._taxes[key]

    # ------------------------------------------------------------ products
    def prefetch_products(self, skus):
        """Look up these SKUs in one search (the first product by id wins, as in ``product``)."""
        skus = {sku for sku in skus if sku and sku not in self._products}
        if not skus:
            return
        found = self.env["product.product"].search(
            [("default_code", "in", list(skus)), ("company_id", "in", [False, self.company.id])], order="id")
        found.mapped("sale_ok")  # one read for every product's fields
        for sku in skus:
            self._products[sku] = self.env["product.product"]
        for product in reversed(found):
            self._products[product.default_code] = product

    def product(self, sku):
        """The product whose Internal Reference is ``sku`` (an empty recordset when none)."""
        if sku not in self._products:
            self._products[sku] = self.env["product.product"].search(
                [("default_code", "=", sku), ("company_id", "in", [False, self.company.id])], order="id", limit=1)
        return self._products[sku]

    # ------------------------------------------------------------ addresses
    def country(self, code):
        if code not in self._countries:
            self._countries[code] = self.env["res.country"].search([("code", "=", code)], limit=1)
        return self._countries[code]

    def state(self, country, code):
        key = (country.id, code)
        if key not in self._states:
            self._states[key] = self.env["res.country.state"].search(
                [("country_id", "=", country.id), ("code", "=", code)], limit=1)
        return self._states[key]
