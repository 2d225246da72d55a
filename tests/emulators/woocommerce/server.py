#!/usr/bin/python3
"""WooCommerce 7.9 REST v3 emulator (products and variations, stock only).

Started by the tests as

    /usr/bin/python3 server.py --port 0 [--tls-cert F --tls-key F] [--home-url URL]
                               [--trust-forwarded-proto]

it listens on 127.0.0.1, prints ``LISTENING <port>`` and serves until SIGTERM
(or until the process that started it goes away).

The behaviour follows WooCommerce 7.9.0 on WordPress 6.3 as read from their
source (includes/class-wc-rest-authentication.php, the v2/v3 product and
variation controllers, WP_REST_Server/WP_REST_Request and rest-api.php) and
as observed on a real install (shared/specs/woocommerce.md). Argument
validation uses the route ``args`` captured from that install
(wc79_routes.json). Where the emulator knowingly differs from WooCommerce, a
comment says so.

The control API under ``/_control/`` needs no credentials; see README.md.
"""
from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import json
import math
import os
import pathlib
import random
import re
import signal
import socket
import ssl
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, unquote, unquote_plus, urlsplit

import malformed  # beside this file: malformed items for reconciliation tests

HERE = pathlib.Path(__file__).resolve().parent
ROUTE_ARGS = json.loads((HERE / "wc79_routes.json").read_text())["routes"]

# Query parameters that carry credentials: never written to the request log.
SECRET_PARAMS = {"consumer_key", "consumer_secret"}


def now_ms() -> int:
    return int(time.time() * 1000)


def wp_date(ts: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(ts))


class WPError(Exception):
    """A WP_Error: serialised as ``{"code", "message", "data"}``."""

    def __init__(self, code: str, message: str, data=None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    @property
    def status(self) -> int:
        if isinstance(self.data, dict) and "status" in self.data:
            return int(self.data["status"])
        return 500

    def body(self) -> dict:
        return {"code": self.code, "message": self.message, "data": self.data}


# ---------------------------------------------------------------------------
# PHP / WordPress value semantics
# ---------------------------------------------------------------------------
_PHP_WS = " \t\n\r\v\f"
_NUMERIC = re.compile(r"^[ \t\n\r\v\f]*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?[ \t\n\r\v\f]*$")
_LEADING_NUMBER = re.compile(r"^[ \t\n\r\v\f]*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def php_is_numeric(v) -> bool:
    if isinstance(v, bool):
        return False
    if isinstance(v, (int, float)):
        return True
    return isinstance(v, str) and bool(_NUMERIC.match(v))


def php_float(v) -> float:
    if isinstance(v, str):
        return float(v.strip(_PHP_WS))
    return float(v)


def php_intval(v) -> int:
    """PHP ``intval``/``(int)``: what ``wc_stock_amount`` does to unvalidated input."""
    if v is None:
        return 0
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, int):
        return v
    if isinstance(v, float):
        return 0 if (math.isnan(v) or math.isinf(v)) else int(v)
    if isinstance(v, str):
        m = _LEADING_NUMBER.match(v)
        if not m:
            return 0
        f = float(m.group(0).strip(_PHP_WS))
        return 0 if (math.isnan(f) or math.isinf(f)) else int(f)
    if isinstance(v, (list, dict)):
        return 1 if v else 0
    return 0


def php_empty(v) -> bool:
    return v is None or v is False or v == "" or v == "0" or v == 0 or v == [] or v == {}


def wc_string_to_bool(v) -> bool:
    if isinstance(v, bool):
        return v
    if isinstance(v, int):
        return v == 1
    if isinstance(v, str):
        return v.lower() in ("yes", "true", "1")
    return False


def rest_is_boolean(v) -> bool:
    if isinstance(v, bool):
        return True
    if isinstance(v, str):
        return v.lower() in ("false", "true", "0", "1")
    if isinstance(v, int):
        return v in (0, 1)
    return False


def rest_is_integer(v) -> bool:
    if not php_is_numeric(v):
        return False
    f = php_float(v)
    return not (math.isnan(f) or math.isinf(f)) and round(f) == f


def wp_parse_list(v) -> list:
    if isinstance(v, list):
        return v
    if isinstance(v, dict):
        return list(v.values())
    if v is None or v is False:
        return []
    if v is True:
        v = "1"
    return [s for s in re.split(r"[\s,]+", str(v)) if s != ""]


def rest_is_array(v) -> bool:
    if isinstance(v, list):
        return True
    if isinstance(v, dict):
        return all(re.fullmatch(r"-?\d+", str(k)) for k in v)
    return isinstance(v, (str, int, float, bool))


def rest_is_object(v) -> bool:
    return v == "" or isinstance(v, (dict, list))


def _best_type(value, types):
    if value == "" and "string" in types:
        return "string"
    checks = {
        "array": rest_is_array, "object": rest_is_object, "integer": rest_is_integer,
        "number": php_is_numeric, "boolean": rest_is_boolean,
        "string": lambda x: isinstance(x, str), "null": lambda x: x is None,
    }
    for t in types:
        if t in checks and checks[t](value):
            return t
    return ""


def _wp_list(items) -> str:
    items = [str(i) for i in items]
    if len(items) == 1:
        return items[0]
    if len(items) == 2:
        return f"{items[0]} and {items[1]}"
    return ", ".join(items[:-1]) + ", and " + items[-1]


_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}(:?\d{2})?)?$")


def validate_value(value, args, param):
    """``rest_validate_value_from_schema``: None when valid, else a WPError."""
    t = args.get("type")
    if isinstance(t, list):
        best = _best_type(value, t)
        if not best:
            return WPError("rest_invalid_type", f"{param} is not of type {','.join(t)}.", {"param": param})
        t = best
    type_error = WPError("rest_invalid_type", f"{param} is not of type {t}.", {"param": param})
    if t == "null":
        if value is not None:
            return type_error
    elif t == "boolean":
        if not rest_is_boolean(value):
            return type_error
    elif t == "object":
        if not rest_is_object(value):
            return type_error
        props = args.get("properties") or {}
        if isinstance(value, dict):
            for k, v in value.items():
                if k in props:
                    err = validate_value(v, props[k], f"{param}[{k}]")
                    if err:
                        return err
                elif args.get("additionalProperties") is False:
                    return WPError("rest_additional_properties_forbidden", f"{k} is not a valid property of Object.")
    elif t == "array":
        if not rest_is_array(value):
            return type_error
        if "items" in args:
            for i, v in enumerate(wp_parse_list(value)):
                err = validate_value(v, args["items"], f"{param}[{i}]")
                if err:
                    return err
    elif t in ("number", "integer"):
        if not php_is_numeric(value):
            return type_error
        err = _check_bounds(php_float(value), args, param)
        if err:
            return err
        if t == "integer" and not rest_is_integer(value):
            return type_error
    elif t == "string":
        if not isinstance(value, str):
            return type_error
    if args.get("enum"):
        sval = sanitize_value(value, dict(args, type=t))
        if not any(sval == e for e in args["enum"]):
            enc = [e if not isinstance(e, (list, dict)) else json.dumps(e) for e in args["enum"]]
            if len(enc) == 1:
                return WPError("rest_not_in_enum", f"{param} is not {enc[0]}.")
            return WPError("rest_not_in_enum", f"{param} is not one of {_wp_list(enc)}.")
    if args.get("format") == "date-time" and t == "string" and not _DATE.match(value):
        return WPError("rest_invalid_date", "Invalid date.")
    return None


def _check_bounds(v, args, param):
    lo, hi = args.get("minimum"), args.get("maximum")
    xlo, xhi = bool(args.get("exclusiveMinimum")), bool(args.get("exclusiveMaximum"))
    if lo is not None and hi is None:
        if (xlo and v <= lo):
            return WPError("rest_out_of_bounds", f"{param} must be greater than {int(lo)}")
        if (not xlo and v < lo):
            return WPError("rest_out_of_bounds", f"{param} must be greater than or equal to {int(lo)}")
    if hi is not None and lo is None:
        if (xhi and v >= hi):
            return WPError("rest_out_of_bounds", f"{param} must be less than {int(hi)}")
        if (not xhi and v > hi):
            return WPError("rest_out_of_bounds", f"{param} must be less than or equal to {int(hi)}")
    if lo is not None and hi is not None:
        bad = (v <= lo if xlo else v < lo) or (v >= hi if xhi else v > hi)
        if bad:
            a = "exclusive" if xlo else "inclusive"
            b = "exclusive" if xhi else "inclusive"
            return WPError("rest_out_of_bounds", f"{param} must be between {int(lo)} ({a}) and {int(hi)} ({b})")
    return None


def sanitize_value(value, args):
    """``rest_sanitize_value_from_schema`` for already validated values."""
    t = args.get("type")
    if isinstance(t, list):
        t = _best_type(value, t) or "string"
    if t == "integer":
        return int(php_float(value))
    if t == "number":
        return php_float(value)
    if t == "boolean":
        if isinstance(value, str) and value.lower() == "false":
            return False
        return bool(value) and value != "0"
    if t == "array":
        items = wp_parse_list(value)
        if "items" in args:
            items = [sanitize_value(i, args["items"]) for i in items]
        return items
    if t == "string":
        if value is None:
            return ""
        if isinstance(value, bool):
            return "1" if value else ""
        return value if isinstance(value, str) else str(value)
    if t == "null":
        return None
    return value


def endpoint_args(route_key: str, method: str) -> dict:
    for ep in ROUTE_ARGS[route_key]["endpoints"]:
        if method in ep["methods"]:
            return ep["args"]
    return {}


def check_params(params: dict, args: dict) -> None:
    """WP_REST_Request::has_valid_params + sanitize_params + defaults."""
    invalid, details = {}, {}
    missing = [k for k, a in args.items() if a.get("required") is True and params.get(k) is None]
    if missing:
        raise WPError("rest_missing_callback_param", "Missing parameter(s): " + ", ".join(missing),
                      {"status": 400, "params": missing})
    for key, arg in args.items():
        if params.get(key) is None:
            continue
        err = validate_value(params[key], arg, key)
        if err:
            invalid[key] = err.message
            details[key] = err.body()
    if invalid:
        raise WPError("rest_invalid_param", "Invalid parameter(s): " + ", ".join(invalid),
                      {"status": 400, "params": invalid, "details": details})
    for key, arg in args.items():
        if params.get(key) is not None:
            params[key] = sanitize_value(params[key], arg)
        elif key not in params and "default" in arg:
            params[key] = arg["default"]


def sanitize_text_field(s: str) -> str:
    s = re.sub(r"<[^>]*>", "", s)
    s = re.sub(r"[\r\n\t ]+", " ", s)
    return s.strip()


def php_parse_qs(qs: str) -> dict:
    """PHP's $_GET parsing: last plain key wins, ``a[]``/``a[k]`` build arrays (dicts here)."""
    out: dict = {}
    if not qs:
        return out
    for part in qs.split("&"):
        if not part:
            continue
        k, _, v = part.partition("=")
        k, v = unquote_plus(k), unquote_plus(v)
        if not k:
            continue
        m = re.match(r"^([^\[]+)((\[[^\]]*\])+)$", k)
        if not m:
            out[re.sub(r"[ .]", "_", k)] = v
            continue
        base = re.sub(r"[ .]", "_", m.group(1))
        subs = re.findall(r"\[([^\]]*)\]", m.group(2))
        node = out.get(base)
        if not isinstance(node, dict):
            node = out[base] = {}
        for i, sub in enumerate(subs):
            if sub == "":
                sub = str(len(node))
            if i == len(subs) - 1:
                node[sub] = v
            else:
                nxt = node.get(sub)
                if not isinstance(nxt, dict):
                    nxt = node[sub] = {}
                node = nxt
    return out


def php_array_to_param(v):
    """Query arrays become lists when their keys are 0..n-1 (what validation sees)."""
    if isinstance(v, dict):
        vals = {k: php_array_to_param(x) for k, x in v.items()}
        if all(re.fullmatch(r"\d+", k) for k in vals):
            return list(vals.values())
        return vals
    return v


# ---------------------------------------------------------------------------
# OAuth 1.0a one-legged, exactly as WC_REST_Authentication::check_oauth_signature
# ---------------------------------------------------------------------------
def rfc3986(v):
    if isinstance(v, dict):
        return {k: rfc3986(x) for k, x in v.items()}
    if isinstance(v, list):
        return [rfc3986(x) for x in v]
    return quote(str(v), safe="~")


def _join_with_equals(params: dict, out: list, key: str = "") -> list:
    for k, v in params.items():
        if key:
            k = f"{key}%5B{k}%5D"
        if isinstance(v, dict):
            _join_with_equals(v, out, k)
        elif isinstance(v, list):
            _join_with_equals({str(i): x for i, x in enumerate(v)}, out, k)
        else:
            out.append(rfc3986(f"{k}={v}"))
    return out


def oauth_base_string(method: str, base_uri: str, params: dict) -> str:
    params = {k: v for k, v in params.items() if k != "oauth_signature"}
    keys = sorted(params, key=lambda s: s.encode())  # uksort(..., 'strcmp') on raw keys
    normalized = {rfc3986(k): rfc3986(params[k]) for k in keys}
    query = "%26".join(_join_with_equals(normalized, []))
    return f"{method.upper()}&{quote(base_uri, safe='~')}&{query}"


def oauth_signature(base_string: str, secret: str, algo: str) -> str:
    digest = hashlib.sha256 if algo == "HMAC-SHA256" else hashlib.sha1
    return base64.b64encode(hmac.new((secret + "&").encode(), base_string.encode(), digest).digest()).decode()


# ---------------------------------------------------------------------------
# The shop
# ---------------------------------------------------------------------------
class Shop:
    """Products, variations, API keys, history, request log and faults; one lock."""

    def __init__(self, home_url: str | None, trust_forwarded_proto: bool):
        self.lock = threading.RLock()
        self.cli_home_url = home_url
        self.default_trust_xfp = trust_forwarded_proto
        self.port = 0
        self.reset(everything=True)

    # -- state --------------------------------------------------------------
    def reset(self, everything: bool):
        with self.lock:
            if everything:
                self.keys: dict = {}
                self.batch_limit = 100
                self.latency_ms = 0
                self.per_item_latency_ms = 0
                self.home_url = self.cli_home_url
                self.trust_xfp = self.default_trust_xfp
            self.products: dict[int, dict] = {}
            self.sku_index: dict[str, list[int]] = {}
            self.next_id = 10
            self.history_by_id: dict[str, list] = {}
            self.history_by_sku: dict[str, list] = {}
            self.seq = 0
            self.requests: list = []
            self.request_seq = 0
            self.nonces: dict[str, dict] = {}
            self.faults: list = []
            self.rng = random.Random(0)

    def home(self) -> str:
        return (self.home_url or f"http://127.0.0.1:{self.port}").rstrip("/")

    def home_for(self, https: bool) -> str:
        """get_home_url(null, '', is_ssl() ? 'https' : 'http')."""
        h = self.home()
        rest = h.split("://", 1)[1] if "://" in h else h
        return ("https://" if https else "http://") + rest

    def home_path(self) -> str:
        return urlsplit(self.home()).path.rstrip("/")

    # -- SKU index (lookups are case-insensitive and ignore trailing spaces, as
    # MySQL's *_ci PAD SPACE collations on wp_postmeta.meta_value do) ----------
    @staticmethod
    def sku_key(sku: str) -> str:
        return sku.rstrip(" ").lower()

    def _index_sku(self, p: dict):
        if p["sku"]:
            self.sku_index.setdefault(self.sku_key(p["sku"]), []).append(p["id"])

    def _unindex_sku(self, p: dict):
        if p["sku"]:
            ids = self.sku_index.get(self.sku_key(p["sku"]), [])
            if p["id"] in ids:
                ids.remove(p["id"])
            if not ids:
                self.sku_index.pop(self.sku_key(p["sku"]), None)

    def ids_for_sku(self, sku: str) -> list[int]:
        return list(self.sku_index.get(self.sku_key(sku), []))

    def sku_taken(self, sku: str, own_id: int) -> int:
        for pid in self.sku_index.get(self.sku_key(sku), []):
            if pid != own_id and self.products[pid]["status"] != "trash":
                return pid
        return 0

    def unique_sku(self, sku: str, own_id: int) -> str:
        n = 1
        while self.sku_taken(f"{sku}-{n}", own_id):
            n += 1
        return f"{sku}-{n}"

    def new_product(self, *, type_: str, name: str = "", sku: str = "", parent_id: int = 0,
                    pid: int | None = None) -> dict:
        if pid is None:
            pid = self.next_id
        self.next_id = max(self.next_id, pid) + 1
        ts = time.time()
        p = {
            "id": pid, "type": type_, "name": name, "slug": "", "status": "publish", "sku": "",
            "parent_id": parent_id, "manage_stock": False, "stock_quantity": None,
            "stock_status": "instock", "backorders": "no", "low_stock_amount": None,
            "regular_price": "", "sale_price": "", "description": "", "short_description": "",
            "menu_order": 0, "weight": "", "featured": False, "catalog_visibility": "visible",
            "virtual": False, "downloadable": False, "tax_status": "taxable", "tax_class": "",
            "shipping_class": "", "children": [], "created": ts, "modified": ts,
            "dimensions": {"length": "", "width": "", "height": ""},
        }
        self.products[pid] = p
        self.set_sku(p, sku)
        self.set_name(p, name)
        return p

    def set_sku(self, p: dict, sku: str):
        self._unindex_sku(p)
        p["sku"] = sku
        self._index_sku(p)

    def set_name(self, p: dict, name: str):
        p["name"] = name
        if not p["slug"] and p["type"] != "variation":
            base = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or str(p["id"])
            p["slug"] = base

    def delete(self, p: dict):
        self._unindex_sku(p)
        self.products.pop(p["id"], None)
        if p["type"] == "variation":
            parent = self.products.get(p["parent_id"])
            if parent and p["id"] in parent["children"]:
                parent["children"].remove(p["id"])
                self.sync_parent(parent)
        for child in list(p["children"]):
            if child in self.products:
                self.delete(self.products[child])

    def apply_stock(self, p: dict, qty: int, via: str):
        p["stock_quantity"] = qty
        self.seq += 1
        entry = {"seq": self.seq, "id": p["id"], "stock_quantity": qty, "at_ms": now_ms(), "via": via}
        self.history_by_id.setdefault(str(p["id"]), []).append(entry)
        if p["sku"]:
            self.history_by_sku.setdefault(p["sku"], []).append(entry)

    def validate_stock_status(self, p: dict):
        """WC_Product::validate_props: managed stock decides the status."""
        if p["manage_stock"] and p["type"] != "variable":
            qty = p["stock_quantity"] or 0
            if qty > 0:  # woocommerce_notify_no_stock_amount = 0
                p["stock_status"] = "instock"
            elif p["backorders"] != "no":
                p["stock_status"] = "onbackorder"
            else:
                p["stock_status"] = "outofstock"
        if p["type"] == "variable":
            self.sync_parent(p)

    def sync_parent(self, parent: dict):
        """WC_Product_Variable::sync_stock_status."""
        kids = [self.products[c] for c in parent["children"] if c in self.products]
        if not kids:
            if parent["manage_stock"]:
                qty = parent["stock_quantity"] or 0
                parent["stock_status"] = "instock" if qty > 0 else (
                    "onbackorder" if parent["backorders"] != "no" else "outofstock")
            return
        statuses = {k["stock_status"] for k in kids if k["status"] == "publish"} or {k["stock_status"] for k in kids}
        if "instock" in statuses:
            parent["stock_status"] = "instock"
        elif "onbackorder" in statuses:
            parent["stock_status"] = "onbackorder"
        else:
            parent["stock_status"] = "outofstock"

    # -- seeding --------------------------------------------------------------
    def seed(self, products: list) -> dict:
        ids: dict = {}
        created = []

        def note(p):
            created.append({"id": p["id"], "sku": p["sku"], "type": p["type"], "parent_id": p["parent_id"]})
            if p["sku"]:
                if p["sku"] in ids:
                    prev = ids[p["sku"]]
                    ids[p["sku"]] = (prev if isinstance(prev, list) else [prev]) + [p["id"]]
                else:
                    ids[p["sku"]] = p["id"]

        with self.lock:
            for spec in products:
                type_ = spec.get("type", "simple")
                p = self.new_product(type_=type_, name=spec.get("name") or spec.get("sku") or "Product",
                                     sku=spec.get("sku", ""), pid=spec.get("id"))
                self._seed_fields(p, spec)
                for vspec in spec.get("variations", []) if type_ == "variable" else []:
                    v = self.new_product(type_="variation", name=vspec.get("name") or p["name"],
                                         sku=vspec.get("sku", ""), parent_id=p["id"], pid=vspec.get("id"))
                    self._seed_fields(v, vspec)
                    p["children"].append(v["id"])
                    note(v)
                self.validate_stock_status(p)
                note(p)
        return {"ids": ids, "products": created}

    def _seed_fields(self, p: dict, spec: dict):
        for f in ("status", "backorders", "regular_price", "sale_price", "description", "menu_order", "slug"):
            if f in spec:
                p[f] = spec[f]
        p["manage_stock"] = bool(spec.get("manage_stock", False))
        if p["manage_stock"]:
            p["stock_quantity"] = int(spec.get("stock_quantity") or 0)
        if "stock_status" in spec:
            p["stock_status"] = spec["stock_status"]
        self.validate_stock_status(p)

    def state(self) -> dict:
        with self.lock:
            rows, by_id, by_sku = [], {}, {}
            for p in sorted(self.products.values(), key=lambda x: x["id"]):
                rows.append({k: p[k] for k in ("id", "sku", "type", "parent_id", "status", "manage_stock",
                                                "stock_quantity", "stock_status", "backorders")})
                by_id[str(p["id"])] = p["stock_quantity"]
                if p["sku"]:
                    if p["sku"] in by_sku:
                        prev = by_sku[p["sku"]]
                        by_sku[p["sku"]] = (prev if isinstance(prev, list) else [prev]) + [p["stock_quantity"]]
                    else:
                        by_sku[p["sku"]] = p["stock_quantity"]
            return {"products": rows, "by_id": by_id, "by_sku": by_sku}

    def set_stock_direct(self, body: dict) -> dict:
        """Control API: change stock as a shop-side sale would (recorded with via=control)."""
        with self.lock:
            ids = [int(body["id"])] if "id" in body else self.ids_for_sku(body.get("sku", ""))
            if not ids:
                raise WPError("not_found", "no such product", {"status": 404})
            for pid in ids:
                p = self.products[pid]
                p["manage_stock"] = True
                self.apply_stock(p, int(body["stock_quantity"]), "control")
                self.validate_stock_status(p)
                if p["type"] == "variation" and p["parent_id"] in self.products:
                    self.sync_parent(self.products[p["parent_id"]])
            return {"ids": ids}

    # -- faults ---------------------------------------------------------------
    def set_faults(self, rules: list, seed):
        with self.lock:
            self.faults = [dict(r, fired=0) for r in rules]
            self.rng = random.Random(seed if seed is not None else 0)

    def pick_fault(self, method: str, path: str):
        with self.lock:
            for r in self.faults:
                if r.get("path_contains") and r["path_contains"] not in path:
                    continue
                if r.get("method") and r["method"].upper() != method:
                    continue
                if r.get("times") is not None and r["fired"] >= int(r["times"]):
                    continue
                prob = r.get("probability")
                if prob is not None and self.rng.random() >= float(prob):
                    continue
                r["fired"] += 1
                return dict(r)
            return None

    def log_request(self, entry: dict):
        with self.lock:
            self.request_seq += 1
            entry["seq"] = self.request_seq
            self.requests.append(entry)
            if len(self.requests) > 200000:
                del self.requests[:100000]


# ---------------------------------------------------------------------------
# Response shapes
# ---------------------------------------------------------------------------
def price_of(p):
    return p["sale_price"] if p["sale_price"] != "" else p["regular_price"]


def on_sale(p):
    try:
        return p["sale_price"] != "" and float(p["sale_price"]) < float(p["regular_price"] or "inf")
    except ValueError:
        return False


def price_html(p):
    pr = price_of(p)
    if pr == "":
        return ""
    return ('<span class="woocommerce-Price-amount amount"><bdi><span class="woocommerce-Price-currencySymbol">'
            f'&#36;</span>{float(pr):.2f}</bdi></span>')


def backordered(p):
    if p["stock_status"] == "onbackorder":
        return True
    return bool(p["manage_stock"] and p["backorders"] != "no" and (p["stock_quantity"] or 0) < 0)


class Renderer:
    def __init__(self, shop: Shop, https: bool):
        self.shop = shop
        self.https = https
        self.home = shop.home_for(https)

    def rest_url(self, path: str) -> str:
        return f"{self.home}/wp-json{path}"

    def permalink(self, p):
        if p["type"] == "variation":
            parent = self.shop.products.get(p["parent_id"])
            slug = parent["slug"] if parent else str(p["parent_id"])
            return f"{self.home}/product/{slug}/?variation_id={p['id']}"
        return f"{self.home}/product/{p['slug']}/"

    def product_links(self, p):
        links = {"self": [{"href": self.rest_url(f"/wc/v3/products/{p['id']}")}],
                 "collection": [{"href": self.rest_url("/wc/v3/products")}]}
        if p["parent_id"]:
            links["up"] = [{"href": self.rest_url(f"/wc/v3/products/{p['parent_id']}")}]
        return links

    def variation_links(self, v, product_id):
        base = f"/wc/v3/products/{product_id}/variations"
        return {"self": [{"href": self.rest_url(f"{base}/{v['id']}")}],
                "collection": [{"href": self.rest_url(base)}],
                "up": [{"href": self.rest_url(f"/wc/v3/products/{product_id}")}]}

    def product(self, p, context="view"):
        """WC_REST_Products_Controller::get_product_data (v3)."""
        created, modified = wp_date(p["created"]), wp_date(p["modified"])
        d = {
            "id": p["id"], "name": p["name"], "slug": p["slug"], "permalink": self.permalink(p),
            "date_created": created, "date_created_gmt": created,
            "date_modified": modified, "date_modified_gmt": modified,
            "type": p["type"], "status": p["status"], "featured": p["featured"],
            "catalog_visibility": p["catalog_visibility"], "description": p["description"],
            "short_description": p["short_description"], "sku": p["sku"], "price": price_of(p),
            "regular_price": p["regular_price"], "sale_price": p["sale_price"],
            "date_on_sale_from": None, "date_on_sale_from_gmt": None,
            "date_on_sale_to": None, "date_on_sale_to_gmt": None,
            "on_sale": on_sale(p), "purchasable": price_of(p) != "" and p["status"] == "publish",
            "total_sales": 0, "virtual": p["virtual"], "downloadable": p["downloadable"],
            "downloads": [], "download_limit": -1, "download_expiry": -1, "external_url": "",
            "button_text": "", "tax_status": p["tax_status"], "tax_class": p["tax_class"],
            "manage_stock": p["manage_stock"], "stock_quantity": p["stock_quantity"],
            "backorders": p["backorders"], "backorders_allowed": p["backorders"] != "no",
            "backordered": backordered(p), "low_stock_amount": p["low_stock_amount"],
            "sold_individually": False, "weight": p["weight"], "dimensions": dict(p["dimensions"]),
            "shipping_required": not p["virtual"],
            "shipping_taxable": not p["virtual"] and p["tax_status"] in ("taxable", "shipping"),
            "shipping_class": p["shipping_class"], "shipping_class_id": 0, "reviews_allowed": True,
            "average_rating": "0.00", "rating_count": 0, "upsell_ids": [], "cross_sell_ids": [],
            "parent_id": p["parent_id"], "purchase_note": "", "categories": [], "tags": [],
            "images": [], "attributes": [], "default_attributes": [],
            "variations": list(p["children"]) if p["type"] == "variable" else [],
            "grouped_products": [], "menu_order": p["menu_order"], "price_html": price_html(p),
            "related_ids": [], "meta_data": [], "stock_status": p["stock_status"],
            "has_options": p["type"] == "variable",
        }
        if context == "edit":
            d["generated_slug"] = p["slug"]
            d["permalink_template"] = f"{self.home}/product/%pagename%/"
        return malformed.apply(p, d)

    def variation(self, v, context="view"):
        """WC_REST_Product_Variations_Controller::prepare_object_for_response (v3)."""
        created, modified = wp_date(v["created"]), wp_date(v["modified"])
        return malformed.apply(v, {
            "id": v["id"], "date_created": created, "date_created_gmt": created,
            "date_modified": modified, "date_modified_gmt": modified,
            "description": v["description"], "permalink": self.permalink(v), "sku": v["sku"],
            "price": price_of(v), "regular_price": v["regular_price"], "sale_price": v["sale_price"],
            "date_on_sale_from": None, "date_on_sale_from_gmt": None,
            "date_on_sale_to": None, "date_on_sale_to_gmt": None, "on_sale": on_sale(v),
            "status": v["status"], "purchasable": price_of(v) != "" and v["status"] == "publish",
            "virtual": v["virtual"], "downloadable": v["downloadable"], "downloads": [],
            "download_limit": -1, "download_expiry": -1, "tax_status": v["tax_status"],
            "tax_class": v["tax_class"], "manage_stock": v["manage_stock"],
            "stock_quantity": v["stock_quantity"], "stock_status": v["stock_status"],
            "backorders": v["backorders"], "backorders_allowed": v["backorders"] != "no",
            "backordered": backordered(v), "low_stock_amount": v["low_stock_amount"],
            "weight": v["weight"], "dimensions": dict(v["dimensions"]),
            "shipping_class": v["shipping_class"], "shipping_class_id": 0, "image": None,
            "attributes": [], "menu_order": v["menu_order"], "meta_data": [],
        })


def filter_fields(data, fields_param):
    """rest_filter_response_fields: ``_fields=a,b.c``."""
    fields = [f.strip() for f in wp_parse_list(fields_param)]
    if not fields:
        return data
    tree: dict = {}
    for f in fields:
        node = tree
        parts = f.split(".")
        for i, part in enumerate(parts):
            if i == len(parts) - 1:
                node[part] = True
            else:
                nxt = node.get(part)
                if nxt is True:
                    break
                node = node.setdefault(part, {})

    def pick(obj, t):
        if not isinstance(obj, dict):
            return obj
        out = {}
        for k, v in obj.items():
            if k in t:
                out[k] = v if t[k] is True else pick(v, t[k])
        return out

    if isinstance(data, list):
        return [pick(item, tree) for item in data]
    return pick(data, tree)


# ---------------------------------------------------------------------------
# Request handling
# ---------------------------------------------------------------------------
class Request:
    def __init__(self, method, raw_uri, path, query, headers, body, https):
        self.http_method = method  # what OAuth signs
        self.method = method       # after _method / X-HTTP-Method-Override
        self.raw_uri = raw_uri
        self.path = path
        self.query = query
        self.headers = headers
        self.body = body
        self.https = https
        self.get = php_parse_qs(query)
        self.post: dict = {}
        self.json = None
        self.json_error = None
        ctype = (headers.get("Content-Type") or "").split(";")[0].strip().lower()
        self.is_json = ctype == "application/json"
        if self.is_json and body.strip():
            try:
                self.json = json.loads(body)
            except ValueError as e:
                self.json_error = str(e)
        elif ctype == "application/x-www-form-urlencoded" and body:
            self.post = php_parse_qs(body.decode("utf-8", "replace"))
        override = self.get.get("_method") or headers.get("X-HTTP-Method-Override")
        if method == "POST" and isinstance(override, str) and override:
            self.method = override.upper()
        self.auth_scheme = "none"
        self.items = None

    def params(self, url_params: dict) -> dict:
        """WP parameter order: JSON, POST, GET, URL, defaults (first wins)."""
        merged = {}
        merged.update(url_params)
        merged.update({k: php_array_to_param(v) for k, v in self.get.items()})
        if self.method in ("POST", "PUT", "PATCH", "DELETE"):
            merged.update({k: php_array_to_param(v) for k, v in self.post.items()})
        if isinstance(self.json, dict):
            merged.update(self.json)
        return merged


class Api:
    """Authentication, routing, validation and the product controllers."""

    ROUTES = [
        (re.compile(r"^/wc/v3$", re.I), "/wc/v3", {"GET": "namespace_index"}),
        (re.compile(r"^/wc/v3/products$", re.I), "/wc/v3/products",
         {"GET": "list_products", "POST": "create_product"}),
        (re.compile(r"^/wc/v3/products/(?P<id>[\d]+)$", re.I), "/wc/v3/products/(?P<id>[\\d]+)",
         {"GET": "get_product", "POST": "update_product", "PUT": "update_product",
          "PATCH": "update_product", "DELETE": "delete_product"}),
        (re.compile(r"^/wc/v3/products/batch$", re.I), "/wc/v3/products/batch",
         {"POST": "batch_products", "PUT": "batch_products", "PATCH": "batch_products"}),
        (re.compile(r"^/wc/v3/products/(?P<product_id>[\d]+)/variations$", re.I),
         "/wc/v3/products/(?P<product_id>[\\d]+)/variations",
         {"GET": "list_variations", "POST": "create_variation"}),
        (re.compile(r"^/wc/v3/products/(?P<product_id>[\d]+)/variations/(?P<id>[\d]+)$", re.I),
         "/wc/v3/products/(?P<product_id>[\\d]+)/variations/(?P<id>[\\d]+)",
         {"GET": "get_variation", "POST": "update_variation", "PUT": "update_variation",
          "PATCH": "update_variation", "DELETE": "delete_variation"}),
        (re.compile(r"^/wc/v3/products/(?P<product_id>[\d]+)/variations/batch$", re.I),
         "/wc/v3/products/(?P<product_id>[\\d]+)/variations/batch",
         {"POST": "batch_variations", "PUT": "batch_variations", "PATCH": "batch_variations"}),
        (re.compile(r"^/$"), None, {"GET": "site_index"}),
    ]

    def __init__(self, shop: Shop):
        self.shop = shop

    # -- authentication (WC_REST_Authentication, WC 7.9) ----------------------
    def authenticate(self, req: Request):
        """Returns the API key record or None; raises the stored auth error."""
        shop = self.shop
        # is_request_to_rest_api(): a substring test on the raw request URI, so
        # ?rest_route=/wc/v3/... never authenticates (the permalink trap).
        if "wp-json/wc/" not in req.raw_uri and "wp-json/wc-" not in req.raw_uri:
            return None
        error = None
        user = None
        # What the client tried, for the request log (even when plain HTTP ignores it).
        if (req.headers.get("Authorization") or "")[:6].lower() == "basic ":
            req.auth_scheme = "basic"
        elif "consumer_key" in req.get:
            req.auth_scheme = "query"
        if req.https:
            ck = cs = ""
            if not php_empty(req.get.get("consumer_key")) and not php_empty(req.get.get("consumer_secret")):
                ck, cs = req.get["consumer_key"], req.get["consumer_secret"]
                req.auth_scheme = "query"
            if not ck:
                authz = req.headers.get("Authorization") or ""
                if authz[:6].lower() == "basic ":
                    try:
                        dec = base64.b64decode(authz[6:].strip()).decode("utf-8", "replace")
                    except ValueError:
                        dec = ""
                    u, _, pw = dec.partition(":")
                    if u and pw:
                        ck, cs = u, pw
                        req.auth_scheme = "basic"
            if ck and cs and isinstance(ck, str) and isinstance(cs, str):
                rec = shop.keys.get(sanitize_text_field(ck))
                if rec is not None:
                    if hmac.compare_digest(rec["consumer_secret"].encode(), cs.encode()):
                        user = rec
                    else:
                        error = WPError("woocommerce_rest_authentication_error", "Consumer secret is invalid.",
                                        {"status": 401})
        if user is None:
            params = self._oauth_params(req)
            if params is not None:
                req.auth_scheme = "oauth1:" + str(params.get("oauth_signature_method", ""))
                error, user = self._oauth(req, params)
        if error is not None:
            raise error
        return user

    def _oauth_params(self, req: Request):
        params = dict(req.get)
        if req.http_method == "POST":
            params.update(req.post)
        header = (req.headers.get("Authorization") or "").strip()
        if header.startswith("OAuth "):
            for m in re.finditer(r'(oauth_[a-z_-]*)=(:?"([^"]*)"|([^,]*))', header):
                params[m.group(1)] = unquote_plus(m.group(3) if m.group(3) else (m.group(4) or ""))
        names = ["oauth_consumer_key", "oauth_timestamp", "oauth_nonce", "oauth_signature",
                 "oauth_signature_method"]
        missing = [n for n in names if php_empty(params.get(n))]
        if len(missing) == len(names):
            return None
        if missing:
            word = "parameter" if len(missing) == 1 else "parameters"
            raise WPError("woocommerce_rest_authentication_missing_parameter",
                          f"Missing OAuth {word} {', '.join(missing)}", {"status": 401})
        return params

    def _oauth(self, req: Request, params: dict):
        shop = self.shop
        key = params["oauth_consumer_key"]
        rec = shop.keys.get(sanitize_text_field(key)) if isinstance(key, str) else None
        if rec is None:
            return WPError("woocommerce_rest_authentication_error", "Consumer key is invalid.", {"status": 401}), None
        request_path = urlsplit(req.raw_uri).path
        wp_base = shop.home_path() + "/"
        if request_path.startswith(wp_base):
            request_path = request_path[len(wp_base):]
        base_uri = shop.home_for(req.https) + "/" + request_path.lstrip("/")
        sig = params.get("oauth_signature")
        consumer_sig = unquote(str(sig).replace(" ", "+"))
        method = params.get("oauth_signature_method")
        base = oauth_base_string(req.http_method, base_uri, params)
        if method not in ("HMAC-SHA1", "HMAC-SHA256"):
            return WPError("woocommerce_rest_authentication_error",
                           "Invalid signature - signature method is invalid.", {"status": 401}), None
        expected = oauth_signature(base, rec["consumer_secret"], method)
        if not hmac.compare_digest(expected.encode(), consumer_sig.encode()):
            return WPError("woocommerce_rest_authentication_error",
                           "Invalid signature - provided signature does not match.", {"status": 401}), None
        ts_raw = params.get("oauth_timestamp")
        now = time.time()
        window = 15 * 60
        ts = php_float(ts_raw) if php_is_numeric(ts_raw) else None
        if ts is None or ts < now - window or ts > now + window:
            return WPError("woocommerce_rest_authentication_error", "Invalid timestamp.", {"status": 401}), None
        nonce = params.get("oauth_nonce")
        with shop.lock:
            used = shop.nonces.setdefault(rec["consumer_key"], {})
            # WooCommerce stores used nonces keyed by timestamp, so a second nonce in the
            # same second evicts the first; the emulator keeps every nonce (stricter).
            if nonce in used:
                return WPError("woocommerce_rest_authentication_error",
                               "Invalid nonce - nonce has already been used.", {"status": 401}), None
            used[nonce] = ts
            for n, t in list(used.items()):
                if t < now - window:
                    del used[n]
        return None, rec

    @staticmethod
    def check_key_permissions(user, method):
        perms = user.get("permissions", "read_write")
        if method in ("HEAD", "GET") and perms not in ("read", "read_write"):
            raise WPError("woocommerce_rest_authentication_error",
                          "The API key provided does not have read permissions.", {"status": 401})
        if method in ("POST", "PUT", "PATCH", "DELETE") and perms not in ("write", "read_write"):
            raise WPError("woocommerce_rest_authentication_error",
                          "The API key provided does not have write permissions.", {"status": 401})

    # -- dispatch ---------------------------------------------------------------
    def handle(self, req: Request, route: str):
        """Returns (status, headers, data) or raises WPError."""
        user = self.authenticate(req)
        if user is not None:
            self.check_key_permissions(user, req.method)
        route = route.rstrip("/") or "/"
        for rx, key, handlers in self.ROUTES:
            m = rx.match(route)
            if not m:
                continue
            if req.method == "OPTIONS" and key:
                r = ROUTE_ARGS[key]
                return 200, {}, {"namespace": "wc/v3", "methods": r["methods"], "endpoints": r["endpoints"]}
            name = handlers.get("GET" if req.method == "HEAD" else req.method)
            if not name:
                continue
            if req.json_error is not None:
                raise WPError("rest_invalid_json", "Invalid JSON body passed.",
                              {"status": 400, "json_error_code": 4, "json_error_message": "Syntax error"})
            url_params = {k: v for k, v in m.groupdict().items()}
            params = req.params(url_params)
            if key:
                check_params(params, endpoint_args(key, req.method if req.method != "HEAD" else "GET"))
            ctx = Ctx(self.shop, req, user, params, url_params)
            return getattr(ctx, name)()
        raise WPError("rest_no_route", "No route was found matching the URL and request method.", {"status": 404})


def not_allowed(code, message):
    # rest_authorization_required_code(): 401 when nobody is logged in.
    return WPError(code, message, {"status": 401})


class Ctx:
    """One dispatched request: the WC controller methods."""

    def __init__(self, shop: Shop, req: Request, user, params: dict, url_params: dict):
        self.shop = shop
        self.req = req
        self.user = user
        self.params = params
        self.url_params = url_params
        self.r = Renderer(shop, req.https)

    def logged_in(self):
        return self.user is not None

    def require(self, code, message):
        if not self.logged_in():
            raise not_allowed(code, message)

    # -- indexes ----------------------------------------------------------------
    def site_index(self):
        home = self.r.home
        return 200, {}, {
            "name": "stockrelay WooCommerce 7.9 emulator", "description": "", "url": home, "home": home,
            "gmt_offset": "0", "timezone_string": "",
            "namespaces": ["oembed/1.0", "wc/store/v1", "wc/store", "wc-analytics", "wc/v1", "wc/v2", "wc/v3",
                           "wc-telemetry", "wp/v2"],
            "authentication": [],
            "routes": {"/": {"namespace": "", "methods": ["GET"]},
                       "/wc/v3": {"namespace": "wc/v3", "methods": ["GET"],
                                  "_links": {"self": [{"href": self.r.rest_url("/wc/v3")}]}}},
            "_links": {"help": [{"href": "https://developer.wordpress.org/rest-api/"}]},
        }

    def namespace_index(self):
        routes = {}
        for key, r in ROUTE_ARGS.items():
            entry = {"namespace": "wc/v3", "methods": r["methods"], "endpoints": r["endpoints"]}
            if "(?P<" not in key:
                entry["_links"] = {"self": [{"href": self.r.rest_url(key)}]}
            routes[key] = entry
        return 200, {}, {"namespace": "wc/v3", "routes": routes,
                         "_links": {"up": [{"href": self.r.rest_url("/")}]}}

    # -- collections --------------------------------------------------------------
    def _collection(self, candidates, route_base, render):
        p = self.params
        rows = list(candidates)
        include = [int(i) for i in p.get("include") or []]
        exclude = set(int(i) for i in p.get("exclude") or [])
        parents = set(int(i) for i in p.get("parent") or [])
        parent_ex = set(int(i) for i in p.get("parent_exclude") or [])
        if include:
            inc = set(include)
            rows = [x for x in rows if x["id"] in inc]
        if exclude:
            rows = [x for x in rows if x["id"] not in exclude]
        if parents:
            rows = [x for x in rows if x["parent_id"] in parents]
        if parent_ex:
            rows = [x for x in rows if x["parent_id"] not in parent_ex]
        status = p.get("status") or "any"
        if status == "any":
            rows = [x for x in rows if x["status"] not in ("trash", "auto-draft")]
        else:
            rows = [x for x in rows if x["status"] == status]
        if p.get("type"):
            rows = [x for x in rows if x["type"] == p["type"]]  # variations have no product_type term
        if p.get("stock_status"):
            rows = [x for x in rows if x["stock_status"] == p["stock_status"]]
        if p.get("search"):
            s = str(p["search"]).lower()
            rows = [x for x in rows if s in x["name"].lower() or s in x["description"].lower()]
        if p.get("slug"):
            rows = [x for x in rows if x["slug"] == p["slug"]]
        orderby, order = p.get("orderby") or "date", p.get("order") or "desc"
        if orderby == "include" and include:
            pos = {pid: i for i, pid in enumerate(include)}
            rows.sort(key=lambda x: pos.get(x["id"], 0))
        else:
            keyf = {
                "id": lambda x: x["id"], "title": lambda x: (x["name"].lower(), x["id"]),
                "slug": lambda x: (x["slug"], x["id"]), "modified": lambda x: (x["modified"], x["id"]),
                "menu_order": lambda x: (x["menu_order"], x["name"].lower(), x["id"]),
            }.get(orderby, lambda x: (x["created"], x["id"]))
            rows.sort(key=keyf, reverse=(order == "desc"))
        per_page = int(p.get("per_page") or 10)
        page = int(p.get("page") or 1)
        total = len(rows)
        start = int(p["offset"]) if p.get("offset") is not None else (page - 1) * per_page
        chunk = rows[start:start + per_page]
        pages = math.ceil(total / per_page) if per_page else 0
        data = []
        for x in chunk:
            item = render(x)
            data.append(item)
        if p.get("_fields"):
            data = filter_fields(data, p["_fields"])
        headers = {"X-WP-Total": str(total), "X-WP-TotalPages": str(pages)}
        links = []
        base_q = [(k, v) for k, v in self.req.get.items() if k != "page"]
        base = self.r.rest_url(route_base)

        def page_url(n):
            q = "&".join(f"{quote(str(k), safe='[]')}={quote(str(v), safe=',:[]')}"
                         for k, v in base_q if not isinstance(v, dict)) if base_q else ""
            return f"{base}?{q + '&' if q else ''}page={n}"

        if page > 1:
            links.append(f'<{page_url(min(page - 1, pages) if pages else page - 1)}>; rel="prev"')
        if pages > page:
            links.append(f'<{page_url(page + 1)}>; rel="next"')
        if links:
            headers["Link"] = ", ".join(links)
        self.req.items = len(data)
        return 200, headers, data

    def _with_links(self, item, links):
        item["_links"] = links
        return item

    def list_products(self):
        self.require("woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        shop = self.shop
        p = self.params
        sku = p.get("sku")
        with shop.lock:
            if p.get("search_sku"):
                s = str(p["search_sku"]).lower()
                cands = [x for x in shop.products.values() if s in x["sku"].lower()]
            elif sku:
                sku = sanitize_text_field(str(sku))
                skus = sku.split(",")
                if len(skus) > 1:
                    skus.append(sku)
                ids = []
                for s in skus:
                    ids.extend(shop.ids_for_sku(s))
                cands = [shop.products[i] for i in dict.fromkeys(ids)]
            else:
                cands = [x for x in shop.products.values() if x["type"] != "variation"]
            ctx = p.get("context") or "view"
            return self._collection(cands, "/wc/v3/products",
                                    lambda x: self._with_links(self.r.product(x, ctx), self.r.product_links(x)))

    def list_variations(self):
        self.require("woocommerce_rest_cannot_view", "Sorry, you cannot list resources.")
        shop = self.shop
        pid = int(self.params.get("product_id") or 0)
        with shop.lock:
            parent = shop.products.get(pid)
            cands = [shop.products[c] for c in (parent["children"] if parent else []) if c in shop.products]
            if self.params.get("sku"):
                sku = sanitize_text_field(str(self.params["sku"]))
                skus = sku.split(",")
                if len(skus) > 1:
                    skus.append(sku)
                wanted = {Shop.sku_key(s) for s in skus}
                cands = [c for c in cands if c["sku"] and Shop.sku_key(c["sku"]) in wanted]
            ctx = self.params.get("context") or "view"
            return self._collection(
                cands, f"/wc/v3/products/{pid}/variations",
                lambda x: self._with_links(self.r.variation(x, ctx), self.r.variation_links(x, pid)))

    # -- single items ---------------------------------------------------------------
    def _single(self, data, links, headers=None):
        if self.params.get("_fields"):
            data = filter_fields(data, self.params["_fields"])
        data["_links"] = links
        self.req.items = 1
        return 200, headers or {}, data

    def get_product(self):
        shop = self.shop
        pid = int(self.params.get("id") or 0)
        with shop.lock:
            p = shop.products.get(pid)
            if p is not None:
                self.require("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource.")
            else:
                raise WPError("woocommerce_rest_product_invalid_id", "Invalid ID.", {"status": 404})
            headers = {"Link": f'<{self.r.permalink(p)}>; rel="alternate"; type=text/html'}
            return self._single(self.r.product(p, self.params.get("context") or "view"),
                                self.r.product_links(p), headers)

    def get_variation(self):
        shop = self.shop
        vid = int(self.params.get("id") or 0)
        pid = int(self.params.get("product_id") or 0)
        with shop.lock:
            v = shop.products.get(vid)
            if v is not None:
                self.require("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource.")
            if v is None or v["type"] != "variation":
                # WooCommerce would render any product id here; the emulator refuses non-variations.
                raise WPError("woocommerce_rest_product_variation_invalid_id", "Invalid ID.", {"status": 404})
            return self._single(self.r.variation(v, self.params.get("context") or "view"),
                                self.r.variation_links(v, pid))

    def update_product(self):
        shop = self.shop
        pid = int(self.params.get("id") or 0)
        with shop.lock:
            p = shop.products.get(pid)
            if p is not None:
                self.require("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource.")
            p = self.do_update_product(self.params, "put")
            return self._single(self.r.product(p, "edit"), self.r.product_links(p))

    def update_variation(self):
        shop = self.shop
        vid = int(self.params.get("id") or 0)
        pid = int(self.params.get("product_id") or 0)
        with shop.lock:
            v = shop.products.get(vid)
            if v is not None:
                self.require("woocommerce_rest_cannot_edit", "Sorry, you are not allowed to edit this resource.")
                if v["parent_id"] and v["parent_id"] != pid:
                    raise WPError("woocommerce_rest_cannot_edit", "Parent product does not match current variation.",
                                  {"status": 403})
            v = self.do_update_variation(self.params, "put")
            return self._single(self.r.variation(v, "edit"), self.r.variation_links(v, pid))

    def create_product(self):
        self.require("woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources.")
        with self.shop.lock:
            p = self.do_create_product(self.params)
            return 201, {"Location": self.r.rest_url(f"/wc/v3/products/{p['id']}")}, \
                self._single(self.r.product(p, "edit"), self.r.product_links(p))[2]

    def create_variation(self):
        self.require("woocommerce_rest_cannot_create", "Sorry, you are not allowed to create resources.")
        pid = int(self.params.get("product_id") or 0)
        with self.shop.lock:
            v = self.do_create_variation(self.params)
            return 201, {}, self._single(self.r.variation(v, "edit"), self.r.variation_links(v, pid))[2]

    def delete_product(self):
        return self._delete(int(self.params.get("id") or 0), variation=False)

    def delete_variation(self):
        return self._delete(int(self.params.get("id") or 0), variation=True)

    def _delete(self, pid, variation):
        shop = self.shop
        with shop.lock:
            p = shop.products.get(pid)
            if p is not None:
                self.require("woocommerce_rest_cannot_delete", "Sorry, you are not allowed to delete this resource.")
            data = self.do_delete(pid, variation, wc_string_to_bool(self.params.get("force", False)))
            return 200, {}, data

    # -- the shared create/update/delete logic (also used per batch item) -------------
    def _invalid(self, variation, status):
        code = "woocommerce_rest_product_variation_invalid_id" if variation else "woocommerce_rest_product_invalid_id"
        return WPError(code, "Invalid ID.", {"status": status})

    def _check_sku(self, p, params):
        sku = params.get("sku")
        if sku is None:
            return None
        sku = sanitize_text_field(str(sku))
        if sku and sku != p.get("sku"):
            other = self.shop.sku_taken(sku, p.get("id", 0))
            if other:
                raise WPError("product_invalid_sku", "Invalid or duplicated SKU.",
                              {"status": 400, "resource_id": other,
                               "unique_sku": self.shop.unique_sku(sku, p.get("id", 0))})
        return sku

    def _common_fields(self, p, params, via):
        for f in ("description", "regular_price", "sale_price", "weight", "tax_class", "shipping_class"):
            if params.get(f) is not None:
                p[f] = str(params[f])
        for f in ("virtual", "downloadable"):
            if params.get(f) is not None:
                p[f] = wc_string_to_bool(params[f])
        if params.get("tax_status") is not None:
            p["tax_status"] = params["tax_status"]
        if params.get("menu_order") is not None:
            p["menu_order"] = php_intval(params["menu_order"])
        if isinstance(params.get("dimensions"), dict):
            for k in ("length", "width", "height"):
                if params["dimensions"].get(k) is not None:
                    p["dimensions"][k] = str(params["dimensions"][k])

    def do_update_product(self, params, via, creating=False, p=None):
        shop = self.shop
        if p is None:
            pid = php_intval(params.get("id"))
            p = shop.products.get(pid)
            if p is None or pid == 0:
                raise self._invalid(False, 400)
        if p["type"] == "variation":
            raise WPError("woocommerce_rest_invalid_product_id",
                          "To manipulate product variations you should use the "
                          "/products/&lt;product_id&gt;/variations/&lt;id&gt; endpoint.", {"status": 404})
        sku = self._check_sku(p, params)
        if params.get("type") is not None and params["type"] in ("simple", "grouped", "external", "variable"):
            p["type"] = params["type"]
        if params.get("name") is not None:
            shop.set_name(p, str(params["name"]))
        if params.get("slug") is not None:
            p["slug"] = str(params["slug"])
        if params.get("status") is not None:
            p["status"] = str(params["status"])
        if params.get("featured") is not None:
            p["featured"] = wc_string_to_bool(params["featured"])
        if params.get("catalog_visibility") is not None:
            p["catalog_visibility"] = params["catalog_visibility"]
        if params.get("short_description") is not None:
            p["short_description"] = str(params["short_description"])
        if params.get("parent_id") is not None:
            p["parent_id"] = php_intval(params["parent_id"])
        if sku is not None:
            shop.set_sku(p, sku)
        self._common_fields(p, params, via)
        # Stock (WC_REST_Products_Controller::prepare_object_for_database, manage_stock option on).
        stock_status = params["stock_status"] if params.get("stock_status") is not None else p["stock_status"]
        if params.get("manage_stock") is not None:
            p["manage_stock"] = wc_string_to_bool(params["manage_stock"])
        if params.get("backorders") is not None:
            p["backorders"] = params["backorders"]
        if p["type"] == "grouped":
            p.update(manage_stock=False, backorders="no", stock_quantity=None, stock_status=stock_status)
        elif p["type"] == "external":
            p.update(manage_stock=False, backorders="no", stock_quantity=None, stock_status="instock")
        elif p["manage_stock"]:
            if p["type"] != "variable":
                p["stock_status"] = stock_status
            if params.get("stock_quantity") is not None:
                shop.apply_stock(p, php_intval(params["stock_quantity"]), via)
            elif params.get("inventory_delta") is not None:
                shop.apply_stock(p, php_intval(p["stock_quantity"]) + php_intval(params["inventory_delta"]), via)
            elif p["stock_quantity"] is None:
                p["stock_quantity"] = 0
            if "low_stock_amount" in params:
                lsa = params["low_stock_amount"]
                p["low_stock_amount"] = None if lsa is None else php_intval(lsa)
        else:
            p.update(manage_stock=False, stock_quantity=None, stock_status=stock_status, low_stock_amount=None)
        shop.validate_stock_status(p)
        p["modified"] = time.time()
        return p

    def do_update_variation(self, params, via, v=None):
        shop = self.shop
        if v is None:
            vid = php_intval(params.get("id"))
            v = shop.products.get(vid)
            if v is None or vid == 0 or v["type"] != "variation":
                raise self._invalid(True, 400)
        pid = php_intval(params.get("product_id"))
        if v["parent_id"] and pid and v["parent_id"] != pid:
            # WooCommerce's batch path would silently re-parent the variation; the
            # emulator reports what the single-item endpoint reports instead.
            raise WPError("woocommerce_rest_cannot_edit", "Parent product does not match current variation.",
                          {"status": 403})
        sku = self._check_sku(v, params)
        if params.get("status") is not None:
            st = str(params["status"])
            v["status"] = st if st in ("draft", "pending", "private", "publish", "future", "trash") else "draft"
        if sku is not None:
            shop.set_sku(v, sku)
        self._common_fields(v, params, via)
        if params.get("manage_stock") is not None:
            v["manage_stock"] = wc_string_to_bool(params["manage_stock"])
        if params.get("stock_status") is not None:
            v["stock_status"] = params["stock_status"]
        if params.get("backorders") is not None:
            v["backorders"] = params["backorders"]
        if v["manage_stock"]:
            if params.get("stock_quantity") is not None:
                shop.apply_stock(v, php_intval(params["stock_quantity"]), via)
            elif params.get("inventory_delta") is not None:
                shop.apply_stock(v, php_intval(v["stock_quantity"]) + php_intval(params["inventory_delta"]), via)
            elif v["stock_quantity"] is None:
                v["stock_quantity"] = 0
            if "low_stock_amount" in params:
                lsa = params["low_stock_amount"]
                v["low_stock_amount"] = None if lsa is None else php_intval(lsa)
        else:
            v.update(backorders="no", stock_quantity=None, low_stock_amount=None)
        shop.validate_stock_status(v)
        v["modified"] = time.time()
        parent = shop.products.get(v["parent_id"])
        if parent:
            shop.sync_parent(parent)
        return v

    def do_create_product(self, params):
        shop = self.shop
        type_ = params.get("type") if params.get("type") in ("simple", "grouped", "external", "variable") else "simple"
        probe = {"id": 0, "sku": ""}
        sku = self._check_sku(probe, params)
        p = shop.new_product(type_=type_, name=str(params.get("name") or ""), sku=sku or "")
        p["status"] = "publish"
        rest = {k: v for k, v in params.items() if k not in ("id", "sku")}
        return self.do_update_product(rest, "create", creating=True, p=p)

    def do_create_variation(self, params):
        shop = self.shop
        pid = php_intval(params.get("product_id"))
        parent = shop.products.get(pid)
        if parent is None or parent["type"] != "variable":
            raise WPError("woocommerce_rest_product_variation_invalid_parent",
                          "Cannot set attributes due to invalid parent product.", {"status": 404})
        sku = self._check_sku({"id": 0, "sku": ""}, params)
        v = shop.new_product(type_="variation", name=parent["name"], sku=sku or "", parent_id=pid)
        parent["children"].append(v["id"])
        rest = {k: x for k, x in params.items() if k not in ("id", "sku")}
        return self.do_update_variation(rest, "create", v=v)

    def do_delete(self, pid, variation, force):
        shop = self.shop
        p = shop.products.get(pid)
        if p is None or (variation and p["type"] != "variation"):
            raise self._invalid(variation, 404)
        if not variation and p["type"] == "variation":
            raise WPError("woocommerce_rest_invalid_product_id",
                          "To manipulate product variations you should use the "
                          "/products/&lt;product_id&gt;/variations/&lt;id&gt; endpoint.", {"status": 404})
        data = self.r.variation(p, "edit") if variation else self.r.product(p, "edit")
        if force:
            shop.delete(p)
        else:
            if not variation and p["status"] == "trash":
                raise WPError("woocommerce_rest_already_trashed", "The product has already been deleted.",
                              {"status": 410})
            if variation:
                raise WPError("woocommerce_rest_trash_not_supported",
                              "Variations do not support trashing.", {"status": 501})
            p["status"] = "trash"
            data["status"] = "trash"
        return data

    # -- batches (WC_REST_Controller::batch_items: items are NOT schema-validated) -----
    def batch_products(self):
        return self._batch(variation=False)

    def batch_variations(self):
        return self._batch(variation=True)

    def _batch(self, variation):
        if not self.logged_in():
            raise not_allowed("woocommerce_rest_cannot_batch",
                              "Sorry, you are not allowed to batch manipulate this resource.")
        shop = self.shop
        body = self.params
        items = {k: body.get(k) for k in ("create", "update", "delete") if not php_empty(body.get(k))}
        total = sum(len(v) if isinstance(v, (list, dict)) else 1 for v in items.values())
        self.req.items = total
        with shop.lock:
            limit = shop.batch_limit
            if total > limit:
                raise WPError("woocommerce_rest_request_entity_too_large",
                              f"Unable to accept more than {limit} items for this request.", {"status": 413})
            pid = int(self.url_params.get("product_id") or 0)
            out: dict = {}

            def render(p):
                if variation:
                    return self._with_links(self.r.variation(p, "edit"), self.r.variation_links(p, pid))
                return self._with_links(self.r.product(p, "edit"), self.r.product_links(p))

            def err_entry(item_id, e: WPError):
                return {"id": item_id, "error": {"code": e.code, "message": e.message, "data": e.data}}

            def as_list(v):
                return list(v.values()) if isinstance(v, dict) else (v if isinstance(v, list) else [v])

            for item in as_list(items.get("create", [])):
                item = dict(item) if isinstance(item, dict) else {}
                if variation:
                    item = {"product_id": pid, **item}
                try:
                    p = self.do_create_variation(item) if variation else self.do_create_product(item)
                    out.setdefault("create", []).append(render(p))
                except WPError as e:
                    out.setdefault("create", []).append(err_entry(0, e))
            for item in as_list(items.get("update", [])):
                item = dict(item) if isinstance(item, dict) else {}
                if variation:
                    item = {"product_id": pid, **item}
                try:
                    p = self.do_update_variation(item, "batch") if variation else self.do_update_product(item, "batch")
                    out.setdefault("update", []).append(render(p))
                except WPError as e:
                    out.setdefault("update", []).append(err_entry(item.get("id"), e))
            for raw in as_list(items.get("delete", [])):
                did = php_intval(raw)
                if did == 0:
                    continue
                try:
                    out.setdefault("delete", []).append(self.do_delete(did, variation, True))
                except WPError as e:
                    out.setdefault("delete", []).append(err_entry(did, e))
            return 200, {}, (out if out else [])


# ---------------------------------------------------------------------------
# HTTP server
# ---------------------------------------------------------------------------
def wp_json(data) -> bytes:
    # wp_json_encode() escapes "/" and non-ASCII; clients must cope with both.
    return json.dumps(data).replace("/", "\\/").encode()


def sanitize_uri_for_log(path: str, query: str) -> str:
    parts = []
    for part in query.split("&") if query else []:
        k = unquote_plus(part.partition("=")[0])
        if k in SECRET_PARAMS or k.startswith("oauth_"):
            continue
        parts.append(part)
    return path + ("?" + "&".join(parts) if parts else "")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "Apache/2.4"
    sys_version = ""

    def log_message(self, fmt, *args):  # quiet unless asked
        if self.server.verbose:
            sys.stderr.write("%s - %s\n" % (self.address_string(), fmt % args))

    def do_GET(self):
        self.dispatch()

    do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = do_GET

    def read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def send(self, status, data=None, headers=None, raw: bytes | None = None, ctype="application/json; charset=UTF-8"):
        body = raw if raw is not None else (wp_json(data) if data is not None or status != 204 else b"")
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def dispatch(self):
        shop: Shop = self.server.shop
        try:
            body = self.read_body()
        except (ValueError, OSError):
            self.close_connection = True
            return
        url = urlsplit(self.path)
        if url.path.startswith("/_control/"):
            return self.control(url, body)
        method = self.command.upper()
        https = self.server.tls or (shop.trust_xfp and (self.headers.get("X-Forwarded-Proto") or "").lower() == "https")
        req = Request(method, self.path, url.path, url.query, self.headers, body, https)
        entry = {"at_ms": now_ms(), "method": method, "path": sanitize_uri_for_log(url.path, url.query),
                 "status": None, "items": None, "auth": "none", "fault": None}
        fault = shop.pick_fault(method, url.path + ("?" + url.query if url.query else ""))
        try:
            if fault is not None:
                entry["fault"] = fault["action"]
                apply_first = fault.get("apply", fault["action"] == "truncated")
                result = self.process(req) if apply_first else None
                entry["auth"], entry["items"] = req.auth_scheme, req.items
                entry["status"] = self.inject(fault, result)
            else:
                status, headers, data = self.process(req)
                entry["auth"], entry["items"] = req.auth_scheme, req.items
                self.pause(shop, req)
                if data is None:
                    self.send(status, raw=b"<!DOCTYPE html><html><body><h1>Not Found</h1></body></html>",
                              ctype="text/html; charset=UTF-8")
                else:
                    self.send(status, data, headers)
                entry["status"] = status
        finally:
            shop.log_request(entry)

    def pause(self, shop, req):
        writes = (req.items or 0) if req.method in ("POST", "PUT", "PATCH", "DELETE") else 0
        delay = shop.latency_ms + shop.per_item_latency_ms * writes
        if delay > 0:
            time.sleep(delay / 1000.0)

    def process(self, req: Request):
        """Returns (status, headers, data) for a WordPress request."""
        shop: Shop = self.server.shop
        path = req.path
        hp = shop.home_path()
        if hp and path.startswith(hp + "/"):
            path = path[len(hp):]
        route = None
        if path == "/wp-json" or path.startswith("/wp-json/"):
            route = unquote(path[len("/wp-json"):]) or "/"
        elif path in ("/", "/index.php") and "rest_route" in req.get:
            route = str(req.get["rest_route"]) or "/"
        if route is None:
            return 404, {}, None
        try:
            status, headers, data = Api(shop).handle(req, route)
        except WPError as e:
            status, headers, data = e.status, {}, e.body()
        except Exception:  # a bug in the emulator: say so loudly
            traceback.print_exc()
            status, headers, data = 500, {}, {"code": "internal_server_error",
                                              "message": "emulator error (see its stderr)", "data": {"status": 500}}
        headers = dict(headers)
        headers.setdefault("X-Robots-Tag", "noindex")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Access-Control-Expose-Headers", "X-WP-Total, X-WP-TotalPages, Link")
        return status, headers, data

    def inject(self, fault: dict, result):
        action = fault["action"]
        delay = fault.get("delay_ms")
        if action == "timeout":
            self.sleep_ms(delay if delay is not None else 30000)
            self.close_connection = True
            return None
        if delay:
            self.sleep_ms(delay)
        if action == "close":
            self.close_connection = True
            self.drop()
            return None
        if action == "http429":
            ra = fault.get("retry_after", 1)
            self.send(429, {"code": "woocommerce_rest_too_many_requests", "message": "Too many requests.",
                            "data": {"status": 429}}, {"Retry-After": str(ra)})
            return 429
        if action == "status":
            st = int(fault.get("status", 500))
            headers = {"Retry-After": str(fault["retry_after"])} if "retry_after" in fault else {}
            if "body" in fault:
                self.send(st, headers=headers, raw=str(fault["body"]).encode(), ctype="text/html; charset=UTF-8")
            else:
                self.send(st, {"code": "emulated_fault", "message": f"Emulated HTTP {st}.", "data": {"status": st}},
                          headers)
            return st
        if action == "garbage":
            self.send(200, raw=b"<!DOCTYPE html><html><body><h1>Error establishing a database connection"
                                b"</h1></body></html>")
            return 200
        if action == "truncated":
            status, headers, data = result if result is not None else (200, {}, {"id": 0, "stock_quantity": 0})
            body = wp_json(data)
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            for k, v in headers.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: max(1, len(body) // 2)])
            self.wfile.flush()
            self.close_connection = True
            self.drop()
            return status
        self.send(500, {"code": "emulator_bad_fault", "message": f"unknown fault action {action}",
                        "data": {"status": 500}})
        return 500

    def sleep_ms(self, ms):
        end = time.monotonic() + ms / 1000.0
        while not self.server.stopping.is_set():
            left = end - time.monotonic()
            if left <= 0:
                break
            time.sleep(min(0.05, left))

    def drop(self):
        try:
            self.wfile.flush()
        except OSError:
            pass
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    # -- control API --------------------------------------------------------------
    def control(self, url, body: bytes):
        shop: Shop = self.server.shop
        method = self.command.upper()
        name = url.path[len("/_control/"):].strip("/")
        try:
            payload = json.loads(body) if body.strip() else {}
        except ValueError:
            return self.send(400, {"error": "invalid JSON"})
        try:
            if (method, name) == ("POST", "reset"):
                shop.reset(everything=bool(payload.get("all")))
                return self.send(200, {"ok": True})
            if (method, name) == ("POST", "config"):
                with shop.lock:
                    if "keys" in payload:
                        shop.keys = {}
                        for k in payload["keys"]:
                            shop.keys[k["consumer_key"]] = {
                                "consumer_key": k["consumer_key"], "consumer_secret": k["consumer_secret"],
                                "permissions": k.get("permissions", "read_write")}
                    for f, attr in (("batch_limit", "batch_limit"), ("latency_ms", "latency_ms"),
                                    ("per_item_latency_ms", "per_item_latency_ms")):
                        if f in payload:
                            setattr(shop, attr, int(payload[f]))
                    if "home_url" in payload:
                        shop.home_url = payload["home_url"] or None
                    if "trust_forwarded_proto" in payload:
                        shop.trust_xfp = bool(payload["trust_forwarded_proto"])
                return self.send(200, self.config_view())
            if (method, name) == ("GET", "config"):
                return self.send(200, self.config_view())
            if (method, name) == ("POST", "seed"):
                return self.send(200, shop.seed(payload.get("products", [])))
            if (method, name) == ("GET", "state"):
                return self.send(200, shop.state())
            if (method, name) == ("GET", "history"):
                with shop.lock:
                    return self.send(200, {"by_id": shop.history_by_id, "by_sku": shop.history_by_sku})
            if (method, name) == ("GET", "requests"):
                q = php_parse_qs(url.query)
                since = int(q.get("since", 0) or 0)
                with shop.lock:
                    rows = [r for r in shop.requests if r["seq"] > since]
                return self.send(200, {"requests": rows})
            if (method, name) == ("POST", "faults"):
                shop.set_faults(payload.get("rules", []), payload.get("seed"))
                return self.send(200, {"ok": True, "rules": len(payload.get("rules", []))})
            if (method, name) == ("GET", "faults"):
                with shop.lock:
                    return self.send(200, {"rules": shop.faults})
            if (method, name) == ("DELETE", "faults"):
                shop.set_faults([], None)
                return self.send(200, {"ok": True})
            if (method, name) == ("POST", "stock"):
                return self.send(200, shop.set_stock_direct(payload))
            if (res := malformed.control(shop, method, name, payload)) is not None:
                return self.send(*res)
        except WPError as e:
            return self.send(e.status, e.body())
        except (KeyError, TypeError, ValueError) as e:
            return self.send(400, {"error": f"bad control payload: {e!r}"})
        return self.send(404, {"error": f"no control endpoint {method} {name}"})

    def config_view(self):
        shop: Shop = self.server.shop
        with shop.lock:
            return {"keys": [{"consumer_key": k, "permissions": v["permissions"]} for k, v in shop.keys.items()],
                    "batch_limit": shop.batch_limit, "latency_ms": shop.latency_ms,
                    "per_item_latency_ms": shop.per_item_latency_ms, "home_url": shop.home(),
                    "trust_forwarded_proto": shop.trust_xfp, "tls": self.server.tls}


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, addr, shop: Shop, tls_ctx, verbose):
        super().__init__(addr, Handler)
        self.shop = shop
        self.tls_ctx = tls_ctx
        self.tls = tls_ctx is not None
        self.verbose = verbose
        self.stopping = threading.Event()

    def finish_request(self, request, client_address):
        # The TLS handshake runs here, in the connection's own thread, so a slow or
        # broken client cannot stall accept().
        if self.tls_ctx is None:
            return super().finish_request(request, client_address)
        request.settimeout(30)
        try:
            conn = self.tls_ctx.wrap_socket(request, server_side=True)
        except (ssl.SSLError, OSError):
            return
        conn.settimeout(None)
        try:
            self.RequestHandlerClass(conn, client_address, self)
        finally:
            try:
                conn.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        exc = sys.exc_info()[1]
        if isinstance(exc, (ConnectionError, ssl.SSLError, TimeoutError, BrokenPipeError)):
            return
        super().handle_error(request, client_address)


# Orders and webhooks live in their own module (orders.py, beside this file).
import orders as _orders  # noqa: E402

_orders.install(api_cls=Api, ctx_cls=Ctx, shop_cls=Shop, handler_cls=Handler, wperror=WPError, wp_json=wp_json)

# Catalogue fields (attributes, meta_data, images) and settings: catalog.py, beside this file.
import catalog as _catalog  # noqa: E402

_catalog.install(api_cls=Api, ctx_cls=Ctx, shop_cls=Shop, renderer_cls=Renderer, handler_cls=Handler,
                 wperror=WPError)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--tls-cert")
    ap.add_argument("--tls-key")
    ap.add_argument("--home-url", help="WordPress home URL used in OAuth base strings and links")
    ap.add_argument("--trust-forwarded-proto", action="store_true",
                    help="treat plain HTTP with X-Forwarded-Proto: https as HTTPS (is_ssl())")
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args(argv)

    tls_ctx = None
    if args.tls_cert:
        tls_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        tls_ctx.load_cert_chain(args.tls_cert, args.tls_key)
    shop = Shop(args.home_url, args.trust_forwarded_proto)
    server = Server(("127.0.0.1", args.port), shop, tls_ctx, args.verbose)
    shop.port = server.server_address[1]

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2}, daemon=True)
    thread.start()
    print(f"LISTENING {shop.port}", flush=True)
    parent = os.getppid()
    while not stop.wait(0.5):
        if os.getppid() != parent:  # the test runner died: do not linger
            break
    server.stopping.set()
    server.shutdown()
    server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
