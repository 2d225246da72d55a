-- Re-queue failed stock rows: the one definition shared by
-- `stockrelayd retry --failed` and the Odoo addon's Retry button.
--
-- $1 integer: only this channel (NULL = all); $2 bigint: only this row (NULL = all).
--
-- A failed row is re-queued through stock_relay_enqueue (trigger
-- 'manual_retry'), so it coalesces with any pending row exactly like a new
-- write. Only the newest row of its (channel, kind, product, location) key is
-- re-queued: if a newer row exists, re-sending the failed value would undo a
-- newer one, so the failed row is only closed. Every picked failed row ends
-- 'superseded' (its value now lives on in the new pending row, or is moot).
-- Returns one row: requeued (rows written), closed (failed rows superseded).
WITH picked AS (
    SELECT f.id, f.channel_id, f.kind, f.product_id, f.sku, f.location_key, f.quantity, f.version
      FROM stock_relay_outbox f
     WHERE f.state = 'failed'
       AND f.kind = 'stock'
       AND ($1::integer IS NULL OR f.channel_id = $1::integer)
       AND ($2::bigint IS NULL OR f.id = $2::bigint)
       FOR UPDATE
),
latest AS (
    SELECT p.*
      FROM picked p
     WHERE NOT EXISTS (
            SELECT 1
              FROM stock_relay_outbox n
             WHERE n.channel_id = p.channel_id AND n.kind = p.kind AND n.product_id = p.product_id
               AND n.location_key = p.location_key AND n.version > p.version AND n.state <> 'superseded')
),
requeued AS (
    SELECT stock_relay_enqueue(coalesce(array_agg(l.channel_id), '{}'), coalesce(array_agg(l.product_id), '{}'),
                               coalesce(array_agg(l.sku), '{}'), coalesce(array_agg(l.location_key), '{}'),
                               coalesce(array_agg(l.quantity), '{}'), 'manual_retry', 'stock') AS n
      FROM latest l
),
closed AS (
    UPDATE stock_relay_outbox o
       SET state = 'superseded', updated_at = (now() AT TIME ZONE 'UTC')
      FROM picked p
     WHERE o.id = p.id
    RETURNING o.id
)
SELECT (SELECT n FROM requeued) AS requeued, (SELECT count(*) FROM closed) AS closed;
