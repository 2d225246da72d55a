"""The Debian package: built by CPack from the suite's build tree (`cmake
--build build --target package`; scripts/test has built everything else
already), lintian-clean of errors, then installed, exercised, removed and
purged in a throw-away root (throwaway_root.sh: an overlay of the host's /
in a private mount namespace), leaving the host as it was.

Needs root, as CI and the developers' machines have (it mounts an overlay)."""
from __future__ import annotations

import os
import pathlib
import subprocess
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("STOCKRELAY_BUILD_DIR", ROOT / "build"))
SCRIPT = pathlib.Path(__file__).with_name("throwaway_root.sh")

# What the package would put on a host: none of it may appear on this one.
HOST_PATHS = ["/usr/bin/stockrelayd", "/etc/stockrelay", "/usr/lib/python3/dist-packages/stockrelay_native",
              "/usr/lib/python3/dist-packages/odoo/addons/stock_relay", "/usr/lib/systemd/system/stockrelayd.service",
              "/etc/systemd/system/multi-user.target.wants/stockrelayd.service", "/usr/share/stockrelay"]


def _host_state():
    def out(cmd):
        return subprocess.run(cmd, capture_output=True, text=True).stdout
    return {"paths": {p: os.path.lexists(p) for p in HOST_PATHS},
            "user": out(["getent", "passwd", "stockrelay"]),
            "dpkg": out(["dpkg-query", "-W", "-f=${db:Status-Abbrev}", "stockrelay"])}


@pytest.fixture(scope="module")
def deb():
    t0 = time.monotonic()
    r = subprocess.run(["cmake", "--build", str(BUILD), "--target", "package", "-j2"],
                       capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, f"cmake --build --target package failed:\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}"
    debs = sorted(BUILD.glob("stockrelay_*.deb"), key=lambda p: p.stat().st_mtime)
    assert debs, f"no stockrelay_*.deb in {BUILD}:\n{r.stdout[-2000:]}"
    print(f"\npackage: {debs[-1].name}, {debs[-1].stat().st_size / 1e6:.1f} MB, built in {time.monotonic() - t0:.1f} s")
    return debs[-1]


def test_package_holds_the_daemon_unit_module_and_addons(deb):
    files = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True, check=True).stdout
    names = {line.split()[-1].lstrip(".") for line in files.splitlines()}
    for path in ["/usr/bin/stockrelayd", "/usr/lib/systemd/system/stockrelayd.service",
                 "/usr/lib/python3/dist-packages/stockrelay_native/__init__.py",
                 "/usr/lib/python3/dist-packages/odoo/addons/stock_relay/__manifest__.py",
                 "/usr/lib/python3/dist-packages/odoo/addons/stock_relay_sale/__manifest__.py",
                 "/usr/lib/python3/dist-packages/odoo/addons/stock_relay_mrp/__manifest__.py",
                 "/usr/share/doc/stockrelay/copyright"]:
        assert path in names, f"{path} is not in {deb.name}"
    assert any("/usr/lib/python3/dist-packages/stockrelay_native/_stockrelay_native.cpython-" in n for n in names)
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    depends = subprocess.run(["dpkg-deb", "-f", str(deb), "Depends"], capture_output=True, text=True).stdout
    # dpkg-shlibdeps found the libraries the daemon links (libpq, libcurl).
    for lib in ("libpq5", "libcurl4", "python3 (>= 3.11~)", "adduser"):
        assert lib in depends, f"Depends lacks {lib}: {depends}"


def test_lintian_reports_no_error(deb):
    r = subprocess.run(["lintian", "--tag-display-limit", "0", str(deb)], capture_output=True, text=True, timeout=600)
    print("\n" + r.stdout)
    errors = [line for line in r.stdout.splitlines() if line.startswith("E:")]
    assert not errors, "lintian errors:\n" + "\n".join(errors)
    assert r.returncode == 0, r.stdout + r.stderr


def test_package_installs_works_and_purges_in_a_throwaway_root(deb, tmp_path):
    before = _host_state()
    scratch = tmp_path / "root"
    scratch.mkdir()
    t0 = time.monotonic()
    r = subprocess.run(["unshare", "--mount", "--pid", "--fork", "--kill-child", "bash", str(SCRIPT), str(deb),
                        str(scratch)], capture_output=True, text=True, timeout=600)
    print(f"\n{r.stdout}{r.stderr}throw-away root: {time.monotonic() - t0:.1f} s")
    assert _host_state() == before, "the throw-away install leaked into the host"
    assert not os.listdir(scratch), "the throw-away root's files outlived its namespace"
    assert str(scratch) not in pathlib.Path("/proc/self/mounts").read_text(), "a mount leaked into the host"
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ok purge: nothing of ours left" in r.stdout


def test_throwaway_root_leaves_nothing_behind_when_a_check_fails(tmp_path):
    bad = tmp_path / "stockrelay_0.0.0-1_amd64.deb"
    bad.write_text("not a Debian package\n")
    before = _host_state()
    scratch = tmp_path / "root"
    scratch.mkdir()
    r = subprocess.run(["unshare", "--mount", "--pid", "--fork", "--kill-child", "bash", str(SCRIPT), str(bad),
                        str(scratch)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 1 and "FAIL install: dpkg -i failed" in r.stdout, r.stdout + r.stderr
    assert _host_state() == before
    assert not os.listdir(scratch)
    assert str(scratch) not in pathlib.Path("/proc/self/mounts").read_text(), "a mount leaked into the host"
