"""`cmake --install build --prefix /usr/local` (the source-tree install): the
module lands where Debian's /usr/bin/python3 searches under /usr/local, the
unit's ExecStart follows the prefix, the addons go to share/stockrelay. (The
/usr layout is the Debian package's, see test_deb_package.py.)"""
from __future__ import annotations

import os
import pathlib
import subprocess

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILD = pathlib.Path(os.environ.get("STOCKRELAY_BUILD_DIR", ROOT / "build"))


def test_install_into_usr_local_puts_the_module_on_debians_python_path(tmp_path):
    env = dict(os.environ, DESTDIR=str(tmp_path))
    r = subprocess.run(["cmake", "--install", str(BUILD), "--prefix", "/usr/local"], env=env,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    local = tmp_path / "usr" / "local"
    clean = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    py_path = subprocess.run(["/usr/bin/python3", "-c", "import sys; print('\\n'.join(sys.path))"], env=clean,
                             capture_output=True, text=True, check=True).stdout.split()
    module_dir = next(local.glob("lib/python3*/dist-packages/stockrelay_native"))
    assert "/usr/local/" + str(module_dir.parent.relative_to(local)) in py_path, py_path
    assert list(module_dir.glob("_stockrelay_native.cpython-*.so"))
    unit = (local / "lib/systemd/system/stockrelayd.service").read_text()
    assert "\nExecStart=/usr/local/bin/stockrelayd " in unit
    assert (local / "bin/stockrelayd").is_file()
    assert (local / "share/stockrelay/odoo-addons/stock_relay/__manifest__.py").is_file()
