"""The transaction's capture state (no models here, so any model file may import it).

Quant changes (stock_quant.py) and the other inputs of the sellable quantity
(stock_relay_republish.py and the files it names) collect what changed in
``cr.precommit.data``; one precommit hook per transaction writes the outbox rows.
"""
TOUCHED = "stock_relay.touched"      # {product_id: {location_id}} changed in this transaction
TRIGGER = "stock_relay.trigger"      # 'picking' when a picking was validated in this transaction
# Other inputs of the sellable quantity (channel, mapping, product, location,
# BoM changes): {(trigger, channel ids or None, location keys or None): {product_id}}
REPUBLISH = "stock_relay.republish"
HOOKED = "stock_relay.hooked"        # the precommit hook is registered for this transaction

INLINE_LIMIT_PARAM = "stock_relay.republish_inline_limit"
DEFAULT_INLINE_LIMIT = 1000


def capture_data(env):
    """The transaction's capture state; registers the one precommit hook on first use."""
    precommit = env.cr.precommit
    if not precommit.data.get(HOOKED):
        precommit.data[HOOKED] = True
        precommit.add(env["stock.relay.outbox"].sudo()._stock_relay_precommit)
    return precommit.data


def queue_republish(env, trigger, product_ids, channels=None, location_keys=None):
    """Queue ``product_ids`` for re-publishing at precommit with ``trigger``.

    ``channels`` (default: every enabled channel) and ``location_keys`` (default:
    every mapping line) narrow the keys written. At precommit, more products than
    the inline limit (a mass archive, a location holding a whole catalogue) are
    handed to the chunked re-publish job instead of the user's transaction.
    """
    product_ids = {pid for pid in product_ids if pid}
    if not product_ids:
        return
    key = (trigger, tuple(sorted(channels.ids)) if channels is not None else None,
           frozenset(location_keys) if location_keys is not None else None)
    capture_data(env).setdefault(REPUBLISH, {}).setdefault(key, set()).update(product_ids)


def inline_limit(env):
    """Products a change may re-publish in the user's own transaction; more go through a chunked job."""
    value = env["ir.config_parameter"].sudo().get_param(INLINE_LIMIT_PARAM, DEFAULT_INLINE_LIMIT)
    try:
        return max(1, int(value))
    except (TypeError, ValueError):
        return DEFAULT_INLINE_LIMIT
