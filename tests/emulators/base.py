"""Shared plumbing for the shop emulators used by the integration tests.

Each emulator is a separate server process (so the real stockrelayd talks to it
over real HTTP/TLS). On start it prints one line ``LISTENING <port>`` on stdout;
``EmulatorProcess`` waits for that line, exposes ``base_url`` and the JSON
control API under ``/_control/`` (which needs no shop credentials).
"""
from __future__ import annotations

import json
import os
import pathlib
import signal
import ssl
import subprocess
import time
import urllib.request

REPO = pathlib.Path(__file__).resolve().parents[2]


def shared_dir() -> pathlib.Path:
    """The shared/ folder beside the repository (specs live there)."""
    env = os.environ.get("STOCKRELAY_SHARED")
    return pathlib.Path(env) if env else REPO.parent / "shared"


class EmulatorProcess:
    """Runs ``argv`` (which must print ``LISTENING <port>``) and talks to its control API."""

    def __init__(self, argv, *, scheme="http", ca_file=None, env=None, startup_timeout=30.0, log_path=None):
        self.argv = list(argv)
        self.scheme = scheme
        self.ca_file = ca_file
        self.env = env
        self.startup_timeout = startup_timeout
        self.log_path = log_path
        self.proc = None
        self.port = None
        self._log = None

    # -- lifecycle -------------------------------------------------------
    def start(self):
        self._log = open(self.log_path, "ab") if self.log_path else None  # noqa: SIM115 (closed in stop)
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE,
                                     stderr=self._log if self._log else subprocess.DEVNULL,
                                     env=self.env, start_new_session=True)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"emulator {self.argv} exited with {self.proc.returncode} before listening")
                continue
            text = line.decode(errors="replace").strip()
            if text.startswith("LISTENING "):
                self.port = int(text.split()[1])
                return self
        self.stop()
        raise RuntimeError(f"emulator {self.argv} did not print LISTENING within {self.startup_timeout}s")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
                self.proc.wait(timeout=5)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                try:
                    os.killpg(self.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                self.proc.wait(timeout=5)
        if self.proc and self.proc.stdout:
            self.proc.stdout.close()
        if self._log:
            self._log.close()
            self._log = None
        self.proc = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- addresses -------------------------------------------------------
    @property
    def base_url(self) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}"

    # -- control API -----------------------------------------------------
    def control(self, method: str, path: str, payload=None, timeout=30.0):
        """Call ``/_control/<path>``; returns the decoded JSON answer."""
        data = None if payload is None else json.dumps(payload).encode()
        req = urllib.request.Request(f"{self.base_url}/_control/{path}", data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        ctx = None
        if self.scheme == "https":
            ctx = ssl.create_default_context(cafile=self.ca_file)
        with urllib.request.urlopen(req, timeout=timeout, context=ctx) as resp:
            body = resp.read()
        return json.loads(body) if body else None
