"""scripts/bench --only oversell: runs bench/odoo-oversell (real Odoo, stockrelayd, two
Shopify emulators; bench/oversell.py measures) and turns its JSON into table rows."""
from __future__ import annotations

import json
import os
import subprocess

from env import REPO, WORK

LABEL = "9. Cross-channel oversell window: order in shop A -> shop B lowered"


def fmt(res):
    return f"p50 {res['p50']:.2f} s, p99 {res['p99']:.2f} s" if res["p99"] is not None else "no order arrived"


def fig(a, row):
    src = os.environ.get("ODOO_SRC")
    if not src or not os.path.isfile(os.path.join(src, "odoo-bin")):
        return row(LABEL, "SKIPPED", "p99 <= 2 s (webhooks)", "ODOO_SRC not set")
    out = WORK / "odoo-oversell.json"
    out.unlink(missing_ok=True)
    r = subprocess.run([str(REPO / "bench" / "odoo-oversell"), str(out), "1" if a.quick else "0"],
                       text=True, timeout=1800)
    if not out.exists():
        return row(LABEL, "FAILED", "p99 <= 2 s (webhooks)",
                   f"bench/odoo-oversell exited {r.returncode}; see build/bench/odoo-oversell/")
    res = json.loads(out.read_text())
    for path, target in (("webhook", "p99 <= 2 s"), ("polling", f"(poll every {res['poll_seconds']} s)")):
        x = res[path]
        row(f"{LABEL} ({path})", fmt(x), target,
            f"{x['orders']} orders at {x['rate']:g}/s over {res['skus']} SKUs, {len(x['missing'])} never reached "
            f"shop B; max {x['max'] if x['max'] is None else round(x['max'], 2)} s; load {x['load_average']:.1f}")
    checks = "; ".join(res["problems"]) or (
        f"every order is exactly one confirmed sale order, shop B equals Odoo; inbox {res['inbox_states']}, "
        f"received via {res['received_via']}")
    row(f"{LABEL} (checks)", "OK" if not res["problems"] and r.returncode == 0 else "FAILED", "", checks)
    if res["problems"]:
        raise RuntimeError("; ".join(res["problems"]))
