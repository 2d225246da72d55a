"""Fixtures for the integration tests: one private PostgreSQL cluster and one
throw-away CA per session, a fresh database per test, the real stockrelayd,
and the Shopify emulator serving HTTPS signed by the test CA."""
from __future__ import annotations

import os
import pathlib

import pytest

from emulators.shopify import SERVER_DIR as SHOPIFY_DIR, ShopifyEmulator
from emulators.tls import make_test_ca
from harness import outbox
from harness.pg import PgCluster, TestDatabase, keep_test_db
from harness.sidecar import Sidecar

SHOPIFY_API_VERSION = "2025-10"
SHOPIFY_TOKEN = "shpat_relay_test_token_0123"


@pytest.fixture(scope="session")
def pg_cluster():
    with PgCluster() as cluster:
        yield cluster


@pytest.fixture(scope="session")
def test_ca(tmp_path_factory):
    return make_test_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture
def db(pg_cluster, request):
    name = pg_cluster.create_database(request.node.name)
    database = TestDatabase(pg_cluster, name)
    yield database
    database.close()
    if keep_test_db():
        print(f"\nkept test database {name}: {database.dsn}")
    else:
        pg_cluster.drop_database(name)


@pytest.fixture
def sidecar(db, tmp_path):
    s = Sidecar(db.dsn, tmp_path / "logs")
    yield s
    s.cleanup()


def _require_shopify_deps():
    # Missing npm deps are a broken checkout, not an optional feature: fail loudly.
    if not (SHOPIFY_DIR / "node_modules" / "graphql").is_dir():
        pytest.fail(f"the Shopify emulator's npm dependencies are missing ({SHOPIFY_DIR}/node_modules); "
                    "run scripts/bootstrap", pytrace=False)


@pytest.fixture(scope="session")
def shopify_server(test_ca, tmp_path_factory):
    _require_shopify_deps()
    log = tmp_path_factory.mktemp("shopify") / "emulator.log"
    emu = ShopifyEmulator(token=SHOPIFY_TOKEN, tls=test_ca, log_path=log)
    emu.start()
    yield emu
    emu.stop()


@pytest.fixture
def shopify(request, shopify_server):
    """The session's emulator, reset to an empty shop with the test token."""
    if request.node.get_closest_marker("shopify") is None:
        pytest.fail("tests using the shopify fixture must be marked @pytest.mark.shopify", pytrace=False)
    shopify_server.reset()
    shopify_server.config(token=SHOPIFY_TOKEN)
    yield shopify_server
    shopify_server.clear_faults()


def pytest_collection_modifyitems(items):
    # Tests marked shopify fail at setup when the deps are missing (never skip).
    for item in items:
        if item.get_closest_marker("shopify") is not None and "shopify" not in getattr(item, "fixturenames", ()):
            item.fixturenames.append("shopify")


class ShopFixture:
    """A seeded Shopify shop plus the channel row that points at it."""

    def __init__(self, db, emu, seeded, channel_id, locations):
        self.db = db
        self.emu = emu
        self.seeded = seeded
        self.channel_id = channel_id
        self.locations = locations  # name -> gid

    def item(self, sku):
        return self.seeded["variants"][sku]["inventoryItemId"]

    def available(self, sku, location="Main"):
        state = self.emu.state()
        return state["available"].get(sku, {}).get(self.locations[location])

    def history(self, sku, location="Main"):
        """Quantities the shop applied to (sku, location), in order."""
        item = self.item(sku)
        loc = self.locations[location]
        for e in self.emu.history()["entries"]:
            if e["inventoryItemId"] == item and e["locationId"] == loc and e["name"] == "available":
                return [v["quantity"] for v in e["values"]]
        return []

    def enqueue(self, items, trigger="quant"):
        """items: [(product_id, sku, location_name, qty)]"""
        rows = [(self.channel_id, pid, sku, self.locations[loc], qty) for pid, sku, loc, qty in items]
        return outbox.enqueue(self.db.dsn, rows, trigger)


def make_shop(db, emu, test_ca, *, skus=(), locations=("Main",), levels=0, duplicate_skus=(), channel_kw=None):
    locs = [{"name": n} for n in locations]
    products = []
    for sku in skus:
        products.append({"title": f"Product {sku}", "variants": [{"sku": sku, "levels": {n: levels for n in locations}}]})
    for sku in duplicate_skus:
        for k in range(2):
            products.append({"title": f"Dup {sku} {k}", "variants": [{"sku": sku, "levels": {n: levels for n in locations}}]})
    seeded = emu.seed(locations=locs, products=products)
    kw = dict(name="Test shop", channel_type="shopify", base_url=emu.base_url, api_version=SHOPIFY_API_VERSION,
              credentials={"access_token": SHOPIFY_TOKEN}, settings={"ca_file": test_ca["ca"]}, timeout_ms=5000)
    kw.update(channel_kw or {})
    cid = outbox.add_channel(db.conn, **kw)
    return ShopFixture(db, emu, seeded, cid, seeded["locations"])


@pytest.fixture
def shop_factory(db, shopify, test_ca):
    def factory(**kw):
        return make_shop(db, shopify, test_ca, **kw)
    return factory
