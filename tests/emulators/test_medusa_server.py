"""Facts about a REAL Medusa 2.21.2 Admin API that the C++ Medusa channel relies on.

Not an emulator: scripts/medusa-server runs the npm package on a private PostgreSQL 15.
The first run installs and migrates (~2 min); later runs start in ~12 s.
Run: /usr/bin/python3 -m pytest tests/emulators/test_medusa_server.py -rs
Skipped, with the reason, when Medusa cannot be installed here (no npm registry, no Node 20.19+).
"""
from __future__ import annotations

import base64
import itertools
import json

import pytest

from harness.medusa_shared import shared_medusa

from .medusa import ADMIN_EMAIL, ADMIN_PASSWORD

BATCH = "/admin/inventory-items/location-levels/batch"
_sku_counter = itertools.count(1)


@pytest.fixture(scope="module")
def medusa():
    server, why = shared_medusa()  # the session's server: each test makes its own products and locations
    if server is None:
        pytest.skip(f"REAL MEDUSA NOT AVAILABLE, Medusa facts untested: {why}")
    return server


@pytest.fixture
def product(medusa):
    """A fresh two-variant product: returns ([sku_a, sku_b], {sku: inventory item id})."""
    n = next(_sku_counter)
    skus = [f"FACT-{n}-A", f"FACT-{n}-B"]
    return skus, medusa.create_product(f"Fact product {n}", skus)


@pytest.fixture
def location(medusa):
    return medusa.create_stock_location(f"WH {next(_sku_counter)}")


# ------------------------------------------------------------------ auth
def test_secret_key_works_as_basic_and_is_refused_as_bearer(medusa):
    key = medusa.create_secret_key("stockrelay-test")
    assert key.startswith("sk_")

    status, body = medusa.call("GET", "/admin/stock-locations", auth=medusa.basic(key))
    assert status == 200, body
    assert "stock_locations" in body

    status, body = medusa.call("GET", "/admin/stock-locations", auth=f"Bearer {key}")
    assert status == 401
    assert "Basic" in body["message"]

    status, _ = medusa.call("GET", "/admin/stock-locations", auth=None)
    assert status == 401
    status, _ = medusa.call("GET", "/admin/stock-locations", auth=medusa.basic("sk_" + "0" * 64))
    assert status == 401


def test_jwt_login(medusa):
    status, body = medusa.call("POST", "/auth/user/emailpass",
                               {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}, auth=None)
    assert status == 200
    token = body["token"]
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert claims["exp"] - claims["iat"] == 86400  # 24 h, then the channel must log in again

    status, body = medusa.call("GET", "/admin/inventory-items", auth=f"Bearer {token}")
    assert status == 200
    assert "inventory_items" in body

    status, body = medusa.call("POST", "/auth/user/emailpass",
                               {"email": ADMIN_EMAIL, "password": "wrong"}, auth=None)
    assert status == 401
    assert body["type"] == "unauthorized"


# ------------------------------------------------------- SKU -> inventory item
def test_inventory_items_found_by_exact_sku_list(medusa, product):
    skus, item_ids = product
    body = medusa.admin("GET", "/admin/inventory-items",
                        query={"sku[]": skus, "fields": "id,sku,location_levels.location_id"})
    assert {item["sku"]: item["id"] for item in body["inventory_items"]} == item_ids
    assert all(i.startswith("iitem_") for i in item_ids.values())

    # Exact and case-sensitive: no prefix or lower-case matches.
    for probe in (skus[0].lower(), skus[0][:-1]):
        body = medusa.admin("GET", "/admin/inventory-items", query={"sku": probe})
        assert body["count"] == 0, probe


def test_strict_validation_rejects_unknown_fields(medusa):
    status, body = medusa.call("POST", BATCH, {"create": [], "bogus": 1})
    assert status == 400
    assert body["type"] == "invalid_data"


# ------------------------------------------------------------ batch levels
def test_batch_creates_then_updates_absolute_levels(medusa, product, location):
    skus, items = product
    body = medusa.admin("POST", BATCH, {"create": [
        {"inventory_item_id": items[skus[0]], "location_id": location, "stocked_quantity": 5},
        {"inventory_item_id": items[skus[1]], "location_id": location, "stocked_quantity": 7}]})
    assert len(body["created"]) == 2
    assert medusa.levels(skus[0]) == {location: 5}
    assert medusa.levels(skus[1]) == {location: 7}

    body = medusa.admin("POST", BATCH, {"update": [
        {"inventory_item_id": items[skus[0]], "location_id": location, "stocked_quantity": 12},
        {"inventory_item_id": items[skus[1]], "location_id": location, "stocked_quantity": 0}]})
    assert len(body["updated"]) == 2
    assert medusa.levels(skus[0]) == {location: 12}  # absolute, not 5 + 12
    assert medusa.levels(skus[1]) == {location: 0}

    # Creating a level that exists is an error, so the channel must know what exists.
    status, body = medusa.call("POST", BATCH, {"create": [
        {"inventory_item_id": items[skus[0]], "location_id": location, "stocked_quantity": 1}]})
    assert status == 400
    assert "already exists" in body["message"]
    assert medusa.levels(skus[0]) == {location: 12}


def test_batch_is_all_or_nothing(medusa, product, location):
    skus, items = product
    medusa.set_level(skus[0], location, 3)
    other = medusa.create_stock_location("WH without levels")

    # One good update and one update of a level that does not exist.
    status, body = medusa.call("POST", BATCH, {"update": [
        {"inventory_item_id": items[skus[0]], "location_id": location, "stocked_quantity": 40},
        {"inventory_item_id": items[skus[1]], "location_id": other, "stocked_quantity": 9}]})
    assert status == 404
    assert body["type"] == "not_found"
    assert medusa.levels(skus[0]) == {location: 3}
    assert medusa.levels(skus[1]) == {}

    # A good create alongside the bad update is rolled back too.
    status, _ = medusa.call("POST", BATCH, {
        "create": [{"inventory_item_id": items[skus[1]], "location_id": location, "stocked_quantity": 8}],
        "update": [{"inventory_item_id": items[skus[1]], "location_id": other, "stocked_quantity": 9}]})
    assert status == 404
    assert medusa.levels(skus[1]) == {}


def test_unknown_location_id_is_accepted_as_orphan_level(medusa, product):
    """Medusa does not check location_id: the channel must validate locations itself."""
    skus, items = product
    ghost = "sloc_01STOCKRELAYDOESNOTEXIST0"
    known = {loc["id"] for loc in medusa.admin("GET", "/admin/stock-locations",
                                               query={"fields": "id", "limit": 1000})["stock_locations"]}
    assert ghost not in known

    status, body = medusa.call("POST", BATCH, {"create": [
        {"inventory_item_id": items[skus[0]], "location_id": ghost, "stocked_quantity": 4}]})
    assert status == 200, body
    assert medusa.levels(skus[0]) == {ghost: 4}


def test_negative_quantity_is_rejected(medusa, product, location):
    skus, items = product
    status, body = medusa.call("POST", BATCH, {"create": [
        {"inventory_item_id": items[skus[0]], "location_id": location, "stocked_quantity": -3}]})
    assert status == 400
    assert body["type"] == "invalid_data"
    assert medusa.levels(skus[0]) == {}
