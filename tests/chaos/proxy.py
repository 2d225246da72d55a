"""Test-side handle on tests/chaos/fault_proxy.py (a fault-injecting reverse proxy)."""
from __future__ import annotations

import pathlib

from emulators.base import EmulatorProcess

SCRIPT = pathlib.Path(__file__).resolve().parent / "fault_proxy.py"
PYTHON = "/usr/bin/python3"


class FaultProxy(EmulatorProcess):
    """``FaultProxy(upstream="http://127.0.0.1:9000")`` or ``FaultProxy(sink=True)``.

    ``tls`` (the dict from ``make_test_ca``) makes it serve HTTPS; ``upstream_ca``
    is the CA it trusts when the upstream is HTTPS."""

    def __init__(self, *, upstream: str | None = None, sink: bool = False, tls: dict | None = None,
                 upstream_ca: str | None = None, log_path=None):
        argv = [PYTHON, str(SCRIPT), "--port", "0"]
        argv += ["--sink"] if sink else ["--upstream", upstream]
        if tls:
            argv += ["--tls-cert", tls["cert"], "--tls-key", tls["key"]]
        if upstream_ca:
            argv += ["--upstream-ca", upstream_ca]
        super().__init__(argv, scheme="https" if tls else "http", ca_file=tls["ca"] if tls else None,
                         log_path=log_path)

    def faults(self, rules, seed=0):
        return self.control("POST", "faults", {"rules": list(rules), "seed": seed})

    def clear_faults(self):
        return self.control("DELETE", "faults")

    def reset(self):
        return self.control("POST", "reset", {})

    def requests(self, since=0):
        return self.control("GET", f"requests?since={since}")["requests"]

    def writes(self, since=0):
        return self.control("GET", f"writes?since={since}")["writes"]

    def received(self):
        """Sink mode: every request that arrived, with headers and body."""
        return self.control("GET", "sink")["sink"]
