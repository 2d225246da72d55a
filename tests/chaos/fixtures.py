"""pytest fixtures for tests that run the same scenario against every shop
type. Import them into a test module:

    from chaos.fixtures import make_shop, medusa, medusa_proxy, woo, woo_server  # noqa: F401

``make_shop(kind, names, channel_kw=None)`` seeds one SKU per name (prefixed
with a per-call tag, since the real Medusa server is shared by the session)
and adds the channel; it returns a ShopView (``.skus`` in the order of
``names``). Medusa runs behind a FaultProxy; it is skipped loudly when the
real server cannot run here."""
from __future__ import annotations

import pytest

from chaos.proxy import FaultProxy
from chaos.shops import medusa_shop, shared_medusa, shopify_shop, unique, woo_shop
from emulators.woocommerce import WooEmulator
from harness import outbox

WOO_KEY = {"consumer_key": "ck_" + "f417" * 10, "consumer_secret": "cs_" + "d00d" * 10, "permissions": "read_write"}
KINDS = ("shopify", "woocommerce", "medusa")


@pytest.fixture(scope="module")
def woo_server(test_ca, tmp_path_factory):
    with WooEmulator(tls=test_ca, log_path=str(tmp_path_factory.mktemp("woo") / "woo.log")) as emu:
        yield emu


@pytest.fixture
def woo(woo_server):
    woo_server.reset(everything=True)
    woo_server.configure(keys=[WOO_KEY])
    yield woo_server
    woo_server.clear_faults()


@pytest.fixture
def medusa():
    srv, why = shared_medusa()
    if srv is None:
        pytest.skip(f"REAL MEDUSA NOT AVAILABLE, Medusa case untested: {why}")
    return srv


@pytest.fixture
def medusa_proxy(medusa, tmp_path):
    proxy = FaultProxy(upstream=medusa.base_url, log_path=tmp_path / "medusa-proxy.log").start()
    yield proxy
    proxy.stop()


@pytest.fixture
def make_shop(request, db, test_ca):
    def factory(kind, names, channel_kw=None):
        tag = unique(kind[:2].upper())
        skus = [f"{tag}-{n}" for n in names]
        if kind == "shopify":
            return shopify_shop(db, request.getfixturevalue("shopify"), test_ca, skus, channel_kw=channel_kw)
        if kind == "woocommerce":
            return woo_shop(db, request.getfixturevalue("woo"), test_ca, skus, WOO_KEY, channel_kw=channel_kw)
        if kind == "medusa":
            return medusa_shop(db, request.getfixturevalue("medusa"), request.getfixturevalue("medusa_proxy"), skus,
                               channel_kw=channel_kw)
        raise ValueError(kind)
    return factory


def enqueue(db, shop, items, trigger="quant"):
    """items [(product_id, sku, qty)] for ``shop``, committed as the addon does."""
    return outbox.enqueue(db.dsn, shop.rows(items), trigger)
