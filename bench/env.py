"""Shared plumbing for the benchmarks: the same private PostgreSQL cluster,
test CA, Shopify emulator and real stockrelayd binary the integration tests
use (tests/harness, tests/emulators), plus small helpers for timing.

Everything listens on 127.0.0.1 and is stopped by ``Env.close()`` (and, should
the benchmark process die, by the harness watchdogs).
"""
from __future__ import annotations

import contextlib
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import psycopg2  # noqa: E402
import psycopg2.extras  # noqa: E402

from emulators.shopify import ShopifyEmulator  # noqa: E402
from emulators.tls import make_test_ca  # noqa: E402
from harness import outbox  # noqa: E402
from harness.pg import PgCluster, TestDatabase  # noqa: E402
from harness.sidecar import Sidecar  # noqa: E402

SHOPIFY_API_VERSION = "2025-10"
SHOPIFY_TOKEN = "shpat_bench_token_0123"
WORK = REPO / "build" / "bench"


def median(xs):
    return statistics.median(xs) if xs else float("nan")


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


class Env:
    """One PostgreSQL cluster + CA + (lazily) one Shopify emulator for the whole run."""

    def __init__(self):
        WORK.mkdir(parents=True, exist_ok=True)
        self.tmp = pathlib.Path(tempfile.mkdtemp(prefix="run-", dir=WORK))
        self.cluster = PgCluster(WORK).start()
        self.ca = make_test_ca(self.tmp / "ca")
        self._shopify = None
        self._dbs = []

    @property
    def shopify(self) -> ShopifyEmulator:
        if self._shopify is None:
            self._shopify = ShopifyEmulator(token=SHOPIFY_TOKEN, tls=self.ca, log_path=self.tmp / "shopify.log")
            self._shopify.start()
        return self._shopify

    def database(self, hint):
        name = self.cluster.create_database(hint)
        db = TestDatabase(self.cluster, name)
        self._dbs.append(db)
        return db

    def drop(self, db):
        db.close()
        with contextlib.suppress(Exception):
            self.cluster.drop_database(db.name)
        if db in self._dbs:
            self._dbs.remove(db)

    def sidecar(self, db, name="sidecar", log_level="info", extra_args=(), exe=None):
        """stockrelayd on `db`; `exe`: another binary (e.g. --baseline-stockrelayd, built from main)."""
        return Sidecar(db.dsn, self.tmp / name, exe=exe, log_level=log_level, extra_args=extra_args)

    def close(self):
        for db in list(self._dbs):
            self.drop(db)
        if self._shopify is not None:
            with contextlib.suppress(Exception):
                self._shopify.stop()
            self._shopify = None
        self.cluster.stop()


# ---------------------------------------------------------------- Shopify shop setup
def seed_shopify(emu: ShopifyEmulator, n_skus: int, prefix="B", chunk=5000):
    """n_skus single-variant products at one location 'Main'. Returns (location gid, {sku: inventory item gid})."""
    emu.reset()
    emu.config(token=SHOPIFY_TOKEN, maximumAvailable=10**9, restoreRate=10**9)
    first = emu.seed(locations=[{"name": "Main"}], products=[])
    loc = first["locations"]["Main"]
    items = {}
    for start in range(0, n_skus, chunk):
        prods = [{"title": f"P{i}", "variants": [{"sku": f"{prefix}-{i:06d}", "levels": {"Main": 0}}]}
                 for i in range(start, min(n_skus, start + chunk))]
        out = emu.seed(products=prods)
        for sku, v in out["variants"].items():
            items[sku] = v
    return loc, items


def add_shopify_channel(db, emu, ca, **kw):
    args = dict(name="Bench shop", channel_type="shopify", base_url=emu.base_url, api_version=SHOPIFY_API_VERSION,
                credentials={"access_token": SHOPIFY_TOKEN}, settings={"ca_file": ca["ca"]}, timeout_ms=15000)
    args.update(kw)
    return outbox.add_channel(db.conn, **args)


def bench_owner(sku):
    """The Odoo product every figure enqueues a bench SKU for: '<prefix>-<n, 6 digits>' -> n + 1."""
    return int(sku.rsplit("-", 1)[1]) + 1


def fill_sku_cache(db, channel_id, items):
    """What a previous drain would have cached: SKU -> inventory item (+ variant/product ids) and the Odoo
    product that published it (the SKU's owner, recorded since SKU ownership landed; a cache without owners
    made every 'warm' drain write every SKU's cache row once more, to record them)."""
    import json
    rows = [(channel_id, sku, v["inventoryItemId"], "",
             json.dumps({"variant_id": v["variantId"], "product_id": v["productId"]}), bench_owner(sku))
            for sku, v in items.items()]
    with db.conn.cursor() as cur:
        cur.execute("DELETE FROM stock_relay_sku_cache WHERE channel_id = %s", (channel_id,))
        psycopg2.extras.execute_values(
            cur, "INSERT INTO stock_relay_sku_cache (channel_id, sku, remote_id, parent_id, extra, product_id) "
                 "VALUES %s", rows, template="(%s, %s, %s, %s, %s::jsonb, %s)", page_size=5000)


def enqueue_bulk(db, rows, chunk=10000, trigger="full_sync"):
    """rows = [(channel_id, product_id, sku, location_key, qty)], committed in chunks."""
    for i in range(0, len(rows), chunk):
        outbox.enqueue(db.dsn, rows[i:i + chunk], trigger)


def clear_outbox(db):
    db.query("TRUNCATE stock_relay_outbox")
    db.query("VACUUM ANALYZE stock_relay_outbox")


class CpuRss:
    """CPU seconds and peak RSS of a process from /proc (Linux)."""

    def __init__(self, pid):
        self.pid = pid
        self.tck = os.sysconf("SC_CLK_TCK")

    def cpu_seconds(self):
        with open(f"/proc/{self.pid}/stat") as f:
            parts = f.read().rsplit(")", 1)[1].split()
        return (int(parts[11]) + int(parts[12])) / self.tck  # utime + stime

    def status(self, key):
        with open(f"/proc/{self.pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])  # kB
        return None


def run_quiet(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, **kw)


def now():
    return time.monotonic()
