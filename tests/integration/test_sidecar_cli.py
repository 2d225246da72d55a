"""stockrelayd's one-shot commands against a real PostgreSQL: init-schema,
status, check, retry, the schema-version refusal and its exit codes."""
from __future__ import annotations

import signal
import time
import subprocess

import pytest
import stockrelay_native

from harness import outbox
from harness.sidecar import EXIT_DATABASE, EXIT_SCHEMA, EXIT_USAGE, Sidecar

pytestmark = pytest.mark.sidecar

CURRENT = stockrelay_native.SCHEMA_VERSION  # the contract version this build embeds


def test_init_schema_on_an_empty_database_then_status(pg_cluster, tmp_path):
    name = pg_cluster.create_database("empty", template=None)
    try:
        s = Sidecar(pg_cluster.dsn(name), tmp_path)
        refused = s.status()
        assert refused.returncode == EXIT_SCHEMA
        assert "no stockrelay outbox schema" in refused.stderr
        r = s.init_schema()
        assert r.returncode == 0, r.stderr
        assert f"version {CURRENT}" in r.stdout
        again = s.init_schema()  # idempotent
        assert again.returncode == 0, again.stderr
        st = s.status(as_json=True)
        assert st == {"schema_version": CURRENT, "channels": []}
    finally:
        pg_cluster.drop_database(name)


def test_newer_schema_version_is_refused_with_a_clear_message(db, sidecar):
    db.query(f"UPDATE stock_relay_schema_version SET version = {CURRENT + 1}")
    for args in (("drain", "--once"), ("check",), ("status",), ("run",), ("retry", "--failed")):
        r = sidecar.cmd(*args, timeout=30)
        assert r.returncode == EXIT_SCHEMA, (args, r.stdout, r.stderr)
        assert f"database has outbox schema version {CURRENT + 1}, this stockrelayd understands {CURRENT}" in r.stderr
        assert "upgrade stockrelayd" in r.stderr


def test_older_schema_version_names_the_addon_upgrade(db, sidecar):
    db.query("UPDATE stock_relay_schema_version SET version = 0")
    r = sidecar.cmd("status")
    assert r.returncode == EXIT_SCHEMA
    assert f"database has outbox schema version 0, this stockrelayd understands {CURRENT}" in r.stderr
    assert "stock_relay" in r.stderr


def test_missing_dsn_is_a_usage_error(sidecar):
    env = sidecar.env()
    env.pop("STOCKRELAY_DSN")
    r = subprocess.run([str(sidecar.exe), "status"], capture_output=True, text=True, env=env, timeout=30)
    assert r.returncode == EXIT_USAGE
    assert "STOCKRELAY_DSN" in r.stderr


def test_help_documents_the_exit_codes(sidecar):
    r = subprocess.run([str(sidecar.exe), "--help"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0
    for line in ("Exit codes:", "4   the database's outbox schema version"):
        assert line in r.stdout


def test_unreachable_database_never_prints_the_password(pg_cluster, tmp_path):
    secret = "s3cr3t-pa55word"
    dsn = f"host=127.0.0.1 port=1 user=nobody password={secret} dbname=x connect_timeout=2"
    s = Sidecar(dsn, tmp_path)
    r = s.cmd("status")
    assert r.returncode == EXIT_DATABASE
    assert "cannot connect to PostgreSQL" in r.stderr
    assert secret not in r.stdout + r.stderr
    uri = f"postgresql://nobody:{secret}@127.0.0.1:1/x?connect_timeout=2"
    r = subprocess.run([str(s.exe), "--dsn", uri, "check"], capture_output=True, text=True, timeout=30)
    assert r.returncode == EXIT_DATABASE
    assert secret not in r.stdout + r.stderr


def test_status_counts_per_channel_and_state(db, sidecar):
    a = outbox.add_channel(db.conn, name="Alpha", base_url="https://alpha.example")
    b = outbox.add_channel(db.conn, name="Beta", channel_type="woocommerce", base_url="https://beta.example",
                           enabled=False)
    outbox.enqueue(db.dsn, [(a, 1, "A-1", "1", 5), (a, 2, "A-2", "1", 6), (b, 1, "A-1", "", 7)])
    db.query("UPDATE stock_relay_outbox SET state = 'failed', error_code = 'sku_not_found', "
             "last_error = 'no variant has SKU ''A-2''' WHERE sku = 'A-2'")
    st = sidecar.status(as_json=True)
    chans = {c["name"]: c for c in st["channels"]}
    assert chans["Alpha"]["counts"] == {"pending": 1, "in_flight": 0, "done": 0, "failed": 1, "superseded": 0}
    assert chans["Alpha"]["oldest_pending_age_seconds"] >= 0
    assert chans["Alpha"]["last_success"] is None
    assert chans["Alpha"]["last_failure"].startswith("sku_not_found:")
    assert chans["Beta"]["enabled"] is False and chans["Beta"]["counts"]["pending"] == 1
    text = sidecar.status()
    assert text.returncode == 0
    assert 'channel {} "Alpha" (shopify, enabled): pending=1 in_flight=0 done=0 failed=1'.format(a) in text.stdout
    assert "last failure: sku_not_found" in text.stdout
    only = sidecar.status("--channel", str(b), as_json=True)
    assert [c["id"] for c in only["channels"]] == [b]


def test_check_reports_a_bad_channel_configuration_specifically(db, sidecar):
    outbox.add_channel(db.conn, name="NoToken", base_url="https://shop.example", credentials={})
    r = sidecar.check()
    assert r.returncode == 1, r.stdout + r.stderr
    assert "database: OK" in r.stdout
    line = next(l for l in r.stdout.splitlines() if "NoToken" in l)
    assert "FAIL" in line and "access_token" in line


def test_check_without_channels_is_ok(db, sidecar):
    r = sidecar.check()
    assert r.returncode == 0, r.stderr
    assert "no enabled channels" in r.stdout


def test_retry_failed_requeues_only_the_newest_value_per_key(db, sidecar):
    c = outbox.add_channel(db.conn, name="Shop", base_url="https://shop.example")
    outbox.enqueue(db.dsn, [(c, 1, "A", "1", 5), (c, 2, "B", "1", 6)])
    # Both fail; then a newer value for A lands and is done: re-sending 5 would regress A.
    db.query("UPDATE stock_relay_outbox SET state = 'failed', error_code = 'transient', attempts = 10")
    outbox.enqueue(db.dsn, [(c, 1, "A", "1", 9)])
    db.query("UPDATE stock_relay_outbox SET state = 'done' WHERE state = 'pending'")
    # Queueing the newer A already closed A's failed row (contract v2): only B is still failing.
    assert [r["sku"] for r in outbox.rows(db.conn, state="failed")] == ["B"]
    r = sidecar.retry_failed()
    assert r.returncode == 0, r.stderr
    assert "re-queued 1 row(s); closed 1 failed row(s)" in r.stdout
    pending = outbox.rows(db.conn, state="pending")
    assert [(p["sku"], int(p["quantity"]), p["trigger"], p["attempts"]) for p in pending] == [("B", 6, "manual_retry", 0)]
    assert outbox.counts(db.conn).get("failed", 0) == 0
    # Running it again finds nothing left to do.
    again = sidecar.retry_failed()
    assert "re-queued 0 row(s); closed 0 failed row(s)" in again.stdout


def test_retry_one_row_coalesces_with_a_pending_row_of_another_key(db, sidecar):
    c = outbox.add_channel(db.conn, name="Shop", base_url="https://shop.example")
    outbox.enqueue(db.dsn, [(c, 1, "A", "1", 5), (c, 2, "B", "1", 6)])
    db.query("UPDATE stock_relay_outbox SET state = 'failed'")
    row_a = outbox.rows(db.conn, sku="A")[0]["id"]
    r = sidecar.retry_failed("--row", str(row_a))
    assert "re-queued 1 row(s); closed 1 failed row(s)" in r.stdout, r.stdout + r.stderr
    assert [p["sku"] for p in outbox.rows(db.conn, state="pending")] == ["A"]
    assert [p["sku"] for p in outbox.rows(db.conn, state="failed")] == ["B"]


def test_run_keeps_rows_of_a_channel_it_cannot_build_and_stops_on_sigint(db, tmp_path):
    # trust auth ignores the password, so it can ride along and must never show.
    s = Sidecar(db.dsn + " password=sekret-pw-4242", tmp_path)
    cid = outbox.add_channel(db.conn, name="Broken", base_url="https://shop.example", credentials={})
    proc = s.start("--poll-interval", "0.2")
    try:
        proc.wait_for_log(rf"channel {cid} \(Broken\): cannot start: config: .*access_token", timeout=10)
        outbox.enqueue(db.dsn, [(cid, 1, "X-1", "1", 3)])
        time.sleep(1.0)
        assert outbox.counts(db.conn) == {"pending": 1}
        proc.kill(signal.SIGINT)
        assert proc.wait(20) == 0
        assert "received SIGINT" in proc.log()
        assert "sekret-pw-4242" not in proc.log()
    finally:
        s.cleanup()


def test_retry_failed_never_resends_an_old_failure_after_the_retention_purge(db, sidecar):
    """The purge keeps each key's newest row, so `retry --failed` cannot mistake an
    old failure (its SKU since fixed) for the key's current value."""
    c = outbox.add_channel(db.conn, name="Shop", base_url="https://shop.example")
    old = "(now() AT TIME ZONE 'UTC') - interval '90 days'"
    db.query("INSERT INTO stock_relay_outbox (channel_id, product_id, sku, location_key, quantity, state, error_code, "
             f"updated_at) VALUES (%s, 1, 'OLD-SKU', '1', 9, 'failed', 'sku_not_found', {old})", (c,))
    for qty in (3, 4):
        db.query("INSERT INTO stock_relay_outbox (channel_id, product_id, sku, location_key, quantity, state, "
                 f"updated_at, done_at) VALUES (%s, 1, 'NEW-SKU', '1', %s, 'done', {old}, {old})", (c, qty))
    assert db.scalar(f"SELECT stock_relay_purge(({old}) + interval '60 days')") == 1
    r = sidecar.retry_failed()
    assert r.returncode == 0, r.stderr
    assert "re-queued 0 row(s); closed 1 failed row(s)" in r.stdout
    assert outbox.rows(db.conn, state="pending") == []
    assert [(r["sku"], int(r["quantity"])) for r in outbox.rows(db.conn, state="done")] == [("NEW-SKU", 4)]


def test_retry_failed_does_not_wait_on_a_failed_row_another_writer_is_closing(db):
    """Odoo queueing a newer value closes the key's failed row; `retry --failed` (or an
    automatic replay) running meanwhile skips that row instead of waiting on it, so the
    two can never deadlock (they lock failed rows, product clocks and pending rows)."""
    c = outbox.add_channel(db.conn, name="Shop", base_url="https://shop.example")
    outbox.enqueue(db.dsn, [(c, 1, "A", "1", 5)])
    db.query("UPDATE stock_relay_outbox SET state = 'failed'")
    odoo = db.connect(autocommit=False)
    outbox.enqueue_in(odoo.cursor(), [(c, 1, "A", "1", 6)])  # not committed yet: holds the failed row
    with db.connect().cursor() as daemon:
        daemon.execute("SET statement_timeout = '3s'")
        daemon.execute("SELECT requeued, closed FROM stock_relay_retry_failed(NULL, NULL, NULL)")
        assert daemon.fetchone() == (0, 0)
    odoo.commit()
    assert sorted(r["state"] for r in outbox.rows(db.conn)) == ["pending", "superseded"]
