"""Contract v2: failed rows from v1 may carry a SKU or quantity that went stale
while nothing re-published them; publish their keys again from Odoo's current
numbers so that `stockrelayd retry --failed` never re-sends a stale value."""
from odoo import SUPERUSER_ID, api


def migrate(cr, version):
    if not version:
        return
    api.Environment(cr, SUPERUSER_ID, {})["stock.relay.outbox"]._republish_failed_keys()
