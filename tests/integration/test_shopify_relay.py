"""End to end: outbox rows written as the addon writes them -> the real
stockrelayd -> the Shopify emulator over HTTPS (verified against the test CA)."""
from __future__ import annotations

import signal
import threading
import time

import psycopg2
import pytest

from harness import outbox

pytestmark = [pytest.mark.shopify, pytest.mark.sidecar]


def test_rows_reach_the_shop(shop_factory, sidecar, db):
    shop = shop_factory(skus=["SKU-1", "SKU-2", "SKU-3"], locations=("Main", "Backroom"))
    shop.enqueue([(1, "SKU-1", "Main", 7), (2, "SKU-2", "Main", 0), (3, "SKU-3", "Backroom", 42),
                  (1, "SKU-1", "Backroom", 3)])
    r = sidecar.drain_once()
    assert "drained rows=4 done=4 failed=0 retried=0" in r.stdout, r.stdout + r.stderr
    assert shop.available("SKU-1") == 7
    assert shop.available("SKU-2") == 0
    assert shop.available("SKU-3", "Backroom") == 42
    assert shop.available("SKU-1", "Backroom") == 3
    done = outbox.rows(db.conn, state="done")
    assert len(done) == 4
    assert all(r["done_at"] is not None and r["last_http_status"] == 200 and r["error_code"] is None for r in done)
    assert all(r["request_excerpt"] and shop.emu.token not in r["request_excerpt"] for r in done)
    # The SKU resolutions are cached for the next push.
    cached = dict(db.query("SELECT sku, remote_id FROM stock_relay_sku_cache WHERE channel_id = %s", (shop.channel_id,)))
    assert cached == {s: shop.item(s) for s in ("SKU-1", "SKU-2", "SKU-3")}
    # The token never reaches the log.
    assert shop.emu.token not in r.stdout + r.stderr


def set_quantity_requests(emu):
    return [r for r in emu.requests() if "inventorySetQuantities" in r["rootFields"]]


def test_many_writes_to_one_key_coalesce_into_one_push(shop_factory, sidecar, db):
    shop = shop_factory(skus=["HOT"])
    for q in range(1, 51):
        shop.enqueue([(1, "HOT", "Main", q)])
    assert outbox.counts(db.conn) == {"pending": 1}
    row = outbox.rows(db.conn)[0]
    assert int(row["quantity"]) == 50
    r = sidecar.drain_once()
    assert "drained rows=1 done=1" in r.stdout, r.stdout + r.stderr
    assert shop.history("HOT") == [50]
    assert len(set_quantity_requests(shop.emu)) == 1


@pytest.mark.parametrize("batches_in_flight", [1, 4])  # issue 17: lanes on disjoint keys keep the order
def test_no_older_value_is_applied_after_a_newer_one_while_writes_race_the_sidecar(shop_factory, sidecar, db,
                                                                                   batches_in_flight):
    skus = [f"RACE-{i}" for i in range(4)]
    shop = shop_factory(skus=skus, channel_kw={"batch_size": 3})
    outbox.update_channel(db.conn, shop.channel_id, batches_in_flight=batches_in_flight)
    shop.emu.config(latencyMs=20)
    proc = sidecar.start("--poll-interval", "0.5")
    last = 120
    errors = []

    def writer(offset):
        try:
            conn = psycopg2.connect(db.dsn)
            for q in range(1, last + 1):
                # Each transaction touches every key, like a picking moving many products.
                outbox.enqueue(conn, [(shop.channel_id, offset * 10 + k, sku, shop.locations["Main"], q)
                                      for k, sku in enumerate(skus)])
                time.sleep(0.002)
            conn.close()
        except Exception as e:  # pragma: no cover - reported below
            errors.append(e)

    t = threading.Thread(target=writer, args=(1,))
    t.start()
    t.join(120)
    assert not errors, errors
    outbox.wait_until(lambda: outbox.settled(db.conn), timeout=60, message="the outbox to drain")
    assert proc.stop() == 0
    for sku in skus:
        applied = shop.history(sku)
        assert applied, f"{sku} never pushed"
        assert applied == sorted(applied) and len(set(applied)) == len(applied), f"{sku} regressed: {applied}"
        assert applied[-1] == last
        assert shop.available(sku) == last
    # Coalescing did its job: far fewer pushes than writes.
    assert sum(len(shop.history(s)) for s in skus) < len(skus) * last
    assert outbox.counts(db.conn).get("failed", 0) == 0


def test_a_rolled_back_enqueue_is_never_pushed(shop_factory, sidecar, db):
    shop = shop_factory(skus=["RB-1"])
    proc = sidecar.start("--poll-interval", "0.2")
    conn = psycopg2.connect(db.dsn)
    with conn.cursor() as cur:
        outbox.enqueue_in(cur, [(shop.channel_id, 1, "RB-1", shop.locations["Main"], 99)])
    time.sleep(0.5)  # the sidecar polls meanwhile: an uncommitted row must be invisible
    conn.rollback()
    conn.close()
    shop.enqueue([(1, "RB-1", "Main", 5)])
    outbox.wait_until(lambda: shop.available("RB-1") == 5, timeout=10, message="the committed value")
    assert proc.stop() == 0
    assert 99 not in shop.history("RB-1")
    assert [int(r["quantity"]) for r in outbox.rows(db.conn)] == [5]


def test_unknown_and_duplicate_skus_fail_specifically_while_the_rest_lands(shop_factory, sidecar, db):
    shop = shop_factory(skus=["GOOD-1", "GOOD-2"], duplicate_skus=["TWIN"])
    shop.enqueue([(1, "GOOD-1", "Main", 4), (2, "NOPE", "Main", 3), (3, "TWIN", "Main", 2), (4, "GOOD-2", "Main", 1)])
    r = sidecar.drain_once()
    assert "drained rows=4 done=2 failed=2" in r.stdout, r.stdout + r.stderr
    by_sku = {x["sku"]: x for x in outbox.rows(db.conn)}
    assert by_sku["GOOD-1"]["state"] == "done" and by_sku["GOOD-2"]["state"] == "done"
    assert by_sku["NOPE"]["state"] == "failed" and by_sku["NOPE"]["error_code"] == "sku_not_found"
    assert "NOPE" in by_sku["NOPE"]["last_error"]
    assert by_sku["TWIN"]["state"] == "failed" and by_sku["TWIN"]["error_code"] == "duplicate_sku"
    assert shop.available("GOOD-1") == 4 and shop.available("GOOD-2") == 1
    # One log line per failed row, with the reason.
    assert "sku 'NOPE' location" in r.stderr and "sku_not_found" in r.stderr
    assert "sku 'TWIN' location" in r.stderr and "duplicate_sku" in r.stderr


def test_invalid_quantities_fail_without_being_sent(shop_factory, sidecar, db):
    shop = shop_factory(skus=["Q-OK", "Q-NEG", "Q-FRAC", "Q-BIG"])
    shop.enqueue([(1, "Q-OK", "Main", 3), (2, "Q-NEG", "Main", -2), (3, "Q-FRAC", "Main", "1.5"),
                  (4, "Q-BIG", "Main", 10**12)])
    r = sidecar.drain_once()
    assert "drained rows=4 done=1 failed=3" in r.stdout, r.stdout + r.stderr
    by_sku = {x["sku"]: x for x in outbox.rows(db.conn)}
    for sku, why in (("Q-NEG", "negative"), ("Q-FRAC", "fractional"), ("Q-BIG", "maximum")):
        assert by_sku[sku]["state"] == "failed"
        assert by_sku[sku]["error_code"] == "invalid_quantity"
        assert why in by_sku[sku]["last_error"]
        assert shop.history(sku) == []
    assert shop.available("Q-OK") == 3


def test_throttling_slows_the_sidecar_without_failing_rows(shop_factory, sidecar, db):
    skus = [f"T-{i:03d}" for i in range(60)]
    shop = shop_factory(skus=skus, channel_kw={"batch_size": 10})
    shop.emu.config(maximumAvailable=120, restoreRate=60, currentlyAvailable=0)
    shop.enqueue([(i, sku, "Main", i + 1) for i, sku in enumerate(skus)])
    started = time.monotonic()
    r = sidecar.drain_once(timeout=240)
    elapsed = time.monotonic() - started
    out = r.stdout + r.stderr
    # Retried rows (THROTTLED answers) come back after their delay: keep draining.
    deadline = time.monotonic() + 120
    while not outbox.settled(db.conn) and time.monotonic() < deadline:
        time.sleep(0.5)
        out += sidecar.drain_once(timeout=240).stderr
    assert outbox.counts(db.conn) == {"done": 60}, out
    assert all(shop.available(s) == i + 1 for i, s in enumerate(skus))
    # The bucket started empty: the sidecar had to wait for it to refill,
    # either told so by THROTTLED answers or pacing itself on the reported bucket.
    assert elapsed > 1.0
    throttled = [x for x in shop.emu.requests() if x["throttled"]]
    assert throttled or "throttled_ms=" in out, out
    print(f"throttled answers: {len(throttled)}; drain took {elapsed:.1f}s")
    assert all(x["attempts"] <= 1 or x["error_code"] is None for x in outbox.rows(db.conn))


def test_server_errors_are_retried_until_they_succeed(shop_factory, sidecar, db):
    shop = shop_factory(skus=["R-1", "R-2"])
    shop.emu.faults([{"operation": "inventorySetQuantities", "action": "status", "status": 503, "times": 2}])
    proc = sidecar.start("--poll-interval", "0.5")
    shop.enqueue([(1, "R-1", "Main", 11), (2, "R-2", "Main", 12)])
    outbox.wait_until(lambda: outbox.counts(db.conn) == {"done": 2}, timeout=30, message="both rows done")
    assert proc.stop() == 0
    assert shop.available("R-1") == 11 and shop.available("R-2") == 12
    rows = outbox.rows(db.conn)
    # Two 503s were served; each row saw at least one, and a done row carries no stale error.
    assert all(2 <= x["attempts"] <= 3 for x in rows), proc.log()
    assert all(x["error_code"] is None and x["last_error"] is None for x in rows)
    assert "will retry" in proc.log() and "transient" in proc.log()


def test_persistent_server_errors_dead_letter_after_max_attempts_and_the_retry_window(shop_factory, sidecar, db):
    # The shop answers (only the push fails): a row-level failure, which fails
    # once both max_attempts and the retry window (here 1 s) are spent.
    shop = shop_factory(skus=["D-1"], channel_kw={"max_attempts": 2, "retry_window_hours": 0.0003})
    shop.emu.faults([{"operation": "inventorySetQuantities", "action": "status", "status": 500}])
    proc = sidecar.start("--poll-interval", "0.3")
    shop.enqueue([(1, "D-1", "Main", 1)])
    outbox.wait_until(lambda: outbox.counts(db.conn) == {"failed": 1}, timeout=30, message="the row to dead-letter")
    assert proc.stop() == 0
    row = outbox.rows(db.conn)[0]
    assert row["attempts"] >= 2 and row["error_code"] == "transient"
    assert f"gave up after {row['attempts']} attempts over 0.0 h" in row["last_error"], row["last_error"]
    # The operator fixes the shop and retries: the row is re-queued and lands.
    shop.emu.clear_faults()
    r = sidecar.retry_failed()
    assert "re-queued 1 row(s)" in r.stdout
    sidecar.drain_once()
    assert shop.available("D-1") == 1


def test_check_reports_ok_and_a_bad_token(shop_factory, sidecar, db):
    shop = shop_factory(skus=["C-1"])
    r = sidecar.check()
    assert r.returncode == 0, r.stdout + r.stderr
    line = next(l for l in r.stdout.splitlines() if l.startswith(f"channel {shop.channel_id} "))
    assert ": OK " in line
    outbox.update_channel(db.conn, shop.channel_id, credentials={"access_token": "shpat_wrong_token_9999"})
    r = sidecar.check()
    assert r.returncode == 1
    line = next(l for l in r.stdout.splitlines() if l.startswith(f"channel {shop.channel_id} "))
    assert ": FAIL auth" in line, line
    assert "shpat_wrong_token_9999" not in r.stdout + r.stderr


def test_status_after_a_push(shop_factory, sidecar, db):
    shop = shop_factory(skus=["S-1"])
    shop.enqueue([(1, "S-1", "Main", 1), (2, "S-404", "Main", 1)])
    sidecar.drain_once()
    st = sidecar.status(as_json=True)
    ch = st["channels"][0]
    assert ch["counts"]["done"] == 1 and ch["counts"]["failed"] == 1 and ch["counts"]["pending"] == 0
    assert ch["last_success"] and ch["last_success"].endswith("Z")
    assert ch["oldest_pending_age_seconds"] is None
    assert ch["last_failure"].startswith("sku_not_found")


def test_sigterm_finishes_the_batch_in_hand_and_exits_cleanly(shop_factory, sidecar, db):
    shop = shop_factory(skus=["G-1", "G-2"])
    shop.emu.config(latencyMs=1500)
    proc = sidecar.start("--poll-interval", "0.2")
    shop.enqueue([(1, "G-1", "Main", 8), (2, "G-2", "Main", 9)])
    outbox.wait_until(lambda: outbox.counts(db.conn).get("in_flight"), timeout=10, message="a batch in flight")
    proc.kill(signal.SIGTERM)
    assert proc.wait(30) == 0, proc.log()
    # The batch in hand was finished and acked, not abandoned.
    assert outbox.counts(db.conn) == {"done": 2}, proc.log()
    assert shop.available("G-1") == 8 and shop.available("G-2") == 9
    assert "received SIGTERM" in proc.log() and "stockrelayd stopped" in proc.log()


def test_kill_9_mid_batch_rows_come_back_after_the_lease(shop_factory, sidecar, db):
    shop = shop_factory(skus=["K-1", "K-2"])
    shop.emu.config(latencyMs=3000)
    first = sidecar.start("--lease-seconds", "2", "--poll-interval", "0.2")
    shop.enqueue([(1, "K-1", "Main", 5), (2, "K-2", "Main", 6)])
    outbox.wait_until(lambda: outbox.counts(db.conn).get("in_flight") == 2, timeout=10, message="rows in flight")
    first.kill(signal.SIGKILL)
    first.wait(10)
    assert outbox.counts(db.conn) == {"in_flight": 2}
    shop.emu.config(latencyMs=0)
    second = sidecar.start("--lease-seconds", "2", "--poll-interval", "0.2")
    outbox.wait_until(lambda: outbox.counts(db.conn) == {"done": 2}, timeout=30, message="rows recovered and done")
    assert second.stop() == 0
    assert "came back after an expired lease" in second.log()
    assert shop.available("K-1") == 5 and shop.available("K-2") == 6
    assert all(x["attempts"] == 2 for x in outbox.rows(db.conn))


def test_notify_wakes_the_sidecar_promptly(shop_factory, sidecar, db):
    shop = shop_factory(skus=["N-1"])
    # A long poll interval: only NOTIFY can explain a prompt push.
    proc = sidecar.start("--poll-interval", "60")
    shop.enqueue([(1, "N-1", "Main", 1)])
    outbox.wait_until(lambda: shop.available("N-1") == 1, timeout=10, message="the first push")
    time.sleep(0.5)
    started = time.monotonic()
    shop.enqueue([(1, "N-1", "Main", 2)])
    outbox.wait_until(lambda: shop.available("N-1") == 2, timeout=10, interval=0.02, message="the NOTIFY-driven push")
    assert time.monotonic() - started < 5.0  # far below the 60 s poll interval
    assert proc.stop() == 0


@pytest.mark.parametrize("version", ["2025-01", "2025-10", "2026-01", "2026-04", "2026-10"])
def test_every_supported_api_version_lands_the_quantity(shop_factory, sidecar, db, version):
    # 2026-01 still requires a compare unless each quantity opts out with an
    # explicit changeFromQuantity: null (or ignoreCompareQuantity): a request
    # without either fails every row with COMPARE_QUANTITY_REQUIRED.
    shop = shop_factory(skus=["V-1"], channel_kw={"api_version": version})
    shop.enqueue([(1, "V-1", "Main", 9)])
    r = sidecar.drain_once()
    assert "drained rows=1 done=1 failed=0" in r.stdout, r.stdout + r.stderr
    assert shop.available("V-1") == 9


def test_a_moved_sku_is_resolved_again_once_its_cache_entry_is_older_than_the_channel_allows(shop_factory, sidecar, db):
    shop = shop_factory(skus=["MOVE", "OTHER"])
    shop.enqueue([(1, "MOVE", "Main", 3)])
    assert "done=1" in sidecar.drain_once().stdout
    old, other = shop.seeded["variants"]["MOVE"], shop.seeded["variants"]["OTHER"]
    # In Shopify the SKU moves to another variant. Shopify's answer to a set
    # cannot tell (it names the inventory item, not the SKU): the cache's age bounds the damage.
    shop.emu.rename_sku(old["variantId"], "MOVE-retired")
    shop.emu.rename_sku(other["variantId"], "MOVE")
    db.query("UPDATE stock_relay_sku_cache SET resolved_at = resolved_at - interval '61 minutes' "
             "WHERE channel_id = %s", (shop.channel_id,))
    shop.enqueue([(1, "MOVE", "Main", 8)])
    r = sidecar.drain_once()
    assert "drained rows=1 done=1" in r.stdout, r.stdout + r.stderr
    assert shop.available("MOVE") == 8            # the variant carrying the SKU now
    assert shop.available("MOVE-retired") == 3    # untouched
    assert db.query("SELECT remote_id FROM stock_relay_sku_cache WHERE channel_id = %s AND sku = 'MOVE'",
                    (shop.channel_id,)) == [(other["inventoryItemId"],)]
    resolves = [q for q in shop.emu.requests() if q["operationName"] == "ResolveSkus"]
    assert len(resolves) == 2


def test_a_fresh_cache_entry_is_trusted_and_max_age_zero_resolves_on_every_push(shop_factory, sidecar, db):
    shop = shop_factory(skus=["AGE"])
    for q in (1, 2):
        shop.enqueue([(1, "AGE", "Main", q)])
        assert "done=1" in sidecar.drain_once().stdout
    resolves = lambda: len([q for q in shop.emu.requests() if q["operationName"] == "ResolveSkus"])  # noqa: E731
    assert resolves() == 1
    outbox.update_channel(db.conn, shop.channel_id, sku_cache_max_age_seconds=0)
    shop.enqueue([(1, "AGE", "Main", 3)])
    assert "done=1" in sidecar.drain_once().stdout
    assert resolves() == 2 and shop.available("AGE") == 3


def test_a_user_error_naming_no_row_fails_no_row(shop_factory, sidecar, db):
    shop = shop_factory(skus=["P-1", "P-2", "P-3", "P-4"])
    shop.enqueue([(k, f"P-{k}", "Main", 10 + k) for k in range(1, 5)])
    assert "done=4" in sidecar.drain_once().stdout  # warm the cache
    body = {"data": {"inventorySetQuantities": {"inventoryAdjustmentGroup": None, "userErrors": [
        {"code": "INTERNAL_ERROR", "field": None, "message": "Something went wrong, please retry"}]}}}
    shop.emu.faults([{"operation": "inventorySetQuantities", "action": "status", "status": 200, "body": body,
                      "times": 1}])
    shop.enqueue([(k, f"P-{k}", "Main", 20 + k) for k in range(1, 5)])
    r = sidecar.drain_once()
    assert "drained rows=4 done=4 failed=0" in r.stdout, r.stdout + r.stderr
    assert [shop.available(f"P-{k}") for k in range(1, 5)] == [21, 22, 23, 24]
