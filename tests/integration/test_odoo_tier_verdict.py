"""The real-Odoo tier fails when it ran no test (issue 15): Odoo 19 marks a module whose manifest
names another series ("18.0.x") uninstallable, logs one warning and exits 0 having run nothing.
scripts/odoo-log-verdict reads Odoo's log and must fail such a run, and any run where one of our
modules ran no test. The log lines are shaped as Odoo 18 and 19 write them (copied from real runs)."""
from __future__ import annotations

import pathlib
import subprocess

REPO = pathlib.Path(__file__).resolve().parents[2]
MODULES = ["stock_relay", "stock_relay_sale", "stock_relay_mrp"]
T = "2026-12-01 02:16:00,930 12401"


def started(module, test):
    return f"{T} INFO stockrelay_odoo_test odoo.addons.{module}.tests.t: Starting {test} ... "


def run(tmp_path, lines, rc=0):
    log = tmp_path / "odoo-tests.log"
    log.write_text("\n".join(lines) + "\n")
    junit = tmp_path / "odoo.xml"
    r = subprocess.run([str(REPO / "scripts/odoo-log-verdict"), str(log), str(rc), "12.5", str(junit),
                        "odoo 19.0 stock_relay", *MODULES], capture_output=True, text=True, timeout=30)
    return r, junit.read_text()


ALL_RAN = [started("stock_relay", "TestA.test_a"), started("stock_relay", "TestA.test_b"),
           started("stock_relay_sale", "TestB.test_a"), started("stock_relay_mrp", "TestC.test_a")]


def test_a_run_of_every_module_passes_with_its_counts(tmp_path):
    r, junit = run(tmp_path, [f"{T} INFO stockrelay_odoo_test odoo.modules.loading: 80 modules loaded", *ALL_RAN])
    assert r.returncode == 0, r.stderr
    assert r.stdout.split() == ["4", "4", "0", "0"]
    assert "stock_relay 2, stock_relay_sale 1, stock_relay_mrp 1" in r.stderr
    assert 'tests="4" failures="0"' in junit


def test_odoo_19_refusing_an_18_manifest_runs_nothing_and_the_tier_fails(tmp_path):
    lines = [f"{T} WARNING stockrelay_odoo_test odoo.modules.module: The module stock_relay has an incompatible "
             "version, setting installable=False",
             f"{T} INFO stockrelay_odoo_test odoo.modules.loading: 79 modules loaded"]
    r, junit = run(tmp_path, lines, rc=0)
    assert r.returncode == 1
    assert "stock_relay: no test ran" in r.stderr and "incompatible version" in r.stderr
    assert r.stdout.split()[0] == "0" and 'failures="1"' in junit


def test_one_module_without_tests_fails_the_run_even_when_the_others_pass(tmp_path):
    r, _ = run(tmp_path, ALL_RAN[:-1])
    assert r.returncode == 1
    assert "stock_relay_mrp: no test ran" in r.stderr


def test_failed_tests_and_errors_outside_tests_fail_and_are_counted(tmp_path):
    fail = f"{T} ERROR stockrelay_odoo_test odoo.addons.stock_relay.tests.t: FAIL: TestA.test_b"
    r, junit = run(tmp_path, [*ALL_RAN, fail])
    assert r.returncode == 1 and r.stdout.split() == ["4", "3", "0", "1"] and 'failures="1"' in junit
    r, _ = run(tmp_path, ALL_RAN, rc=1)
    assert r.returncode == 1 and "Odoo exited with status 1" in r.stderr


def test_warnings_about_our_modules_fail_but_not_the_database_name_or_a_deprecation(tmp_path):
    other = (f"{T} WARNING stockrelay_odoo_test py.warnings: /opt/stockrelay/odoo-19.0/odoo/addons/base/x.py:4: "
             "UserWarning: something of Odoo's own")
    dep = (f"{T} WARNING stockrelay_odoo_test py.warnings: /x/odoo_addon/stock_relay/models/a.py:81: "
           "DeprecationWarning: Since 19.0, use _commit_progress")
    r, _ = run(tmp_path, [*ALL_RAN, other, dep])
    assert r.returncode == 0, r.stderr
    assert "deprecated (not a failure)" in r.stderr
    view = (f"{T} WARNING stockrelay_odoo_test odoo.addons.base.models.ir_ui_view: Error-prone use of @class in "
            "view stock.relay.channel.form (stock_relay.stock_relay_channel_view_form)")
    r, _ = run(tmp_path, [*ALL_RAN, view])
    assert r.returncode == 1 and view in r.stderr


def test_an_idle_browser_connection_timing_out_is_not_a_failure_but_a_real_error_still_is(tmp_path):
    # As Odoo 18 logged it during the shop-manager tour on a loaded machine (the tour passed).
    timeout = (f"{T} ERROR ? werkzeug: 127.0.0.1 - - [02/Dec/2026 01:48:26] Request timed out: "
               "TimeoutError('timed out') - - -")
    r, junit = run(tmp_path, [*ALL_RAN, timeout])
    assert r.returncode == 0, r.stderr
    assert 'failures="0"' in junit
    other = f"{T} ERROR ? werkzeug: Exception on /odoo/action-stock_relay.action_stock_relay_dashboard"
    r, _ = run(tmp_path, [*ALL_RAN, timeout, other])
    assert r.returncode == 1 and "Exception on /odoo" in r.stderr, r.stderr
