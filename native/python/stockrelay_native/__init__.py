"""stockrelay's native core for Python (the Odoo addon imports this).

The same C++ code the sidecar runs: the quantity policy, the outbox contract
and the shop channel clients. Errors are raised as subclasses of
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
    sellable,
    validate_channel,
)

__all__ = [
    "SCHEMA_VERSION", "AuthError", "Channel", "ConfigError", "DuplicateSkuError", "InvalidQuantityError",
    "NotFoundError", "PermanentError", "RejectedError", "SkuNotFoundError", "StockRelayError", "ThrottledError",
    "TransientError", "install_python_logging", "normalize_order", "schema_sql", "sellable", "validate_channel",
]

install_python_logging()
