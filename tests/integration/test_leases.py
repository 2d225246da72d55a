"""Crashes and replicas (issue #10): a restarted daemon takes back its dead
predecessor's rows at once but never a live replica's; a worker whose lease
ran out (heartbeat failed, PostgreSQL out of reach, a long throttle wait)
stops pushing and never lands an older value after a newer one."""
from __future__ import annotations

import re
import signal
import time

import pytest

from harness import outbox
from harness.sidecar import Sidecar
from harness.tcp_proxy import FreezableProxy

pytestmark = [pytest.mark.shopify, pytest.mark.sidecar]


def second_channel(db, like_channel_id, name):
    """Another channel to the same shop (a replica can be pinned to it with --channel)."""
    return db.scalar(
        "INSERT INTO stock_relay_channel (name, channel_type, base_url, api_version, credentials, settings, timeout_ms) "
        "SELECT %s, channel_type, base_url, api_version, credentials, settings, timeout_ms "
        "  FROM stock_relay_channel WHERE id = %s RETURNING id", (name, like_channel_id))


def worker_id(proc):
    return proc.wait_for_log(r"running as worker '([^']+)'").group(1)


def set_calls(emu):
    return [r for r in emu.requests() if "inventorySetQuantities" in (r.get("rootFields") or [])]


def test_a_restarted_daemon_takes_back_its_dead_predecessors_rows_at_once_but_not_a_live_replicas(
        shop_factory, sidecar, db):
    shop = shop_factory(skus=["DEAD-1", "LIVE-1"], channel_kw={"timeout_ms": 30000})
    live_channel = second_channel(db, shop.channel_id, "Live replica's shop")
    shop.emu.config(latencyMs=3000)  # every push is still on the wire when the kill comes
    live = sidecar.start("--channel", live_channel, name="live")
    dead = sidecar.start("--channel", shop.channel_id, name="dead")
    live_id, dead_id = worker_id(live), worker_id(dead)
    assert live_id != dead_id
    outbox.enqueue(db.dsn, [(shop.channel_id, 1, "DEAD-1", shop.locations["Main"], 5),
                            (live_channel, 2, "LIVE-1", shop.locations["Main"], 6)])
    outbox.wait_until(lambda: db.scalar("SELECT count(*) FROM stock_relay_outbox WHERE state = 'in_flight'") == 2,
                      timeout=10, message="both pushes in flight")
    dead.kill(signal.SIGKILL)
    dead.wait(10)
    killed = time.monotonic()
    restarted = sidecar.start(name="restarted")  # serves every channel, the live replica's too
    outbox.wait_until(lambda: db.scalar("SELECT state FROM stock_relay_outbox WHERE sku = 'DEAD-1' "
                                        "ORDER BY id DESC LIMIT 1") == "done",
                      timeout=20, message="the dead worker's row to land (the lease is 30 s)")
    took = time.monotonic() - killed
    print(f"dead predecessor's row landed {took:.1f} s after kill -9 (two 3 s shop calls included)")
    assert shop.available("DEAD-1") == 5
    assert re.search(rf"1 row\(s\) leased by {re.escape(dead_id)} come back", restarted.log()), restarted.log()
    # The live replica's row was never taken: it finished its own push, once.
    outbox.wait_until(lambda: db.scalar("SELECT state FROM stock_relay_outbox WHERE sku = 'LIVE-1'") == "done",
                      timeout=20, message="the live replica's push")
    [row] = outbox.rows(db.conn, sku="LIVE-1")
    assert row["attempts"] == 1 and row["leased_by"] == live_id
    assert live_id not in restarted.log()
    assert shop.history("LIVE-1") == [6]
    assert restarted.stop() == 0 and live.stop() == 0


def test_a_failed_heartbeat_stops_the_push_before_its_next_shop_call(shop_factory, sidecar, db):
    shop = shop_factory(skus=["HB-1"])
    shop.emu.config(latencyMs=2500)  # the SKU lookup takes 2.5 s; the heartbeat beats every 0.5 s
    proc = sidecar.start("--lease-seconds", "3", "--poll-interval", "0.2")
    shop.enqueue([(1, "HB-1", "Main", 4)])
    outbox.wait_until(lambda: outbox.counts(db.conn).get("in_flight") == 1, timeout=10, message="the push")
    time.sleep(0.2)
    # The worker's PostgreSQL sessions die while its lookup call is on the wire.
    db.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'stockrelayd'")
    # No write reaches the shop from that push: the row is claimed a second time first.
    outbox.wait_until(lambda: db.scalar("SELECT attempts FROM stock_relay_outbox") >= 2 or set_calls(shop.emu),
                      timeout=15, message="a set call or a second claim")
    assert set_calls(shop.emu) == [], "the push went on writing to the shop after its heartbeat failed"
    assert "stopping the push" in proc.log()
    shop.emu.config(latencyMs=0)
    outbox.wait_until(lambda: outbox.counts(db.conn) == {"done": 1}, timeout=30, message="the retried push")
    assert shop.history("HB-1") == [4]
    assert proc.stop() == 0


def test_a_worker_whose_lease_ran_out_never_lands_an_older_value_after_a_newer_one(
        pg_cluster, shop_factory, sidecar, db, tmp_path):
    shop = shop_factory(skus=["FENCE-1"])
    # Worker A reaches PostgreSQL through a relay that will freeze (a half-open
    # connection: no error, just silence), so its heartbeat stops renewing.
    proxy = FreezableProxy(pg_cluster.port)
    try:
        via_proxy = re.sub(r"port=\d+", f"port={proxy.port}", db.dsn)
        a_side = Sidecar(via_proxy, tmp_path / "a-logs")
        sidecar.processes.append(a := a_side.start("--lease-seconds", "2", "--poll-interval", "0.2", name="a"))
        # A's write meets a 429 asking it to wait 5 s, well past its 2 s lease.
        shop.emu.faults([{"action": "http429", "retryAfter": "5", "operation": "inventorySetQuantities", "times": 1}])
        shop.enqueue([(1, "FENCE-1", "Main", 9)])
        outbox.wait_until(lambda: set_calls(shop.emu), timeout=10, message="A's write (throttled)")
        proxy.freeze()
        shop.enqueue([(1, "FENCE-1", "Main", 4)])  # the newer value
        b = sidecar.start("--lease-seconds", "2", "--poll-interval", "0.2", name="b")
        outbox.wait_until(lambda: shop.available("FENCE-1") == 4, timeout=20, message="B to land the newer value")
        time.sleep(5)  # past the moment A's 429 wait would have ended
        assert shop.history("FENCE-1") == [4], "the expired worker landed its older value after the newer one"
        assert shop.available("FENCE-1") == 4
        assert b.stop() == 0
        a.kill(signal.SIGKILL)
        a.wait(10)
    finally:
        proxy.close()
