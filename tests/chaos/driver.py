"""The chaos run: random stock changes over many SKUs, written as the addon
writes them (one ``stock_relay_enqueue`` per transaction, REPEATABLE READ,
one row per channel per changed product), while ``stockrelayd run`` is
SIGKILLed every few seconds and restarted, PostgreSQL restarts once, and the
shops inject faults. Then it waits for the outbox to drain and checks that
nothing was lost, reordered or invented.

Issue 10 adds: ``replicas`` daemons running side by side (one of them, at
random, is the one killed), writers that share products (each change reads
and bumps the product's quantity in a side table inside its REPEATABLE READ
transaction, so concurrent writers of one product conflict and retry, as Odoo
does), and an ``Outage``: one shop answers 503 to everything for longer than
the old retry budget, then comes back.

Quantities carry the commit order: every product's committed quantity
sequence is strictly increasing (each change adds 1-3), so a shop history
that ever goes down applied an older value after a newer one, and a value
that was never committed is an invention.
"""
from __future__ import annotations

import dataclasses
import os
import random
import re
import signal
import threading
import time
from decimal import Decimal

import psycopg2
import psycopg2.errors
import psycopg2.extensions

from harness import outbox

ENQUEUE = outbox.ENQUEUE


def scale() -> float:
    try:
        return max(0.05, float(os.environ.get("STOCKRELAY_CHAOS_SCALE", "1")))
    except ValueError:
        return 1.0


@dataclasses.dataclass
class ChaosConfig:
    skus: int = 1000
    changes: int = 10000
    write_seconds: float = 60.0      # spread the changes over about this long
    writers: int = 2                 # concurrent "Odoo workers" (products partitioned between them)
    max_per_tx: int = 8              # products changed by one transaction (a picking)
    kill_every: tuple = (2.0, 5.0)   # seconds between SIGKILLs (uniform)
    pg_restart_at: float = 0.45      # fraction of the write phase; None = no restart
    lease_seconds: int = 3
    settle_timeout: float = 120.0
    seed: int = 20251122
    replicas: int = 2                # daemons running at once
    shared_products: bool = True     # every writer may change every product


@dataclasses.dataclass
class Outage:
    """One shop down as a whole from ``at`` (fraction of the write phase) for ``seconds``."""
    begin: object                    # callable: the shop starts failing every call
    end: object                      # callable: the shop is back (its usual chaos faults)
    at: float = 0.3
    seconds: float = 25.0
    calls: object = None             # callable -> epoch seconds of the calls the shop served
    started: float = 0.0             # filled in: epoch seconds
    ended: float = 0.0


@dataclasses.dataclass
class ChaosResult:
    committed: dict                  # sku -> [quantities committed, in order]
    changes: int = 0
    transactions: int = 0
    serialization_retries: int = 0
    kills: int = 0
    kills_mid_push: int = 0
    pg_restarts: int = 0
    write_seconds: float = 0.0
    convergence_seconds: float = 0.0
    lease_recoveries: int = 0
    reconnects: int = 0
    outbox_rows: int = 0
    outbox_states: dict = dataclasses.field(default_factory=dict)
    extra_attempts: int = 0
    logs: list = dataclasses.field(default_factory=list)
    outage_calls: int = -1           # calls the downed shop served during its outage (-1: no outage)
    outage_seconds: float = 0.0


class _Writer(threading.Thread):
    def __init__(self, dsn, shops, products, n_changes, deadline_s, cfg, rng, result, lock, gate, errors):
        super().__init__(daemon=True)
        self.dsn, self.shops, self.products = dsn, shops, products
        self.n_changes, self.deadline_s, self.cfg, self.rng = n_changes, deadline_s, cfg, rng
        self.result, self.lock, self.gate, self.errors = result, lock, gate, errors
        self.reconnect = False

    def connect(self):
        conn = psycopg2.connect(self.dsn)
        conn.set_session(isolation_level=psycopg2.extensions.ISOLATION_LEVEL_REPEATABLE_READ)
        return conn

    def run(self):
        try:
            self._run()
        except Exception as e:  # reported by the driver
            self.errors.append(e)

    def _run(self):
        conn = self.connect()
        done = 0
        started = time.monotonic()
        while done < self.n_changes:
            k = min(self.rng.randint(1, self.cfg.max_per_tx), self.n_changes - done)
            picked = sorted(self.rng.sample(self.products, k))
            deltas = {sku: self.rng.randint(1, 3) for _, sku in picked}
            with self.gate:
                if self.reconnect:
                    conn.close()
                    conn = self.connect()
                    self.reconnect = False
                for attempt in range(200):
                    try:
                        with conn.cursor() as cur:
                            new = self._bump(cur, picked, deltas)
                            rows = [r for shop in self.shops
                                    for r in shop.rows([(pid, sku, new[sku]) for pid, sku in picked])]
                            cids, pids, skus, locs, qtys = outbox._arrays(rows)
                            cur.execute(ENQUEUE, (cids, pids, skus, locs, [Decimal(q) for q in qtys], "quant"))
                        conn.commit()
                        break
                    except (psycopg2.errors.SerializationFailure, psycopg2.errors.DeadlockDetected):
                        conn.rollback()
                        with self.lock:
                            self.result.serialization_retries += 1
                else:
                    raise RuntimeError("enqueue kept failing with serialization errors")
            with self.lock:
                for sku, q in new.items():
                    self.result.committed[sku].append(q)
                self.result.changes += k
                self.result.transactions += 1
            done += k
            # Pace the writes over the write phase.
            ahead = started + self.deadline_s * done / self.n_changes - time.monotonic()
            if ahead > 0:
                time.sleep(ahead)
        conn.close()

    def _bump(self, cur, picked, deltas):
        """The products' new quantities, read and bumped inside the transaction (a
        writer sharing the product commits first or this one retries)."""
        cur.execute("UPDATE chaos_qty AS q SET qty = q.qty + d.delta FROM unnest(%s::integer[], %s::integer[]) "
                    "AS d(pid, delta) WHERE q.product_id = d.pid RETURNING q.product_id, q.qty",
                    ([pid for pid, _ in picked], [deltas[sku] for _, sku in picked]))
        by_pid = dict(cur.fetchall())
        return {sku: by_pid[pid] for pid, sku in picked}


def _fresh_counts(dsn):
    conn = psycopg2.connect(dsn)
    try:
        return outbox.counts(conn)
    finally:
        conn.close()


def _schedule_outage(outage: Outage, t0: float, write_seconds: float, log):
    def begin():
        outage.begin()
        outage.started = time.time()
        log(f"chaos: shop outage begins at t={time.monotonic() - t0:.1f}s for {outage.seconds:.0f}s")
        end_timer = threading.Timer(outage.seconds, end)
        end_timer.daemon = True
        end_timer.start()

    def end():
        outage.end()
        outage.ended = time.time()
        log(f"chaos: shop outage ends at t={time.monotonic() - t0:.1f}s")

    timer = threading.Timer(write_seconds * outage.at, begin)
    timer.daemon = True
    timer.start()
    return timer


def run_chaos(*, db, pg_cluster, sidecar, shops, cfg: ChaosConfig, log=print, outage: Outage | None = None) -> ChaosResult:
    """Runs the scenario; returns the figures. ``shops`` are ShopViews whose
    channels already exist and whose SKUs are ``CH-00001`` … (same in all shops)."""
    rng = random.Random(cfg.seed)
    skus = [f"CH-{i:05d}" for i in range(1, cfg.skus + 1)]
    products = list(enumerate(skus, start=1))
    result = ChaosResult(committed={sku: [] for sku in skus})
    lock = threading.Lock()
    errors: list = []
    args = ["--lease-seconds", str(cfg.lease_seconds), "--poll-interval", "1", "--reload-interval", "5"]

    db.query("CREATE TABLE chaos_qty (product_id integer PRIMARY KEY, qty integer NOT NULL DEFAULT 0)")
    db.query("INSERT INTO chaos_qty (product_id) SELECT generate_series(1, %s)", (len(products),))
    if not db.conn.autocommit:
        db.conn.commit()
    lanes = [[sidecar.start(*args, name=f"chaos-{lane}")] for lane in range(cfg.replicas)]
    procs = []  # every process, in start order
    for lane in lanes:
        procs.extend(lane)
    gates = [threading.Lock() for _ in range(cfg.writers)]
    writers = []
    for w in range(cfg.writers):
        mine = products if cfg.shared_products else products[w::cfg.writers]
        n = cfg.changes // cfg.writers + (1 if w < cfg.changes % cfg.writers else 0)
        writers.append(_Writer(db.dsn, shops, mine, n, cfg.write_seconds, cfg, random.Random(cfg.seed + w + 1),
                               result, lock, gates[w], errors))
    t0 = time.monotonic()
    for w in writers:
        w.start()
    outage_timer = _schedule_outage(outage, t0, cfg.write_seconds, log) if outage else None

    # The chaos: SIGKILL + restart every few seconds, one PostgreSQL restart.
    restart_at = t0 + cfg.write_seconds * cfg.pg_restart_at if cfg.pg_restart_at is not None else None

    def restart_pg():
        for g in gates:  # no transaction is open while the server goes away
            g.acquire()
        try:
            pg_cluster.restart()
            result.pg_restarts += 1
            for w in writers:
                w.reconnect = True
        finally:
            for g in gates:
                g.release()
        db.reconnect()
        log(f"chaos: PostgreSQL restarted at t={time.monotonic() - t0:.1f}s")

    while any(w.is_alive() for w in writers):
        time.sleep(rng.uniform(*cfg.kill_every))
        if not any(w.is_alive() for w in writers):
            break
        if restart_at is not None and time.monotonic() >= restart_at:
            restart_at = None
            restart_pg()
            continue
        try:
            in_flight = _fresh_counts(db.dsn).get("in_flight", 0)
        except psycopg2.Error:
            in_flight = 0
        lane = rng.randrange(len(lanes))  # one replica dies, the other keeps working
        lanes[lane][-1].kill(signal.SIGKILL)
        lanes[lane][-1].wait(10)
        result.kills += 1
        result.kills_mid_push += 1 if in_flight else 0
        lanes[lane].append(sidecar.start(*args, name=f"chaos-{lane}"))
        procs.append(lanes[lane][-1])
    if restart_at is not None:  # a short run ended before its restart was due
        restart_pg()
    for w in writers:
        w.join()
    if errors:
        raise errors[0]
    t_last = time.monotonic()
    result.write_seconds = t_last - t0
    log(f"chaos: {result.changes} changes in {result.transactions} transactions written in "
        f"{result.write_seconds:.1f}s; {result.kills} kills; waiting for the outbox to drain")

    if outage_timer is not None:  # a short run: the outage still begins and ends before the settle
        outage_timer.join()
        while not outage.ended:
            time.sleep(0.2)
    # Convergence: the last sidecars keep running (faults stay on).
    deadline = t_last + cfg.settle_timeout
    while True:
        c = _fresh_counts(db.dsn)
        if c.get("pending", 0) == 0 and c.get("in_flight", 0) == 0:
            break
        if time.monotonic() > deadline:
            raise AssertionError(f"the outbox did not drain within {cfg.settle_timeout}s after the last commit: {c}")
        time.sleep(0.2)
    result.convergence_seconds = time.monotonic() - t_last
    for lane in lanes:
        assert lane[-1].stop() == 0, lane[-1].log()[-3000:]
    if outage is not None:
        result.outage_seconds = outage.ended - outage.started
        if outage.calls:
            result.outage_calls = sum(1 for t in outage.calls() if outage.started <= t <= outage.ended)

    conn = psycopg2.connect(db.dsn)
    try:
        result.outbox_states = outbox.counts(conn)
        with conn.cursor() as cur:
            cur.execute("SELECT count(*), coalesce(sum(attempts), 0) FROM stock_relay_outbox")
            result.outbox_rows, attempts = cur.fetchone()
            result.extra_attempts = int(attempts) - result.outbox_states.get("done", 0)
    finally:
        conn.close()
    text = "".join(p.log() for p in procs)
    result.lease_recoveries = sum(int(m) for m in re.findall(r"(\d+) row\(s\) came back after an expired lease", text))
    result.reconnects = len(re.findall(r"reconnected to PostgreSQL", text))
    result.logs = [p.log_path for p in procs]
    return result


def verify(result: ChaosResult, shops) -> dict:
    """Asserts convergence and no regression per shop; returns {shop kind: applied writes}."""
    applied = {}
    problems = []
    for shop in shops:
        levels = shop.levels()
        hist = shop.histories()
        applied[shop.kind] = sum(len(v) for v in hist.values())
        for sku, seq in result.committed.items():
            want = max(seq) if seq else 0  # writers sharing a product may record commits out of order
            if levels.get(sku) != want:
                problems.append(f"{shop.kind} {sku}: level {levels.get(sku)} != last committed {want}")
            h = hist.get(sku, [])
            committed = set(seq)
            if any(b < a for a, b in zip(h, h[1:])):
                problems.append(f"{shop.kind} {sku}: an older value was applied after a newer one: {h}")
            invented = [q for q in h if q not in committed]
            if invented:
                problems.append(f"{shop.kind} {sku}: applied values never committed: {invented}")
            if seq and (not h or h[-1] != want):
                problems.append(f"{shop.kind} {sku}: last applied {h[-1:] or None} != last committed {want}")
    assert not problems, f"{len(problems)} problem(s):\n" + "\n".join(problems[:40])
    return applied
