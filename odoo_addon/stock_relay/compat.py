"""The small layer that lets one source tree of the stockrelay addons run on Odoo 18.0 and 19.0.

Everything that differs between the two series is decided here, from `odoo.release`, so model,
view and test code names one spelling and never tests the version itself:

* SQL constraints: Odoo 18 reads the `_sql_constraints` list; Odoo 19 ignores it (a warning, and
  the constraint is not created) and reads `models.Constraint` attributes. `sql_constraints`
  (a class decorator) turns the list into those attributes on 19 and leaves it alone on 18.
* Groups: Odoo 19 dropped `res.groups.category_id` and `users` (a group now points to a
  `res.groups.privilege`, which carries the category, and lists `user_ids`), and the Inventory
  category; `ir.actions.server.groups_id` became `group_ids`. The security XML declares what both
  series share and calls `res.groups._stock_relay_setup_group` / `_stock_relay_restrict_action`.
* `stock.move` has no `name` on 19: `move_vals`; `sale.order.line.tax_id` is `tax_ids` on 19:
  `SALE_LINE_TAXES`.
"""
from odoo import api, models, release

SERIES = release.version_info[0]
IS_19 = SERIES >= 19

# ir.actions.server / ir.ui.menu field that restricts to groups.
GROUPS_FIELD = "group_ids" if IS_19 else "groups_id"
# sale.order.line's taxes.
SALE_LINE_TAXES = "tax_ids" if IS_19 else "tax_id"
# The parent category of the addon's own category (Odoo 19 has no "Inventory" category).
INVENTORY_CATEGORY = "base.module_category_supply_chain" if IS_19 else "base.module_category_inventory"


def sql_constraints(cls):
    """Class decorator: keep `_sql_constraints` as Odoo 18 reads it; on 19, declare each
    `(name, definition, message)` as the `models.Constraint` attribute `_<name>`, which gives the
    same database name (`<table>_<name>`) and the same user message."""
    if not IS_19 or "_sql_constraints" not in vars(cls):
        return cls
    for name, definition, message in cls._sql_constraints:
        constraint = models.Constraint(definition, message)
        setattr(cls, "_" + name, constraint)
        constraint.__set_name__(cls, "_" + name)   # registers it on the model definition
    delattr(cls, "_sql_constraints")
    return cls


def move_vals(vals):
    """`stock.move` values for tests and code that name a move: Odoo 19 has no `name` field."""
    if IS_19:
        vals = {k: v for k, v in vals.items() if k != "name"}
    return vals


class ResGroups(models.Model):
    """The series-specific half of the security data: the XML declares each group, category and
    server action once, in fields both series share, and calls these for the rest."""

    _inherit = "res.groups"

    @api.model
    def _stock_relay_setup_group(self, group_xmlid, category_xmlid, user_xmlids):
        """Put the group under the addon's category (itself under Inventory / Supply Chain) and give
        it to the named users. On 19 the category is reached through a privilege, found by its
        category or created (no xmlid: Odoo would delete an xmlid no data file declares)."""
        group, category = self.env.ref(group_xmlid), self.env.ref(category_xmlid)
        category.parent_id = self.env.ref(INVENTORY_CATEGORY)
        users = [(4, self.env.ref(x).id) for x in user_xmlids]
        if not IS_19:
            group.write({"category_id": category.id, "users": users})
            return True
        Privilege = self.env["res.groups.privilege"]
        privilege = Privilege.search([("category_id", "=", category.id)], limit=1) \
            or Privilege.create({"name": category.name, "category_id": category.id})
        group.write({"privilege_id": privilege.id, "user_ids": users})
        return True

    @api.model
    def _stock_relay_restrict_action(self, action_xmlid, group_xmlid):
        """Offer a server action to one group only (`groups_id` on 18, `group_ids` on 19)."""
        self.env.ref(action_xmlid).write({GROUPS_FIELD: [(4, self.env.ref(group_xmlid).id)]})
        return True
