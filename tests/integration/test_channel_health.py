"""The daemon never drops a committed change (issue 10), through the real
stockrelayd: a shop that is down as a whole, or refuses the channel's
credentials, holds its rows (no attempts spent, nothing dead-lettered) while
the daemon probes it with capped backoff, and everything lands when the shop
answers again, without anyone pressing a button. A row that fails while the
rest of the channel works retries over the channel's retry window. The
channel's state is in the contract (stock_relay_channel_state) and in
`stockrelayd status`, and every log line names its channel.

Shopify and WooCommerce are the emulators; Medusa is the real server behind
tests/chaos/fault_proxy.py."""
from __future__ import annotations

import re
import time

import pytest

from chaos.fixtures import WOO_KEY, enqueue, make_shop, medusa, medusa_proxy, woo, woo_server  # noqa: F401
from harness import outbox

pytestmark = [pytest.mark.shopify, pytest.mark.sidecar]


def served_at(shop) -> list:
    """Epoch seconds of every request the shop (or the proxy in front of it) served."""
    if shop.kind == "shopify":
        return [r["time"] / 1000.0 for r in shop.emu.requests()]
    if shop.kind == "woocommerce":
        return [r["at_ms"] / 1000.0 for r in shop.emu.requests()]
    return [r["at"] for r in shop.proxy.requests()]


def whole_shop_faults(shop, rules):
    """Faults on every call (lookups, connection tests, pushes): the shop itself is in trouble."""
    if shop.kind == "shopify":
        names = {"delay_ms": "delayMs"}
        return shop.emu.faults([{names.get(k, k): v for k, v in r.items()} for r in rules])
    if shop.kind == "woocommerce":
        return shop.emu.set_faults(rules)
    return shop.proxy.faults(rules)


def channel_state(db, channel_id):
    rows = db.query("SELECT state, reason, error_code, since FROM stock_relay_channel_state WHERE channel_id = %s",
                    (channel_id,))
    return rows[0] if rows else (None, None, None, None)


@pytest.mark.parametrize("kind", ["shopify", "woocommerce", "medusa"])
def test_an_outage_longer_than_the_retry_budget_holds_every_row_and_all_land_after(make_shop, sidecar, db, kind):
    shop = make_shop(kind, ["A", "B", "C"], channel_kw={"max_attempts": 3, "timeout_ms": 2000})
    # A row an older stockrelayd dead-lettered on a transient error: replayed once the channel works again.
    enqueue(db, shop, [(3, shop.skus[2], 4)])
    db.query("UPDATE stock_relay_outbox SET state = 'failed', error_code = 'transient', attempts = 10, "
             "last_error = 'gave up after 10 attempts: HTTP 503'")
    whole_shop_faults(shop, [{"action": "status", "status": 503}])
    proc = sidecar.start("--poll-interval", "0.3")
    t0 = time.time()
    enqueue(db, shop, [(1, shop.skus[0], 7), (2, shop.skus[1], 8)])
    outbox.wait_until(lambda: channel_state(db, shop.channel_id)[0] == "down", timeout=20,
                      message="the channel to be marked down")
    # The old retry budget (3 attempts, 0.75-1.5 s of backoff) is long spent.
    time.sleep(12)
    t1 = time.time()
    calls = [t for t in served_at(shop) if t0 <= t <= t1]
    print(f"\nOUTAGE FIGURE {kind}: {len(calls)} shop calls in {t1 - t0:.1f} s of outage "
          f"({len(calls) / (t1 - t0):.2f}/s)")
    rows = {r["sku"]: r for r in outbox.rows(db.conn) if r["state"] != "failed"}
    assert {sku: r["state"] for sku, r in rows.items()} == {shop.skus[0]: "pending", shop.skus[1]: "pending"}
    assert all(r["attempts"] == 0 for r in rows.values()), rows  # held rows spend no attempts
    assert all("held while the shop is unreachable" in (r["last_error"] or "") for r in rows.values()), rows
    # No hot loop: probes back off (main hammered the shop ~14 times a second).
    assert len(calls) <= 20, calls
    state, reason, code, since = channel_state(db, shop.channel_id)
    assert code == "transient" and "503" in reason and since is not None
    st = sidecar.status(as_json=True)["channels"][0]
    assert st["state"] == "down" and st["state_since"] and "503" in st["state_reason"], st
    assert st["failed_by_reason"] == {"transient": 1} and st["last_failure_at"], st
    text = sidecar.status().stdout
    assert "state: down since " in text and "failures by reason: transient=1" in text, text
    log = proc.log()
    assert log.count("the shop is unreachable") == 1, log  # the state change, not a line per attempt
    assert "will retry" not in log, log

    whole_shop_faults(shop, [])
    want = {shop.skus[0]: 7, shop.skus[1]: 8, shop.skus[2]: 4}
    outbox.wait_until(lambda: shop.levels() == want, timeout=90, message="every held row to land")
    outbox.wait_until(lambda: outbox.settled(db.conn), timeout=20, message="the outbox to settle")
    proc.wait_for_log(r"the shop answers again after \d+ s; resuming", timeout=5)
    assert proc.stop() == 0
    assert outbox.counts(db.conn) == {"done": 3, "superseded": 1}
    assert all(r["attempts"] == 1 for r in outbox.rows(db.conn, state="done"))
    for sku, q in want.items():
        assert shop.histories().get(sku, [])[-1:] == [q]
    assert channel_state(db, shop.channel_id)[0] == "flowing"
    assert sidecar.status(as_json=True)["channels"][0]["state"] == "flowing"


def test_an_outage_costs_a_few_probes_not_a_request_per_row(make_shop, sidecar, db):
    # Many rows in small batches with a large retry budget: without a breaker
    # every row's own backoff keeps sending requests to a shop that is down.
    shop = make_shop("shopify", [f"R{i:02d}" for i in range(50)], channel_kw={"max_attempts": 25, "batch_size": 5})
    whole_shop_faults(shop, [{"action": "status", "status": 503}])
    proc = sidecar.start("--poll-interval", "0.3")
    t0 = time.time()
    enqueue(db, shop, [(i + 1, sku, i + 1) for i, sku in enumerate(shop.skus)])
    time.sleep(15)
    t1 = time.time()
    calls = [t for t in served_at(shop) if t0 <= t <= t1]
    print(f"\nOUTAGE RATE FIGURE: {len(calls)} shop calls for 50 rows in {t1 - t0:.1f} s of outage "
          f"({len(calls) / (t1 - t0):.2f}/s)")
    assert len(calls) <= 12, f"{len(calls)} calls in {t1 - t0:.1f} s"
    assert outbox.counts(db.conn) == {"pending": 50}
    whole_shop_faults(shop, [])
    outbox.wait_until(lambda: outbox.settled(db.conn), timeout=60, message="the held rows to land")
    assert proc.stop() == 0
    assert outbox.counts(db.conn) == {"done": 50}
    assert shop.levels() == {sku: i + 1 for i, sku in enumerate(shop.skus)}


def outage_with_lanes(make_shop, sidecar, db, lanes, seconds=12):
    """A WooCommerce shop down for ``seconds`` under ``lanes`` batches in flight, then back: its
    connection tests (probes) during the outage, its other calls then, and the channel's log lines."""
    shop = make_shop("woocommerce", [f"L{i:02d}" for i in range(40)], channel_kw={"max_attempts": 25, "batch_size": 5})
    outbox.update_channel(db.conn, shop.channel_id, batches_in_flight=lanes)
    whole_shop_faults(shop, [{"action": "status", "status": 503}])
    proc = sidecar.start("--poll-interval", "0.3")
    t0 = time.time()
    enqueue(db, shop, [(i + 1, sku, i + 1) for i, sku in enumerate(shop.skus)])
    time.sleep(seconds)
    t1 = time.time()
    calls = [r for r in shop.emu.requests() if t0 <= r["at_ms"] / 1000.0 <= t1]
    # A probe is the REST index, then one product (test_connection).
    probes = [r for r in calls if r["path"].split("?")[0].rstrip("/").endswith("/wp-json")]
    others = [r for r in calls if r not in probes and "per_page=1&_fields=id" not in r["path"]]
    assert outbox.counts(db.conn, shop.channel_id) == {"pending": 40}
    whole_shop_faults(shop, [])
    outbox.wait_until(lambda: outbox.settled(db.conn), timeout=60, message="the held rows to land")
    assert proc.stop() == 0
    assert outbox.counts(db.conn, shop.channel_id) == {"done": 40}
    assert all(r["attempts"] == 1 for r in outbox.rows(db.conn, shop.channel_id))  # held rows spent none
    assert shop.levels() == {sku: i + 1 for i, sku in enumerate(shop.skus)}
    mine = f"channel {shop.channel_id} "
    log = "\n".join(line for line in proc.log().splitlines() if mine in line)
    outbox.update_channel(db.conn, shop.channel_id, enabled=False)  # quiet during the next run
    print(f"\nOUTAGE LANES FIGURE: {lanes} lane(s): {len(probes)} probes, {len(calls)} shop calls in "
          f"{t1 - t0:.1f} s of outage ({len(others)} not probes)")
    return probes, others, log


def test_an_outage_costs_no_more_probes_with_four_lanes_than_with_one(make_shop, sidecar, db):
    # The lanes of a channel share one circuit breaker: one lane probes per
    # backoff step, the others wait for its verdict; each change of state is
    # logged once, and the first success brings every lane back.
    one, _, _ = outage_with_lanes(make_shop, sidecar, db, 1)
    four, others, log = outage_with_lanes(make_shop, sidecar, db, 4)
    assert "4 batches in flight" in log, log
    # Backoff is jittered: allow one step of difference, not a probe per lane.
    assert len(four) <= len(one) + 1, (len(one), len(four))
    # Besides the probes: the batches in flight when the shop went down, one call each at most.
    assert len(others) <= 4, [(r["method"], r["path"]) for r in others]
    assert log.count("the shop is unreachable") == 1, log
    assert log.count("the shop answers again") == 1, log
    assert "will retry" not in log, log


def test_refused_credentials_hold_rows_and_a_rotated_token_heals_without_a_button(make_shop, sidecar, db):
    shop = make_shop("shopify", ["AUTH"], channel_kw={"credentials": {"access_token": "shpat_revoked_token_1234"}})
    proc = sidecar.start("--poll-interval", "0.5", "--reload-interval", "1")
    enqueue(db, shop, [(1, shop.skus[0], 6)])
    outbox.wait_until(lambda: channel_state(db, shop.channel_id)[0] == "refused", timeout=15,
                      message="the channel to be marked refused")
    time.sleep(3)
    row = outbox.rows(db.conn)[0]
    assert row["state"] == "pending" and row["attempts"] == 0 and row["error_code"] == "auth", row
    assert "refused the access token" in row["last_error"], row
    st = sidecar.status(as_json=True)["channels"][0]
    assert st["state"] == "refused" and "refused the access token" in st["state_reason"], st
    assert st["state_error_code"] == "auth" and st["failed_by_reason"] == {}, st
    assert "credentials/settings refused since" in sidecar.status().stdout
    log = proc.log()
    assert log.count("refuses this channel's credentials") == 1, log
    assert "shpat_revoked_token_1234" not in log + str(st)
    # The token is rotated in Odoo: the worker restarts with it and the row lands.
    outbox.update_channel(db.conn, shop.channel_id, credentials={"access_token": shop.emu.token})
    outbox.wait_until(lambda: shop.levels() == {shop.skus[0]: 6}, timeout=20, message="the push after the fix")
    assert proc.stop() == 0
    assert outbox.counts(db.conn) == {"done": 1}
    assert channel_state(db, shop.channel_id)[0] == "flowing"


@pytest.mark.parametrize("kind,status", [("shopify", 403), ("woocommerce", 401), ("medusa", 403)])
def test_a_refusal_blip_with_unchanged_settings_heals_by_itself(make_shop, sidecar, db, kind, status):
    shop = make_shop(kind, ["BLIP-1", "BLIP-2"])
    whole_shop_faults(shop, [{"action": "status", "status": status, "times": 3}])
    proc = sidecar.start("--poll-interval", "0.3")
    enqueue(db, shop, [(1, shop.skus[0], 3), (2, shop.skus[1], 4)])
    outbox.wait_until(lambda: shop.levels() == {shop.skus[0]: 3, shop.skus[1]: 4}, timeout=45,
                      message="the rows after the blip")
    assert proc.stop() == 0
    log = proc.log()
    assert log.count("refuses this channel's credentials") == 1, log
    assert "the shop answers again" in log and "settings changed" not in log
    assert outbox.counts(db.conn) == {"done": 2}
    assert all(r["attempts"] == 1 and r["error_code"] is None for r in outbox.rows(db.conn))


def test_one_row_failing_while_the_channel_works_retries_over_the_window(woo, sidecar, db, test_ca):
    seeded = woo.seed([{"sku": "WIN-S", "manage_stock": True, "stock_quantity": 0},
                       {"type": "variable", "name": "Var",
                        "variations": [{"sku": "WIN-V", "manage_stock": True, "stock_quantity": 0}]}])
    parent = next(p["parent_id"] for p in seeded["products"] if p["sku"] == "WIN-V")
    # Only the variation's endpoint fails; the shop as a whole works.
    woo.set_faults([{"action": "status", "status": 503, "path_contains": f"/products/{parent}/variations/batch"}])
    cid = outbox.add_channel(db.conn, name="WooCommerce", channel_type="woocommerce", base_url=woo.base_url,
                             credentials={k: WOO_KEY[k] for k in ("consumer_key", "consumer_secret")},
                             settings={"ca_file": test_ca["ca"]}, max_attempts=2, retry_window_hours=0.003)
    proc = sidecar.start("--poll-interval", "0.3")
    outbox.enqueue(db.dsn, [(cid, 1, "WIN-S", "", 5), (cid, 2, "WIN-V", "", 6)])
    outbox.wait_until(lambda: woo.stock("WIN-S") == 5, timeout=15, message="the healthy row")

    def variation():
        return outbox.rows(db.conn, sku="WIN-V")[0]
    # Past max_attempts, inside the window (10.8 s): still retrying, not failed.
    outbox.wait_until(lambda: variation()["attempts"] >= 4 or variation()["state"] != "pending", timeout=20,
                      message="the failing row to retry past max_attempts")
    assert variation()["state"] in ("pending", "in_flight"), variation()
    assert channel_state(db, cid)[0] in (None, "flowing")  # a row's trouble is not an outage
    outbox.wait_until(lambda: variation()["state"] == "failed", timeout=30, message="the window to run out")
    row = variation()
    assert row["error_code"] == "transient" and row["attempts"] >= 4, row
    assert re.search(r"gave up after \d+ attempts over 0\.0 h: .*503", row["last_error"]), row["last_error"]
    assert proc.stop() == 0
    # The shop is fixed; the next time the channel works, the failed row is replayed by itself.
    woo.clear_faults()
    proc = sidecar.start("--poll-interval", "0.3")
    outbox.enqueue(db.dsn, [(cid, 1, "WIN-S", "", 9)])
    outbox.wait_until(lambda: woo.stock("WIN-S") == 9 and woo.stock("WIN-V") == 6, timeout=20,
                      message="the failed row to be replayed")
    assert proc.stop() == 0
    assert "re-queued 1 row(s) that had failed on transient errors" in proc.log()
    assert outbox.counts(db.conn, cid).get("failed", 0) == 0


def test_every_log_line_names_its_channel(make_shop, sidecar, db):
    shop = make_shop("woocommerce", ["LOG-1"])
    shop.push_faults([{"action": "http429", "retry_after": 1, "times": 1}])
    proc = sidecar.start("--poll-interval", "0.3")
    enqueue(db, shop, [(1, shop.skus[0], 2)])
    outbox.wait_until(lambda: shop.levels() == {shop.skus[0]: 2}, timeout=20, message="the row")
    assert proc.stop() == 0
    daemon_wide = ("stockrelayd ", "listener:", "supervisor:", "received ", "heartbeat:")
    messages = [line.split(" ", 2)[2] for line in proc.log().splitlines() if line.strip()]
    assert any("rate limited" in m for m in messages), messages
    for m in messages:
        assert m.startswith(f"channel {shop.channel_id} ") or m.startswith(daemon_wide), m
