"""The drain's PostgreSQL side on a 1M-row outbox (issue 17, figure "plans"):

1. the plans of the claim and ack statements: EXPLAIN (ANALYZE, BUFFERS) of
   lease recovery, claim (250 rows), successor check and ack, written in full
   to build/bench/plans.txt; one row per statement (execution time, top node);
2. PostgreSQL's own ceiling for the drain's cycle: the same statements
   replayed by pgbench (no HTTP, no C++) at the drain's concurrency (1 and 2
   clients, 250 rows a batch), both as stockrelayd ran them before issue 17
   (ack, commit, then claim, commit) and folded (ack + next claim, one commit).
   Compare with figure 1 (drain): stockrelayd items/s / pgbench items/s is the
   share of the database ceiling the daemon reaches.

The statements mirror sidecar/src/queries.cpp (claim_in_tx, write_acks,
rows_with_pending_successor); the ack here sets the columns a 'done' ack sets.
"""
from __future__ import annotations

import re
import subprocess
import time

from env import WORK, log, median
from harness import outbox

TOTAL = 1_000_000
PENDING = 200_000
BATCH = 250
LOC = "gid://shopify/Location/1"

RECOVER = """UPDATE stock_relay_outbox AS o
   SET state = CASE WHEN EXISTS (SELECT 1 FROM stock_relay_outbox p
                                  WHERE p.state = 'pending' AND p.channel_id = o.channel_id
                                    AND p.kind = o.kind AND p.product_id = o.product_id
                                    AND p.location_key = o.location_key)
                    THEN 'superseded' ELSE 'pending' END,
       lease_until = NULL, last_error = 'lease expired', updated_at = (now() AT TIME ZONE 'UTC')
 WHERE o.channel_id = {cid} AND o.state = 'in_flight' AND o.lease_until < (now() AT TIME ZONE 'UTC')"""

CLAIM = """UPDATE stock_relay_outbox AS o
   SET state = 'in_flight', lease_until = (now() AT TIME ZONE 'UTC') + make_interval(secs => 30),
       leased_by = {who}, attempts = o.attempts + 1, updated_at = (now() AT TIME ZONE 'UTC')
 WHERE o.state = 'pending' AND o.id = ANY (ARRAY(
        SELECT p.id FROM stock_relay_outbox p
         WHERE p.state = 'pending' AND p.channel_id = {cid} AND p.kind = 'stock'
           AND p.next_attempt_at <= (now() AT TIME ZONE 'UTC')
           AND (p.product_id, p.location_key) NOT IN (
                SELECT f.product_id, f.location_key FROM stock_relay_outbox f
                 WHERE f.state = 'in_flight' AND f.channel_id = {cid} AND f.kind = 'stock')
         ORDER BY p.priority DESC, p.next_attempt_at, p.id
         LIMIT {batch} FOR UPDATE SKIP LOCKED))
RETURNING o.id"""

SUCCESSORS = """SELECT o.id FROM stock_relay_outbox o WHERE o.id = ANY({ids}::bigint[]) AND EXISTS (
  SELECT 1 FROM stock_relay_outbox p WHERE p.state = 'pending' AND p.channel_id = o.channel_id
     AND p.kind = o.kind AND p.product_id = o.product_id AND p.location_key = o.location_key
     AND p.id <> o.id OFFSET 0)"""

ACK = """UPDATE stock_relay_outbox AS o
   SET state = 'done', attempts = greatest(o.attempts - a.refund, 0), lease_until = NULL,
       done_at = (now() AT TIME ZONE 'UTC'), last_http_status = coalesce(nullif(a.http_status, 0), o.last_http_status),
       error_code = NULL, last_error = NULL, updated_at = (now() AT TIME ZONE 'UTC')
  FROM unnest({ids}::bigint[]) WITH ORDINALITY AS a0(id, n)
       CROSS JOIN LATERAL (SELECT 0 AS refund, 200 AS http_status) a
 WHERE o.id = a0.id AND o.id = ANY({ids}::bigint[]) AND o.state = 'in_flight' AND o.leased_by = {who}"""


def seed(db, cid):
    """TOTAL rows: history (done, several per key) and PENDING pending rows over distinct keys."""
    done = TOTAL - PENDING
    db.query(f"""INSERT INTO stock_relay_outbox (channel_id, product_id, sku, location_key, quantity, trigger, state,
                     attempts, done_at, last_http_status, priority)
                 SELECT {cid}, 1 + g % {PENDING}, 'P-' || (1 + g % {PENDING}), '{LOC}', g % 97, 'quant', 'done', 1,
                        (now() AT TIME ZONE 'UTC'), 200, 1
                   FROM generate_series(1, {done}) g""")
    db.query(f"""INSERT INTO stock_relay_outbox (channel_id, product_id, sku, location_key, quantity, trigger, priority)
                 SELECT {cid}, g, 'P-' || g, '{LOC}', g % 89, 'full_sync', 0 FROM generate_series(1, {PENDING}) g""")
    db.query("VACUUM ANALYZE stock_relay_outbox")


def explain(cur, sql):
    cur.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
    return [r[0] for r in cur.fetchall()]


def plans(db, cid, row):
    """EXPLAIN ANALYZE of each statement of one claim + ack. The claim is committed before the ack is explained,
    as in the daemon (an ack of rows claimed in its own transaction would also fire the channel foreign key's
    check on every row); the ack is rolled back and the claimed rows put back afterwards."""
    out = []
    conn = db.conn
    who = "'plans'"
    with conn.cursor() as cur:
        cur.execute("BEGIN")
        for name, sql in [("lease recovery", RECOVER.format(cid=cid)),
                          ("claim of 250 rows", CLAIM.format(cid=cid, who=who, batch=BATCH))]:
            out.append((name, explain(cur, sql)))
        cur.execute("COMMIT")
        cur.execute("SELECT quote_literal(array_agg(id)::text) FROM stock_relay_outbox "
                    "WHERE state = 'in_flight' AND leased_by = 'plans'")
        ids = cur.fetchone()[0]
        cur.execute("BEGIN")
        for name, sql in [("successor check (250 ids)", SUCCESSORS.format(ids=ids)),
                          ("ack of 250 rows", ACK.format(ids=ids, who=who))]:
            out.append((name, explain(cur, sql)))
        cur.execute("ROLLBACK")
        cur.execute("UPDATE stock_relay_outbox SET state = 'pending', lease_until = NULL, leased_by = NULL "
                    "WHERE state = 'in_flight' AND leased_by = 'plans'")
    text = []
    for name, lines in out:
        text.append(f"-- {name}\n" + "\n".join(lines) + "\n")
        exec_ms = next((float(m.group(1)) for ln in lines if (m := re.search(r"Execution Time: ([\d.]+) ms", ln))), 0)
        top = lines[0].split("  (")[0].strip()
        scans = sorted({m.group(0) for ln in lines for m in re.finditer(r"(Index Only Scan|Index Scan|Bitmap Index "
                                                                          r"Scan|Seq Scan) (using \S+ )?on \S+", ln)})
        triggers = [f"{m.group(1)} {m.group(2)} ms" for ln in lines
                    if (m := re.search(r"Trigger (?:for constraint )?(\S+): time=([\d.]+)", ln))]
        row(f"P. {name} on {TOTAL:,} rows", f"{exec_ms:.2f} ms", "",
            f"{top}; " + "; ".join(scans + [f"trigger {t}" for t in triggers]))
    path = WORK / "plans.txt"
    path.write_text("\n".join(text))
    log(f"plans: full EXPLAIN (ANALYZE, BUFFERS) in {path}")


def pgbench_script(cid, folded):
    who = "'pgbench-' || :client_id"
    ack = ACK.format(ids=":ids", who=who).replace("\n", " ") + ";"
    claim = ("WITH c AS (" + CLAIM.format(cid=cid, who=who, batch=BATCH).replace("\n", " ") + ") "
             "SELECT quote_literal(coalesce(array_agg(id), '{}')::text) AS ids FROM c \\gset")
    recover = RECOVER.format(cid=cid).replace("\n", " ") + ";"
    if folded:
        return "\n".join(["BEGIN;", ack, recover, claim, "COMMIT;"]) + "\n"
    return "\n".join(["BEGIN;", ack, "COMMIT;", "BEGIN;", recover, claim, "COMMIT;"]) + "\n"


def pgbench(db, cid, clients, folded, seconds):
    """Items/s of the drain cycle replayed by pgbench: `clients` connections, 250 rows a transaction."""
    path = WORK / f"drain-cycle-{'folded' if folded else 'split'}.sql"
    path.write_text(pgbench_script(cid, folded))
    before = db.query("SELECT count(*) FROM stock_relay_outbox WHERE state = 'done'")[0][0]
    t0 = time.monotonic()
    p = subprocess.run(["pgbench", "-n", "-M", "simple", "-c", str(clients), "-j", str(clients), "-T", str(seconds),
                        "-D", "ids='{}'", "-f", str(path), db.dsn], capture_output=True, text=True)
    elapsed = time.monotonic() - t0
    if p.returncode != 0:
        raise RuntimeError(f"pgbench failed: {p.stderr[-2000:]}")
    after = db.query("SELECT count(*) FROM stock_relay_outbox WHERE state = 'done'")[0][0]
    tps = float(re.search(r"tps = ([\d.]+)", p.stdout).group(1))
    return (after - before) / elapsed, tps


def fig(env, a, row):
    db = env.database("bench_plans")
    cid = outbox.add_channel(db.conn, name="Plans", channel_type="shopify", api_version="2025-10",
                             credentials={"access_token": "x"}, batch_size=BATCH)
    log(f"plans: seeding {TOTAL:,} outbox rows ({PENDING:,} pending)")
    seed(db, cid)
    plans(db, cid, row)
    for clients in a.drainers:
        rates = {}
        for folded in (False, True):
            rs = []
            for _ in range(a.runs):
                rate, tps = pgbench(db, cid, clients, folded, a.pgbench_seconds)
                rs.append(rate)
                log(f"pgbench x{clients} {'folded' if folded else 'split'}: {rate:,.0f} items/s ({tps:,.1f} tps)")
            rates[folded] = rs
            row(f"P. PostgreSQL ceiling (pgbench, {clients} client(s)): ack+claim "
                f"{'folded, one commit' if folded else 'split, two commits (before #17)'}",
                f"{median(rs):,.0f} items/s", "", "runs: " + ", ".join(f"{r:,.0f}" for r in rs))
    env.drop(db)
