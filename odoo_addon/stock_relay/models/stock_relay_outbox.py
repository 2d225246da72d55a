import logging
from collections import defaultdict
from datetime import timedelta


from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .schema import apply_contract

_logger = logging.getLogger(__name__)

STATES = [("pending", "Pending"), ("in_flight", "In Flight"), ("done", "Done"), ("failed", "Failed"),
          ("superseded", "Superseded")]
TRIGGERS = [("quant", "Quant Change"), ("picking", "Picking Done"), ("full_sync", "Full Sync"),
            ("manual_retry", "Manual Retry"), ("manual", "Manual"),
            # contract v2: the other inputs of the sellable quantity
            ("channel", "Channel Settings"), ("mapping", "Location Mapping"), ("product", "Product Change"),
            ("archive", "Product Archived"), ("location", "Location Change"), ("bom", "Kit Bill of Materials"),
            # contract v3: a reconcile run healed drift
            ("reconcile", "Reconcile (heal drift)"),
            # contract v5 [catalogue]: a product edit, publishing the whole selection
            ("catalog", "Catalogue Change"), ("catalog_sync", "Catalogue Sync")]
KINDS = [("stock", "Stock"), ("product", "Product"), ("price", "Price")]

RETENTION_PARAM = "stock_relay.retention_days"
DEFAULT_RETENTION_DAYS = 30


class StockRelayOutbox(models.Model):
    """The sync log: one row per change to publish, drained by stockrelayd."""

    _name = "stock.relay.outbox"
    _description = "Stock Relay Sync Log"
    _table = "stock_relay_outbox"
    _auto = False  # native/sql/stock_relay_schema.sql owns the table
    _log_access = False
    _order = "id desc"
    _rec_name = "sku"

    # --- columns of stock_relay_outbox (keep in step with the contract) ---
    channel_id = fields.Many2one("stock.relay.channel", required=True, readonly=True, ondelete="cascade")
    kind = fields.Selection(KINDS, required=True, readonly=True, default="stock")
    product_id = fields.Many2one("product.product", required=True, readonly=True)
    sku = fields.Char(string="SKU", required=True, readonly=True)
    location_key = fields.Char(string="Shop Location", readonly=True)
    quantity = fields.Float(readonly=True, digits=(16, 0))
    version = fields.Integer(readonly=True)
    trigger = fields.Selection(TRIGGERS, readonly=True)
    # contract v5 [catalogue]: a product/price row's document (see the contract for its shape)
    payload = fields.Json(string="Document", readonly=True)
    state = fields.Selection(STATES, readonly=True)
    attempts = fields.Integer(readonly=True)
    priority = fields.Integer(readonly=True, help="Claim order: live changes (1) before bulk rows such as a full sync (0).")
    next_attempt_at = fields.Datetime(string="Next Attempt", readonly=True)
    lease_until = fields.Datetime(string="Lease Until", readonly=True)
    leased_by = fields.Char(string="Leased By", readonly=True)
    last_http_status = fields.Integer(string="HTTP Status", readonly=True)
    error_code = fields.Char(string="Error Code", readonly=True)
    last_error = fields.Text(string="Last Error", readonly=True)
    request_excerpt = fields.Text(string="Request", readonly=True)
    response_excerpt = fields.Text(string="Response", readonly=True)
    enqueued_at = fields.Datetime(string="Enqueued", readonly=True)
    valued_at = fields.Datetime(string="Valued", readonly=True,
                                help="When the quantity was computed (contract v4 [sales-aware]).")
    updated_at = fields.Datetime(string="Updated", readonly=True)
    done_at = fields.Datetime(string="Done", readonly=True)

    # --- not stored ---
    location_name = fields.Char(string="Shop Location Name", compute="_compute_location_name")

    def init(self):
        apply_contract(self.env.cr)

    def _compute_location_name(self):
        lines = self.env["stock.relay.channel.location"].sudo().search(
            [("channel_id", "in", self.channel_id.ids)])
        names = {(line.channel_id.id, line.location_key or ""): line.location_name for line in lines}
        for row in self:
            row.location_name = names.get((row.channel_id.id, row.location_key or ""), row.location_key)

    # ------------------------------------------------------------ enqueue
    @api.model
    def _enqueue_products(self, product_ids, trigger="quant", channels=None, touched=None, location_keys=None,
                          defer=False):
        """Compute the sellable quantity of ``product_ids`` and upsert outbox rows.

        ``touched`` ({product_id: {location_id}}) limits the rows to mapping
        lines whose locations contain a changed quant; ``location_keys`` limits
        them to given (channel_id, location_key) pairs. ``defer`` (the capture
        path, contract v6 [commit-clock]): a commit-clock conflict defers the
        keys to a recheck after the commit instead of failing the transaction.
        Returns the row count (0 when deferred).
        """
        rows = self._sellable_rows(product_ids, channels=channels, touched=touched, location_keys=location_keys)
        if not rows:
            return 0
        arrays = tuple([] for _i in range(5))
        for row in rows:
            for array, value in zip(arrays, (row["channel"].id, row["product"].id, row["sku"],
                                             row["location_key"], row["quantity"])):
                array.append(value)
        function = "stock_relay_enqueue_or_defer" if defer else "stock_relay_enqueue"
        self.env.cr.execute(
            f"SELECT {function}(%s::int[], %s::int[], %s::varchar[], %s::varchar[], %s::numeric[], %s, 'stock')",
            [*arrays, trigger],
        )
        written = self.env.cr.fetchone()[0]
        if written < 0:
            if not self.env.context.get("stock_relay_rechecking"):  # a recheck loops on its own
                self._stock_relay_recheck_after_commit()
            _logger.info("stock_relay: %s key(s) deferred to a recheck after commit (commit clock)", len(rows))
            return 0
        _logger.debug("stock_relay: %s outbox row(s), trigger %s", written, trigger)
        return written

    @api.model
    def _sellable_rows(self, product_ids, channels=None, touched=None, location_keys=None, include_disabled=False):
        """What would be published: one dict per (channel, mapping line, product).

        One grouped query sums quantity and reserved per (location, product)
        over every mapped internal location (children included); one more
        statement turns every line's sums into the number to publish through
        the contract's policy (_apply_policy), whatever the number of rows.
        """
        cr = self.env.cr
        if not product_ids:
            return []
        if channels is None:
            channels = self.env["stock.relay.channel"].sudo().search([("enabled", "=", True)])
        else:
            channels = channels.sudo().filtered(lambda c: c.enabled or include_disabled)
        if not channels:
            return []

        # Line -> internal locations it draws from (a line mapping a parent and
        # its child counts each location once).
        cr.execute(
            """
            SELECT DISTINCT l.id, sl.id
              FROM stock_relay_channel_location l
              JOIN stock_relay_channel_location_rel r ON r.line_id = l.id
              JOIN stock_location ml ON ml.id = r.location_id
              JOIN stock_location sl ON sl.parent_path LIKE ml.parent_path || '%%'
             WHERE l.channel_id = ANY(%s) AND sl.usage = 'internal' AND sl.active
            """,
            [list(channels.ids)],
        )
        line_locations = defaultdict(set)
        for line_id, location_id in cr.fetchall():
            line_locations[line_id].add(location_id)
        if not line_locations:
            return []
        lines = self.env["stock.relay.channel.location"].sudo().browse(sorted(line_locations))

        products = self.env["product.product"].sudo().with_context(active_test=False).browse(
            list(product_ids)).exists()
        kits = self._kit_components(products.filtered(lambda p: (p.default_code or "").strip()))
        relayed = products.filtered(lambda p: (p.is_storable or p.id in kits) and (p.default_code or "").strip())
        if not relayed:
            return []

        counted = set(relayed.ids).union(*({c for c, _q in parts} for parts in kits.values()))
        sums = self._line_sums(line_locations, counted)

        rows = []
        for line in lines:
            channel = line.channel_id
            key = line.location_key or ""
            if location_keys is not None and (channel.id, key) not in location_keys:
                continue
            cap = channel.quantity_cap or None
            for product in relayed:
                if touched is not None and not (touched.get(product.id, set()) & line_locations[line.id]):
                    continue
                if not channel._sells(product):
                    continue
                on_hand, reserved = sums.get((line.id, product.id), (0.0, 0.0))
                row = {
                    "channel": channel, "line": line, "product": product, "sku": product.default_code.strip(),
                    "location_key": key, "locations": line_locations[line.id], "on_hand": on_hand,
                    "reserved": reserved, "safety_buffer": channel.safety_buffer, "cap": cap,
                }
                if product.id in kits:
                    row["kit"] = kits[product.id]
                    row["components"] = [(*sums.get((line.id, component_id), (0.0, 0.0)), per_kit)
                                         for component_id, per_kit in kits[product.id]]
                rows.append(row)
        self._apply_policy(rows)
        for row in rows:
            if not row["product"].active:
                row["quantity"] = 0  # archived: the shop stops selling it (channel._sells said so)
        return rows

    @api.model
    def _line_sums(self, line_locations, product_ids):
        """{(line id, product id): [on hand, reserved]} over each line's locations, in one grouped query."""
        all_locations = set().union(*line_locations.values())
        self.env["stock.quant"].flush_model(["product_id", "location_id", "quantity", "reserved_quantity"])
        self.env.cr.execute(
            """
            SELECT location_id, product_id, sum(quantity), sum(reserved_quantity)
              FROM stock_quant
             WHERE product_id = ANY(%s) AND location_id = ANY(%s)
             GROUP BY location_id, product_id
            """,
            [list(product_ids), list(all_locations)],
        )
        by_location = defaultdict(list)
        for location_id, product_id, qty, reserved in self.env.cr.fetchall():
            by_location[location_id].append((product_id, float(qty or 0), float(reserved or 0)))
        sums = defaultdict(lambda: [0.0, 0.0])
        for line_id, locations in line_locations.items():
            for location_id in locations:
                for product_id, qty, reserved in by_location.get(location_id, ()):
                    acc = sums[(line_id, product_id)]
                    acc[0] += qty
                    acc[1] += reserved
        return sums

    @api.model
    def _kit_components(self, products):
        """{kit product id: [(component id, quantity per kit)]} of the kits among ``products``.

        Without mrp there are no kits; stock_relay_mrp fills this in.
        """
        return {}

    @api.model
    def _kits_using(self, product_ids):
        """Ids of the kits whose sellable depends on ``product_ids`` (stock_relay_mrp)."""
        return set()

    @api.model
    def _apply_policy(self, rows):
        """Set ``row["quantity"]`` from the contract's stock_relay_sellable (kits:
        stock_relay_kit_sellable over ``row["components"]`` [(on hand, reserved, per kit)])
        in at most two statements: the one definition of the policy, readable
        without the native module, and no round trip per row."""
        plain = [row for row in rows if "kit" not in row]
        kits = [row for row in rows if "kit" in row]
        cr = self.env.cr
        if plain:
            cr.execute(
                "SELECT stock_relay_sellable(o, r, b, c) FROM unnest(%s::float8[], %s::float8[], %s::float8[],"
                " %s::bigint[]) WITH ORDINALITY AS t(o, r, b, c, i) ORDER BY i",
                [[r["on_hand"] for r in plain], [r["reserved"] for r in plain],
                 [r["safety_buffer"] for r in plain], [r["cap"] for r in plain]])
            for row, (quantity,) in zip(plain, cr.fetchall()):
                row["quantity"] = quantity
        if kits:
            parts = [(i, *component) for i, row in enumerate(kits) for component in row["components"]]
            columns = [list(column) for column in zip(*parts)] if parts else [[], [], [], []]
            cr.execute(
                """
                SELECT k.i, stock_relay_kit_sellable(
                           array_agg(p.o ORDER BY p.n) FILTER (WHERE p.n IS NOT NULL),
                           array_agg(p.r ORDER BY p.n) FILTER (WHERE p.n IS NOT NULL),
                           array_agg(p.per ORDER BY p.n) FILTER (WHERE p.n IS NOT NULL), k.b, k.c)
                  FROM unnest(%s::int[], %s::float8[], %s::bigint[]) AS k(i, b, c)
                  LEFT JOIN unnest(%s::int[], %s::float8[], %s::float8[], %s::float8[]) WITH ORDINALITY
                            AS p(i, o, r, per, n) ON p.i = k.i
                 GROUP BY k.i, k.b, k.c
                """,
                [list(range(len(kits))), [r["safety_buffer"] for r in kits], [r["cap"] for r in kits], *columns])
            for i, quantity in cr.fetchall():
                kits[i]["quantity"] = quantity

    # ------------------------------------------------------------ retry / purge
    def action_retry(self):
        """Publish again, from Odoo's current numbers, the keys of the selected failed rows.

        The SKU and the quantity are recomputed now by the code that fills
        the outbox at precommit (trigger manual_retry), never copied from the
        old row: a SKU fixed since the failure is the one sent. Enqueueing a
        key closes its failed rows (contract); a failed row whose product or
        shop location is no longer relayed is closed too: there is nothing
        left to publish for it.
        """
        self.check_access("write")
        rows = self.sudo().filtered(lambda r: r.state == "failed")
        if not rows:
            raise UserError(_("Only failed rows can be retried."))
        disabled = rows.channel_id.filtered(lambda c: not c.enabled)
        if disabled:
            raise UserError(_("%s is disabled; enable it before retrying.", ", ".join(disabled.mapped("name"))))
        keys = defaultdict(lambda: self.env["product.product"])
        for row in rows:
            keys[(row.channel_id, row.location_key or "")] |= row.product_id
        requeued = 0
        for (channel, location_key), products in keys.items():
            requeued += self._enqueue_products(products.ids, trigger="manual_retry", channels=channel,
                                               location_keys={(channel.id, location_key)})
        self.env.cr.execute(
            "UPDATE stock_relay_outbox SET state = 'superseded', updated_at = (now() AT TIME ZONE 'UTC') "
            "WHERE id = ANY(%s) AND state = 'failed'", [rows.ids])
        gone = self.env.cr.rowcount
        self.invalidate_model()
        message = _("%s row(s) queued again with the SKU and quantity Odoo holds now.", requeued)
        if gone:
            message += " " + _("%s row(s) closed: their product or shop location is no longer relayed.", gone)
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {"title": _("Retry queued"), "message": message,
                       "type": "success", "next": {"type": "ir.actions.client", "tag": "soft_reload"}},
        }

    @api.model
    def _republish_failed_keys(self):
        """Upgrade to contract v2: re-publish every failed key from Odoo's current numbers.

        A v1 database can hold failed rows whose SKU or quantity went stale
        while nothing re-published them (v1 did not re-publish buffer or SKU
        changes); `stockrelayd retry --failed` re-sends a key's newest row
        as stored, so the newest row of each failed key is made current here.
        Disabled channels are left alone: enabling one re-publishes it.
        """
        failed = self.sudo().search([("state", "=", "failed"), ("kind", "=", "stock"),
                                     ("channel_id.enabled", "=", True)])
        if failed:
            failed.action_retry()
        return len(failed)

    @api.model
    def _cron_purge(self):
        days = self.env["ir.config_parameter"].sudo().get_param(RETENTION_PARAM, DEFAULT_RETENTION_DAYS)
        try:
            days = max(0, int(days))
        except (TypeError, ValueError):
            days = DEFAULT_RETENTION_DAYS
        cutoff = fields.Datetime.now() - timedelta(days=days)
        # The contract's purge keeps each key's newest row, so an old failed
        # row can never look like the newest one (stockrelayd retry --failed).
        self.env.cr.execute("SELECT stock_relay_purge(%s)", [cutoff])
        purged = self.env.cr.fetchone()[0]
        _logger.info("stock_relay: purged %s outbox row(s) older than %s day(s)", purged, days)
        return purged
