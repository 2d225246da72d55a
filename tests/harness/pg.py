"""A private PostgreSQL 15 cluster for one test session.

initdb into a fresh directory (under build/test-pg when possible), trust auth,
TCP on 127.0.0.1 only, fsync off. When the tests run as root the server runs as
the ``postgres`` system user (PostgreSQL refuses to run as root). A watchdog
stops the server if the test process dies without cleaning up.

Every test gets its own database copied from a template that already holds the
outbox contract (native/sql/stock_relay_schema.sql); set
``STOCKRELAY_KEEP_TEST_DB=1`` to keep it after the test for debugging.
"""
from __future__ import annotations

import contextlib
import os
import pathlib
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time

import psycopg2
import psycopg2.extensions

REPO = pathlib.Path(__file__).resolve().parents[2]
SCHEMA_SQL = REPO / "native" / "sql" / "stock_relay_schema.sql"
TEMPLATE_DB = "stockrelay_template"


def pg_bindir() -> pathlib.Path:
    env = os.environ.get("STOCKRELAY_PG_BINDIR")
    if env:
        return pathlib.Path(env)
    candidates = sorted(pathlib.Path("/usr/lib/postgresql").glob("*/bin/initdb"), reverse=True)
    preferred = pathlib.Path("/usr/lib/postgresql/15/bin")
    if (preferred / "initdb").exists():
        return preferred
    if candidates:
        return candidates[0].parent
    raise RuntimeError("PostgreSQL server binaries not found (apt-get install postgresql-15, or set STOCKRELAY_PG_BINDIR)")


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def keep_test_db() -> bool:
    return os.environ.get("STOCKRELAY_KEEP_TEST_DB", "") not in ("", "0", "false", "no")


class PgCluster:
    def __init__(self, base_dir: pathlib.Path | None = None):
        self.bindir = pg_bindir()
        self.base_dir = pathlib.Path(base_dir) if base_dir else self._default_base()
        self.datadir: pathlib.Path | None = None
        self.port: int | None = None
        self.run_as = "postgres" if os.geteuid() == 0 else None
        self._watchdog = None
        self._counter = 0

    @staticmethod
    def _default_base() -> pathlib.Path:
        base = REPO / "build" / "test-pg"
        try:
            base.mkdir(parents=True, exist_ok=True)
            return base
        except OSError:
            return pathlib.Path(tempfile.gettempdir())

    # -- process control -------------------------------------------------
    def _cmd(self, *argv):
        argv = [str(a) for a in argv]
        if self.run_as:
            argv = ["runuser", "-u", self.run_as, "--"] + argv
        return argv

    def _run(self, *argv, **kw):
        return subprocess.run(self._cmd(*argv), check=True, capture_output=True, text=True, timeout=120, **kw)

    def start(self):
        self.datadir = pathlib.Path(tempfile.mkdtemp(prefix="cluster-", dir=self.base_dir))
        if self.run_as:
            pw = pwd.getpwnam(self.run_as)
            os.chown(self.datadir, pw.pw_uid, pw.pw_gid)
            # The server user must be able to reach its data directory.
            for parent in [self.datadir.parent, *self.datadir.parent.parents]:
                mode = parent.stat().st_mode
                if not mode & 0o001:
                    os.chmod(parent, mode | 0o001)
        self._run(self.bindir / "initdb", "-D", self.datadir, "-U", "postgres", "--auth=trust", "-E", "UTF8",
                  "--locale=C", "--no-instructions")
        self.port = free_port()
        opts = (f"-c listen_addresses=127.0.0.1 -c port={self.port} -c unix_socket_directories={self.datadir} "
                "-c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
                "-c shared_buffers=64MB -c log_min_messages=warning -c log_statement=none")
        logfile = self.datadir / "server.log"
        self._run(self.bindir / "pg_ctl", "-D", self.datadir, "-l", logfile, "-o", opts, "-w", "-t", "60", "start")
        self._start_watchdog()
        self._wait_ready()
        self._create_template()
        return self

    def _start_watchdog(self):
        # Servers must stop themselves: if this Python process vanishes, stop the cluster.
        stop = " ".join(self._cmd(self.bindir / "pg_ctl", "-D", self.datadir, "-m", "immediate", "stop"))
        script = f"while kill -0 {os.getpid()} 2>/dev/null; do sleep 1; done; {stop} >/dev/null 2>&1"
        self._watchdog = subprocess.Popen(["sh", "-c", script], start_new_session=True,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def _wait_ready(self, timeout=30):
        deadline = time.monotonic() + timeout
        while True:
            try:
                psycopg2.connect(self.dsn("postgres")).close()
                return
            except psycopg2.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self):
        if self.datadir and (self.datadir / "postmaster.pid").exists():
            subprocess.run(self._cmd(self.bindir / "pg_ctl", "-D", self.datadir, "-m", "fast", "-w", "stop"),
                           capture_output=True)
        if self._watchdog:
            self._watchdog.kill()
            self._watchdog.wait()
            self._watchdog = None
        if self.datadir and not keep_test_db():
            shutil.rmtree(self.datadir, ignore_errors=True)

    def restart(self):
        """Stop and start the server (same data, same port): the sidecar must reconnect."""
        # -l: the new server must not inherit our pipes (run() would wait for them forever).
        self._run(self.bindir / "pg_ctl", "-D", self.datadir, "-l", self.datadir / "server.log", "-m", "fast", "-w",
                  "-t", "60", "restart", stdin=subprocess.DEVNULL)
        self._wait_ready()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # -- databases -------------------------------------------------------
    def dsn(self, dbname: str) -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname}"

    def connect(self, dbname: str = "postgres", autocommit: bool = True):
        conn = psycopg2.connect(self.dsn(dbname))
        conn.autocommit = autocommit
        return conn

    def _create_template(self):
        with contextlib.closing(self.connect()) as c, c.cursor() as cur:
            cur.execute(f"CREATE DATABASE {TEMPLATE_DB}")
        with contextlib.closing(self.connect(TEMPLATE_DB, autocommit=False)) as c:
            with c.cursor() as cur:
                cur.execute(SCHEMA_SQL.read_text())
            c.commit()

    def create_database(self, hint: str = "t", template: str | None = TEMPLATE_DB) -> str:
        self._counter += 1
        name = re.sub(r"[^a-z0-9_]", "_", hint.lower())[:40] + f"_{os.getpid()}_{self._counter}"
        with contextlib.closing(self.connect()) as c, c.cursor() as cur:
            if template:
                cur.execute(f"CREATE DATABASE {name} TEMPLATE {template}")
            else:
                cur.execute(f"CREATE DATABASE {name}")
        return name

    def drop_database(self, name: str):
        with contextlib.closing(self.connect()) as c, c.cursor() as cur:
            cur.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


class TestDatabase:
    """One test's database: ``dsn``, ``connect()`` and a shared autocommit ``conn``."""

    __test__ = False  # not a pytest test class

    def __init__(self, cluster: PgCluster, name: str):
        self.cluster = cluster
        self.name = name
        self.dsn = cluster.dsn(name)
        self._conns = []
        self.conn = self.connect()

    def connect(self, autocommit: bool = True):
        conn = self.cluster.connect(self.name, autocommit=autocommit)
        self._conns.append(conn)
        return conn

    def reconnect(self):
        """A fresh shared connection (after the server restarted)."""
        with contextlib.suppress(Exception):
            self.conn.close()
        self.conn = self.connect()
        return self.conn

    def query(self, sql, params=None):
        with self.conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall() if cur.description else None

    def scalar(self, sql, params=None):
        rows = self.query(sql, params)
        return rows[0][0] if rows else None

    def close(self):
        for c in self._conns:
            with contextlib.suppress(Exception):
                c.close()
        self._conns = []
