"""What an operator sees of a running daemon (issue 14): the heartbeat row in
the contract (stock_relay_daemon), /healthz, /readyz and /metrics on the
loopback operator listener, systemd's notify protocol, and a wedged drain loop
that stops vouching for the daemon.

The shop is the Shopify emulator: a call that hangs on demand (the wedge)
is what a real shop cannot show on demand."""
from __future__ import annotations

import os
import re
import socket
import time
import urllib.error
import urllib.request

import pytest

from chaos.fixtures import enqueue, make_shop  # noqa: F401
from harness import outbox
from harness.pg import free_port

pytestmark = [pytest.mark.shopify, pytest.mark.sidecar]


def get(port, path):
    """(status, body) of GET http://127.0.0.1:port/path."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def samples(text):
    """{'name{labels}': value} of a Prometheus text exposition (labels as printed)."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            out[key] = float(value)
    return out


def metric(text, metric_name, /, **labels):
    """Sum of the samples of ``metric_name`` whose labels include ``labels``."""
    total, found = 0.0, False
    for key, value in samples(text).items():
        m = re.fullmatch(r"([a-zA-Z_:][\w:]*)(?:\{(.*)\})?", key)
        if not m or m.group(1) != metric_name:
            continue
        have = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', m.group(2) or ""))
        if all(have.get(k) == str(v) for k, v in labels.items()):
            total, found = total + value, True
    return total if found else None


def daemon_rows(db):
    return db.query("SELECT id, host, pid, version, listen, started_at, last_seen, stopped_at "
                    "FROM stock_relay_daemon ORDER BY id")


def test_the_heartbeat_row_follows_the_daemon_from_start_to_clean_exit(sidecar, db):
    db.query("INSERT INTO stock_relay_daemon (host, pid, last_seen) VALUES "
             "('old-host', 1, (now() AT TIME ZONE 'UTC') - interval '8 days'), "
             "('recent-host', 2, (now() AT TIME ZONE 'UTC') - interval '6 days')")
    port = free_port()
    proc = sidecar.start("--metrics-listen", f"127.0.0.1:{port}", "--heartbeat-interval", "0.3")
    outbox.wait_until(lambda: any(r[2] == proc.pid for r in daemon_rows(db)), timeout=10,
                      message="the daemon's heartbeat row")
    outbox.wait_until(lambda: "old-host" not in {r[1] for r in daemon_rows(db)}, timeout=10,
                      message="rows older than 7 days to be deleted")
    rows = daemon_rows(db)
    assert {r[1] for r in rows} - {socket.gethostname()} == {"recent-host"}, rows
    mine = [r for r in rows if r[2] == proc.pid][0]
    assert mine[1] == socket.gethostname() and mine[3] and mine[4] == f"127.0.0.1:{port}" and mine[7] is None, mine
    first_seen = mine[6]
    outbox.wait_until(lambda: [r for r in daemon_rows(db) if r[0] == mine[0]][0][6] > first_seen, timeout=5,
                      message="last_seen to move")
    assert proc.stop() == 0
    after = [r for r in daemon_rows(db) if r[0] == mine[0]][0]
    assert after[7] is not None and after[7] >= first_seen, after


def test_a_wedged_drain_loop_stops_the_heartbeat_and_healthz_names_it(make_shop, sidecar, db):
    shop = make_shop("shopify", ["A"], channel_kw={"timeout_ms": 30000})
    port = free_port()
    proc = sidecar.start("--metrics-listen", f"127.0.0.1:{port}", "--heartbeat-interval", "0.3",
                         "--stall-seconds", "2", "--poll-interval", "0.3")
    outbox.wait_until(lambda: any(r[2] == proc.pid for r in daemon_rows(db)), timeout=10, message="the heartbeat row")
    assert get(port, "/healthz")[0] == 200
    # Every shop call now hangs 8 s before the connection drops: the worker is stuck inside a push.
    shop.emu.faults([{"action": "timeout", "delayMs": 8000}])
    enqueue(db, shop, [(1, shop.skus[0], 5)])
    proc.wait_for_log(r"loop 'channel \d+ worker' has been busy for \d+ s without turning; withholding", timeout=10)
    status, body = get(port, "/healthz")
    assert status == 503 and f"channel {shop.channel_id} worker" in body, body
    frozen = [r for r in daemon_rows(db) if r[2] == proc.pid][0][6]
    time.sleep(1.5)
    assert [r for r in daemon_rows(db) if r[2] == proc.pid][0][6] == frozen  # last_seen stands still
    shop.emu.clear_faults()
    proc.wait_for_log(r"every loop turns again; heartbeat resumed", timeout=30)
    outbox.wait_until(lambda: [r for r in daemon_rows(db) if r[2] == proc.pid][0][6] > frozen, timeout=5,
                      message="last_seen to move again")
    assert get(port, "/healthz")[0] == 200
    outbox.wait_until(lambda: shop.levels() == {shop.skus[0]: 5}, timeout=60, message="the row to land")
    assert proc.stop() == 0


def test_metrics_move_as_rows_flow_and_a_refused_channel_shows_1(make_shop, sidecar, db, test_ca):
    good = make_shop("shopify", [f"M{i}" for i in range(6)], channel_kw={"name": "Good shop", "batch_size": 2})
    bad = outbox.add_channel(db.conn, name="Refused shop", channel_type="shopify", base_url=good.emu.base_url,
                             api_version="2025-10", credentials={"access_token": "shpat_wrong_token_for_metrics"},
                             settings={"ca_file": test_ca["ca"]})
    port = free_port()
    proc = sidecar.start("--metrics-listen", f"127.0.0.1:{port}", "--poll-interval", "0.3")
    status, before = get(port, "/metrics")
    assert status == 200, before
    assert metric(before, "stockrelay_items_total", channel=good.channel_id, outcome="done") is None
    assert metric(before, "stockrelay_outbox_rows", channel=good.channel_id, state="done") == 0

    enqueue(db, good, [(i + 1, sku, 10 + i) for i, sku in enumerate(good.skus)])
    outbox.enqueue(db.dsn, [(bad, 1, "NOPE-1", good.location_key, 1)])
    outbox.wait_until(lambda: good.levels() == {sku: 10 + i for i, sku in enumerate(good.skus)}, timeout=30,
                      message="the good rows in the shop")
    outbox.wait_until(lambda: metric(get(port, "/metrics")[1], "stockrelay_channel_refused", channel=bad) == 1,
                      timeout=30, message="the refused channel to show 1")
    g = good.channel_id
    # The database figures are cached for 2 s: the scrape that shows the 6 done rows, within 2.5 s.
    text = outbox.wait_until(
        lambda: metric(t := get(port, "/metrics")[1], "stockrelay_outbox_rows", channel=g, state="done") == 6 and t,
        timeout=2.5, message="the database figures to show the 6 done rows")
    assert metric(text, "stockrelay_items_total", channel=g, outcome="done") == 6
    assert metric(text, "stockrelay_push_batches_total", channel=g, outcome="ok") >= 3  # batches of 2
    assert metric(text, "stockrelay_enqueue_to_ack_seconds_count", channel=g) == 6
    assert metric(text, "stockrelay_shop_push_seconds_count", channel=g) >= 3
    assert metric(text, "stockrelay_shop_requests_total", channel=g) >= 3
    assert metric(text, "stockrelay_outbox_rows", channel=g, state="done") == 6
    assert metric(text, "stockrelay_outbox_rows", channel=g, state="pending") == 0
    assert metric(text, "stockrelay_outbox_oldest_pending_seconds", channel=g) == 0
    assert metric(text, "stockrelay_channel_refused", channel=g) == 0
    assert metric(text, "stockrelay_channel_refused", channel=bad) == 1
    assert metric(text, "stockrelay_outbox_rows", channel=bad, state="pending") == 1  # held, not failed
    assert metric(text, "stockrelay_outbox_oldest_pending_seconds", channel=bad) > 0
    assert metric(text, "stockrelay_channel_info", channel=bad, name="Refused shop", type="shopify") == 1
    assert metric(text, "stockrelay_database_up") == 1
    assert all(sku not in text for sku in good.skus + ["NOPE-1"])  # no SKU labels
    assert "shpat_wrong_token_for_metrics" not in text

    assert get(port, "/healthz")[0] == 200
    assert get(port, "/readyz") == (200, "ready\n")
    db.query("UPDATE stock_relay_channel SET enabled = false WHERE id = %s", (g,))
    # 503 within 2.5 s (polled: the test no longer sleeps the whole bound out).
    status, body = outbox.wait_until(lambda: (r := get(port, "/readyz"))[0] == 503 and r, timeout=2.5,
                                     message="/readyz to answer 503")
    assert status == 503 and "no enabled channel is flowing" in body, body
    assert proc.stop() == 0


def test_an_explicit_metrics_address_that_cannot_be_bound_stops_the_daemon(sidecar):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        r = sidecar.cmd("--metrics-listen", f"127.0.0.1:{port}", "run", timeout=30)
    assert r.returncode == 2, r.stderr
    assert f"cannot listen on 127.0.0.1:{port} for /metrics" in r.stderr


def test_the_daemon_tells_systemd_ready_then_watchdog_then_stopping(sidecar, tmp_path):
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(10)
    env = sidecar.env()
    env.update(NOTIFY_SOCKET=path, WATCHDOG_USEC="1000000")  # WatchdogSec=1: a WATCHDOG=1 every 0.5 s
    sidecar.env = lambda: env
    t0 = time.monotonic()
    proc = sidecar.start("--metrics-listen", "off")
    messages = []
    while sum(m.count("WATCHDOG=1") for m in messages) < 3:
        messages.append(sock.recv(4096).decode())
    elapsed = time.monotonic() - t0
    assert any("READY=1" in m for m in messages), messages
    assert elapsed < 15, f"3 watchdog pings took {elapsed:.1f} s"
    assert proc.stop() == 0
    sock.settimeout(0.5)
    rest = []
    try:
        while True:
            rest.append(sock.recv(4096).decode())
    except socket.timeout:
        pass
    assert any("STOPPING=1" in m for m in rest), rest
    sock.close()
    os.unlink(path)
