"""Runs the real stockrelayd binary (found through env ``STOCKRELAYD``, default
``build/sidecar/stockrelayd``), in the foreground for one-shot commands or in
the background (``run``) with its log captured to a file."""
from __future__ import annotations

import ctypes
import json
import os
import pathlib
import re
import signal
import subprocess
import time

REPO = pathlib.Path(__file__).resolve().parents[2]

# stockrelayd's documented exit codes.
EXIT_OK = 0
EXIT_CHECK_FAILED = 1
EXIT_USAGE = 2
EXIT_DATABASE = 3
EXIT_SCHEMA = 4


def binary() -> pathlib.Path:
    env = os.environ.get("STOCKRELAYD")
    return pathlib.Path(env) if env else REPO / "build" / "sidecar" / "stockrelayd"


def _die_with_parent():
    # Servers must stop themselves: if the test process dies, the kernel sends
    # the sidecar SIGTERM (Linux PR_SET_PDEATHSIG).
    try:
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM, 0, 0, 0)
    except OSError:
        pass


class SidecarProcess:
    """A background ``stockrelayd run``."""

    def __init__(self, argv, log_path: pathlib.Path, env):
        self.argv = argv
        self.log_path = log_path
        # This process's output only: a log file kept from an earlier run (the
        # real-Odoo tier's work directory survives) must not answer wait_for_log.
        self._start = log_path.stat().st_size if log_path.exists() else 0
        self._log = open(log_path, "ab")
        self.proc = subprocess.Popen(argv, stdout=self._log, stderr=subprocess.STDOUT, env=env,
                                     start_new_session=True, preexec_fn=_die_with_parent)

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log(self) -> str:
        with open(self.log_path, "rb") as f:
            f.seek(self._start)
            return f.read().decode(errors="replace")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def wait_for_log(self, pattern: str, timeout: float = 10.0, start: int = 0) -> re.Match:
        """Waits until ``pattern`` (a regex) appears in the log after character ``start``."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.log(), start)
            if m:
                return m
            if not self.alive():
                raise AssertionError(f"stockrelayd exited ({self.proc.returncode}) before logging {pattern!r}:\n{self.log()}")
            if time.monotonic() > deadline:
                raise AssertionError(f"stockrelayd did not log {pattern!r} within {timeout}s:\n{self.log()}")
            time.sleep(0.05)

    def kill(self, sig=signal.SIGTERM):
        if self.alive():
            os.kill(self.proc.pid, sig)

    def wait(self, timeout: float = 30.0) -> int:
        try:
            return self.proc.wait(timeout=timeout)
        finally:
            if self.proc.poll() is not None:
                self._log.close()

    def stop(self, timeout: float = 30.0) -> int:
        """SIGTERM and wait; SIGKILL if it does not exit in time."""
        if not self.alive():
            return self.wait()
        self.kill(signal.SIGTERM)
        try:
            return self.wait(timeout)
        except subprocess.TimeoutExpired:
            self.kill(signal.SIGKILL)
            self.wait(5)
            raise AssertionError(f"stockrelayd ignored SIGTERM for {timeout}s:\n{self.log()}")


class Sidecar:
    """stockrelayd bound to one database DSN (passed through the environment,
    as the systemd unit does, so it never shows in the process list)."""

    def __init__(self, dsn: str, log_dir: pathlib.Path, *, exe=None, extra_args=(), log_level="info"):
        self.dsn = dsn
        self.exe = pathlib.Path(exe) if exe else binary()
        self.log_dir = pathlib.Path(log_dir)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        self.extra_args = list(extra_args)
        self.log_level = log_level
        self.processes: list[SidecarProcess] = []
        if not self.exe.exists():
            raise RuntimeError(f"stockrelayd not found at {self.exe}: build it (cmake --build build) or set STOCKRELAYD")

    def env(self):
        env = dict(os.environ)
        env["STOCKRELAY_DSN"] = self.dsn
        env.pop("STOCKRELAY_LOG_LEVEL", None)
        return env

    def argv(self, *args):
        return [str(self.exe), "--log-level", self.log_level, *self.extra_args, *map(str, args)]

    def cmd(self, *args, timeout: float = 120.0, env=None) -> subprocess.CompletedProcess:
        """Runs a one-shot command; returns the CompletedProcess (text, not checked)."""
        return subprocess.run(self.argv(*args), capture_output=True, text=True, timeout=timeout,
                              env=env or self.env())

    def drain_once(self, *args, timeout: float = 120.0) -> subprocess.CompletedProcess:
        r = self.cmd("drain", "--once", *args, timeout=timeout)
        assert r.returncode == EXIT_OK, f"drain --once failed ({r.returncode}):\n{r.stdout}\n{r.stderr}"
        return r

    def check(self, *args) -> subprocess.CompletedProcess:
        return self.cmd("check", *args)

    def status(self, *args, as_json: bool = False):
        if as_json:
            r = self.cmd("status", "--json", *args)
            assert r.returncode == EXIT_OK, r.stderr
            return json.loads(r.stdout)
        return self.cmd("status", *args)

    def init_schema(self) -> subprocess.CompletedProcess:
        return self.cmd("init-schema")

    def retry_failed(self, *args) -> subprocess.CompletedProcess:
        return self.cmd("retry", "--failed", *args)

    def start(self, *args, name: str = "run") -> SidecarProcess:
        """``stockrelayd run`` in the background; waits until it logged its start."""
        log_path = self.log_dir / f"stockrelayd-{name}-{len(self.processes)}.log"
        p = SidecarProcess(self.argv(*args, "run"), log_path, self.env())
        self.processes.append(p)
        p.wait_for_log(r"stockrelayd running as worker", timeout=15)
        return p

    def cleanup(self):
        for p in self.processes:
            if p.alive():
                p.kill(signal.SIGKILL)
                p.wait(5)
