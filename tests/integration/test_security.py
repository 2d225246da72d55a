"""Secrets stay secret (DESIGN invariant 7), end to end through stockrelayd:
credentials never reach a log, an error, ``status``/``check`` output, an
outbox row or the SKU cache, even when a shop echoes them back in an error
page; TLS verification is on unless a channel turns it off (and then a
warning says so); a redirect to another host is refused, so the credential
never travels there; and the sidecar runs with the least-privilege role that
scripts/sidecar-role creates."""
from __future__ import annotations

import base64
import contextlib
import json
import pathlib
import re
import subprocess

import psycopg2
import pytest

from chaos.fixtures import enqueue, medusa, medusa_proxy, woo, woo_server  # noqa: F401
from chaos.proxy import FaultProxy
from chaos.shops import medusa_shop, shopify_shop, unique, woo_shop
from emulators.medusa import ADMIN_EMAIL, ADMIN_PASSWORD
from harness import outbox
from harness.sidecar import Sidecar

pytestmark = [pytest.mark.shopify, pytest.mark.sidecar]

REPO = pathlib.Path(__file__).resolve().parents[2]
SHOP_TOKEN = "shpat_LEAKCANARY_0a1b2c3d4e5f"
SHOP_WRONG = "shpat_LEAKCANARY_wrong_9f8e7d"
WOO_KEY = {"consumer_key": "ck_LEAKCANARY_key_5a5a5a5a5a5a5a5a", "consumer_secret": "cs_LEAKCANARY_sec_6b6b6b6b6b6b6b6b",
           "permissions": "read_write"}
WOO_WRONG_SECRET = "cs_LEAKCANARY_wrongsec_7c7c7c7c"


def b64(text):
    return base64.b64encode(text.encode()).decode()


def all_rows_text(db):
    out = [r[0] for r in db.query("SELECT row_to_json(o)::text FROM stock_relay_outbox o")]
    out += [r[0] for r in db.query("SELECT row_to_json(c)::text FROM stock_relay_sku_cache c")]
    return "\n".join(out)


def test_credentials_never_leak_anywhere(db, shopify, woo, medusa, medusa_proxy, test_ca, tmp_path):
    shopify.config(token=SHOP_TOKEN)
    woo.configure(keys=[WOO_KEY])
    sc = Sidecar(db.dsn, tmp_path / "logs", log_level="debug")
    names = ["OK-1", "OK-2"]
    shops = [shopify_shop(db, shopify, test_ca, [f"LS-{n}" for n in names]),
             woo_shop(db, woo, test_ca, [f"LW-{n}" for n in names], WOO_KEY),
             medusa_shop(db, medusa, medusa_proxy, [f"{unique('LM')}-{n}" for n in names])]
    # Medusa by email/password too (the JWT it gets is a secret as well).
    jwt_shop = medusa_shop(db, medusa, medusa_proxy, [f"{unique('LJ')}-{n}" for n in names],
                           channel_kw={"name": "Medusa JWT",
                                       "credentials": {"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}})
    shops.append(jwt_shop)
    # Channels with wrong credentials: the wrong values are secrets too.
    bad_shopify = outbox.add_channel(db.conn, name="Bad Shopify", base_url=shopify.base_url, api_version="2025-10",
                                     credentials={"access_token": SHOP_WRONG}, settings={"ca_file": test_ca["ca"]})
    bad_woo = outbox.add_channel(db.conn, name="Bad Woo", channel_type="woocommerce", base_url=woo.base_url,
                                 credentials={"consumer_key": WOO_KEY["consumer_key"],
                                              "consumer_secret": WOO_WRONG_SECRET},
                                 settings={"ca_file": test_ca["ca"]})
    texts = []

    def run(*args):
        r = sc.cmd(*args)
        texts.append(r.stdout + r.stderr)
        return r

    # Shops that echo the request's credentials back in an error page.
    echoes = {0: f"X-Shopify-Access-Token: {SHOP_TOKEN}",
              1: f"Authorization: Basic {b64(WOO_KEY['consumer_key'] + ':' + WOO_KEY['consumer_secret'])} "
                 f"consumer_key={WOO_KEY['consumer_key']}&consumer_secret={WOO_KEY['consumer_secret']}",
              2: f"Authorization: Basic {b64(medusa.secret_key + ':')} (key {medusa.secret_key})"}
    for i, echo in echoes.items():
        shops[i].push_faults([{"action": "status", "status": 500, "times": 1,
                               "body": f"<html><pre>debug: request headers were {echo}</pre></html>"}])
    for shop in shops:
        enqueue(db, shop, [(1, shop.skus[0], 3), (2, shop.skus[1], 4), (3, shop.skus[0] + "-NOPE", 1)])
    outbox.enqueue(db.dsn, [(bad_shopify, 1, "X-1", shops[0].location_key, 1), (bad_woo, 1, "X-2", "", 1)])
    run("check")
    run("drain", "--once")
    db.query("UPDATE stock_relay_outbox SET next_attempt_at = now() AT TIME ZONE 'UTC' WHERE state = 'pending'")
    # The daemon logs JSON (--log-format json), the one-shot commands text: both must be clean.
    proc = sc.start("--poll-interval", "0.3", "--log-format", "json")
    outbox.wait_until(lambda: all(s.levels() == {s.skus[0]: 3, s.skus[1]: 4} for s in shops), timeout=40,
                      message="the good rows in every shop")
    assert proc.stop() == 0
    lines = [json.loads(line) for line in proc.log().splitlines()]  # every line one JSON object
    assert all(set(o) == {"ts", "level", "msg", "fields"} for o in lines), lines[:3]
    assert any(o["fields"].get("channel_id") == bad_shopify for o in lines), lines
    run("status")
    run("status", "--json")
    run("retry", "--failed")
    run("check")
    texts += [p.log() for p in sc.processes]
    # What the shops and the proxy logged about the requests they saw.
    texts.append(json.dumps(shopify.requests()))
    texts.append(json.dumps(woo.requests()))
    texts.append(json.dumps(medusa_proxy.requests()))
    for path in (woo.log_path, medusa_proxy.log_path):
        if path and pathlib.Path(path).exists():
            texts.append(pathlib.Path(path).read_text(errors="replace"))
    texts.append(all_rows_text(db))
    haystack = "\n".join(texts)
    # The workload really exercised the paths that could leak.
    assert "debug: request headers were" in haystack  # the echoed error pages reached rows/logs (redacted)
    assert "FAIL auth" in haystack and "sku_not_found" in haystack
    needles = [SHOP_TOKEN, SHOP_WRONG, WOO_KEY["consumer_key"], WOO_KEY["consumer_secret"], WOO_WRONG_SECRET,
               medusa.secret_key, ADMIN_PASSWORD, b64(f"{WOO_KEY['consumer_key']}:{WOO_KEY['consumer_secret']}"),
               b64(f"{medusa.secret_key}:"), b64(SHOP_TOKEN), b64(medusa.secret_key)]
    leaks = [n for n in needles if n in haystack]
    assert not leaks, f"credentials leaked: {leaks}"
    jwts = re.findall(r"eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+", haystack)
    assert not jwts, f"a JWT leaked: {jwts[:1]}"
    assert "LEAKCANARY" not in haystack


@pytest.mark.parametrize("kind", ["shopify", "woocommerce"])
def test_tls_is_verified_by_default_and_turning_it_off_is_logged(db, request, test_ca, sidecar, kind):
    if kind == "shopify":
        emu = request.getfixturevalue("shopify")
        shop = shopify_shop(db, emu, test_ca, ["TLS-1"], channel_kw={"settings": {}})  # no ca_file
    else:
        emu = request.getfixturevalue("woo")
        shop = woo_shop(db, emu, None, ["TLS-1"], request.getfixturevalue("woo").keys[0])
    r = sidecar.check()
    assert r.returncode == 1
    line = next(l for l in r.stdout.splitlines() if l.startswith(f"channel {shop.channel_id} "))
    assert "FAIL" in line and "TLS" in line and "certificate" in line.lower(), line
    enqueue(db, shop, [(1, "TLS-1", 6)])
    d = sidecar.drain_once()
    row = outbox.rows(db.conn)[0]
    # Not retried into the ground, and not dead-lettered either: a certificate that
    # does not verify concerns the channel, so the row is held until it is fixed.
    assert row["state"] == "pending" and row["error_code"] == "config" and row["attempts"] == 0, row
    assert "TLS certificate verification failed" in row["last_error"], row
    assert shop.levels()["TLS-1"] != 6
    assert "TLS" in d.stderr
    # A test shop may turn verification off: it works, and says so loudly.
    outbox.update_channel(db.conn, shop.channel_id, tls_verify=False)
    d = sidecar.drain_once()
    assert "TLS verification is OFF" in d.stderr, d.stderr
    assert shop.levels()["TLS-1"] == 6
    r = sidecar.check()
    assert r.returncode == 0 and "TLS verification is OFF" in r.stderr, r.stdout + r.stderr


@pytest.mark.parametrize("kind,code", [("shopify", 302), ("woocommerce", 301), ("medusa", 307)])
def test_a_redirect_to_another_host_is_refused_and_the_credential_never_goes_there(
        db, request, test_ca, sidecar, tmp_path, kind, code):
    tls = test_ca if kind != "medusa" else None
    with FaultProxy(sink=True, tls=tls, log_path=tmp_path / "sink.log") as sink:
        if kind == "shopify":
            emu = request.getfixturevalue("shopify")
            upstream, secret = emu.base_url, emu.token
        elif kind == "woocommerce":
            emu = request.getfixturevalue("woo")
            upstream, secret = emu.base_url, emu.keys[0]["consumer_secret"]
        else:
            emu = request.getfixturevalue("medusa")
            upstream, secret = emu.base_url, emu.secret_key
        with FaultProxy(upstream=upstream, tls=tls, upstream_ca=test_ca["ca"] if tls else None,
                        log_path=tmp_path / "front.log") as front:
            if kind == "shopify":
                shop = shopify_shop(db, emu, test_ca, ["RD-1"], channel_kw={"base_url": front.base_url})
            elif kind == "woocommerce":
                shop = woo_shop(db, emu, test_ca, ["RD-1"], emu.keys[0], channel_kw={"base_url": front.base_url})
            else:
                shop = medusa_shop(db, emu, front, [f"{unique('RD')}-1"])
            front.faults([{"action": "redirect", "status": code, "location": f"{sink.base_url}/stolen"}])
            r = sidecar.check()
            enqueue(db, shop, [(1, shop.skus[0], 9)])
            d = sidecar.drain_once()
            received = sink.received()
            row = outbox.rows(db.conn)[0]
        assert received == [], f"the sidecar followed the redirect: {received}"
        assert secret not in sink.log_path.read_text(errors="replace") if sink.log_path.exists() else True
    line = next(l for l in r.stdout.splitlines() if l.startswith(f"channel {shop.channel_id} "))
    assert "FAIL config" in line and ("redirect" in line or str(code) in line), line
    # A channel-level refusal: the row is parked or failed (to be re-queued when
    # the channel is fixed), never applied.
    assert row["state"] in ("pending", "failed") and row["error_code"] == "config", row
    assert "redirect" in row["last_error"] or str(code) in row["last_error"], row["last_error"]
    assert shop.levels()[shop.skus[0]] != 9


@pytest.fixture
def sidecar_role(pg_cluster, db):
    role = f"stockrelayd_t{abs(hash(db.name)) % 10**8}"
    yield role
    with contextlib.suppress(psycopg2.Error):
        db.query(f'DROP OWNED BY "{role}"')
    with contextlib.closing(pg_cluster.connect()) as c, c.cursor() as cur:
        with contextlib.suppress(psycopg2.Error):
            cur.execute(f'DROP ROLE IF EXISTS "{role}"')


def test_the_sidecar_runs_with_the_least_privilege_role(pg_cluster, db, shop_factory, sidecar_role, tmp_path):
    shop = shop_factory(skus=["LP-1", "LP-2"])
    db.query("CREATE TABLE res_partner (id serial PRIMARY KEY, name varchar)")  # an Odoo table it must not read
    script = REPO / "scripts" / "sidecar-role"
    r = subprocess.run([str(script), db.dsn, sidecar_role], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stdout + r.stderr
    again = subprocess.run([str(script), db.dsn, sidecar_role], capture_output=True, text=True, timeout=60)
    assert again.returncode == 0, again.stderr  # idempotent
    role_dsn = f"host=127.0.0.1 port={pg_cluster.port} user={sidecar_role} dbname={db.name}"
    attrs = db.query("SELECT rolsuper, rolcreatedb, rolcreaterole, rolcanlogin FROM pg_roles WHERE rolname = %s",
                     (sidecar_role,))
    assert attrs == [(False, False, False, True)]

    sc = Sidecar(role_dsn, tmp_path / "role-logs")
    shop.enqueue([(1, "LP-1", "Main", 4), (2, "LP-2", "Main", 5), (3, "LP-404", "Main", 1)])
    assert sc.check().returncode == 0
    proc = sc.start("--poll-interval", "0.3")
    outbox.wait_until(lambda: shop.available("LP-1") == 4 and shop.available("LP-2") == 5, timeout=20,
                      message="pushes made by the least-privilege role")
    outbox.wait_until(lambda: outbox.counts(db.conn).get("failed") == 1, timeout=10, message="the unknown SKU row")
    retry = sc.retry_failed()
    assert retry.returncode == 0 and "re-queued 1 row(s)" in retry.stdout, retry.stdout + retry.stderr
    assert proc.stop() == 0
    assert sc.status(as_json=True)["channels"][0]["counts"]["done"] == 2
    assert db.scalar("SELECT count(*) FROM stock_relay_sku_cache") >= 2

    conn = psycopg2.connect(role_dsn)
    conn.autocommit = True
    try:
        for sql in ("UPDATE stock_relay_channel SET base_url = 'https://evil.example'",
                    "INSERT INTO stock_relay_channel (name, channel_type, base_url) VALUES ('x', 'shopify', 'y')",
                    "DELETE FROM stock_relay_channel",
                    "DELETE FROM stock_relay_outbox",
                    "SELECT * FROM res_partner",
                    "CREATE TABLE stolen (x int)",
                    "DROP TABLE stock_relay_outbox"):
            with conn.cursor() as cur, pytest.raises(psycopg2.errors.InsufficientPrivilege):
                cur.execute(sql)
    finally:
        conn.close()
    assert db.scalar("SELECT base_url FROM stock_relay_channel WHERE id = %s", (shop.channel_id,)) == shop.emu.base_url


def test_sidecar_role_names_the_right_its_dsn_lacks(pg_cluster, db, sidecar_role):
    """Odoo's database user usually owns the tables but lacks CREATEROLE: the script says so, and how to
    proceed; once a superuser created the role, the same user applies the grants."""
    owner = f"{sidecar_role}_owner"
    db.query(f'CREATE ROLE "{owner}" LOGIN NOCREATEROLE')
    try:
        db.query(f'ALTER DATABASE "{db.name}" OWNER TO "{owner}"')  # Odoo's user owns its database
        # The owner owns every object of the contract (tables, their sequences, functions), as Odoo's user does.
        for (table,) in db.query("SELECT tablename FROM pg_tables WHERE tablename LIKE 'stock_relay%'"):
            db.query(f'ALTER TABLE {table} OWNER TO "{owner}"')
        db.query(f'ALTER SEQUENCE stock_relay_outbox_version_seq OWNER TO "{owner}"')
        for (fn,) in db.query("SELECT p.oid::regprocedure::text FROM pg_proc p WHERE p.proname LIKE 'stock_relay%'"):
            db.query(f'ALTER FUNCTION {fn} OWNER TO "{owner}"')
        owner_dsn = f"host=127.0.0.1 port={pg_cluster.port} user={owner} dbname={db.name}"
        script = REPO / "scripts" / "sidecar-role"
        r = subprocess.run([str(script), owner_dsn, sidecar_role], capture_output=True, text=True, timeout=60)
        assert r.returncode == 1, r.stdout + r.stderr
        assert f"'{owner}' lacks CREATEROLE, which it needs to create role '{sidecar_role}'" in r.stderr
        assert "permission denied" not in r.stderr
        db.query(f'CREATE ROLE "{sidecar_role}" LOGIN NOINHERIT')  # what the message tells a superuser to run
        r = subprocess.run([str(script), owner_dsn, sidecar_role], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0, r.stdout + r.stderr
        assert db.scalar("SELECT has_table_privilege(%s, 'stock_relay_outbox', 'UPDATE')", (sidecar_role,))
        db.query("GRANT CREATE ON SCHEMA public TO PUBLIC")  # what Odoo does when it creates a database
        r = subprocess.run([str(script), owner_dsn, sidecar_role], capture_output=True, text=True, timeout=60)
        assert r.returncode == 0 and "REVOKE CREATE ON SCHEMA public FROM PUBLIC" in r.stderr, r.stderr
    finally:
        db.query("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
        with contextlib.suppress(psycopg2.Error):
            db.query(f'REASSIGN OWNED BY "{owner}" TO CURRENT_USER')
            db.query(f'DROP OWNED BY "{owner}"')
            db.query(f'DROP ROLE "{owner}"')
