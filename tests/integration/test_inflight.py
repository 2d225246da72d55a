"""Several batches of one channel in flight (issue 17, contract v6
[in-flight]): the channel's batches_in_flight lets stockrelayd drive a slow
shop with several batches at once, on disjoint keys.

Against the WooCommerce and Shopify EMULATORS: the latency of a slow shop,
a 5xx held for seconds and an exhausted cost bucket are what a real shop
cannot show on demand. The real-WooCommerce and real-Medusa figures are in
scripts/bench --only inflight (docs/BENCHMARKS.md)."""
from __future__ import annotations

import time

import psycopg2
import pytest

from emulators.woocommerce import WooEmulator
from harness import outbox

pytestmark = [pytest.mark.sidecar]

KEY = {"consumer_key": "ck_" + "1f11" * 10, "consumer_secret": "cs_" + "2f22" * 10, "permissions": "read_write"}


@pytest.fixture(scope="module")
def woo(test_ca, tmp_path_factory):
    with WooEmulator(tls=test_ca, log_path=str(tmp_path_factory.mktemp("woo") / "woo.log")) as emu:
        yield emu


def woo_channel(db, emu, test_ca, skus, batches_in_flight, **channel_kw):
    emu.reset(everything=True)
    emu.configure(keys=[KEY])
    emu.seed([{"name": s, "sku": s, "manage_stock": True, "stock_quantity": 0} for s in skus])
    fields = dict(name="Slow Woo", channel_type="woocommerce", base_url=emu.base_url,
                  credentials={k: KEY[k] for k in ("consumer_key", "consumer_secret")},
                  settings={"ca_file": test_ca["ca"]}, timeout_ms=10000)
    fields.update(channel_kw)
    cid = outbox.add_channel(db.conn, **fields)
    outbox.update_channel(db.conn, cid, batches_in_flight=batches_in_flight)
    return cid


def woo_history(emu, sku):
    return [e["stock_quantity"] for e in emu.history()["by_sku"].get(sku, []) if e["via"] in ("put", "batch")]


def enqueue(db, cid, skus, qty):
    outbox.enqueue(db.dsn, [(cid, i + 1, s, "", qty) for i, s in enumerate(skus)])


def timed_round(db, cid, skus, qty):
    started = time.monotonic()
    enqueue(db, cid, skus, qty)
    outbox.wait_until(lambda: outbox.counts(db.conn, cid) == {"done": len(skus) * qty}, timeout=60,
                      interval=0.02, message=f"round {qty} done")
    return time.monotonic() - started


def test_four_batches_in_flight_drain_a_slow_shop_about_four_times_faster(db, sidecar, woo, test_ca):
    skus = [f"SLOW-{i:02d}" for i in range(40)]
    elapsed = {}
    for n in (1, 4):
        cid = woo_channel(db, woo, test_ca, skus, batch_size=5, batches_in_flight=n)
        proc = sidecar.start("--poll-interval", "0.5", "--channel", str(cid))
        timed_round(db, cid, skus, 1)  # lookups, the SKU cache: not what is measured
        woo.configure(per_item_latency_ms=100)  # each product save ~100 ms: 0.5 s per batch of 5
        elapsed[n] = timed_round(db, cid, skus, 2)
        woo.configure(per_item_latency_ms=0)
        assert proc.stop() == 0
        if n > 1:
            assert f"{n} batches in flight" in proc.log()
        assert all(woo_history(woo, s) == [1, 2] for s in skus)
    print(f"8 batches of 5 at 0.5 s each: 1 in flight {elapsed[1]:.2f}s, 4 in flight {elapsed[4]:.2f}s")
    assert elapsed[1] >= 3.5, elapsed  # 8 batches one after another
    assert elapsed[1] / elapsed[4] >= 2.5, elapsed  # ~4x; the margin is this shared 2-core machine


def test_a_key_updated_while_its_batch_is_in_flight_lands_its_newest_value_last(db, sidecar, woo, test_ca):
    skus = [f"UPD-{i:02d}" for i in range(20)]
    cid = woo_channel(db, woo, test_ca, skus, batch_size=5, batches_in_flight=4)
    enqueue(db, cid, skus, 0)
    proc = sidecar.start("--poll-interval", "0.5", "--channel", str(cid))
    outbox.wait_until(lambda: outbox.counts(db.conn, cid) == {"done": 20}, timeout=30, message="warm-up")
    woo.configure(per_item_latency_ms=300)
    enqueue(db, cid, skus, 1)
    # UPD-00's row is in flight (with other batches): a newer value arrives.
    outbox.wait_until(lambda: outbox.rows(db.conn, state="in_flight", sku="UPD-00"), timeout=10,
                      interval=0.01, message="UPD-00 in flight")
    in_flight = outbox.counts(db.conn, cid).get("in_flight", 0)
    enqueue(db, cid, ["UPD-00"], 2)
    waiting = outbox.rows(db.conn, state="pending", sku="UPD-00")
    assert len(waiting) == 1  # the newer row waits; it is not coalesced into the one in flight
    outbox.wait_until(lambda: outbox.settled(db.conn, cid), timeout=30, message="the outbox to drain")
    assert proc.stop() == 0
    assert in_flight > 5, in_flight  # several batches were in flight at once
    assert woo_history(woo, "UPD-00") == [0, 1, 2]
    assert woo.stock("UPD-00") == 2
    assert all(woo_history(woo, s) == [0, 1] for s in skus[1:])
    assert outbox.counts(db.conn, cid) == {"done": 41}


def test_a_batch_failing_slowly_with_5xx_does_not_hold_back_the_others(db, sidecar, woo, test_ca):
    skus = [f"F5-{i}" for i in range(8)]
    cid = woo_channel(db, woo, test_ca, skus, batch_size=2, batches_in_flight=4)
    enqueue(db, cid, skus, 0)
    proc = sidecar.start("--poll-interval", "0.5", "--channel", str(cid))
    outbox.wait_until(lambda: outbox.counts(db.conn, cid) == {"done": 8}, timeout=30, message="warm-up")
    woo.configure(per_item_latency_ms=50)
    woo.set_faults([{"path_contains": "/batch", "action": "status", "status": 503, "delay_ms": 3000, "times": 1}])
    enqueue(db, cid, skus, 5)
    # While one batch waits 3 s for its 503, the three others land.
    outbox.wait_until(lambda: outbox.counts(db.conn, cid) == {"done": 14, "in_flight": 2}, timeout=2.5,
                      interval=0.02, message="the other batches done while one waits for its 503")
    outbox.wait_until(lambda: outbox.counts(db.conn, cid) == {"done": 16}, timeout=30, message="all done")
    assert proc.stop() == 0
    assert all(woo.stock(s) == 5 for s in skus)
    retried = [r for r in outbox.rows(db.conn, state="done") if r["quantity"] == 5 and r["attempts"] == 2]
    assert len(retried) == 2, retried
    assert 503 in [r["status"] for r in woo.requests()]
    woo.clear_faults()


@pytest.mark.shopify
def test_shopify_lanes_stay_within_the_cost_bucket(shop_factory, sidecar, db):
    throttled = {}
    for n in (1, 4):
        skus = [f"B{n}-{i:03d}" for i in range(60)]
        shop = shop_factory(skus=skus, channel_kw={"batch_size": 10})
        outbox.update_channel(db.conn, shop.channel_id, batches_in_flight=n)
        shop.emu.config(maximumAvailable=120, restoreRate=60, currentlyAvailable=120)
        before = len(shop.emu.requests())
        proc = sidecar.start("--poll-interval", "0.5", "--channel", str(shop.channel_id))
        shop.enqueue([(i, sku, "Main", n * 100 + i) for i, sku in enumerate(skus)])
        outbox.wait_until(lambda: outbox.settled(db.conn, shop.channel_id), timeout=120, message="drained")
        assert proc.stop() == 0
        assert all(shop.available(s) == n * 100 + i for i, s in enumerate(skus))
        assert outbox.counts(db.conn, shop.channel_id) == {"done": 60}
        requests = shop.emu.requests()[before:]
        throttled[n] = sum(1 for x in requests if x["throttled"])
        if n > 1:
            assert f"{n} batches in flight" in proc.log()
    print(f"THROTTLED answers: 1 in flight {throttled[1]}, 4 in flight {throttled[4]}")
    # Lanes take turns on the shop: no more THROTTLED answers than one lane gets.
    assert throttled[4] <= throttled[1] + 1, throttled


def test_the_contract_bounds_batches_in_flight(db):
    cid = outbox.add_channel(db.conn, name="Bounded")
    for bad in (0, 17, -1):
        with pytest.raises(psycopg2.errors.CheckViolation):
            outbox.update_channel(db.conn, cid, batches_in_flight=bad)
        db.conn.rollback()
    outbox.update_channel(db.conn, cid, batches_in_flight=16)
    outbox.update_channel(db.conn, cid, batches_in_flight=None)
