"""Orders in through the Python module (what the Odoo addon calls): the same
normalizer the daemon runs, and webhook registration refusing what it cannot do."""
from __future__ import annotations

import json
import pathlib

import pytest

import stockrelay_native

FIXTURES = pathlib.Path(__file__).resolve().parents[1] / "fixtures" / "orders"


def test_normalize_order_gives_the_daemons_event_and_order():
    raw = json.loads((FIXTURES / "woocommerce_order.json").read_text())
    ev = stockrelay_native.normalize_order("woocommerce", raw)
    assert (ev["shop_order_id"], ev["name"], ev["topic"]) == ("727", "#727", "order_updated")
    assert ev["event_key"] == "727@2026-11-30T19:02:07Z" and ev["shop_updated_at"] == "2026-11-30T19:02:07Z"
    assert ev["order"]["lines"][0]["unit_price"] == "10.00"


def test_malformed_order_raises_rejected_error_naming_the_field():
    raw = json.loads((FIXTURES / "medusa_admin_order.json").read_text())
    raw["items"][0]["quantity"] = -1
    with pytest.raises(stockrelay_native.RejectedError, match=r"items\[0\]\.quantity"):
        stockrelay_native.normalize_order("medusa", raw)


def test_medusa_has_no_webhooks_to_register():
    ch = stockrelay_native.Channel({"id": 3, "name": "M", "channel_type": "medusa", "base_url": "http://127.0.0.1:9",
                                    "credentials": {"api_key": "sk_x"}})
    with pytest.raises(stockrelay_native.ConfigError, match="polling"):
        ch.register_webhooks("https://relay.example.com")
    assert ch.list_webhooks() == []


def test_shopify_registration_needs_the_client_secret_first():
    ch = stockrelay_native.Channel({"id": 4, "name": "S", "channel_type": "shopify", "base_url": "https://127.0.0.1:9",
                                    "credentials": {"access_token": "shpat_x"}})
    with pytest.raises(stockrelay_native.ConfigError, match="client_secret"):
        ch.register_webhooks("https://relay.example.com")
