"""How the end-to-end tests start Odoo and talk to it, per Odoo series: each series' recommended
external API.

* Odoo 18: JSON-RPC (`/jsonrpc`, `execute_kw` with the user's password).
* Odoo 19: the JSON-2 API (`POST /json/2/<model>/<method>`, named arguments, `Authorization: bearer
  <API key>`). `/jsonrpc` and `/xmlrpc` are deprecated in 19 (a warning on every call) and removed
  in Odoo 20. The API key is made once per database with Odoo's own `res.users.apikeys._generate`
  (an `odoo shell`, as an administrator would through Preferences > Account Security).

Both clients offer `x(model, method, *args, **kw)` with the positional arguments of JSON-RPC's
`execute_kw`; the JSON-2 client names them (see `_PARAMS`).
"""
from __future__ import annotations

import os
import pathlib
import subprocess

import requests

ENV = os.environ
SERIES = int(ENV.get("STOCKRELAY_ODOO_SERIES", "18"))
REPO = pathlib.Path(__file__).resolve().parents[2]


class RpcError(Exception):
    def __init__(self, name, message):
        super().__init__(f"{name}: {message}")
        self.name = name
        self.message = message


def move_vals(vals):
    """`stock.move` values: Odoo 19 has no `name` field (odoo_addon/stock_relay/compat.py says the same)."""
    return {k: v for k, v in vals.items() if k != "name"} if SERIES >= 19 else vals


def odoo_command(src: pathlib.Path) -> tuple[list[str], dict, pathlib.Path]:
    """(argv prefix, extra environment, core addons directory) that run Odoo from the tree `src`."""
    if SERIES >= 19:  # no odoo-bin: the `odoo` package is run as a module
        env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(src), ENV.get("PYTHONPATH", "")]))}
        return ["/usr/bin/python3", "-m", "odoo"], env, src / "odoo" / "addons"
    return ["/usr/bin/python3", str(src / "odoo-bin")], {}, src / "addons"


def common_args(src: pathlib.Path, db: str) -> list[str]:
    """The options shared by every Odoo process of the tier: addons path, database, filestore."""
    _argv, _env, addons = odoo_command(src)
    args = [f"--addons-path={addons},{REPO / 'odoo_addon'}", "--db_host=127.0.0.1",
            f"--db_port={ENV['STOCKRELAY_ODOO_PG_PORT']}", "--db_user=odoo", "-d", db]
    if ENV.get("STOCKRELAY_ODOO_DATA_DIR"):
        args.append(f"--data-dir={ENV['STOCKRELAY_ODOO_DATA_DIR']}")
    return args


class JsonRpcClient:
    """Odoo 18: JSON-RPC with the user's password."""

    def __init__(self, url, db, login, password):
        self.url, self.db, self.login_, self.password = url, db, login, password
        self.session = requests.Session()
        self.uid = None
        self._ids = 0

    def call(self, service, method, *args):
        self._ids += 1
        payload = {"jsonrpc": "2.0", "method": "call", "id": self._ids,
                   "params": {"service": service, "method": method, "args": list(args)}}
        answer = self.session.post(f"{self.url}/jsonrpc", json=payload, timeout=120).json()
        if "error" in answer:
            data = answer["error"].get("data") or {}
            raise RpcError(data.get("name", ""), data.get("message") or answer["error"].get("message"))
        return answer.get("result")  # Odoo omits `result` when a method returns None

    def login(self):
        self.uid = self.call("common", "login", self.db, self.login_, self.password)
        return self.uid

    def x(self, model, method, *args, **kw):
        return self.call("object", "execute_kw", self.db, self.uid, self.password, model, method, list(args), kw)


# JSON-2 takes named arguments only: the names of the positional arguments the tests pass. A method
# not listed is a record method whose one positional argument is the ids (the `action_*` buttons).
_PARAMS = {
    "create": ["vals_list"], "read": ["ids", "fields"], "write": ["ids", "vals"], "unlink": ["ids"],
    "search": ["domain"], "search_read": ["domain", "fields"], "search_count": ["domain"],
    "check_object_reference": ["module", "xml_id"],
}


class Json2Client:
    """Odoo 19: the JSON-2 API with an API key."""

    def __init__(self, url, db, api_key):
        self.url, self.db = url, db
        self.session = requests.Session()
        self.session.headers.update({"Authorization": f"bearer {api_key}", "X-Odoo-Database": db})
        self.uid = None

    def login(self):
        self.uid = self.x("res.users", "search", [("login", "=", "admin")])[0]
        return self.uid

    def x(self, model, method, *args, **kw):
        names = _PARAMS.get(method, ["ids"])
        if len(args) > len(names):
            raise TypeError(f"{model}.{method}: name the arguments after {names} for the JSON-2 API")
        body = dict(zip(names, args), **kw)
        if "ids" in body and isinstance(body["ids"], int):
            body["ids"] = [body["ids"]]
        r = self.session.post(f"{self.url}/json/2/{model}/{method}", json=body, timeout=120)
        if r.status_code != 200:
            try:
                err = r.json()
            except ValueError:
                err = {"name": f"HTTP {r.status_code}", "message": r.text[:500]}
            raise RpcError(err.get("name", ""), err.get("message", ""))
        result = r.json()
        if method == "create" and isinstance(args[0] if args else kw.get("vals_list"), dict):
            return result[0]  # one record created from one dict: its id, as execute_kw returns it
        return result


_KEYS: dict[str, str] = {}


def make_api_key(src: pathlib.Path, db: str, work: pathlib.Path) -> str:
    """An API key of `admin` on `db` (made once per database and test session)."""
    if db in _KEYS:
        return _KEYS[db]
    argv, env, _addons = odoo_command(src)
    code = ("admin = env.ref('base.user_admin')\n"
            "k = env['res.users.apikeys'].with_user(admin).sudo()._generate(None, 'stockrelay e2e', None)\n"
            "env.cr.commit()\n"
            "print('APIKEY=' + k)\n")
    r = subprocess.run([*argv, "shell", *common_args(src, db), "--no-http", "--log-level=warn"], input=code,
                       env={**ENV, **env}, capture_output=True, text=True, timeout=300)
    keys = [line[len("APIKEY="):] for line in r.stdout.splitlines() if line.startswith("APIKEY=")]
    if not keys:
        raise RuntimeError(f"could not make an API key (odoo shell exited {r.returncode}):\n{r.stderr[-3000:]}")
    _KEYS[db] = keys[0]
    return keys[0]


def client(url, db, login, password, src: pathlib.Path, work: pathlib.Path):
    """The series' recommended client, logged in."""
    c = (Json2Client(url, db, make_api_key(src, db, work)) if SERIES >= 19
         else JsonRpcClient(url, db, login, password))
    c.login()
    return c
