"""A new channel's form starts from the values the channel will really get.

Settings that live in Odoo-only side tables (reconcile schedule, order
settings of stock_relay_sale, ...) appear on the channel as computed fields
with an inverse. Odoo's onchange for a new record computes only the fields
whose dependencies received a default, so the form showed them empty and
saving it wrote the empty values: "Give the reconcile interval a number and
a unit", or a NOT NULL violation. On the form's first onchange each such field
without a default gets what its compute gives for a blank channel.
"""
from odoo import api, models


class StockRelayChannel(models.Model):
    _inherit = "stock.relay.channel"

    def onchange(self, values, field_names, fields_spec):
        if not field_names:  # the first call: a new form
            self = self.with_context(stock_relay_form_defaults=True)
        return super().onchange(values, field_names, fields_spec)

    @api.model
    def default_get(self, fields_list):
        defaults = super().default_get(fields_list)
        if not self.env.context.get("stock_relay_form_defaults"):
            return defaults
        side = [fname for fname in fields_list if fname not in defaults and fname in self._fields
                and _is_side_setting(self._fields[fname])]
        if side:
            blank = self.new({})
            for fname in side:
                value = blank[fname]
                if value:  # a real default; write-only inputs (secrets) stay empty
                    defaults[fname] = self._fields[fname].convert_to_write(value, blank)
        return defaults


def _is_side_setting(field):
    return bool(field.compute and field.inverse and not field.store and not field.readonly)
