"""Catalogue fields for the WooCommerce 7.9 emulator (kept out of server.py).

What a catalogue publisher needs beyond stock, as WooCommerce 7.9 does it
(shared/specs/woocommerce/options.products*.json):

- ``attributes`` on products: custom attributes ``{"id": 0, "name", "position",
  "visible", "variation", "options": [...]}`` kept in the order sent; on
  variations ``[{"id": 0, "name", "option"}]``.
- ``meta_data``: ``[{"key", "value"}]`` in a write updates the meta with that
  key (adds it when absent; WC_Data::update_meta_data); answers carry
  ``{"id", "key", "value"}``.
- ``images``: ``[{"src"}]``; WooCommerce downloads each one and refuses the
  whole item when it cannot (``woocommerce_product_image_upload_error``, 400:
  in a batch, that item alone). Here a src that is not http(s) or whose host
  ends in ``.invalid`` cannot be downloaded.
- ``description`` of a product in the default ``view`` context goes through
  ``wpautop`` (``"Soft"`` answers ``"<p>Soft</p>\n"``); ``context=edit`` answers
  it raw (WC_REST_Products_V2_Controller::get_product_data; a publisher reading
  "view" saw a description change that was not there on the real 7.9 site).
- ``GET /wc/v3/settings/<group>/<id>``: ``woocommerce_currency`` (general, EUR
  unless set) and ``woocommerce_weight_unit`` (products, kg); test control
  ``POST /_control/settings {"woocommerce_currency": "USD"}``.
- Seeds may carry ``attributes`` and ``meta_data`` (a product made by hand).
"""
from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

SETTINGS = {"general": {"woocommerce_currency": "EUR"}, "products": {"woocommerce_weight_unit": "kg"}}


def _meta_update(shop, item: dict, meta) -> None:
    if not isinstance(meta, list):
        return
    for m in meta:
        if not isinstance(m, dict) or "key" not in m:
            continue
        for have in item["meta_data"]:
            if have["key"] == str(m["key"]):
                have["value"] = m.get("value")
                break
        else:
            shop.next_meta_id += 1
            item["meta_data"].append({"id": shop.next_meta_id, "key": str(m["key"]), "value": m.get("value")})


def _attributes(item: dict, attrs) -> None:
    if not isinstance(attrs, list):
        return
    out = []
    for i, a in enumerate(attrs):
        if not isinstance(a, dict) or not a.get("name"):
            continue
        if item["type"] == "variation":
            out.append({"id": 0, "name": str(a["name"]), "option": str(a.get("option", ""))})
        else:
            opts = a.get("options", [])
            opts = [str(o) for o in (opts if isinstance(opts, list) else str(opts).split("|"))]
            out.append({"id": 0, "name": str(a["name"]), "position": int(a.get("position", i)),
                        "visible": bool(a.get("visible", False)), "variation": bool(a.get("variation", False)),
                        "options": opts})
    item["attributes"] = out


def _images(wperror, item: dict, images) -> None:
    if not isinstance(images, list):
        return
    out = []
    for img in images:
        src = str(img.get("src", "")) if isinstance(img, dict) else ""
        host = urlsplit(src).hostname or ""
        if not re.match(r"^https?://", src) or host.endswith(".invalid"):
            raise wperror("woocommerce_product_image_upload_error",
                          f"Error getting remote image {src}. Error: A valid URL was not provided.", {"status": 400})
        out.append({"id": 900 + len(out), "src": src, "name": src.rsplit("/", 1)[-1], "alt": ""})
    item["images"] = out


def install(*, api_cls, ctx_cls, shop_cls, renderer_cls, handler_cls, wperror):
    """Adds catalogue fields to products and variations, the settings routes and control."""
    orig_reset = shop_cls.reset

    def reset(self, everything):
        orig_reset(self, everything)
        with self.lock:
            self.next_meta_id = 5000
            if everything or not hasattr(self, "settings"):
                self.settings = json.loads(json.dumps(SETTINGS))

    shop_cls.reset = reset

    orig_new = shop_cls.new_product

    def new_product(self, **kw):
        p = orig_new(self, **kw)
        p.update(attributes=[], meta_data=[], images=[])
        return p

    shop_cls.new_product = new_product

    orig_seed_fields = shop_cls._seed_fields

    def seed_fields(self, p, spec):
        orig_seed_fields(self, p, spec)
        _attributes(p, spec.get("attributes"))
        _meta_update(self, p, spec.get("meta_data"))
        if "weight" in spec:
            p["weight"] = str(spec["weight"])

    shop_cls._seed_fields = seed_fields

    orig_common = ctx_cls._common_fields

    def common_fields(self, p, params, via):
        if params.get("images") is not None and p["type"] != "variation":
            _images(wperror, p, params["images"])
        orig_common(self, p, params, via)
        if params.get("attributes") is not None:
            _attributes(p, params["attributes"])
        if params.get("meta_data") is not None:
            _meta_update(self.shop, p, params["meta_data"])

    ctx_cls._common_fields = common_fields

    # An image WooCommerce cannot download refuses the item before anything is saved.
    def images_first(orig):
        def write(self, params, *args, **kw):
            if isinstance(params, dict) and params.get("images") is not None:
                _images(wperror, {"type": "simple"}, params["images"])
            return orig(self, params, *args, **kw)
        return write

    ctx_cls.do_create_product = images_first(ctx_cls.do_create_product)
    ctx_cls.do_update_product = images_first(ctx_cls.do_update_product)

    def with_catalog(orig):
        def render(self, item, context="view"):
            d = orig(self, item, context)
            d["attributes"] = json.loads(json.dumps(item.get("attributes", [])))
            d["meta_data"] = json.loads(json.dumps(item.get("meta_data", [])))
            if item["type"] != "variation":
                d["images"] = json.loads(json.dumps(item.get("images", [])))
                if context != "edit" and d["description"]:  # view: wpautop(do_shortcode(...))
                    paras = [x.strip() for x in re.split(r"\n\s*\n", d["description"]) if x.strip()]
                    d["description"] = "".join(f"<p>{x}</p>\n" for x in paras)
            return d
        return render

    renderer_cls.product = with_catalog(renderer_cls.product)
    renderer_cls.variation = with_catalog(renderer_cls.variation)

    def get_setting(self):
        self.require("woocommerce_rest_cannot_view", "Sorry, you cannot view this resource.")
        group, sid = self.url_params["group"], self.url_params["id"]
        with self.shop.lock:
            values = self.shop.settings.get(group)
            if values is None:
                raise wperror("rest_setting_setting_group_invalid", "Invalid setting group.", {"status": 404})
            if sid not in values:
                raise wperror("rest_setting_setting_invalid", "Invalid setting.", {"status": 404})
            return 200, {}, {"id": sid, "label": sid, "description": "", "type": "select", "default": "",
                             "value": values[sid], "group_id": group}

    ctx_cls.get_setting = get_setting
    api_cls.ROUTES[-1:-1] = [
        (re.compile(r"^/wc/v3/settings/(?P<group>[\w-]+)/(?P<id>[\w-]+)$", re.I), None, {"GET": "get_setting"}),
    ]

    orig_control = handler_cls.control

    def control(self, url, body):
        name = url.path[len("/_control/"):].strip("/")
        if name == "settings" and self.command == "POST":
            shop = self.server.shop
            payload = json.loads(body or b"{}")
            with shop.lock:
                for group in shop.settings.values():
                    for k in group:
                        if k in payload:
                            group[k] = str(payload[k])
                return self.send(200, shop.settings)
        return orig_control(self, url, body)

    handler_cls.control = control
