"""stockrelay's native core for Python (the Odoo addon imports this).

The same C++ code the sidecar runs: the outbox contract and the shop channel
clients. The sellable-quantity policy is not here: it is the contract's SQL
function stock_relay_sellable, so Odoo captures stock without this module. Errors are raised as subclasses of
``StockRelayError`` carrying ``code`` and ``http_status``.
"""
from ._stockrelay_native import (  # noqa: F401
    SCHEMA_VERSION,
    AuthError,
    Channel,
    ConfigError,
    DuplicateSkuError,
    InvalidQuantityError,
    NotFoundError,
    PermanentError,
    RejectedError,
    SkuNotFoundError,
    StockRelayError,
    ThrottledError,
    TransientError,
    install_python_logging,
    normalize_order,
    schema_sql,
    validate_channel,
)

__all__ = [
    "SCHEMA_VERSION", "AuthError", "Channel", "ConfigError", "DuplicateSkuError", "InvalidQuantityError",
    "NotFoundError", "PermanentError", "RejectedError", "SkuNotFoundError", "StockRelayError", "ThrottledError",
    "TransientError", "install_python_logging", "normalize_order", "schema_sql", "validate_channel",
]

install_python_logging()
