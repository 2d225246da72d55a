"""Shop order events as stockrelayd writes them: normalized payloads for the three shops, inserted by SQL."""
import json

from odoo.addons.stock_relay.tests.common import StockRelayCase


def address(name="Ada Lovelace", street="Main Street 1", city="Amsterdam", zip_code="1011 AA", country="NL",
            state=None, company=None):
    return {"name": name, "company": company, "street": street, "street2": None, "city": city, "zip": zip_code,
            "state_code": state, "country_code": country, "phone": "+31 20 123 4567"}


def line(sku, qty, unit, discount="0", taxes=(), included=False, name=None, meta=(), line_id=None):
    return {"id": line_id or f"line-{sku}", "sku": sku, "name": name or f"Item {sku}", "quantity": qty,
            "unit_price": unit, "discount": discount, "taxes_included": included,
            "taxes": [{"name": f"VAT {rate}", "rate": rate, "amount": amount} for rate, amount in taxes],
            "meta": [{"key": k, "value": v} for k, v in meta]}


def order(order_id, name, lines, email="ada@example.com", currency="EUR", updated="2026-11-30T10:00:00Z",
          status="open", shipping=(), billing=None, shipping_address=None, totals=None, first="Ada",
          last="Lovelace"):
    billing = billing if billing is not None else address()
    return {
        "id": order_id, "name": name, "status": status, "financial_status": "paid", "currency": currency,
        "created_at": "2026-11-30T09:59:00Z", "updated_at": updated, "email": email,
        "customer": {"first_name": first, "last_name": last, "email": email, "phone": "+31 6 1234 5678"},
        "billing_address": billing,
        "shipping_address": shipping_address if shipping_address is not None else billing,
        "lines": list(lines), "shipping": list(shipping), "totals": totals or {},
    }


def shopify_raw(norm):
    """The part of Shopify's order webhook body the normalizer reads (REST webhook JSON)."""
    numeric = norm["id"].rsplit("/", 1)[-1]
    return {"id": int(numeric), "admin_graphql_api_id": norm["id"], "name": norm["name"], "email": norm["email"],
            "currency": norm["currency"], "updated_at": norm["updated_at"],
            "cancelled_at": norm["updated_at"] if norm["status"] == "cancelled" else None,
            "line_items": [{"id": 1000 + i, "sku": l["sku"], "title": l["name"], "quantity": l["quantity"],
                            "price": l["unit_price"]} for i, l in enumerate(norm["lines"])]}


def woo_raw(norm):
    return {"id": int(norm["id"]), "number": norm["name"].lstrip("#"), "status":
            "cancelled" if norm["status"] == "cancelled" else "processing", "currency": norm["currency"],
            "date_modified_gmt": norm["updated_at"].rstrip("Z"), "billing": {"email": norm["email"]},
            "prices_include_tax": any(l["taxes_included"] for l in norm["lines"]),
            "line_items": [{"id": 2000 + i, "sku": l["sku"] or "", "name": l["name"], "quantity": l["quantity"],
                            "price": l["unit_price"]} for i, l in enumerate(norm["lines"])]}


def medusa_raw(norm):
    return {"id": norm["id"], "display_id": int(norm["name"].lstrip("#")), "email": norm["email"],
            "currency_code": norm["currency"].lower(), "status": "canceled" if norm["status"] == "cancelled"
            else "pending", "updated_at": norm["updated_at"],
            "items": [{"id": f"item_{i}", "variant_sku": l["sku"], "title": l["name"], "quantity": l["quantity"],
                       "unit_price": l["unit_price"]} for i, l in enumerate(norm["lines"])]}


RAW = {"shopify": shopify_raw, "woocommerce": woo_raw, "medusa": medusa_raw}


class OrderCase(StockRelayCase):
    """StockRelayCase (a warehouse, a channel relaying WH/Stock) plus order import on that channel,
    a second channel on the same stock, and the company's sales taxes."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.channel.orders_enabled = True
        cls.other_channel = cls.env["stock.relay.channel"].create({
            "name": "Other shop", "channel_type": "woocommerce", "base_url": "https://127.0.0.1:9/woo"})
        cls.env["stock.relay.channel.location"].create({
            "channel_id": cls.other_channel.id, "location_key": "", "location_name": "Woo",
            "location_ids": [(6, 0, cls.stock.ids)]})
        cls.woo = cls.env["stock.relay.channel"].create({
            "name": "Woo orders", "channel_type": "woocommerce", "base_url": "https://127.0.0.1:9/shop",
            "orders_enabled": True})
        cls.medusa = cls.env["stock.relay.channel"].create({
            "name": "Medusa orders", "channel_type": "medusa", "base_url": "https://127.0.0.1:9/medusa",
            "orders_enabled": True})
        cls.env.ref("base.EUR").active = True  # the shops' currency in most tests
        Tax = cls.env["account.tax"]
        cls.company = cls.env.company
        # The shops compute tax per line; so does Odoo 18 by default, Odoo 19 rounds per tax by
        # default (a cent apart on the orders below). The tests use the setting matching the shops.
        cls.company.tax_calculation_rounding_method = "round_per_line"
        cls.vat21 = Tax.create({"name": "VAT 21% (test)", "amount": 21.0, "amount_type": "percent",
                                "type_tax_use": "sale", "price_include_override": "tax_excluded", "sequence": 0})
        cls.vat21_incl = Tax.create({"name": "VAT 21% incl. (test)", "amount": 21.0, "amount_type": "percent",
                                     "type_tax_use": "sale", "price_include_override": "tax_included",
                                     "sequence": 0})
        cls.product.write({"list_price": 99.0, "sale_ok": True})
        cls.mug = cls.make_product("SR-MUG", list_price=5.0)
        cls.publish_rows()

    def insert_event(self, norm, channel=None, topic="order_created", via="webhook", delivery=None, raw=None):
        channel = channel or self.channel
        payload = {"order": norm, "raw": raw if raw is not None else RAW[channel.channel_type](norm)}
        self.env.cr.execute(
            """INSERT INTO stock_relay_inbox (channel_id, shop_order_id, shop_order_name, topic, event_key,
                                              delivery_id, shop_updated_at, payload, received_via)
               VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s) RETURNING id""",
            [channel.id, norm["id"], norm["name"], topic, f"{norm['id']}@{norm['updated_at'].rstrip('Z')}",
             delivery, norm["updated_at"].rstrip("Z").replace("T", " "), json.dumps(payload), via])
        return self.env["stock.relay.inbox"].browse(self.env.cr.fetchone()[0])

    def process(self):
        """Run the import cron's work until nothing is pending (as the cron's batches would)."""
        total = 0
        while processed := self.env["stock.relay.inbox"]._cron_process():
            total += processed
        self.env["stock.relay.inbox"].invalidate_model()
        return total

    def sale_for(self, order_id, channel=None):
        return self.env["sale.order"].search([("stock_relay_channel_id", "=", (channel or self.channel).id),
                                              ("stock_relay_order_id", "=", order_id)])

    def assert_row(self, row, state, error_code=None):
        row.invalidate_recordset()
        self.assertEqual((row.state, row.error_code or None), (state, error_code), row.last_error)

    def reserved(self, product=None):
        product = product or self.product
        quants = self.env["stock.quant"].search([("product_id", "=", product.id), ("location_id", "=", self.stock.id)])
        return sum(quants.mapped("reserved_quantity"))
