"""The customer of a shop order: matched by email, created with its addresses when new."""
ADDRESS_KEYS = ("street", "street2", "city", "zip")


def _like_escape(value):
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def find_or_create_customer(env, company, order):
    """(customer, invoice address, delivery address) for ``order``."""
    from .order_import import ImportFailure  # circular at import time

    _ = env._
    customer_data = order.get("customer") or {}
    email = (order.get("email") or customer_data.get("email") or "").strip()
    if not email:
        raise ImportFailure("no_customer_email", _(
            "Order %s has no customer email, so no customer can be matched or created.", order.get("name")))
    Partner = env["res.partner"].with_context(active_test=True)
    customer = Partner.search([("email", "=ilike", _like_escape(email)), ("parent_id", "=", False),
                               ("company_id", "in", [False, company.id])], order="id", limit=1)
    billing = order.get("billing_address") or None
    shipping = order.get("shipping_address") or None
    if not customer:
        name = " ".join(p for p in (customer_data.get("first_name"), customer_data.get("last_name")) if p).strip()
        vals = _address_vals(env, billing or shipping or {})
        vals.update({"name": name or (billing or shipping or {}).get("name") or email, "email": email,
                     "phone": customer_data.get("phone") or vals.get("phone"), "company_id": False,
                     "customer_rank": 1})
        customer = Partner.create(vals)
    invoice = _child_address(customer, "invoice", billing) if billing else customer
    delivery = _child_address(customer, "delivery", shipping) if shipping else invoice
    return customer, invoice, delivery


def _address_vals(env, address):
    vals = {key: (address.get(key) or False) for key in ADDRESS_KEYS}
    if address.get("phone"):
        vals["phone"] = address["phone"]
    country = env["res.country"]
    if code := (address.get("country_code") or "").strip().upper():
        country = country.search([("code", "=", code)], limit=1)
    vals["country_id"] = country.id or False
    if country and (state_code := (address.get("state_code") or "").strip().upper()):
        state = env["res.country.state"].search([("country_id", "=", country.id), ("code", "=", state_code)],
                                                limit=1)
        vals["state_id"] = state.id or False
    return vals


def _child_address(customer, kind, address):
    """The customer's ``kind`` address equal to ``address``, created when it does not exist yet."""
    vals = _address_vals(customer.env, address)
    for child in customer.child_ids.filtered(lambda c: c.type == kind):
        if all((child[key] or False) == vals[key] for key in ADDRESS_KEYS) \
                and child.country_id.id == (vals["country_id"] or False):
            return child
    name = address.get("name") or customer.name
    if address.get("company"):
        name = f"{address['company']}, {name}"
    vals.update({"parent_id": customer.id, "type": kind, "name": name})
    return customer.create(vals)
