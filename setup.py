"""Builds stockrelay_native with CMake for `pip install --no-build-isolation .`.

Only the extension target is built (no daemon, no tests: STOCKRELAY_BUILD_DAEMON
and STOCKRELAY_BUILD_TESTS are off), in build/pip/ of this tree, so a second
install is incremental. Needs only Debian packages: setuptools and wheel
(python3-setuptools, python3-wheel: a venv sees them with
--system-site-packages), cmake, g++ and the -dev packages scripts/bootstrap
installs. CMAKE_BUILD_PARALLEL_LEVEL sets the number of compile jobs.
"""
import os
import pathlib
import re
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

ROOT = pathlib.Path(__file__).resolve().parent
EXT = "_stockrelay_native"


def project_version():
    """The one version: CMakeLists.txt's project(... VERSION x.y.z)."""
    text = (ROOT / "CMakeLists.txt").read_text()
    return re.search(r"project\(stockrelay VERSION ([0-9.]+)", text).group(1)


class CMakeBuild(build_ext):
    def build_extension(self, ext):
        build_dir = pathlib.Path(self.build_temp).resolve() / "cmake"
        jobs = os.environ.get("CMAKE_BUILD_PARALLEL_LEVEL") or str(os.cpu_count() or 1)
        subprocess.run(["cmake", "-S", str(ROOT), "-B", str(build_dir), "-DCMAKE_BUILD_TYPE=Release",
                        "-DSTOCKRELAY_BUILD_TESTS=OFF", "-DSTOCKRELAY_BUILD_DAEMON=OFF",
                        f"-DPython_EXECUTABLE={sys.executable}"], check=True)
        subprocess.run(["cmake", "--build", str(build_dir), "--target", EXT, "-j", jobs], check=True)
        built = list((build_dir / "python" / "stockrelay_native").glob(f"{EXT}.*.so"))
        if len(built) != 1:
            sys.exit(f"setup.py: expected one {EXT}.*.so in {build_dir}/python/stockrelay_native, found {built}")
        target = pathlib.Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(built[0], target)


setup(
    version=project_version(),
    packages=["stockrelay_native"],
    package_dir={"stockrelay_native": "native/python/stockrelay_native"},
    package_data={"stockrelay_native": ["*.pyi"]},
    ext_modules=[Extension(f"stockrelay_native.{EXT}", sources=[])],
    cmdclass={"build_ext": CMakeBuild},
    options={"build": {"build_base": "build/pip"}},
    zip_safe=False,
)
