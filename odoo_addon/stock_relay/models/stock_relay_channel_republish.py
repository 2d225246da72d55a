"""A channel's own inputs of the sellable quantity: buffer, cap, enabled, company,
archived-product policy and mapping lines. Changing one re-publishes the
channel's products (see stock_relay_republish.py for how and when)."""
from odoo import _, api, fields, models

from .capture import inline_limit, queue_republish

# Channel fields whose change moves the numbers every product publishes.
CHANNEL_INPUTS = ("safety_buffer", "quantity_cap", "enabled", "archived_products", "company_id")
# Mapping-line fields that move the numbers of the line's shop location.
LINE_INPUTS = {"location_ids", "location_key", "channel_id"}


class StockRelayChannelRepublish(models.Model):
    _inherit = "stock.relay.channel"

    archived_products = fields.Selection(
        [("zero", "Publish 0"), ("leave", "Leave the shop alone")], string="Archived Products",
        required=True, default="zero",
        help="Publish 0: archiving a product sets its shop items to 0, so the shop stops selling it.\n"
             "Leave the shop alone: an archived product's shop items keep their last number.")
    republish_job_ids = fields.One2many("stock.relay.republish.job", "channel_id", string="Re-publish Jobs")
    republish_progress = fields.Float(string="Re-publishing", compute="_compute_republish_progress",
                                      help="Share of the channel's products queued by the running re-publish.")
    republish_status = fields.Char(string="Re-publish Status", compute="_compute_republish_progress")

    @api.depends("republish_job_ids.done_count", "republish_job_ids.total")
    def _compute_republish_progress(self):
        for channel in self:
            jobs = channel.sudo().republish_job_ids
            total = sum(jobs.mapped("total"))
            done = min(total, sum(jobs.mapped("done_count")))
            channel.republish_progress = 100.0 * done / total if total else 0.0
            channel.republish_status = _("%(done)s of %(total)s products queued", done=done, total=total) \
                if jobs else False

    def write(self, vals):
        watched = [f for f in CHANNEL_INPUTS if f in vals]
        before = {c.id: [c[f] for f in watched] for c in self} if watched else {}
        result = super().write(vals)
        if watched:
            changed = self.filtered(lambda c: [c[f] for f in watched] != before[c.id])
            changed._stock_relay_republish("channel")
        return result

    # ------------------------------------------------------------ scope
    def _relay_product_domain(self):
        """The products this channel publishes (archived ones included: they publish 0)."""
        self.ensure_one()
        domain = [("default_code", "!=", False)] + self._relay_kind_domain()
        if self.company_id:
            domain += [("company_id", "in", [False, self.company_id.id])]
        if self.archived_products == "leave":
            domain += [("active", "=", True)]
        return domain

    def _relay_kind_domain(self):
        """Storable products; stock_relay_mrp adds kits."""
        return [("is_storable", "=", True)]

    def _sells(self, product):
        """Whether this channel publishes ``product`` at all (company and archive policy)."""
        self.ensure_one()
        if self.company_id and product.company_id and product.company_id != self.company_id:
            return False
        return product.active or self.archived_products != "leave"

    def _relay_product_ids(self):
        Product = self.env["product.product"].sudo().with_context(active_test=False)
        return Product.search(self._relay_product_domain(), order="id").ids

    # ------------------------------------------------------------ re-publish
    def _stock_relay_republish(self, trigger, location_keys=None):
        """Re-publish every product of these channels (on ``location_keys`` only, if given).

        Up to the inline limit, in this transaction; beyond it, through a chunked job.
        Returns the number of products queued inline.
        """
        limit = inline_limit(self.env)
        Product = self.env["product.product"].sudo().with_context(active_test=False)
        Job = self.env["stock.relay.republish.job"].sudo()
        inline = 0
        for channel in self.sudo().filtered("enabled"):
            total = Product.search_count(channel._relay_product_domain())
            if total > limit:
                Job._start(channel, trigger, total, location_keys=location_keys)
            elif total:
                queue_republish(self.env, trigger, channel._relay_product_ids(), channels=channel,
                                location_keys=location_keys)
                inline += total
        return inline


class StockRelayChannelLocationRepublish(models.Model):
    _inherit = "stock.relay.channel.location"

    @api.model_create_multi
    def create(self, vals_list):
        lines = super().create(vals_list)
        lines._stock_relay_republish()
        return lines

    def write(self, vals):
        result = super().write(vals)
        if LINE_INPUTS & vals.keys():
            self._stock_relay_republish()
        return result

    def _stock_relay_republish(self):
        for channel in self.channel_id:
            keys = {line.location_key or "" for line in self if line.channel_id == channel}
            channel._stock_relay_republish("mapping", location_keys=keys)
