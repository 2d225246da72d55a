from odoo import fields, models, tools

from .schema import apply_contract


class StockRelayUnmatched(models.Model):
    """Products that have stock but cannot be relayed: no SKU, or a SKU the shop does not know."""

    _name = "stock.relay.unmatched"
    _description = "Stock Relay Unmatched Products"
    _auto = False
    _order = "reason, product_id"
    _rec_name = "product_id"

    product_id = fields.Many2one("product.product", readonly=True)
    channel_id = fields.Many2one("stock.relay.channel", readonly=True)
    reason = fields.Selection([
        ("no_sku", "No SKU (Internal Reference)"),
        ("sku_not_found", "SKU not found in the shop"),
        ("duplicate_sku", "SKU used by several shop items"),
    ], readonly=True)
    sku = fields.Char(string="SKU", readonly=True)
    quantity = fields.Float(string="On Hand", readonly=True, digits="Product Unit of Measure")
    detail = fields.Text(readonly=True)
    last_seen = fields.Datetime(readonly=True)

    def init(self):
        apply_contract(self.env.cr)
        tools.drop_view_if_exists(self.env.cr, self._table)
        self.env.cr.execute(f"""
            CREATE VIEW {self._table} AS (
            SELECT row_number() OVER (ORDER BY u.reason, u.channel_id NULLS FIRST, u.product_id) AS id, u.*
              FROM (
                SELECT q.product_id, NULL::integer AS channel_id, 'no_sku'::varchar AS reason,
                       NULL::varchar AS sku, sum(q.quantity) AS quantity, NULL::text AS detail,
                       max(q.write_date) AS last_seen
                  FROM stock_quant q
                  JOIN stock_location l ON l.id = q.location_id AND l.usage = 'internal'
                  JOIN product_product p ON p.id = q.product_id
                  JOIN product_template t ON t.id = p.product_tmpl_id
                 WHERE t.is_storable AND coalesce(btrim(p.default_code), '') = ''
                 GROUP BY q.product_id
                HAVING sum(q.quantity) > 0
                UNION ALL
                (SELECT DISTINCT ON (o.channel_id, o.product_id)
                       o.product_id, o.channel_id, o.error_code, o.sku,
                       -- what the product has on hand, like the no-SKU rows (was NULL: shown 0.00)
                       (SELECT coalesce(sum(q.quantity), 0) FROM stock_quant q
                          JOIN stock_location l ON l.id = q.location_id AND l.usage = 'internal'
                         WHERE q.product_id = o.product_id),
                       o.last_error, o.updated_at
                  FROM stock_relay_outbox o
                 WHERE o.state = 'failed' AND o.error_code IN ('sku_not_found', 'duplicate_sku')
                   AND o.kind = 'stock'  -- a catalogue row's product_id is a template (contract v5)
                   AND NOT EXISTS (SELECT 1 FROM stock_relay_outbox n
                                    WHERE n.channel_id = o.channel_id AND n.product_id = o.product_id
                                      AND n.state = 'done' AND n.id > o.id)
                 ORDER BY o.channel_id, o.product_id, o.id DESC)
              ) u
            )""")
