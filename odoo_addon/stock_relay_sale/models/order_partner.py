"""The customers of shop orders: matched by email, created with their addresses when new.

``resolve_customers`` does a whole batch of orders with one search for the known
customers, one create for the new ones and one for their new addresses; it gives
each order what importing the orders one after the other would have given it (the
second order of a new customer finds the customer and the addresses the first made).
"""
from .order_errors import ImportFailure

ADDRESS_KEYS = ("street", "street2", "city", "zip")


def _like_escape(value):
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def customer_email(env, order):
    """The order's customer email, or ImportFailure (checked before anything is written)."""
    _ = env._
    email = (order.get("email") or (order.get("customer") or {}).get("email") or "").strip()
    if not email:
        raise ImportFailure("no_customer_email", _(
            "Order %s has no customer email, so no customer can be matched or created.", order.get("name")))
    return email


def find_or_create_customer(cache, order):
    """(customer, invoice address, delivery address) for ``order``."""
    return resolve_customers(cache, [order])[0]


def resolve_customers(cache, orders):
    """[(customer, invoice address, delivery address)] for ``orders``, in their order."""
    emails = [customer_email(cache.env, order) for order in orders]
    customers = _find_customers(cache, emails)
    new = {}
    for order, email in zip(orders, emails):
        if email.lower() not in customers and email.lower() not in new:
            new[email.lower()] = _customer_vals(cache, order, email)
    if new:
        customers.update(zip(new, _partners(cache).create(list(new.values()))))
    book = _AddressBook(cache, [customers[email.lower()] for email in emails])
    wanted = []
    for order, email in zip(orders, emails):
        customer = customers[email.lower()]
        billing = order.get("billing_address") or None
        shipping = order.get("shipping_address") or None
        wanted.append((customer, billing and book.want(customer, "invoice", billing),
                       shipping and book.want(customer, "delivery", shipping)))
    book.create_missing()
    result = []
    for customer, invoice_key, delivery_key in wanted:
        invoice = book.get(invoice_key) if invoice_key else customer
        result.append((customer, invoice, book.get(delivery_key) if delivery_key else invoice))
    return result


def _partners(cache):
    return cache.env["res.partner"].with_context(active_test=True)


def _find_customers(cache, emails):
    """{lower email: the oldest company-less partner with that email (any case)}."""
    distinct = {email.lower(): email for email in emails}
    if not distinct:
        return {}
    domain = ["|"] * (len(distinct) - 1) + [("email", "=ilike", _like_escape(e)) for e in distinct.values()]
    found = {}
    for partner in _partners(cache).search(domain + [("parent_id", "=", False),
                                                     ("company_id", "in", [False, cache.company.id])], order="id"):
        found.setdefault(partner.email.lower(), partner)
    return found


def _customer_vals(cache, order, email):
    customer_data = order.get("customer") or {}
    address = order.get("billing_address") or order.get("shipping_address") or {}
    name = " ".join(p for p in (customer_data.get("first_name"), customer_data.get("last_name")) if p).strip()
    vals = _address_vals(cache, address)
    vals.update({"name": name or address.get("name") or email, "email": email,
                 "phone": customer_data.get("phone") or vals.get("phone"), "company_id": False, "customer_rank": 1})
    return vals


def _address_vals(cache, address):
    vals = {key: (address.get(key) or False) for key in ADDRESS_KEYS}
    if address.get("phone"):
        vals["phone"] = address["phone"]
    country = cache.env["res.country"]
    if code := (address.get("country_code") or "").strip().upper():
        country = cache.country(code)
    vals["country_id"] = country.id or False
    if country and (state_code := (address.get("state_code") or "").strip().upper()):
        vals["state_id"] = cache.state(country, state_code).id or False
    return vals


def _key(vals):
    return tuple(vals[key] or False for key in ADDRESS_KEYS) + (vals["country_id"] or False,)


class _AddressBook:
    """The customers' invoice/delivery addresses: the existing ones, and those still to create."""

    def __init__(self, cache, customers):
        self.cache = cache
        self.known = {}
        self.missing = {}
        seen = set()
        for customer in customers:
            if customer.id in seen:
                continue
            seen.add(customer.id)
            for child in customer.child_ids:  # first match in Odoo's order wins, as before
                vals = {key: child[key] or False for key in ADDRESS_KEYS} | {"country_id": child.country_id.id}
                self.known.setdefault((customer.id, child.type, _key(vals)), child)

    def want(self, customer, kind, address):
        """The key of ``customer``'s ``kind`` address equal to ``address`` (noted for creation if new)."""
        vals = _address_vals(self.cache, address)
        key = (customer.id, kind, _key(vals))
        if key not in self.known and key not in self.missing:
            name = address.get("name") or customer.name
            if address.get("company"):
                name = f"{address['company']}, {name}"
            self.missing[key] = vals | {"parent_id": customer.id, "type": kind, "name": name}
        return key

    def create_missing(self):
        if self.missing:
            self.known.update(zip(self.missing, _partners(self.cache).create(list(self.missing.values()))))
            self.missing = {}

    def get(self, key):
        return self.known[key]
