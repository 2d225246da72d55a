"""The drop-in examples in docs/ (issue 14) work with the daemon as built:
the Prometheus alert rules pass `promtool check rules`, and every metric the
rules and the Grafana dashboard name exists in a real /metrics scrape."""
from __future__ import annotations

import json
import pathlib
import re
import shutil
import subprocess
import urllib.request

import pytest

from chaos.fixtures import enqueue, make_shop  # noqa: F401
from harness import outbox
from harness.pg import free_port

pytestmark = [pytest.mark.shopify, pytest.mark.sidecar]

DOCS = pathlib.Path(__file__).resolve().parents[2] / "docs"
RULES = DOCS / "prometheus" / "stockrelay-alerts.yml"
DASHBOARD = DOCS / "grafana" / "stockrelay-dashboard.json"


def promtool():
    path = shutil.which("promtool")
    if not path:
        pytest.fail("promtool is missing (Debian package prometheus; scripts/bootstrap installs it)", pytrace=False)
    return path


def named_metrics(text):
    """stockrelay_* names in PromQL text, histogram series folded into their family."""
    return {re.sub(r"_(bucket|count|sum)$", "", n) for n in re.findall(r"\bstockrelay_[a-z_]+", text)}


def test_the_alert_rules_pass_promtool():
    r = subprocess.run([promtool(), "check", "rules", str(RULES)], capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "SUCCESS: 5 rules found" in r.stdout, r.stdout


def test_every_metric_in_the_rules_and_the_dashboard_is_served(make_shop, sidecar, db):
    shop = make_shop("shopify", ["D1", "D2"])
    port = free_port()
    hooks = free_port()
    proc = sidecar.start("--metrics-listen", f"127.0.0.1:{port}", "--listen", f"127.0.0.1:{hooks}",
                         "--poll-interval", "0.3")
    enqueue(db, shop, [(1, shop.skus[0], 1), (2, shop.skus[1], 2)])
    outbox.wait_until(lambda: shop.levels() == {shop.skus[0]: 1, shop.skus[1]: 2}, timeout=30, message="rows to land")
    req = urllib.request.Request(f"http://127.0.0.1:{hooks}/webhooks/999999", data=b"{}", method="POST")
    try:
        urllib.request.urlopen(req, timeout=10)
    except urllib.error.HTTPError as e:
        assert e.code == 404
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as r:
        scrape = r.read().decode()
    assert proc.stop() == 0
    served = set(re.findall(r"^# TYPE (\w+) ", scrape, re.M))
    rules = named_metrics(RULES.read_text())
    dashboard = named_metrics(" ".join(t["expr"] for p in json.loads(DASHBOARD.read_text())["panels"]
                                       for t in p["targets"]))
    assert len(rules) >= 5 and len(dashboard) >= 15, (rules, dashboard)
    assert rules - served == set(), f"alert rules name metrics the daemon does not serve: {rules - served}"
    assert dashboard - served == set(), f"the dashboard names metrics the daemon does not serve: {dashboard - served}"
