"""Bad input through the real stockrelayd (DESIGN invariant 6): broken channel
settings, awkward SKUs, impossible quantities, a SKU mapped from two
products, oversized batches and shop answers of the wrong shape each get a
specific error (on the row, or from ``stockrelayd check``), nothing crashes,
and the other rows and channels keep flowing.

Already proven elsewhere and not repeated: a missing access token in check
(test_sidecar_cli.py), unknown and duplicate SKUs per shop, negative /
fractional / too-large quantities on Shopify, wrong credentials per shop, the
WooCommerce 100-item clamp and Medusa's batch bound (the *_relay.py files)."""
from __future__ import annotations

import pytest

from chaos.fixtures import enqueue, make_shop, medusa, medusa_proxy, woo, woo_server  # noqa: F401
from harness import outbox

pytestmark = [pytest.mark.shopify, pytest.mark.sidecar]


def check_lines(sidecar):
    r = sidecar.check()
    lines = {}
    for line in r.stdout.splitlines():
        if line.startswith("channel "):
            lines[int(line.split()[1])] = line
    return r, lines


def test_broken_channel_settings_are_named_by_check_and_block_nothing_else(db, sidecar, make_shop, shopify):
    good = make_shop("shopify", ["G-1"])
    base = dict(channel_type="shopify", base_url=shopify.base_url, api_version="2025-10",
                credentials={"access_token": shopify.token}, settings={"ca_file": good.emu.ca_file})
    bad = {
        "token of the wrong type": dict(base, credentials={"access_token": 12345}),
        "credentials not an object": dict(base, credentials=["shpat_x"]),
        "settings of the wrong type": dict(base, settings={"ca_file": 7}),
        "missing CA file": dict(base, settings={"ca_file": "/nonexistent/ca.pem"}),
        "not a URL": dict(base, base_url="not a url at all"),
        "ftp URL": dict(base, base_url="ftp://127.0.0.1/shop"),
        "plain http to a remote host": dict(base, base_url="http://shop.example.com"),
        "unknown API version": dict(base, api_version="1999-01"),
        "garbage API version": dict(base, api_version="latest-and-greatest"),
        "woo without a secret": dict(base, channel_type="woocommerce", credentials={"consumer_key": "ck_only"}),
        "medusa without credentials": dict(base, channel_type="medusa", credentials={}),
    }
    ids = {why: outbox.add_channel(db.conn, name=why, **kw) for why, kw in bad.items()}
    r, lines = check_lines(sidecar)
    assert r.returncode == 1
    assert ": OK" in lines[good.channel_id]
    for why, cid in ids.items():
        assert "FAIL" in lines[cid], (why, lines[cid])
    expect = {"token of the wrong type": "access_token", "credentials not an object": "credentials",
              "settings of the wrong type": "settings.ca_file", "missing CA file": "TLS", "not a URL": "base_url", "ftp URL": "ftp",
              "plain http to a remote host": "plain HTTP", "unknown API version": "1999-01",
              "garbage API version": "latest-and-greatest", "woo without a secret": "consumer_secret",
              "medusa without credentials": "api_key"}
    for why, needle in expect.items():
        assert needle in lines[ids[why]], (why, lines[ids[why]])
    # A running sidecar keeps the good channel flowing; rows of broken ones stay visible, never lost.
    proc = sidecar.start("--poll-interval", "0.3")
    enqueue(db, good, [(1, good.skus[0], 5)])
    for cid in ids.values():
        outbox.enqueue(db.dsn, [(cid, 1, "ANY", good.location_key, 1)])
    outbox.wait_until(lambda: good.levels()[good.skus[0]] == 5, timeout=20, message="the good channel's push")
    assert proc.alive()
    assert proc.stop() == 0
    log = proc.log()
    assert "cannot start" in log or "FAIL" in log or "config" in log
    states = dict(db.query("SELECT channel_id, state FROM stock_relay_outbox"))
    assert states[good.channel_id] == "done"
    for cid in ids.values():
        assert states[cid] in ("pending", "failed"), (cid, states[cid])


def test_an_unknown_channel_type_is_refused_by_the_database_and_by_the_sidecar(db, sidecar, make_shop):
    import psycopg2.errors
    with pytest.raises(psycopg2.errors.CheckViolation):
        outbox.add_channel(db.conn, name="Magento", channel_type="magento", base_url="https://m.example")
    # A hand-edited database without the CHECK: the sidecar names the type and goes on.
    good = make_shop("shopify", ["U-1"])
    db.query("ALTER TABLE stock_relay_channel DROP CONSTRAINT stock_relay_channel_channel_type_check")
    odd = outbox.add_channel(db.conn, name="Magento", channel_type="magento", base_url="https://m.example")
    r, lines = check_lines(sidecar)
    assert r.returncode == 1 and "FAIL" in lines[odd] and "magento" in lines[odd], lines
    outbox.enqueue(db.dsn, [(odd, 1, "U-1", "", 1)])
    enqueue(db, good, [(1, good.skus[0], 3)])
    d = sidecar.drain_once()
    assert good.levels()[good.skus[0]] == 3, d.stdout + d.stderr
    assert dict(db.query("SELECT channel_id, state FROM stock_relay_outbox"))[odd] == "pending"


AWKWARD = ["WITH SPACE", 'QUOTE"D', "APOS'TROPHE", "BACK\\SLASH", "ÜNÏCÖDÉ-日本-🙂", "PLUS+AND&AMP=EQ?Q#H%25",
           "sku:OR-1", "L" * 200]


@pytest.mark.parametrize("kind", ["shopify", "woocommerce", "medusa"])
def test_awkward_skus_reach_the_shop_unmangled(db, sidecar, make_shop, kind):
    shop = make_shop(kind, AWKWARD)
    long_sku = shop.skus[-1]
    assert len(long_sku) > 200
    enqueue(db, shop, [(i + 1, sku, 10 + i) for i, sku in enumerate(shop.skus)])
    r = sidecar.drain_once()
    levels = shop.levels()
    assert levels == {sku: 10 + i for i, sku in enumerate(shop.skus)}, (levels, r.stdout + r.stderr)
    assert outbox.counts(db.conn) == {"done": len(AWKWARD)}


def test_skus_of_255_characters_and_lookalikes_do_not_match_each_other(db, sidecar, make_shop):
    # 255 characters (the varchar limit shops use) and SKUs that differ only in the last one.
    names = ["X" * 240 + "A", "X" * 240 + "B"]
    shop = make_shop("shopify", names)
    assert all(len(s) <= 255 for s in shop.skus)
    enqueue(db, shop, [(1, shop.skus[0], 1), (2, shop.skus[1], 2), (3, shop.skus[0][:-1], 3)])
    sidecar.drain_once()
    assert shop.levels() == {shop.skus[0]: 1, shop.skus[1]: 2}
    by_sku = {r["sku"]: r for r in outbox.rows(db.conn)}
    assert by_sku[shop.skus[0][:-1]]["error_code"] == "sku_not_found"


@pytest.mark.parametrize("kind", ["woocommerce", "medusa"])
def test_fractional_negative_and_huge_quantities_fail_without_being_sent(db, sidecar, make_shop, kind):
    shop = make_shop(kind, ["OK", "WHOLE", "NEG", "FRAC", "BIG", "TINY"])
    ok, whole, neg, frac, big, tiny = shop.skus
    enqueue(db, shop, [(1, ok, 3), (2, whole, "4.000"), (3, neg, -2), (4, frac, "1.5"), (5, big, 10 ** 12),
                       (6, tiny, "0.0001")])
    r = sidecar.drain_once()
    assert "done=2 failed=4" in r.stdout, r.stdout + r.stderr
    by_sku = {x["sku"]: x for x in outbox.rows(db.conn)}
    for sku, why in ((neg, "negative"), (frac, "fractional"), (big, "maximum"), (tiny, "fractional")):
        assert by_sku[sku]["state"] == "failed" and by_sku[sku]["error_code"] == "invalid_quantity"
        assert why in by_sku[sku]["last_error"], by_sku[sku]["last_error"]
        assert not shop.histories().get(sku)
    assert shop.levels()[ok] == 3 and shop.levels()[whole] == 4


def test_a_batch_size_over_the_api_limit_is_clamped(db, sidecar, make_shop):
    shop = make_shop("shopify", [f"B{i:03d}" for i in range(300)], channel_kw={"batch_size": 100000})
    enqueue(db, shop, [(i + 1, sku, i + 1) for i, sku in enumerate(shop.skus)])
    r = sidecar.drain_once(timeout=240)
    assert outbox.counts(db.conn) == {"done": 300}, r.stdout + r.stderr
    sets = [x for x in shop.emu.requests() if "inventorySetQuantities" in x["rootFields"]]
    assert sets and max(x["items"] for x in sets) <= 250, [x["items"] for x in sets]
    assert all(x["status"] == 200 for x in sets)


# Answers a parser relies on, of the wrong shape. (Extra fields are ignored by
# design; Medusa's batch endpoint is atomic, so its 2xx alone means applied and
# its echo is only logged: garbage/truncated Medusa answers are in
# test_faults_transport.py.)
WRONG_SHAPES = {
    "shopify": [{"data": {"inventorySetQuantities": None}, "extensions": {"cost": "free"}},
                [1, 2, 3],
                {"data": None, "errors": "not a list"}],
    "woocommerce": ['{"update": "not a list"}', '{"update": [{"id": "abc", "stock_quantity": "many"}]}', "[]"],
}


@pytest.mark.parametrize("kind", ["shopify", "woocommerce"])
def test_answers_of_the_wrong_shape_are_errors_not_successes(db, sidecar, make_shop, kind):
    shop = make_shop(kind, ["S-1", "S-2"], channel_kw={"max_attempts": 3})
    shop.push_faults([{"action": "status", "status": 200, "body": b, "times": 1} for b in WRONG_SHAPES[kind]])
    enqueue(db, shop, [(1, shop.skus[0], 6), (2, shop.skus[1], 7)])
    outs = []
    for _ in range(len(WRONG_SHAPES[kind])):
        d = sidecar.drain_once()
        outs.append(d.stdout + d.stderr)
        rows = outbox.rows(db.conn)
        # The answer did not confirm the write: never marked done on its say-so.
        assert all(r["state"] != "done" for r in rows), (rows, outs[-1])
        assert all(r["last_error"] for r in rows), rows
        # Due now, and older than the retry window: the next failure may be the last.
        db.query("UPDATE stock_relay_outbox SET next_attempt_at = now() AT TIME ZONE 'UTC', "
                 "enqueued_at = enqueued_at - interval '2 days'")
    rows = outbox.rows(db.conn)
    assert all(r["state"] == "failed" and r["attempts"] == 3 for r in rows), rows
    # Nothing crashed; once the shop answers properly, a replay lands.
    shop.clear_faults()
    assert "re-queued 2 row(s)" in sidecar.retry_failed().stdout
    sidecar.drain_once()
    assert shop.levels() == {shop.skus[0]: 6, shop.skus[1]: 7}


def test_one_shop_sku_mapped_from_two_products_refuses_the_rival_with_duplicate_sku(db, sidecar, make_shop):
    shop = make_shop("shopify", ["TWICE"])
    sku = shop.skus[0]
    # Products 1 and 2 both carry the shop's SKU; product 2's value is the newer one.
    enqueue(db, shop, [(1, sku, 5)])
    enqueue(db, shop, [(2, sku, 7)])
    for _ in range(3):
        sidecar.drain_once()
    rows = outbox.rows(db.conn)
    level = shop.levels()[sku]
    # The older product's row keeps the SKU; the other product's row fails with a reason naming both.
    assert level == 5, (level, rows)
    failed = [r for r in rows if r["state"] == "failed"]
    assert len(failed) == 1 and failed[0]["product_id"] == 2 and failed[0]["error_code"] == "duplicate_sku", rows
    assert "Odoo product 1" in failed[0]["last_error"], failed[0]
    # Later changes of the owning product still flow; the rival stays refused.
    enqueue(db, shop, [(1, sku, 9)])
    enqueue(db, shop, [(2, sku, 3)])
    for _ in range(3):
        sidecar.drain_once()
    assert shop.levels()[sku] == 9
    # One standing problem, one failed row: the newer refusal closed the older one.
    rival = [r["state"] for r in outbox.rows(db.conn) if r["product_id"] == 2]
    assert sorted(rival) == ["failed", "superseded"], rival


def test_a_sku_released_by_odoo_is_taken_over_and_its_old_owner_never_named(db, sidecar, make_shop):
    # Odoo clears product 1's SKU (contract v2: stock_relay_release_skus in the same transaction);
    # product 1 publishes nothing any more, so its newest row still carries the SKU.
    shop = make_shop("shopify", ["FREED"])
    sku = shop.skus[0]
    enqueue(db, shop, [(1, sku, 4)])
    sidecar.drain_once()
    db.query("SELECT stock_relay_release_skus(ARRAY[1], ARRAY[NULL]::varchar[])")
    enqueue(db, shop, [(2, sku, 8)], trigger="product")  # v2 trigger values drain like any other
    sidecar.drain_once()
    rows = outbox.rows(db.conn)
    assert shop.levels()[sku] == 8, rows
    assert not [r for r in rows if r["state"] == "failed"], "product 1 no longer has the SKU: never named"
    # The new owner is recorded; product 1 coming back with the same SKU is now the rival.
    enqueue(db, shop, [(1, sku, 2)])
    sidecar.drain_once()
    failed = [r for r in outbox.rows(db.conn) if r["state"] == "failed"]
    assert len(failed) == 1 and failed[0]["product_id"] == 1 and "Odoo product 2" in failed[0]["last_error"]


def test_a_sku_moves_to_another_product_once_its_owner_no_longer_uses_it(db, sidecar, make_shop):
    shop = make_shop("shopify", ["MOVED", "OTHER"])
    moved, other = shop.skus
    enqueue(db, shop, [(1, moved, 4)])
    sidecar.drain_once()
    # Product 1 gets a new SKU in Odoo; product 2 takes over the old one.
    enqueue(db, shop, [(1, other, 6)])
    sidecar.drain_once()
    enqueue(db, shop, [(2, moved, 8)])
    sidecar.drain_once()
    assert shop.levels()[moved] == 8 and shop.levels()[other] == 6
    assert not [r for r in outbox.rows(db.conn) if r["state"] == "failed"]
