"""`pip install --no-build-isolation <tree>` into a fresh virtualenv, the
layout of a self-hosted Odoo: the documented command builds the native module
with CMake (its target only, see setup.py) and installs it into the venv.

The venv is made with --system-site-packages because that is what works with
Debian's packages alone: a plain venv has no `wheel`, and setuptools 66 cannot
build a wheel without it ("invalid command 'bdist_wheel'"); Odoo's own Debian
Python dependencies (psycopg2, lxml, ...) are seen the same way. --without-pip:
Debian's pip (python3-pip) runs in the venv and installs into it, which spares
the ensurepip copy. No index is consulted (PIP_NO_INDEX)."""
from __future__ import annotations

import os
import pathlib
import subprocess
import time

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _env():
    # The suite's PYTHONPATH points at build/python: the venv must find its own copy.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_") and k != "PYTHONPATH"}
    env["PIP_NO_INDEX"] = "1"
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.setdefault("CMAKE_BUILD_PARALLEL_LEVEL", "2")
    return env


def _run(cmd, cwd, timeout=900):
    r = subprocess.run([str(c) for c in cmd], cwd=cwd, env=_env(), capture_output=True, text=True, timeout=timeout)
    assert r.returncode == 0, f"{cmd} failed ({r.returncode}):\n{r.stdout[-4000:]}\n{r.stderr[-4000:]}"
    return r.stdout


@pytest.mark.slow
def test_pip_install_builds_the_native_module_into_a_fresh_venv(tmp_path):
    venv = tmp_path / "odoo-venv"
    _run(["/usr/bin/python3", "-m", "venv", "--system-site-packages", "--without-pip", venv], tmp_path)
    py = venv / "bin" / "python"

    t0 = time.monotonic()
    _run([py, "-m", "pip", "install", "--no-build-isolation", ROOT], tmp_path)
    print(f"\npip install --no-build-isolation: {time.monotonic() - t0:.1f} s")

    out = _run([py, "-c", "import importlib.metadata as m, stockrelay_native as s\n"
                "print(s.__file__); print(m.version('stockrelay_native')); print(s.SCHEMA_VERSION)\n"
                "try: s.Channel({'id': 1, 'name': 'x', 'channel_type': 'nope', 'base_url': 'https://a.example'})\n"
                "except s.ConfigError: print('ConfigError')\n"
                "print('stock_relay_outbox' in s.schema_sql())"],
               tmp_path).split()
    site = pathlib.Path(_run([py, "-c", "import sysconfig; print(sysconfig.get_paths()['platlib'])"], tmp_path).strip())
    assert site.is_relative_to(venv)
    assert out[0] == str(site / "stockrelay_native" / "__init__.py")
    assert out[1] == (ROOT / "CMakeLists.txt").read_text().split("project(stockrelay VERSION ", 1)[1].split(" ")[0]
    assert int(out[2]) >= 5
    assert out[3:] == ["ConfigError", "True"]  # the C++ core answers (a specific error) and embeds the contract

    # Installed into the venv only, and pip can take it out again.
    system = _run(["/usr/bin/python3", "-c", "import importlib.util as u; s = u.find_spec('stockrelay_native');"
                   "print(s and s.origin)"], tmp_path)
    assert str(venv) not in system
    _run([py, "-m", "pip", "uninstall", "-y", "stockrelay_native"], tmp_path)
    assert not (site / "stockrelay_native").exists()
    assert not list(site.glob("stockrelay_native-*"))
