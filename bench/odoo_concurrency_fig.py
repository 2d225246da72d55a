"""scripts/bench --only odoo-concurrency: Odoo under concurrency (issue 17; bench/odoo_concurrency.py).

8 JSON-RPC users validating deliveries and receipts of overlapping products in a real Odoo 18
(prefork, 8 workers), without and with stock_relay, the same data. Needs ODOO_SRC."""
from __future__ import annotations

import json
import os
import pathlib
import subprocess

REPO = pathlib.Path(__file__).resolve().parents[1]
WORK = REPO / "build" / "bench"
LABELS = ["13. Odoo under concurrency: pickings/s, throughput loss with stock_relay",
          "13. Odoo under concurrency: serialization retries per picking (in stock_relay's SQL)",
          "13. Odoo under concurrency: user-visible errors",
          "13. Odoo under concurrency: keys whose newest row is wrong after the storm"]


def fig(a, row):
    src = os.environ.get("ODOO_SRC")
    if not src or not os.path.isfile(os.path.join(src, "odoo-bin")):
        for label in LABELS:
            row(label, "SKIPPED", "", "ODOO_SRC not set")
        return
    out = WORK / "odoo-concurrency.json"
    seconds = 20 if a.quick else 60  # per database: the whole figure takes a few minutes
    r = subprocess.run([str(REPO / "bench" / "odoo-concurrency"), str(out), str(seconds)], text=True, timeout=1800)
    if r.returncode != 0 or not out.exists():
        for label in LABELS:
            row(label, "FAILED", "", f"bench/odoo-concurrency exited {r.returncode}; see build/bench/odoo-concurrency/")
        return
    res = json.loads(out.read_text())
    p, w = res["plain"], res["relay"]
    setup = f"{res['clients']} users, {res['workers']} Odoo workers, {res['products']} products, {res['lines']} lines"
    row(LABELS[0], f"{res['loss_pct']:+.1f} %", "<= 5 %",
        f"with {w['per_second']:.2f}/s ({w['pickings']} in {w['seconds']:.0f} s) vs without {p['per_second']:.2f}/s "
        f"({p['pickings']} in {p['seconds']:.0f} s); {setup}")
    row(LABELS[1], f"{w['retries_per_picking']:.2f} ({w['retries_in_stock_relay']})", "",
        f"with {w['retries']} ({w['retries_in_stock_relay']} in stock_relay's SQL) vs without {p['retries']} "
        f"({p['retries_per_picking']:.2f} per picking): Odoo's own 'tries left' log lines")
    row(LABELS[2], f"{w['errors_in_stock_relay']} ({w['errors']} / {p['errors']})", "0",
        "in stock_relay's SQL (all, with / without stock_relay: Odoo's own quant conflicts past its five "
        "replays count too); " + "; ".join(w["error_samples"][:2]))
    row(LABELS[3], f"{res['wrong_keys']} of {res['keys']}", "0",
        f"newest outbox row vs the sellable quantity computed after the storm; keys with two pending rows: "
        f"{res['duplicate_pending']}")
