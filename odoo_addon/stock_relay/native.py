"""The native module (``stockrelay_native``), loaded so that it can never take Odoo down.

A Python upgrade, a missing shared library, a half-copied build or a module
built for another contract version must not stop Odoo's registry from loading
nor stock operations from being captured: the commit path (capture, full sync,
republish, reconcile's expected numbers) needs only the contract's SQL
([sellable-policy] block). What does need the native core (talking to a shop:
test connection, shop locations, reconcile, webhooks; applying the contract on
install/upgrade) raises a UserError naming the failed import, its reason and
the command that fixes it; the channel form and the Shop Sync dashboard show
the same text (``problem()``).
"""
import importlib
import logging
import pathlib
import sys

_logger = logging.getLogger(__name__)

MODULE = "stockrelay_native"
# The contract version this addon's models speak (native/sql/stock_relay_schema.sql);
# a native module built for another one would apply or expect another schema.
CONTRACT_VERSION = 6

_loaded = None  # (module or None, problem text or None), set once per process


def _fix_command():
    py = sys.version_info
    source = pathlib.Path(__file__).resolve().parents[2]  # the repository, when the addon runs from it
    source = source if (source / "CMakeLists.txt").is_file() else "<stockrelay source>"
    return (
        f"cmake -S {source} -B {source}/build -DSTOCKRELAY_PYTHON_INSTALL_DIR=lib/python{py.major}.{py.minor}"
        f"/dist-packages && cmake --build {source}/build -j2 && cmake --install {source}/build --prefix /usr/local, "
        f"then check with `{sys.executable} -c 'import {MODULE}'` and restart Odoo"
    )


def _load():
    try:
        module = importlib.import_module(MODULE)
    except Exception as exc:  # ImportError, OSError (a missing library), anything a broken build raises
        reason = f"{type(exc).__name__}: {exc}"
        return None, (f"`import {MODULE}` failed for Python {sys.version.split()[0]} ({sys.executable}): "
                      f"{reason}. Stock changes are still captured into the sync log, but nothing can talk to a "
                      f"shop from Odoo (test connection, shop locations, reconcile) and the module cannot be "
                      f"installed or upgraded. Fix: build and install it for this Python: {_fix_command()}.")
    version = getattr(module, "SCHEMA_VERSION", None)
    if version != CONTRACT_VERSION:
        where = getattr(module, "__file__", "?")
        return None, (f"{MODULE} at {where} speaks contract version {version}, this addon version "
                      f"{CONTRACT_VERSION}: it was built from another stockrelay release. Stock changes are still "
                      f"captured, but shop calls and module upgrades are refused. Fix: rebuild it from the same "
                      f"source as this addon: {_fix_command()}.")
    return module, None


def _state():
    global _loaded
    if _loaded is None:
        _loaded = _load()
        if _loaded[1]:
            _logger.error("stock_relay: %s", _loaded[1])
    return _loaded


def problem():
    """What is wrong with the native module, with its fix; None when it works."""
    return _state()[1]


def module():
    """The loaded ``stockrelay_native``; raises UserError (the problem and its fix) when it is unusable."""
    loaded, text = _state()
    if loaded is None:
        from odoo.exceptions import UserError
        raise UserError(text)
    return loaded


class _Unavailable(Exception):
    """Stands in for stockrelay_native's exception classes when the module is missing (never raised)."""


def error_class(name="StockRelayError"):
    """An exception class of the native module, usable in ``except`` even when the module is missing."""
    loaded = _state()[0]
    return getattr(loaded, name) if loaded is not None else _Unavailable
