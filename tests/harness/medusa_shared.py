"""One real Medusa server for the whole test session.

Starting Medusa costs ~10-15 s (more on a loaded machine), and every module that
started its own paid it again. The modules whose tests only look at what they
made (their own SKUs, stock locations, products; orders found by id) share this
one: tests/emulators/test_medusa_server.py, the Medusa relay, sales-aware and
catalogue tests, and the fault tests behind chaos.shops.shared_medusa. A module
that reads the whole shop (test_reconcile_medusa.py) starts its own.

The example subscriber (src/subscribers/stockrelay-order-placed.ts) posts each
placed order to ``http://127.0.0.1:<subscriber_port>/webhooks/1`` signed with
SUBSCRIBER_SECRET; only a test that listens there receives it (channel ids start
at 1 per test database). The variables are given to the server alone, never left
in this process's environment (the daemons the tests start inherit it).
"""
from __future__ import annotations

import atexit
import os
import threading

from emulators.medusa import MedusaServer, free_port, medusa_available

SUBSCRIBER_SECRET = "medusa-subscriber-test-secret"

_server = None
_lock = threading.Lock()


def _start():
    srv = MedusaServer().ensure_ready()
    srv.subscriber_port = free_port()
    env = {"STOCKRELAY_WEBHOOK_URL": f"http://127.0.0.1:{srv.subscriber_port}/webhooks/1",
           "STOCKRELAY_WEBHOOK_SECRET": SUBSCRIBER_SECRET}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        srv.start(f"medusa_shared_{os.getpid()}")
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v

    def stop():
        try:
            srv.stop()
        finally:
            srv.pg_stop()
    atexit.register(stop)
    srv.secret_key = srv.create_secret_key("stockrelay-tests")
    return srv


def shared_medusa():
    """(server, "") with a secret key in ``server.secret_key``, or (None, why) when Medusa cannot run here."""
    global _server
    with _lock:
        if _server is None:
            ok, why = medusa_available()
            if not ok:
                return None, why
            _server = _start()
        return _server, ""
