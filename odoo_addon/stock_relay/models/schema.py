"""The outbox contract (native/sql/stock_relay_schema.sql) as applied by the addon.

The SQL owns the channel and outbox tables; the ORM models over them are
``_auto = False``. The DDL comes from the native module, so the addon and the
sidecar can never disagree about which version they speak.
"""
import stockrelay_native


def apply_contract(cr):
    """Apply the contract DDL (idempotent; runs at install and upgrade only)."""
    cr.execute(stockrelay_native.schema_sql())
