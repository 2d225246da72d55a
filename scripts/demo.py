"""scripts/demo: watch stockrelay keep a (emulated) Shopify shop equal to Odoo.

Odoo is simulated by a table of on-hand/reserved quantities per SKU and
location; every change is turned into a sellable quantity by the contract's
policy (stock_relay_sellable, as the addon does) and written with
stock_relay_enqueue(...) in its own REPEATABLE READ
transaction, exactly as the addon does at precommit. stockrelayd (the real
binary) drains the outbox into the Shopify emulator over verified HTTPS.
"""
from __future__ import annotations

import argparse
import pathlib
import random
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "build" / "python")]

from emulators.shopify import ShopifyEmulator  # noqa: E402
from emulators.tls import make_test_ca  # noqa: E402
from harness import outbox  # noqa: E402
from harness.pg import PgCluster, TestDatabase  # noqa: E402
from harness.sidecar import Sidecar  # noqa: E402

TOKEN = "shpat_demo_token_not_a_secret"
SKUS = ["MUG-RED", "MUG-BLUE", "TEE-S", "TEE-M", "TEE-L", "CAP-ONE"]
LOCATIONS = ["Warehouse", "Store"]
BUFFER = 1  # units withheld from the shop per location


def table(odoo, shop, pushes, counts, elapsed, note):
    out = ["\x1b[H\x1b[2J", f"stockrelay demo — {note}   t={elapsed:5.1f}s\n\n"]
    out.append(f"{'SKU':<10}" + "".join(f"{loc + ' odoo':>17}{'shop':>7}{'pushes':>8}" for loc in LOCATIONS) + "\n")
    converged = True
    for sku in SKUS:
        line = f"{sku:<10}"
        for loc in LOCATIONS:
            want, have = odoo[(sku, loc)], shop.get(sku, {}).get(loc)
            ok = want == have
            converged &= ok
            mark = "\x1b[32m=\x1b[0m" if ok else "\x1b[33m~\x1b[0m"
            line += f"{want:>17}{str(have):>6}{mark}{pushes.get((sku, loc), 0):>8}"
        out.append(line + "\n")
    out.append("\noutbox: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) + "\n")
    sys.stdout.write("".join(out))
    sys.stdout.flush()
    return converged


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3, help="bursts of changes (default 3)")
    ap.add_argument("--changes", type=int, default=400, help="stock changes per burst (default 400)")
    args = ap.parse_args()

    work = pathlib.Path(tempfile.mkdtemp(prefix="stockrelay-demo-"))
    rng = random.Random(7)
    cluster = emu = sidecar = proc = None
    try:
        print("starting PostgreSQL, the Shopify emulator and stockrelayd ...")
        cluster = PgCluster(work).start()
        db = TestDatabase(cluster, cluster.create_database("demo"))
        ca = make_test_ca(work / "ca")
        emu = ShopifyEmulator(token=TOKEN, tls=ca, log_path=work / "shopify.log").start()
        seeded = emu.seed(locations=[{"name": n} for n in LOCATIONS],
                          products=[{"title": s, "variants": [{"sku": s, "levels": {n: 0 for n in LOCATIONS}}]}
                                    for s in SKUS])
        loc_gid = seeded["locations"]
        gid_loc = {v: k for k, v in loc_gid.items()}
        channel = outbox.add_channel(db.conn, name="Demo shop", channel_type="shopify", base_url=emu.base_url,
                                     api_version="2026-10", credentials={"access_token": TOKEN},
                                     settings={"ca_file": ca["ca"]})
        sidecar = Sidecar(db.dsn, work / "logs")
        proc = sidecar.start()

        on_hand = {(s, loc): rng.randint(5, 40) for s in SKUS for loc in LOCATIONS}
        reserved = {k: 0 for k in on_hand}
        odoo = {k: 0 for k in on_hand}
        product_id = {s: i + 1 for i, s in enumerate(SKUS)}
        t0 = time.monotonic()

        def shop_levels():
            avail = emu.state()["available"]
            return {sku: {gid_loc[g]: q for g, q in per.items() if g in gid_loc} for sku, per in avail.items()}

        def pushes():
            inv = {v["inventoryItemId"]: k for k, v in seeded["variants"].items()}
            out = {}
            for e in emu.history()["entries"]:
                if e["name"] == "available" and e["inventoryItemId"] in inv and e["locationId"] in gid_loc:
                    out[(inv[e["inventoryItemId"]], gid_loc[e["locationId"]])] = len(e["values"])
            return out

        applied_before = 0
        for rnd in range(1, args.rounds + 1):
            done = 0
            while done < args.changes:
                # One "Odoo transaction": 1-5 quant changes (receipts, sales, reservations).
                batch = []
                for _ in range(rng.randint(1, 5)):
                    key = (rng.choice(SKUS), rng.choice(LOCATIONS))
                    kind = rng.random()
                    if kind < 0.5:
                        on_hand[key] = max(0, on_hand[key] - rng.randint(1, 3))       # delivery
                    elif kind < 0.8:
                        on_hand[key] += rng.randint(1, 10)                           # receipt
                    else:
                        reserved[key] = rng.randint(0, max(0, on_hand[key] // 3))     # reservation
                    odoo[key] = db.scalar("SELECT stock_relay_sellable(%s, %s, %s)", (on_hand[key], reserved[key], BUFFER))
                    batch.append((channel, product_id[key[0]], key[0], loc_gid[key[1]], odoo[key]))
                outbox.enqueue(db.dsn, batch)
                done += len(batch)
                if done % 40 < 5:
                    table(odoo, shop_levels(), pushes(), outbox.counts(db.conn), time.monotonic() - t0,
                          f"round {rnd}/{args.rounds}: {done} changes committed")
                time.sleep(0.01)
            burst_end = time.monotonic()
            while True:
                converged = table(odoo, shop_levels(), pushes(), outbox.counts(db.conn), time.monotonic() - t0,
                                  f"round {rnd}/{args.rounds}: burst of {done} changes done, converging")
                if converged and outbox.settled(db.conn):
                    applied = sum(pushes().values())
                    print(f"\nround {rnd}: the shop equals Odoo {time.monotonic() - burst_end:.2f}s after the last commit; "
                          f"{done} committed changes reached the shop as {applied - applied_before} absolute sets "
                          "(changes to one key while it waited were coalesced).")
                    applied_before = applied
                    break
                if time.monotonic() - burst_end > 60:
                    print("\nnot converged after 60 s — see the log:", proc.log_path)
                    return 1
                time.sleep(0.25)
            time.sleep(1.5)
        print(f"\nstockrelayd log: {proc.log_path}")
        return 0
    except KeyboardInterrupt:
        print("\ninterrupted; stopping everything")
        return 130
    finally:
        if proc and proc.alive():
            proc.stop()
        if sidecar:
            sidecar.cleanup()
        if emu:
            emu.stop()
        if cluster:
            cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
