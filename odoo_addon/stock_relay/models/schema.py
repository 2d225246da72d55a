"""The outbox contract (native/sql/stock_relay_schema.sql) as applied by the addon.

The SQL owns the channel and outbox tables; the ORM models over them are
``_auto = False``. The DDL comes from the native module, so the addon and the
sidecar can never disagree about which version they speak. It is applied on
install and upgrade only: without a usable native module those stop with the
native module's problem and its fix (Odoo's external_dependencies check names
a missing module first), while an installed addon keeps loading and capturing
(the commit path needs only the SQL already in the database).
"""
from .. import native


def apply_contract(cr):
    """Apply the contract DDL (idempotent; runs at install and upgrade only)."""
    cr.execute(native.module().schema_sql())
