"""Orders and webhooks for the WooCommerce 7.9 emulator (kept out of server.py).

What the real WC 7.9 site showed (shared/specs/woocommerce.md, "Orders and
webhooks"), and what this module reproduces:

- ``POST /wc/v3/orders`` creates an order; ``"status": "processing"`` (or
  completed) reduces the products' stock in the same request, ``pending`` does
  not. ``PUT /wc/v3/orders/<id>`` updates it (a cancellation is a status).
- ``GET /wc/v3/orders?modified_after=<UTC, no offset>&dates_are_gmt=true&
  orderby=modified&order=asc`` compares strictly, to the second; without
  ``dates_are_gmt`` it compares the site-local column (the emulated site runs
  at UTC+1, so forgetting the flag shifts the window by an hour); a bad date is
  400 ``rest_invalid_param``; ``X-WP-Total`` / ``X-WP-TotalPages``.
- ``POST /wc/v3/webhooks`` sends the ping synchronously (form-encoded
  ``webhook_id=N``, no ``X-WC-*`` headers); a failed ping does not fail the 201.
- Deliveries run asynchronously (the Action Scheduler queue) with the order JSON
  built at delivery time and the ``X-WC-Webhook-*`` headers, signature
  base64(HMAC-SHA256(body, secret)). No retry; 5 consecutive failures disable
  the webhook.
- Test control: ``POST /_control/orders/touch {"after_listings": N, "order_id": id}``
  updates the order right after the N-th orders listing from now is served
  (a merchant editing an order while a poll pages through the list).
- Delivery goes through ``wp_safe_remote_post``: only ports 80, 443, 8080 and
  the site's own are allowed, others get nothing (the filter
  ``http_allowed_safe_ports`` adds ports: here ``POST /_control/webhooks``
  ``{"allowed_ports": [...]}``).

Prices here are simple: no tax rates are configured (taxes "0.00"), like a
fresh store.
"""
from __future__ import annotations

import base64
import calendar
import hashlib
import hmac
import http.client
import json
import re
import secrets
import threading
import time
from urllib.parse import urlsplit

SAFE_PORTS = {80, 443, 8080}
TOPICS = {f"{r}.{e}" for r in ("order", "product", "customer", "coupon")
          for e in ("created", "updated", "deleted", "restored")}
STOCK_REDUCING = {"processing", "completed", "on-hold"}
SITE_OFFSET_S = 3600  # the emulated site's timezone is UTC+1 (Europe/Brussels in winter)
USER_AGENT = "WooCommerce/7.9.0 Hookshot (WordPress/6.3)"
ISO_RX = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$")


def gmt(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts))


def money(v) -> str:
    return f"{float(v):.2f}"


def install(*, api_cls, ctx_cls, shop_cls, handler_cls, wperror, wp_json):
    """Adds the routes, controllers, state and control endpoints."""

    def invalid_param(name, message):
        return wperror("rest_invalid_param", f"Invalid parameter(s): {name}",
                       {"status": 400, "params": {name: message}})

    # -- state -------------------------------------------------------------------
    orig_reset = shop_cls.reset

    def reset(self, everything):
        orig_reset(self, everything)
        with self.lock:
            self.orders = {}
            self.next_order_id = 700
            self.webhooks = {}
            self.next_webhook_id = 1
            self.deliveries = []
            self.touch_after = None  # (orders listings left, order id): see /_control/orders/touch
            self.allowed_ports = set()
            self.deliver_async = True

    shop_cls.reset = reset

    # -- rendering ----------------------------------------------------------------
    def render(o):
        out = {k: v for k, v in o.items() if not k.startswith("_")}
        out["date_created"] = gmt(o["_created"] + SITE_OFFSET_S)
        out["date_created_gmt"] = gmt(o["_created"])
        out["date_modified"] = gmt(o["_modified"] + SITE_OFFSET_S)
        out["date_modified_gmt"] = gmt(o["_modified"])
        out["date_paid_gmt"] = gmt(o["_paid"]) if o.get("_paid") else None
        return json.loads(json.dumps(out))

    def find_product(shop, li):
        if li.get("product_id"):
            return shop.products.get(int(li["product_id"]))
        if li.get("sku"):
            ids = shop.ids_for_sku(str(li["sku"]))
            return shop.products.get(ids[0]) if ids else None
        return None

    def build_lines(shop, items, reduce):
        lines, subtotal = [], 0.0
        for n, li in enumerate(items or []):
            p = find_product(shop, li)
            if p is None:
                raise wperror("woocommerce_rest_invalid_product_id", "Invalid product ID.", {"status": 400})
            qty = int(li.get("quantity", 1))
            price = float(li.get("price", p.get("regular_price") or p.get("price") or 0))
            total = float(li.get("total", price * qty))
            lines.append({"id": 300 + shop.next_order_id * 10 + n, "name": p["name"], "product_id": p["id"] if p["type"] != "variation" else p["parent_id"],
                          "variation_id": p["id"] if p["type"] == "variation" else 0, "quantity": qty,
                          "tax_class": "", "subtotal": money(price * qty), "subtotal_tax": "0.00",
                          "total": money(total), "total_tax": "0.00", "taxes": [],
                          "meta_data": [{"id": 1, "key": str(m["key"]), "value": m["value"],
                                         "display_key": str(m["key"]), "display_value": m["value"]}
                                        for m in li.get("meta_data", [])],
                          "sku": p["sku"], "price": price})
            subtotal += total
            if reduce and p.get("manage_stock"):
                shop.apply_stock(p, int(p.get("stock_quantity") or 0) - qty, "order")
        return lines, subtotal

    def totals(o):
        ship = sum(float(s["total"]) for s in o["shipping_lines"])
        items = sum(float(li["total"]) for li in o["line_items"])
        discount = sum(float(li["subtotal"]) - float(li["total"]) for li in o["line_items"])
        o.update({"discount_total": money(discount), "discount_tax": "0.00", "shipping_total": money(ship),
                  "shipping_tax": "0.00", "cart_tax": "0.00", "total": money(items + ship), "total_tax": "0.00"})

    # -- webhooks ---------------------------------------------------------------
    def allowed(shop, url):
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
        return port in SAFE_PORTS or port == shop.port or port in shop.allowed_ports

    def post(shop, url, body: bytes, headers: dict):
        """wp_safe_remote_post: (status or None, error text)."""
        if not allowed(shop, url):
            return None, "http_request_failed: A valid URL was not provided."
        parts = urlsplit(url)
        try:
            conn = http.client.HTTPConnection(parts.hostname, parts.port or 80, timeout=60)
            conn.request("POST", parts.path + ("?" + parts.query if parts.query else ""), body=body,
                         headers={"User-Agent": USER_AGENT, **headers})
            status = conn.getresponse().status
            conn.close()
            return status, ""
        except OSError as e:
            return None, f"http_request_failed: {e}"

    def deliver(shop, hook, order_id, topic):
        with shop.lock:
            o = shop.orders.get(order_id)
            if o is None or hook["status"] != "active":
                return
            body = wp_json(render(o))  # the order as it is at delivery time
            delivery_id = secrets.randbelow(10**6)
        sig = base64.b64encode(hmac.new(hook["secret"].encode(), body, hashlib.sha256).digest()).decode()
        resource, event = topic.split(".")
        status, error = post(shop, hook["delivery_url"], body, {
            "Content-Type": "application/json", "X-WC-Webhook-Source": shop.home() + "/",
            "X-WC-Webhook-Topic": topic, "X-WC-Webhook-Resource": resource, "X-WC-Webhook-Event": event,
            "X-WC-Webhook-Signature": sig, "X-WC-Webhook-ID": str(hook["id"]),
            "X-WC-Webhook-Delivery-ID": str(delivery_id)})
        with shop.lock:
            ok = status is not None and 200 <= status < 300
            shop.deliveries.append({"webhook_id": hook["id"], "topic": topic, "order_id": order_id,
                                    "delivery_id": delivery_id, "status": status, "error": error,
                                    "signature": sig, "at_ms": int(time.time() * 1000)})
            hook["failure_count"] = 0 if ok else hook["failure_count"] + 1
            if hook["failure_count"] > 5:
                hook["status"] = "disabled"

    def fire(shop, order_id, topic):
        hooks = [h for h in shop.webhooks.values() if h["topic"] == topic and h["status"] == "active"]
        for h in hooks:
            if shop.deliver_async:  # Action Scheduler picks it up shortly after the request
                threading.Timer(0.05, deliver, (shop, h, order_id, topic)).start()
            else:
                deliver(shop, h, order_id, topic)

    # -- controllers ---------------------------------------------------------------
    def create_order(self):
        self.require("woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources.")
        shop, p = self.shop, self.params
        with shop.lock:
            status = p.get("status", "pending")
            lines, _ = build_lines(shop, p.get("line_items"), status in STOCK_REDUCING)
            now = time.time()
            oid = shop.next_order_id
            shop.next_order_id += 1
            o = {"id": oid, "parent_id": 0, "number": str(oid), "status": status,
                 "currency": p.get("currency", "EUR"), "prices_include_tax": False, "customer_id": 0,
                 "billing": {**{k: "" for k in ("first_name", "last_name", "company", "address_1", "address_2",
                                                "city", "state", "postcode", "country", "email", "phone")},
                             **(p.get("billing") or {})},
                 "shipping": {**{k: "" for k in ("first_name", "last_name", "company", "address_1", "address_2",
                                                 "city", "state", "postcode", "country", "phone")},
                              **(p.get("shipping") or {})},
                 "line_items": lines, "tax_lines": [],
                 "shipping_lines": [{"id": 900 + oid, "method_title": s.get("method_title", ""),
                                     "method_id": s.get("method_id", ""), "total": money(s.get("total", 0)),
                                     "total_tax": "0.00", "taxes": []} for s in p.get("shipping_lines") or []],
                 "_created": now, "_modified": now, "_paid": now if p.get("set_paid") else None}
            totals(o)
            shop.orders[oid] = o
            fire(shop, oid, "order.created")
            return 201, {}, render(o)

    def get_order(self):
        self.require("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource.")
        o = self.shop.orders.get(int(self.url_params["id"]))
        if o is None:
            raise wperror("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", {"status": 404})
        return 200, {}, render(o)

    def update_order(self):
        self.require("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource.")
        shop, p = self.shop, self.params
        with shop.lock:
            o = shop.orders.get(int(self.url_params["id"]))
            if o is None:
                raise wperror("woocommerce_rest_shop_order_invalid_id", "Invalid ID.", {"status": 400})
            for key in ("billing", "shipping"):
                if isinstance(p.get(key), dict):
                    o[key].update(p[key])
            if p.get("status"):
                o["status"] = p["status"]
            o["_modified"] = time.time()
            fire(shop, o["id"], "order.updated")
            return 200, {}, render(o)

    def list_orders(self):
        self.require("woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        p = self.params
        rows = list(self.shop.orders.values())
        gmt_dates = str(p.get("dates_are_gmt", "")).lower() in ("1", "true")
        for name, key, cmp in (("modified_after", "_modified", lambda a, b: a > b),
                               ("modified_before", "_modified", lambda a, b: a < b),
                               ("after", "_created", lambda a, b: a > b)):
            if p.get(name) is None:
                continue
            value = str(p[name])
            if not ISO_RX.match(value):
                raise invalid_param(name, "Invalid date.")
            bound = calendar.timegm(time.strptime(value, "%Y-%m-%dT%H:%M:%S"))
            if not gmt_dates:
                bound -= SITE_OFFSET_S  # the value was read as site-local time
            rows = [o for o in rows if cmp(int(o[key]), int(bound))]
        if p.get("status") and p["status"] != "any":
            wanted = set(str(p["status"]).split(","))
            rows = [o for o in rows if o["status"] in wanted]
        key = {"modified": "_modified", "id": "id"}.get(p.get("orderby") or "date", "_created")
        rows.sort(key=lambda o: (o[key], o["id"]), reverse=(p.get("order") or "desc") == "desc")
        per_page = int(p.get("per_page") or 10)
        if not 1 <= per_page <= 100:
            raise invalid_param("per_page", "per_page must be between 1 (inclusive) and 100 (inclusive)")
        page = int(p.get("page") or 1)
        chunk = rows[(page - 1) * per_page: page * per_page]
        pages = (len(rows) + per_page - 1) // per_page
        self.req.items = len(chunk)
        body = [render(o) for o in chunk]
        with self.shop.lock:
            plan = self.shop.touch_after
            if plan is not None:
                left, oid = plan[0] - 1, plan[1]
                self.shop.touch_after = (left, oid) if left > 0 else None
                if left <= 0 and oid in self.shop.orders:  # edited right after this page was served
                    self.shop.orders[oid]["_modified"] = time.time()
        return 200, {"X-WP-Total": str(len(rows)), "X-WP-TotalPages": str(pages)}, body

    def hook_view(self, h):
        return {k: v for k, v in h.items() if k != "failure_count"} | {
            "resource": h["topic"].split(".")[0], "event": h["topic"].split(".")[1],
            "hooks": [f"woocommerce_{h['topic'].replace('.', '_')}"]}

    def create_webhook(self):
        self.require("woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources.")
        shop, p = self.shop, self.params
        topic, url = p.get("topic"), p.get("delivery_url")
        if topic not in TOPICS:
            raise wperror("woocommerce_rest_webhook_invalid_topic", "Webhook topic is required and must be valid.",
                          {"status": 400})
        if not url or not str(url).startswith(("http://", "https://")):
            raise wperror("woocommerce_rest_webhook_invalid_delivery_url", "Webhook delivery URL must be a valid URL "
                          "starting with http:// or https://.", {"status": 400})
        with shop.lock:
            hid = shop.next_webhook_id
            shop.next_webhook_id += 1
            h = {"id": hid, "name": p.get("name") or f"Webhook {hid}", "status": p.get("status", "active"),
                 "topic": topic, "delivery_url": url, "secret": p.get("secret") or secrets.token_urlsafe(24),
                 "date_created_gmt": gmt(time.time()), "failure_count": 0}
            shop.webhooks[hid] = h
        status, error = post(shop, url, f"webhook_id={hid}".encode(),
                             {"Content-Type": "application/x-www-form-urlencoded"})  # the ping, synchronous
        with shop.lock:
            shop.deliveries.append({"webhook_id": hid, "topic": "ping", "status": status, "error": error,
                                    "at_ms": int(time.time() * 1000)})
        return 201, {}, hook_view(self, h)

    def list_webhooks(self):
        self.require("woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        hooks = [hook_view(self, h) for h in sorted(self.shop.webhooks.values(), key=lambda h: h["id"])]
        return 200, {"X-WP-Total": str(len(hooks)), "X-WP-TotalPages": "1"}, hooks

    for name, fn in (("create_order", create_order), ("get_order", get_order), ("update_order", update_order),
                     ("list_orders", list_orders), ("create_webhook", create_webhook),
                     ("list_webhooks", list_webhooks)):
        setattr(ctx_cls, name, fn)
    # Key None: the stored 7.9 route dump has no order/webhook arguments; the controllers validate.
    api_cls.ROUTES[-1:-1] = [
        (re.compile(r"^/wc/v3/orders$", re.I), None, {"GET": "list_orders", "POST": "create_order"}),
        (re.compile(r"^/wc/v3/orders/(?P<id>[\d]+)$", re.I), None,
         {"GET": "get_order", "POST": "update_order", "PUT": "update_order", "PATCH": "update_order"}),
        (re.compile(r"^/wc/v3/webhooks$", re.I), None, {"GET": "list_webhooks", "POST": "create_webhook"}),
    ]

    # -- control endpoints ----------------------------------------------------------
    orig_control = handler_cls.control

    def control(self, url, body):
        shop = self.server.shop
        name = url.path[len("/_control/"):].strip("/")
        if name == "webhooks" and self.command == "POST":
            payload = json.loads(body or b"{}")
            with shop.lock:
                if "allowed_ports" in payload:  # the http_allowed_safe_ports filter
                    shop.allowed_ports = set(int(x) for x in payload["allowed_ports"])
                if "async" in payload:
                    shop.deliver_async = bool(payload["async"])
            return self.send(200, {"ok": True})
        if name == "orders/touch" and self.command == "POST":
            # {"after_listings": N, "order_id": id}: the order is updated (as a merchant editing it would)
            # right after the N-th orders listing from now is served: what happens between two pages of a poll.
            payload = json.loads(body or b"{}")
            with shop.lock:
                shop.touch_after = (int(payload["after_listings"]), int(payload["order_id"]))
            return self.send(200, {"ok": True})
        if name == "webhooks/deliveries" and self.command == "GET":
            with shop.lock:
                return self.send(200, {"deliveries": list(shop.deliveries)})
        return orig_control(self, url, body)

    handler_cls.control = control
