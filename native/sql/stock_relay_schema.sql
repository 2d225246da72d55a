-- stockrelay outbox contract, schema version 2.
--
-- The one definition of the interface between the Odoo addon (which writes
-- outbox rows inside the user's transaction) and stockrelayd (which drains
-- them). It is applied by the addon's model init(), by the test harness and by
-- `stockrelayd init-schema`; the C++ core embeds this file at build time.
-- Every statement is idempotent, so applying it again is safe.
--
-- Timestamps are `timestamp without time zone` holding UTC (Odoo's convention).

CREATE TABLE IF NOT EXISTS stock_relay_schema_version (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    version   integer NOT NULL
);

-- One row per shop connection. The addon owns the UI over it; the sidecar
-- reads it (and never writes it).
CREATE TABLE IF NOT EXISTS stock_relay_channel (
    id             serial PRIMARY KEY,
    name           varchar NOT NULL,
    channel_type   varchar NOT NULL CHECK (channel_type IN ('shopify', 'woocommerce', 'medusa')),
    enabled        boolean NOT NULL DEFAULT true,
    base_url       varchar NOT NULL,
    api_version    varchar,
    -- Secrets, by type: shopify {access_token}; woocommerce {consumer_key,
    -- consumer_secret}; medusa {api_key} or {email, password}.
    credentials    jsonb   NOT NULL DEFAULT '{}'::jsonb,
    -- Type-specific, non-secret extras: ca_file, allow_insecure_http, ...
    settings       jsonb   NOT NULL DEFAULT '{}'::jsonb,
    batch_size     integer CHECK (batch_size IS NULL OR batch_size > 0),
    max_attempts   integer NOT NULL DEFAULT 10 CHECK (max_attempts > 0),
    timeout_ms     integer NOT NULL DEFAULT 15000 CHECK (timeout_ms > 0),
    tls_verify     boolean NOT NULL DEFAULT true,
    -- Policy inputs used by the addon when it computes quantities.
    safety_buffer  numeric NOT NULL DEFAULT 0,
    quantity_cap   integer,
    company_id     integer,
    create_uid     integer,
    create_date    timestamp DEFAULT (now() AT TIME ZONE 'UTC'),
    write_uid      integer,
    write_date     timestamp DEFAULT (now() AT TIME ZONE 'UTC')
);

CREATE SEQUENCE IF NOT EXISTS stock_relay_outbox_version_seq;

-- One row per (channel, kind, product, shop location) change to publish.
-- Life cycle: pending -> in_flight -> done | failed | pending (retry) |
-- superseded (a newer pending row for the key made this one moot).
CREATE TABLE IF NOT EXISTS stock_relay_outbox (
    id               bigserial PRIMARY KEY,
    channel_id       integer NOT NULL REFERENCES stock_relay_channel (id) ON DELETE CASCADE,
    kind             varchar NOT NULL DEFAULT 'stock' CHECK (kind IN ('stock', 'product', 'price')),
    product_id       integer NOT NULL,
    sku              varchar NOT NULL,
    location_key     varchar NOT NULL DEFAULT '',
    -- numeric on purpose: a fractional or negative value written by a buggy
    -- producer must reach the sidecar and fail the row with a clear error
    -- instead of failing the user's stock transaction.
    quantity         numeric NOT NULL,
    version          bigint  NOT NULL DEFAULT nextval('stock_relay_outbox_version_seq'),
    trigger          varchar NOT NULL DEFAULT 'quant'
                     CHECK (trigger IN ('quant', 'picking', 'full_sync', 'manual_retry', 'manual')),
    state            varchar NOT NULL DEFAULT 'pending'
                     CHECK (state IN ('pending', 'in_flight', 'done', 'failed', 'superseded')),
    attempts         integer NOT NULL DEFAULT 0,
    next_attempt_at  timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    lease_until      timestamp,
    leased_by        varchar,
    last_http_status integer,
    error_code       varchar,
    last_error       text,
    request_excerpt  text,
    response_excerpt text,
    enqueued_at      timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    updated_at       timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    done_at          timestamp
);

-- Coalescing: at most one pending row per key; enqueue upserts into it.
CREATE UNIQUE INDEX IF NOT EXISTS stock_relay_outbox_pending_key
    ON stock_relay_outbox (channel_id, kind, product_id, location_key) WHERE state = 'pending';
-- No regression: at most one row per key in flight, enforced by the database.
CREATE UNIQUE INDEX IF NOT EXISTS stock_relay_outbox_inflight_key
    ON stock_relay_outbox (channel_id, kind, product_id, location_key) WHERE state = 'in_flight';
-- The claim query's access path.
CREATE INDEX IF NOT EXISTS stock_relay_outbox_claim
    ON stock_relay_outbox (channel_id, next_attempt_at, id) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS stock_relay_outbox_lease
    ON stock_relay_outbox (lease_until) WHERE state = 'in_flight';
CREATE INDEX IF NOT EXISTS stock_relay_outbox_state_channel
    ON stock_relay_outbox (channel_id, state);
-- A product's newest row (SKU ownership checks, the per-product log in Odoo).
CREATE INDEX IF NOT EXISTS stock_relay_outbox_product
    ON stock_relay_outbox (channel_id, product_id, id);

-- SKU -> remote ids, filled by the channel clients (sidecar). Rows are hints:
-- a stale entry is dropped when the shop rejects the id. `product_id` is the
-- Odoo product that publishes this SKU on the channel: a second product
-- carrying the same SKU is refused (both would set one shop item) until the
-- owner's newest row no longer uses it.
CREATE TABLE IF NOT EXISTS stock_relay_sku_cache (
    channel_id  integer NOT NULL REFERENCES stock_relay_channel (id) ON DELETE CASCADE,
    sku         varchar NOT NULL,
    remote_id   varchar NOT NULL,
    parent_id   varchar NOT NULL DEFAULT '',
    extra       jsonb   NOT NULL DEFAULT '{}'::jsonb,
    product_id  integer,
    resolved_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    PRIMARY KEY (channel_id, sku)
);

-- Per-product commit clock. Every transaction that enqueues for a product
-- bumps its row first; under REPEATABLE READ (Odoo's isolation) two concurrent
-- transactions touching the same product therefore conflict, the later one
-- gets a serialization failure and Odoo replays it with a fresh snapshot. That
-- is what makes "the quantity on the newest row was computed from all
-- committed stock" true even when the older row was already claimed.
CREATE TABLE IF NOT EXISTS stock_relay_product_clock (
    product_id integer PRIMARY KEY,
    ticks      bigint NOT NULL DEFAULT 0
);

-- Enqueue a batch of quantities in one statement (parallel arrays). Newer
-- wins: the pending row of each key is updated in place; rows in flight are
-- never touched (the new pending row waits until the in-flight one is acked).
-- Returns the number of rows written.
CREATE OR REPLACE FUNCTION stock_relay_enqueue(
    p_channel_ids   integer[],
    p_product_ids   integer[],
    p_skus          varchar[],
    p_location_keys varchar[],
    p_quantities    numeric[],
    p_trigger       varchar DEFAULT 'quant',
    p_kind          varchar DEFAULT 'stock'
) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    IF cardinality(p_channel_ids) IS DISTINCT FROM cardinality(p_product_ids)
       OR cardinality(p_channel_ids) IS DISTINCT FROM cardinality(p_skus)
       OR cardinality(p_channel_ids) IS DISTINCT FROM cardinality(p_location_keys)
       OR cardinality(p_channel_ids) IS DISTINCT FROM cardinality(p_quantities) THEN
        RAISE EXCEPTION 'stock_relay_enqueue: argument arrays differ in length';
    END IF;
    -- Bump the commit clock in product order (a stable lock order avoids deadlocks).
    INSERT INTO stock_relay_product_clock AS c (product_id, ticks)
    SELECT DISTINCT pid, 1 FROM unnest(p_product_ids) AS pid ORDER BY pid
    ON CONFLICT (product_id) DO UPDATE SET ticks = c.ticks + 1;

    INSERT INTO stock_relay_outbox AS o
        (channel_id, kind, product_id, sku, location_key, quantity, trigger)
    SELECT DISTINCT ON (t.channel_id, t.product_id, t.location_key)
           t.channel_id, p_kind, t.product_id, t.sku, coalesce(t.location_key, ''), t.quantity, p_trigger
      FROM unnest(p_channel_ids, p_product_ids, p_skus, p_location_keys, p_quantities)
           WITH ORDINALITY AS t(channel_id, product_id, sku, location_key, quantity, ord)
     ORDER BY t.channel_id, t.product_id, t.location_key, t.ord DESC
    ON CONFLICT (channel_id, kind, product_id, location_key) WHERE state = 'pending'
    DO UPDATE SET quantity        = EXCLUDED.quantity,
                  sku             = EXCLUDED.sku,
                  version         = EXCLUDED.version,
                  trigger         = EXCLUDED.trigger,
                  attempts        = 0,
                  next_attempt_at = (now() AT TIME ZONE 'UTC'),
                  error_code      = NULL,
                  last_error      = NULL,
                  updated_at      = (now() AT TIME ZONE 'UTC');
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;

-- Re-queue failed stock rows: the one definition used by `stockrelayd retry
-- --failed`, by the sidecar when a channel's settings change (rows failed
-- with auth/config errors), and by the Odoo addon's Retry button.
-- Filters are optional (NULL = all): channel, row, error codes.
-- A failed row is re-queued through stock_relay_enqueue (trigger
-- 'manual_retry'), so it coalesces with any pending row exactly like a new
-- write. Only the newest row of its (channel, kind, product, location) key is
-- re-queued: if a newer row exists, re-sending the failed value would undo a
-- newer one, so the failed row is only closed. Every picked failed row ends
-- 'superseded' (its value now lives on in the new pending row, or is moot).
CREATE OR REPLACE FUNCTION stock_relay_retry_failed(
    p_channel_id  integer   DEFAULT NULL,
    p_row_id      bigint    DEFAULT NULL,
    p_error_codes varchar[] DEFAULT NULL,
    OUT requeued  integer,
    OUT closed    integer
) LANGUAGE sql AS $$
WITH picked AS (
    SELECT f.id, f.channel_id, f.kind, f.product_id, f.sku, f.location_key, f.quantity, f.version
      FROM stock_relay_outbox f
     WHERE f.state = 'failed'
       AND f.kind = 'stock'
       AND (p_channel_id IS NULL OR f.channel_id = p_channel_id)
       AND (p_row_id IS NULL OR f.id = p_row_id)
       AND (p_error_codes IS NULL OR f.error_code = ANY (p_error_codes))
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
SELECT (SELECT n FROM requeued), (SELECT count(*)::integer FROM closed);
$$;

-- One NOTIFY per transaction: a statement-level trigger, and PostgreSQL folds
-- identical notifications raised in one transaction into one.
CREATE OR REPLACE FUNCTION stock_relay_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('stock_relay', '');
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS stock_relay_outbox_notify_ins ON stock_relay_outbox;
CREATE TRIGGER stock_relay_outbox_notify_ins
    AFTER INSERT ON stock_relay_outbox
    FOR EACH STATEMENT EXECUTE FUNCTION stock_relay_notify();

-- Updates notify only when they make work available (a retried or re-queued
-- row), not for acks, so sidecar replicas do not wake each other for nothing.
-- A row-level trigger whose WHEN is false for acks costs nothing on the hot
-- path (a statement trigger with transition tables would copy every acked
-- row); the notifications it raises fold into one per transaction.
DROP FUNCTION IF EXISTS stock_relay_notify_upd() CASCADE;
DROP TRIGGER IF EXISTS stock_relay_outbox_notify_upd ON stock_relay_outbox;
CREATE TRIGGER stock_relay_outbox_notify_upd
    AFTER UPDATE ON stock_relay_outbox
    FOR EACH ROW
    WHEN (NEW.state = 'pending' AND (OLD.state <> 'pending' OR NEW.version <> OLD.version))
    EXECUTE FUNCTION stock_relay_notify();

-- ==== v2, issue 10 (daemon resilience): retry window and channel state ====
-- A row that fails transiently while the rest of its channel works keeps
-- retrying with backoff for this long (counted from enqueued_at) before it
-- fails, even past max_attempts; failed transient rows are replayed when the
-- channel next recovers. Fractions of an hour are allowed (tests).
ALTER TABLE stock_relay_channel ADD COLUMN IF NOT EXISTS retry_window_hours numeric NOT NULL DEFAULT 24;
ALTER TABLE stock_relay_channel DROP CONSTRAINT IF EXISTS stock_relay_channel_retry_window_hours_check;
ALTER TABLE stock_relay_channel ADD CONSTRAINT stock_relay_channel_retry_window_hours_check
    CHECK (retry_window_hours > 0);

-- What stockrelayd last saw of each channel as a whole, written by the daemon
-- (which never writes stock_relay_channel), read by Odoo and `stockrelayd
-- status`: 'flowing'; 'down' (the shop is unreachable: transport errors, 5xx,
-- timeouts, garbage; rows are held, not failed); 'refused' (401/403, a TLS
-- certificate that does not verify: rows stay pending). `since` is when the
-- state began, `reason` the shop's own message.
CREATE TABLE IF NOT EXISTS stock_relay_channel_state (
    channel_id    integer PRIMARY KEY REFERENCES stock_relay_channel (id) ON DELETE CASCADE,
    state         varchar NOT NULL DEFAULT 'flowing' CHECK (state IN ('flowing', 'down', 'refused')),
    since         timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    reason        text,
    error_code    varchar,
    worker_id     varchar,
    probes        integer NOT NULL DEFAULT 0,
    next_probe_at timestamp,
    updated_at    timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
);
-- ==== end of v2, issue 10 ====

INSERT INTO stock_relay_schema_version (singleton, version) VALUES (true, 2)
ON CONFLICT (singleton) DO UPDATE SET version = EXCLUDED.version;
