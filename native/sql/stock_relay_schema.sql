-- stockrelay outbox contract, schema version 6.
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
-- ---- v2 (issue #10, live changes first): claim priority ----------------
-- Live stock changes are pushed before bulk rows (full sync, reconcile). A
-- row's priority comes from its trigger (stock_relay_trigger_priority, higher
-- first); the claim orders by (priority DESC, next_attempt_at, id) and this
-- index matches that order, so a claim reads only the rows it takes instead
-- of sorting every pending row of the channel. Upgrading a v1 database adds
-- the column in place (a constant default: no table rewrite).
ALTER TABLE stock_relay_outbox ADD COLUMN IF NOT EXISTS priority integer NOT NULL DEFAULT 1;
-- Rows queued before the upgrade get their trigger's priority (once: the
-- index below does not exist yet on a v1 database).
DO $$
BEGIN
    IF to_regclass('stock_relay_outbox_claim_priority') IS NULL THEN
        UPDATE stock_relay_outbox SET priority = 0 WHERE state = 'pending' AND trigger IN ('full_sync', 'reconcile');
    END IF;
END $$;
CREATE INDEX IF NOT EXISTS stock_relay_outbox_claim_priority
    ON stock_relay_outbox (channel_id, priority DESC, next_attempt_at, id) WHERE state = 'pending';

-- 1 = live (every trigger, including ones added later), 0 = bulk ('full_sync',
-- 'reconcile'): a flood of bulk rows never delays a live change.
CREATE OR REPLACE FUNCTION stock_relay_trigger_priority(p_trigger varchar) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_trigger IN ('full_sync', 'reconcile') THEN 0 ELSE 1 END
$$;
-- ---- end v2 claim priority -----------------------------------------------
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

-- ---- v2 (i10-channels): SKU cache revalidation --------------------------
-- A cached SKU -> shop item mapping is trusted for at most this many seconds;
-- the next push of an older entry re-resolves the SKU in the same batched
-- lookup as the uncached ones (a SKU moved to another shop item is found
-- within this bound even when the shop's answers cannot tell). 0 = resolve on
-- every push.
ALTER TABLE stock_relay_channel ADD COLUMN IF NOT EXISTS sku_cache_max_age_seconds integer NOT NULL DEFAULT 3600;
ALTER TABLE stock_relay_channel DROP CONSTRAINT IF EXISTS stock_relay_channel_sku_cache_max_age_check;
ALTER TABLE stock_relay_channel ADD CONSTRAINT stock_relay_channel_sku_cache_max_age_check
    CHECK (sku_cache_max_age_seconds >= 0);
-- ---- end v2 (i10-channels) ----------------------------------------------

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
-- wins: the pending row of each key is updated in place (its value, version
-- and trigger; a row backing off keeps its attempts and next attempt time);
-- rows in flight are never touched (the new pending row waits until the
-- in-flight one is acked).
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
        (channel_id, kind, product_id, sku, location_key, quantity, trigger, priority)
    SELECT DISTINCT ON (t.channel_id, t.product_id, t.location_key)
           t.channel_id, p_kind, t.product_id, t.sku, coalesce(t.location_key, ''), t.quantity, p_trigger,
           stock_relay_trigger_priority(p_trigger)
      FROM unnest(p_channel_ids, p_product_ids, p_skus, p_location_keys, p_quantities)
           WITH ORDINALITY AS t(channel_id, product_id, sku, location_key, quantity, ord)
     ORDER BY t.channel_id, t.product_id, t.location_key, t.ord DESC
    ON CONFLICT (channel_id, kind, product_id, location_key) WHERE state = 'pending'
    DO UPDATE SET quantity        = EXCLUDED.quantity,
                  sku             = EXCLUDED.sku,
                  version         = EXCLUDED.version,
                  trigger         = EXCLUDED.trigger,
                  -- v2: a live change lifts a bulk row; a bulk one never lowers a live row.
                  priority        = greatest(o.priority, EXCLUDED.priority),
                  -- v2: attempts, next_attempt_at and the error that explains a
                  -- backoff stay: a new value for a row that is backing off
                  -- waits out the backoff instead of hammering a failing shop.
                  updated_at      = (now() AT TIME ZONE 'UTC');
    GET DIAGNOSTICS n = ROW_COUNT;
    -- [v2 retry] A newer row of a key makes the key's failed rows moot: they
    -- stop counting as current failures (the channel's Failed counter, the
    -- log's Failed filter), a Resync does not pile up one failed row per run
    -- for one standing problem, and a failed row never outlives a newer one
    -- to be re-sent by `retry --failed`. A probe of the small partial index
    -- stock_relay_outbox_failed_key per key. SKIP LOCKED: whoever else holds
    -- a failed row's lock (an ack's landing trigger, retry_failed, another
    -- enqueue) is closing it too, and waiting on it could deadlock with them.
    UPDATE stock_relay_outbox o
       SET state = 'superseded', updated_at = (now() AT TIME ZONE 'UTC')
     WHERE o.id IN (
            SELECT f.id
              FROM stock_relay_outbox f
              JOIN unnest(p_channel_ids, p_product_ids, p_location_keys) AS k(channel_id, product_id, location_key)
                ON f.channel_id = k.channel_id AND f.product_id = k.product_id
               AND f.location_key = coalesce(k.location_key, '')
             WHERE f.state = 'failed' AND f.kind = p_kind
               FOR UPDATE OF f SKIP LOCKED);
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
-- [v2 retry] Why re-sending the newest row's SKU and quantity is today's:
-- the daemon cannot compute Odoo's numbers, so it re-sends what the key's
-- newest row holds. That row is current because every input of the sellable
-- quantity re-publishes the key (a newer row), and
--   * a failed row stops being "newest" the moment a newer row of its key is
--     enqueued or lands (stock_relay_enqueue and the landing trigger below
--     supersede it), so a failed row that is left is the key's newest;
--   * the retention purge (stock_relay_purge) never deletes the newest
--     non-superseded row of a key, so deleting history can never make an
--     older failed row look newest again.
-- Odoo's Retry button does not use stored values at all: it recomputes the
-- SKU and quantity with the precommit code (trigger 'manual_retry').
-- v2: plpgsql, closing the picked rows before re-queueing them, because the
-- enqueue itself now supersedes failed rows of the keys it writes.
CREATE OR REPLACE FUNCTION stock_relay_retry_failed(
    p_channel_id  integer   DEFAULT NULL,
    p_row_id      bigint    DEFAULT NULL,
    p_error_codes varchar[] DEFAULT NULL,
    OUT requeued  integer,
    OUT closed    integer
) LANGUAGE plpgsql AS $$
DECLARE
    ch integer[]; pr integer[]; sk varchar[]; lk varchar[]; qt numeric[];
BEGIN
    -- One statement (one snapshot) picks, closes and collects the newest rows.
    WITH picked AS (
        SELECT f.id, f.channel_id, f.kind, f.product_id, f.sku, f.location_key, f.quantity, f.version
          FROM stock_relay_outbox f
         WHERE f.state = 'failed'
           AND f.kind = 'stock'
           AND (p_channel_id IS NULL OR f.channel_id = p_channel_id)
           AND (p_row_id IS NULL OR f.id = p_row_id)
           AND (p_error_codes IS NULL OR f.error_code = ANY (p_error_codes))
           FOR UPDATE SKIP LOCKED  -- a locked failed row is being closed by its holder
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
    closing AS (
        UPDATE stock_relay_outbox o
           SET state = 'superseded', updated_at = (now() AT TIME ZONE 'UTC')
          FROM picked p
         WHERE o.id = p.id
        RETURNING o.id
    )
    SELECT coalesce(array_agg(l.channel_id), '{}'), coalesce(array_agg(l.product_id), '{}'),
           coalesce(array_agg(l.sku), '{}'), coalesce(array_agg(l.location_key), '{}'),
           coalesce(array_agg(l.quantity), '{}'), (SELECT count(*)::integer FROM closing)
      INTO ch, pr, sk, lk, qt, closed
      FROM latest l;
    requeued := stock_relay_enqueue(ch, pr, sk, lk, qt, 'manual_retry', 'stock');
END $$;

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

-- ===================== v2 [retry]: failures that exist now =====================
-- A failed row is a current failure only while no newer row of its key exists.
-- stock_relay_enqueue closes a key's failed rows when it writes the key; this
-- trigger does the same when a newer row lands (the daemon's ack to done or
-- failed), e.g. v1 was in flight when v2 was enqueued and failed afterwards.
-- Row-level with a WHEN clause: acks of keys without failures (the hot path)
-- cost one probe of the small partial index below (measured ~20 us per acked
-- row on 2 cores; a statement trigger over transition tables was 10x slower).
CREATE INDEX IF NOT EXISTS stock_relay_outbox_failed_key
    ON stock_relay_outbox (channel_id, kind, product_id, location_key, version) WHERE state = 'failed';

CREATE OR REPLACE FUNCTION stock_relay_close_older_failures() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE stock_relay_outbox
       SET state = 'superseded', updated_at = (now() AT TIME ZONE 'UTC')
     WHERE id IN (SELECT id FROM stock_relay_outbox
                   WHERE state = 'failed' AND channel_id = NEW.channel_id AND kind = NEW.kind
                     AND product_id = NEW.product_id AND location_key = NEW.location_key
                     AND version < NEW.version
                     FOR UPDATE SKIP LOCKED);  -- see stock_relay_enqueue: its holder closes it
    RETURN NULL;
END $$;

DROP TRIGGER IF EXISTS stock_relay_outbox_close_failures ON stock_relay_outbox;
CREATE TRIGGER stock_relay_outbox_close_failures
    AFTER UPDATE OF state ON stock_relay_outbox
    FOR EACH ROW
    WHEN (OLD.state = 'in_flight' AND NEW.state IN ('done', 'failed'))
    EXECUTE FUNCTION stock_relay_close_older_failures();

-- Upgrading a v1 database: close the failed rows a newer row already made moot
-- (idempotent; afterwards the two rules above keep it so).
UPDATE stock_relay_outbox f
   SET state = 'superseded', updated_at = (now() AT TIME ZONE 'UTC')
 WHERE f.state = 'failed'
   AND EXISTS (SELECT 1 FROM stock_relay_outbox n
                WHERE n.channel_id = f.channel_id AND n.kind = f.kind AND n.product_id = f.product_id
                  AND n.location_key = f.location_key AND n.version > f.version AND n.state <> 'superseded');

-- Retention purge (Odoo's daily cron): done and superseded rows older than
-- p_before, EXCEPT a done row that is the newest non-superseded row of its
-- key. Why: stock_relay_retry_failed re-sends a failed row only when no newer
-- non-superseded row of its key exists. Deleting the newest done row of a key
-- could make an older failed row (say from before an upgrade) look newest,
-- and `retry --failed` would then push its stale SKU and quantity. The key's
-- newest non-superseded row is never deleted (a done one is kept here;
-- pending, in-flight and failed ones are not purged at all), so every older
-- row keeps a newer one. Superseded rows (closed failures included) go.
CREATE OR REPLACE FUNCTION stock_relay_purge(p_before timestamp) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    DELETE FROM stock_relay_outbox o
     WHERE o.state IN ('done', 'superseded')
       AND coalesce(o.done_at, o.updated_at) < p_before
       AND (o.state = 'superseded'
            OR EXISTS (SELECT 1 FROM stock_relay_outbox n
                        WHERE n.channel_id = o.channel_id AND n.kind = o.kind AND n.product_id = o.product_id
                          AND n.location_key = o.location_key AND n.version > o.version
                          AND n.state <> 'superseded'));
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;
-- =================== end v2 [retry] ===================

-- ===================== v2 [secrets]: credentials follow the shop =====================
-- Changing a channel's base_url or channel_type clears its credentials unless
-- the same UPDATE supplies new ones, for every writer (Odoo's ORM, raw SQL,
-- an import). Only values that differ from the stored ones survive: a write
-- that merges one new key into the old object (`credentials || '{...}'`, or a
-- form that types only the consumer key) cannot carry the old secret to the
-- new host. So a user allowed to edit channels but not to read credentials
-- cannot point a channel, with its token, at a host of their choosing; the
-- daemon and Odoo's buttons only ever see credentials stored for the URL
-- beside them. Moving a shop keeps nothing: type the credentials again after
-- saving the new URL. Cosmetic URL edits (surrounding blanks, a trailing
-- slash) keep them.
CREATE OR REPLACE FUNCTION stock_relay_channel_credentials_follow_url() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.credentials := coalesce(
        (SELECT jsonb_object_agg(e.key, e.value)
           FROM jsonb_each(coalesce(NEW.credentials, '{}'::jsonb)) AS e
          WHERE OLD.credentials -> e.key IS DISTINCT FROM e.value),
        '{}'::jsonb);
    RETURN NEW;
END $$;

DROP TRIGGER IF EXISTS stock_relay_channel_credentials_follow_url ON stock_relay_channel;
CREATE TRIGGER stock_relay_channel_credentials_follow_url
    BEFORE UPDATE ON stock_relay_channel
    FOR EACH ROW
    WHEN (rtrim(btrim(NEW.base_url), '/') IS DISTINCT FROM rtrim(btrim(OLD.base_url), '/')
          OR NEW.channel_type IS DISTINCT FROM OLD.channel_type)
    EXECUTE FUNCTION stock_relay_channel_credentials_follow_url();
-- =================== end v2 [secrets] ===================
-- ---------------------------------------------------------------------------
-- v2 (issue #9, "every input of the sellable quantity re-publishes").
-- Each input of the sellable quantity enqueues with its own trigger, so the
-- log says why a row exists: 'channel' (safety buffer, cap, re-enabled),
-- 'mapping' (mapping lines and their Odoo locations), 'product' (SKU,
-- storable flag, un-archived), 'archive' (an archived product publishes 0),
-- 'location' (a stock.location's parent, usage or active flag), 'bom' (a kit's
-- bill of materials). The CHECK is dropped and re-created so a v1 database
-- upgrades in place.
-- (The CHECK itself is re-created once, with every trigger, in v5 [catalogue]:
-- re-creating a shorter list here would fail on a database holding newer rows.)

-- What an archived product publishes on this channel: 'zero' (default: its
-- shop items drop to 0, the shop stops selling it) or 'leave' (nothing is
-- sent; the shop keeps its last number). Read by the addon only.
ALTER TABLE stock_relay_channel ADD COLUMN IF NOT EXISTS archived_products varchar NOT NULL DEFAULT 'zero';
ALTER TABLE stock_relay_channel DROP CONSTRAINT IF EXISTS stock_relay_channel_archived_products_check;
ALTER TABLE stock_relay_channel ADD CONSTRAINT stock_relay_channel_archived_products_check
    CHECK (archived_products IN ('zero', 'leave'));

-- A product whose SKU changed (or that stopped being relayed: no SKU, not
-- storable) gives up the shop SKUs it owned in the SKU cache, in the same
-- transaction, so ownership follows at once: the next product carrying the
-- old SKU takes it over, and a duplicate_sku message never names a product
-- that no longer has that SKU. p_skus holds each product's current SKU (NULL
-- when it has none). Returns the number of cache rows released.
CREATE OR REPLACE FUNCTION stock_relay_release_skus(p_product_ids integer[], p_skus varchar[])
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    IF cardinality(p_product_ids) IS DISTINCT FROM cardinality(p_skus) THEN
        RAISE EXCEPTION 'stock_relay_release_skus: argument arrays differ in length';
    END IF;
    UPDATE stock_relay_sku_cache c
       SET product_id = NULL
      FROM unnest(p_product_ids, p_skus) AS u(product_id, sku)
     WHERE c.product_id = u.product_id AND c.sku IS DISTINCT FROM u.sku;
    GET DIAGNOSTICS n = ROW_COUNT;
    RETURN n;
END $$;
-- end v2 (issue #9)
-- ---------------------------------------------------------------------------
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

-- ===========================================================================
-- v3: the closed loop. Two new flows share the outbox's habits (a request or
-- event is a row; NOTIFY wakes the reader; SKIP LOCKED and leases keep
-- replicas from doing one thing twice).
-- ===========================================================================

-- ---- v3 [wake Odoo] --------------------------------------------------------
-- Odoo works on inbox rows and reconcile snapshots in its own scheduled
-- actions. stock_relay_wake_odoo(xmlid) schedules the ir.cron named by its
-- XML id (e.g. 'stock_relay_sale.ir_cron_stock_relay_inbox') to run now, the
-- way Odoo's own ir.cron._trigger() does: a row in ir_cron_trigger. It is a
-- no-op (returns false) when Odoo's tables or that cron do not exist (a
-- daemon-only database, the module not installed). SECURITY DEFINER so the
-- daemon's role needs no right on Odoo's tables. Odoo's cron workers LISTEN
-- on channel 'cron_trigger' in the *postgres* maintenance database (payload:
-- the database name); a NOTIFY from inside the Odoo database does not reach
-- them, so the writer also sends `NOTIFY cron_trigger, '<dbname>'` on a
-- connection to the postgres database after committing; without it the
-- trigger row is still picked up at the cron workers' next poll (<= 60 s).
CREATE OR REPLACE FUNCTION stock_relay_wake_odoo(p_xmlid varchar) RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER SET search_path = public, pg_temp AS $$
DECLARE
    cron integer;
BEGIN
    IF to_regclass('ir_cron_trigger') IS NULL OR to_regclass('ir_model_data') IS NULL THEN
        RETURN false;
    END IF;
    EXECUTE 'SELECT res_id FROM ir_model_data WHERE model = ''ir.cron'' AND module = $1 AND name = $2'
       INTO cron USING split_part(p_xmlid, '.', 1), split_part(p_xmlid, '.', 2);
    IF cron IS NULL THEN
        RETURN false;
    END IF;
    -- Always a new row, never "one waiting trigger is enough": a trigger that
    -- exists may belong to a run of the job already in progress, whose
    -- snapshot cannot see this event and which deletes the triggers it
    -- consumed when it ends; skipping ours would leave the event waiting for
    -- the job's fallback interval. Each run deletes every trigger it was due
    -- for, so the rows do not pile up.
    EXECUTE 'INSERT INTO ir_cron_trigger (cron_id, call_at, create_date, write_date)
             VALUES ($1, (now() AT TIME ZONE ''UTC''), (now() AT TIME ZONE ''UTC''), (now() AT TIME ZONE ''UTC''))'
       USING cron;
    RETURN true;
END $$;
-- ---- end v3 [wake Odoo] ----------------------------------------------------

-- ---- v3 [reconcile] (issue 11) ---------------------------------------------
-- Healing pushes carry trigger 'reconcile' (a bulk priority, see
-- stock_relay_trigger_priority).
-- (The CHECK itself is re-created once, with every trigger, in v5 [catalogue]:
-- re-creating a shorter list here would fail on a database holding newer rows.)

-- Heal drift automatically after each reconcile of this channel (Odoo reads it).
ALTER TABLE stock_relay_channel ADD COLUMN IF NOT EXISTS reconcile_auto_heal boolean NOT NULL DEFAULT false;

-- One reconcile run of one channel. Life cycle:
--   pending (requested by Odoo's button or cron, or `stockrelayd reconcile`)
--   -> reading (a daemon holds the lease and reads the shop into
--      stock_relay_snapshot; `cursor` is its resume point)
--   -> read (snapshot complete; the daemon calls
--      stock_relay_wake_odoo('stock_relay.ir_cron_stock_relay_reconcile'))
--   -> done (Odoo compared it and wrote the report; healed keys enqueued with
--      trigger 'reconcile' when heal is set) | failed (error_code/last_error
--      say why; a new request reruns it) | cancelled.
-- `started_at` is when the daemon began reading: a key with an outbox row
-- enqueued, in flight or landed after it is moving, not drift.
CREATE TABLE IF NOT EXISTS stock_relay_reconcile (
    id             bigserial PRIMARY KEY,
    channel_id     integer NOT NULL REFERENCES stock_relay_channel (id) ON DELETE CASCADE,
    heal           boolean NOT NULL DEFAULT false,
    requested_by   varchar NOT NULL DEFAULT 'odoo',
    state          varchar NOT NULL DEFAULT 'pending'
                   CHECK (state IN ('pending', 'reading', 'read', 'done', 'failed', 'cancelled')),
    requested_at   timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    started_at     timestamp,
    read_at        timestamp,
    done_at        timestamp,
    lease_until    timestamp,
    leased_by      varchar,
    attempts       integer NOT NULL DEFAULT 0,
    cursor         jsonb,
    method         varchar,          -- how the shop was read: 'bulk', 'paginated', ...
    items_read     integer NOT NULL DEFAULT 0,
    malformed      integer NOT NULL DEFAULT 0,
    api_calls      integer NOT NULL DEFAULT 0,
    cost_points    integer NOT NULL DEFAULT 0,
    error_code     varchar,
    last_error     text,
    -- Written by Odoo when it compares:
    items_compared integer,
    drift_found    integer,
    healed         integer
);
-- At most one unfinished run per channel: a second request while one is
-- pending or reading is the same request.
CREATE UNIQUE INDEX IF NOT EXISTS stock_relay_reconcile_open
    ON stock_relay_reconcile (channel_id) WHERE state IN ('pending', 'reading');
CREATE INDEX IF NOT EXISTS stock_relay_reconcile_channel ON stock_relay_reconcile (channel_id, id);

-- What the shop held, one row per (shop item, shop location), written by the
-- daemon while reading. `sku` NULL: the item has no SKU. `quantity` NULL: not
-- known (untracked item, malformed answer: `problem` says what was wrong).
CREATE TABLE IF NOT EXISTS stock_relay_snapshot (
    reconcile_id  bigint  NOT NULL REFERENCES stock_relay_reconcile (id) ON DELETE CASCADE,
    channel_id    integer NOT NULL,
    remote_id     varchar NOT NULL,
    parent_id     varchar NOT NULL DEFAULT '',
    sku           varchar,
    location_key  varchar NOT NULL DEFAULT '',
    quantity      numeric,
    tracked       boolean NOT NULL DEFAULT true,
    problem       text,
    seen_at       timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    PRIMARY KEY (reconcile_id, remote_id, location_key)
);
CREATE INDEX IF NOT EXISTS stock_relay_snapshot_sku ON stock_relay_snapshot (reconcile_id, sku);

CREATE OR REPLACE FUNCTION stock_relay_reconcile_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('stock_relay_reconcile', '');
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS stock_relay_reconcile_notify_ins ON stock_relay_reconcile;
CREATE TRIGGER stock_relay_reconcile_notify_ins
    AFTER INSERT ON stock_relay_reconcile
    FOR EACH STATEMENT EXECUTE FUNCTION stock_relay_reconcile_notify();
-- ---- end v3 [reconcile] ----------------------------------------------------

-- ---- v3 [orders] (issue 12) ------------------------------------------------
-- Orders in: off until the manager turns it on; the daemon polls each
-- enabled channel every order_poll_seconds (and serves webhooks when its
-- listener is on). Secrets for signatures live in `credentials`
-- (shopify: client_secret; woocommerce: webhook_secret).
ALTER TABLE stock_relay_channel ADD COLUMN IF NOT EXISTS orders_enabled boolean NOT NULL DEFAULT false;
ALTER TABLE stock_relay_channel ADD COLUMN IF NOT EXISTS order_poll_seconds integer NOT NULL DEFAULT 120;
ALTER TABLE stock_relay_channel DROP CONSTRAINT IF EXISTS stock_relay_channel_order_poll_seconds_check;
ALTER TABLE stock_relay_channel ADD CONSTRAINT stock_relay_channel_order_poll_seconds_check
    CHECK (order_poll_seconds > 0);

-- One row per shop order event, written by the daemon (webhook or poll),
-- turned into a sale order by Odoo. `event_key` identifies the event whatever
-- path brought it: '<shop order id>@<order updated time, UTC, ISO 8601 to the
-- second>' (a webhook and a poll of one update compute the same key; a
-- re-delivery of one webhook too), with '/cancelled' appended when the order
-- is cancelled (shops keep update times to the second: a cancellation in the
-- second of the creation must not dedupe against it). `delivery_id` is the shop's delivery id
-- when a webhook brought it (Shopify X-Shopify-Webhook-Id, WooCommerce
-- X-WC-Webhook-Delivery-ID), kept for the log. Life cycle:
--   pending -> processing (an Odoo worker holds it) -> done (odoo_model /
--   odoo_id name what it became) | failed (error_code, last_error; Retry sets
--   it pending again) | ignored (nothing to do: an older update of an order
--   already processed, a topic not handled).
-- `payload` is {"order": <normalized order>, "raw": <the shop's own JSON>}.
-- The daemon normalizes every shop's order into one shape (its C++ core
-- parses; Odoo decides every business number from it):
--   {"id": "<shop order id>", "name": "#1001", "status": "open"|"cancelled",
--    "financial_status": "paid"|"pending"|"refunded"|..., "currency": "EUR",
--    "created_at": "...Z", "updated_at": "...Z", "email": "a@b.c",
--    "customer": {"first_name", "last_name", "email", "phone"},
--    "billing_address" / "shipping_address": {"name", "company", "street",
--        "street2", "city", "zip", "state_code", "country_code", "phone"} | null,
--    "lines": [{"id", "sku" (null when none), "name", "quantity": int,
--        "unit_price": "12.50" (decimal string, before discounts and taxes),
--        "discount": "2.50" (total for the line), "taxes": [{"name",
--        "rate": "0.21", "amount": "2.10"}], "taxes_included": bool,
--        "meta": [{"key", "value"}]}],
--    "shipping": [{"name", "price": "4.95", "discount": "0", "taxes": [...]}],
--    "totals": {"subtotal", "tax", "shipping", "discount", "total"}}
-- Money is a decimal string in the order's currency, never a float.
CREATE TABLE IF NOT EXISTS stock_relay_inbox (
    id              bigserial PRIMARY KEY,
    channel_id      integer NOT NULL REFERENCES stock_relay_channel (id) ON DELETE CASCADE,
    shop_order_id   varchar NOT NULL,
    shop_order_name varchar,
    topic           varchar NOT NULL CHECK (topic IN ('order_created', 'order_updated', 'order_cancelled')),
    event_key       varchar NOT NULL,
    delivery_id     varchar,
    shop_updated_at timestamp,
    payload         jsonb   NOT NULL,
    received_via    varchar NOT NULL CHECK (received_via IN ('webhook', 'poll', 'manual')),
    received_at     timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    state           varchar NOT NULL DEFAULT 'pending'
                    CHECK (state IN ('pending', 'processing', 'done', 'failed', 'ignored')),
    attempts        integer NOT NULL DEFAULT 0,
    error_code      varchar,
    last_error      text,
    processed_at    timestamp,
    odoo_model      varchar,
    odoo_id         integer,
    UNIQUE (channel_id, event_key)
);
CREATE INDEX IF NOT EXISTS stock_relay_inbox_work ON stock_relay_inbox (received_at, id) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS stock_relay_inbox_order ON stock_relay_inbox (channel_id, shop_order_id, id);

-- Where each channel's order polling resumes (daemon-written): the newest
-- shop update time seen and the shop's own paging state.
CREATE TABLE IF NOT EXISTS stock_relay_order_cursor (
    channel_id  integer PRIMARY KEY REFERENCES stock_relay_channel (id) ON DELETE CASCADE,
    updated_at  timestamp,
    extra       jsonb NOT NULL DEFAULT '{}'::jsonb,
    polled_at   timestamp,
    error_code  varchar,
    last_error  text
);
-- ---- end v3 [orders] -------------------------------------------------------

-- ===========================================================================
-- v4: the loop seen and protected. Each block belongs to one issue; a v3
-- database gains it in place (every statement idempotent).
-- ===========================================================================

-- ---- v4 [heartbeat] (operations) -------------------------------------------
-- One row per daemon process run, daemon-written: inserted at start, last_seen
-- refreshed every few seconds while its loops turn, stopped_at set on a clean
-- exit. Odoo shows "daemon last seen 14:02 (host:pid)" and warns when no
-- daemon has been seen for a minute while rows wait. `listen` is the daemon's
-- HTTP listener (health, metrics, webhooks) or null. The daemon deletes its
-- own rows older than 7 days.
CREATE TABLE IF NOT EXISTS stock_relay_daemon (
    id          bigserial PRIMARY KEY,
    host        varchar   NOT NULL,
    pid         integer   NOT NULL,
    version     varchar,
    listen      varchar,
    started_at  timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    last_seen   timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    stopped_at  timestamp
);
CREATE INDEX IF NOT EXISTS stock_relay_daemon_seen ON stock_relay_daemon (last_seen DESC);
-- Odoo's "Shop Sync" dashboard reads each channel's last success and the
-- rows pushed per hour over the last 24 h; on a log of millions of done rows
-- this partial index keeps both an index range scan instead of reading every
-- row of the channel.
CREATE INDEX IF NOT EXISTS stock_relay_outbox_done_at
    ON stock_relay_outbox (channel_id, done_at) WHERE state = 'done';
-- ---- end v4 [heartbeat] ----------------------------------------------------



-- ---- v4 [sales-aware] (sales-aware pushes) ---------------------------------
-- A push sets Odoo's sellable minus the shop's sales Odoo has not absorbed
-- yet: inbox orders not yet a confirmed sale order, and drops of the shop's
-- level since our last write that no order explains yet (held as presumed
-- sales for sales_grace_seconds, then drift: overwritten, noted on the row).

-- How long an unexplained drop of a shop's level is held as a presumed sale
-- (longer than order_poll_seconds, so the order behind it has time to arrive).
ALTER TABLE stock_relay_channel ADD COLUMN IF NOT EXISTS sales_grace_seconds integer NOT NULL DEFAULT 900;
ALTER TABLE stock_relay_channel DROP CONSTRAINT IF EXISTS stock_relay_channel_sales_grace_seconds_check;
ALTER TABLE stock_relay_channel ADD CONSTRAINT stock_relay_channel_sales_grace_seconds_check
    CHECK (sales_grace_seconds > 0);

-- The value the daemon last set per (channel, SKU, shop location), written in
-- the transaction that acks the row 'done'. The next push compares the shop's
-- level with it (Shopify: as changeFromQuantity). `inbox_mark`: the newest
-- inbox id of the channel when the shop's level was observed (orders received
-- after it explain later drops). `held`: the presumed sales kept then,
-- [{"quantity": n, "since": epoch seconds}], oldest first. Daemon-written;
-- Odoo only reads it.
CREATE TABLE IF NOT EXISTS stock_relay_last_set (
    channel_id    integer NOT NULL REFERENCES stock_relay_channel (id) ON DELETE CASCADE,
    sku           varchar NOT NULL,
    location_key  varchar NOT NULL DEFAULT '',
    remote_id     varchar NOT NULL DEFAULT '',  -- the shop item it was set on (a moved SKU starts afresh)
    quantity      bigint  NOT NULL,
    odoo_quantity bigint  NOT NULL,
    outbox_id     bigint,
    inbox_mark    bigint  NOT NULL DEFAULT 0,
    held          jsonb   NOT NULL DEFAULT '[]'::jsonb,
    set_at        timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    PRIMARY KEY (channel_id, sku, location_key)
);

-- When the number on an outbox row was computed: the start of the transaction
-- that wrote its quantity (insert, or an enqueue updating the pending row).
-- Compared with stock_relay_inbox_absorbed.absorbed_at to decide whether the
-- number already contains a confirmed shop order.
ALTER TABLE stock_relay_outbox ADD COLUMN IF NOT EXISTS valued_at timestamp;
ALTER TABLE stock_relay_outbox ALTER COLUMN valued_at SET DEFAULT (now() AT TIME ZONE 'UTC');
CREATE OR REPLACE FUNCTION stock_relay_outbox_valued() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.valued_at := (now() AT TIME ZONE 'UTC');
    RETURN NEW;
END $$;
DROP TRIGGER IF EXISTS stock_relay_outbox_valued ON stock_relay_outbox;
CREATE TRIGGER stock_relay_outbox_valued
    BEFORE UPDATE OF version ON stock_relay_outbox
    FOR EACH ROW
    WHEN (NEW.version IS DISTINCT FROM OLD.version)
    EXECUTE FUNCTION stock_relay_outbox_valued();

-- When each inbox row became a confirmed sale order ('done'): the start of
-- that transaction. The rule (documented in the README): a number computed in
-- a transaction that started at or after absorbed_at contains the order; an
-- older one does not. It holds because the confirming transaction re-publishes
-- the product and the product commit clock makes every other transaction that
-- publishes the product serialize with it. A side table (not a column of the
-- inbox) so the orders block and Odoo's inbox model stay as they are.
CREATE TABLE IF NOT EXISTS stock_relay_inbox_absorbed (
    inbox_id    bigint PRIMARY KEY REFERENCES stock_relay_inbox (id) ON DELETE CASCADE,
    absorbed_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
);
CREATE OR REPLACE FUNCTION stock_relay_inbox_absorb() RETURNS trigger LANGUAGE plpgsql
SECURITY DEFINER SET search_path = public, pg_temp AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND OLD.state = 'done' THEN
        RETURN NULL;  -- still done: absorbed when it first became done
    END IF;
    INSERT INTO stock_relay_inbox_absorbed (inbox_id, absorbed_at)
    VALUES (NEW.id, (now() AT TIME ZONE 'UTC'))
    ON CONFLICT (inbox_id) DO UPDATE SET absorbed_at = EXCLUDED.absorbed_at;
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS stock_relay_inbox_absorb ON stock_relay_inbox;
CREATE TRIGGER stock_relay_inbox_absorb
    AFTER INSERT OR UPDATE OF state ON stock_relay_inbox
    FOR EACH ROW
    WHEN (NEW.state = 'done')
    EXECUTE FUNCTION stock_relay_inbox_absorb();
-- Orders of a channel by inbox id (orders received after a mark).
CREATE INDEX IF NOT EXISTS stock_relay_inbox_channel_id ON stock_relay_inbox (channel_id, id);
-- ---- end v4 [sales-aware] --------------------------------------------------



-- ---- v5 [sellable-policy] (issue #15) --------------------------------------
-- The one definition of the sellable-quantity policy. It lives here, not in
-- the native module, so Odoo's commit path (capture, full sync, republish,
-- reconcile's expected numbers, kits) keeps computing -- and capturing -- when
-- stockrelay_native is missing or broken; the addon calls it in one batched
-- statement per enqueue. tests/integration/test_sellable_policy.py proves it.
--
-- floor(max(0, on_hand - reserved) - safety_buffer), float noise rounded away
-- first (Odoo quantities are floats: 2.9999999 means 3), clamped to
-- [0, 1e9] (the most a shop takes, as the daemon's validate_quantity) and to
-- the cap. Non-finite inputs and a negative buffer or cap raise 22023
-- (invalid_parameter_value): a producer bug is reported, never published.
CREATE OR REPLACE FUNCTION stock_relay_sellable(
    p_on_hand double precision, p_reserved double precision,
    p_safety_buffer double precision DEFAULT 0, p_cap bigint DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    bad constant double precision[] := ARRAY['NaN', 'Infinity', '-Infinity']::double precision[];
    free double precision;
    scaled double precision;
    whole double precision;
    q double precision;
BEGIN
    IF p_on_hand IS NULL OR p_reserved IS NULL OR p_safety_buffer IS NULL
       OR p_on_hand = ANY(bad) OR p_reserved = ANY(bad) OR p_safety_buffer = ANY(bad) THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('stock_relay_sellable: quantities must be finite numbers '
                             '(on hand %s, reserved %s, safety buffer %s)', p_on_hand, p_reserved, p_safety_buffer);
    END IF;
    IF p_safety_buffer < 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('stock_relay_sellable: safety buffer must not be negative (got %s)', p_safety_buffer);
    END IF;
    IF p_cap < 0 THEN
        RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
            MESSAGE = format('stock_relay_sellable: cap must not be negative (got %s)', p_cap);
    END IF;
    -- Anything over 2e9 publishes the maximum anyway; clamping first keeps the
    -- scaling below from overflowing float8 (PostgreSQL raises on overflow).
    free := least(greatest(0, p_on_hand - p_reserved) - p_safety_buffer, 2000000000);
    -- Round to 1e-6, half away from zero, before flooring so 3.0 never becomes 2.
    scaled := free * 1000000::double precision;
    whole := trunc(scaled);
    IF abs(scaled - whole) >= 0.5 THEN
        whole := whole + sign(scaled);
    END IF;
    q := floor(whole / 1000000::double precision);
    q := least(greatest(q, 0), 1000000000);
    RETURN least(q::bigint, coalesce(p_cap, q::bigint));
END $$;

-- A kit (phantom bill of materials) on one mapping line: the smallest, over
-- its components, of floor(component sellable / quantity per kit); the buffer
-- is held back on each component, the cap applies to the kit. 1e-9 absorbs
-- float noise (0.3 / 0.1 is 2.9999...). No component: 0.
CREATE OR REPLACE FUNCTION stock_relay_kit_sellable(
    p_on_hand double precision[], p_reserved double precision[], p_per_kit double precision[],
    p_safety_buffer double precision DEFAULT 0, p_cap bigint DEFAULT NULL) RETURNS bigint
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
DECLARE
    allowed bigint;
BEGIN
    FOR i IN 1 .. coalesce(array_length(p_per_kit, 1), 0) LOOP
        IF p_per_kit[i] IS NULL OR NOT p_per_kit[i] > 0 OR p_per_kit[i] = 'Infinity'::double precision THEN
            RAISE EXCEPTION USING ERRCODE = 'invalid_parameter_value',
                MESSAGE = format('stock_relay_kit_sellable: quantity per kit must be a positive number '
                                 '(component %s: %s)', i, p_per_kit[i]);
        END IF;
        allowed := least(allowed, floor(
            stock_relay_sellable(p_on_hand[i], p_reserved[i], p_safety_buffer, NULL) / p_per_kit[i] + 1e-9)::bigint);
    END LOOP;
    RETURN stock_relay_sellable(coalesce(allowed, 0), 0, 0, p_cap);
END $$;
-- ---- end v5 [sellable-policy] ----------------------------------------------

-- ---- v5 [multi-database] (issue #15) ---------------------------------------
-- Reserved: anything one daemon serving several databases needs in each of them.
-- ---- end v5 [multi-database] -----------------------------------------------

-- ---- v5 [catalogue] (issue #16) --------------------------------------------
-- The catalogue flows like stock: Odoo computes a product's whole document at
-- precommit and enqueues it; the daemon builds each shop's requests from it.
--
-- What a channel publishes (Odoo reads these; the daemon never does). The
-- same selection limits which products the stock relay publishes, so a shop
-- only ever sees what the manager chose. 'all' = every sellable product with a
-- SKU (today's behaviour); 'category' = publish_category_id and its children;
-- 'flagged' = products flagged for this channel in Odoo. catalog_enabled:
-- Odoo also publishes products and prices (not only stock) to this channel.
-- pricelist_id: Odoo pricelist whose prices the channel gets (NULL = list
-- price in the company currency).
ALTER TABLE stock_relay_channel ADD COLUMN IF NOT EXISTS catalog_enabled boolean NOT NULL DEFAULT false;
ALTER TABLE stock_relay_channel ADD COLUMN IF NOT EXISTS publish_scope varchar NOT NULL DEFAULT 'all';
ALTER TABLE stock_relay_channel DROP CONSTRAINT IF EXISTS stock_relay_channel_publish_scope_check;
ALTER TABLE stock_relay_channel ADD CONSTRAINT stock_relay_channel_publish_scope_check
    CHECK (publish_scope IN ('all', 'category', 'flagged'));
ALTER TABLE stock_relay_channel ADD COLUMN IF NOT EXISTS publish_category_id integer;
ALTER TABLE stock_relay_channel ADD COLUMN IF NOT EXISTS pricelist_id integer;

-- Catalogue rows: kind 'product' carries a template's whole document, kind
-- 'price' only its variants' prices. For both, product_id is the Odoo
-- product.template id, sku the template's external id, location_key '' and
-- quantity 0; the key (channel, kind, template) coalesces like stock. The
-- document (payload, format 1; the daemon rejects another format with a
-- specific error):
--   {"format": 1, "external_id": "<Odoo external id of the template>",
--    "template_id": 42, "name": "...", "description": "<plain text>",
--    "handle": "<url slug suggestion>", "active": true, "currency": "EUR",
--    "options": [{"name": "Color", "values": ["Red", "Blue"]}],   -- Odoo's sequences
--    "variants": [{"external_id": "...", "product_id": 7, "sku": "TS-R",
--                  "barcode": "..." | null, "weight": 0.2 | null, "weight_unit": "kg",
--                  "options": ["Red"],              -- one value per document option, same order
--                  "price": "12.50" | null,         -- decimal string in "currency"; null: none in it
--                  "active": true}],
--    "images": [{"url": "https://..."}]}           -- optional, publicly reachable URLs only
-- A 'price' payload: {"format": 1, "external_id", "template_id", "currency",
--    "variants": [{"external_id", "product_id", "sku", "price"}]}.
ALTER TABLE stock_relay_outbox ADD COLUMN IF NOT EXISTS payload jsonb;
-- Catalogue triggers: 'catalog' (an edit in Odoo, live) and 'catalog_sync'
-- (publish the whole selection, bulk).
ALTER TABLE stock_relay_outbox DROP CONSTRAINT IF EXISTS stock_relay_outbox_trigger_check;
ALTER TABLE stock_relay_outbox ADD CONSTRAINT stock_relay_outbox_trigger_check
    CHECK (trigger IN ('quant', 'picking', 'full_sync', 'manual_retry', 'manual',
                       'channel', 'mapping', 'product', 'archive', 'location', 'bom',
                       'reconcile', 'catalog', 'catalog_sync'));
CREATE OR REPLACE FUNCTION stock_relay_trigger_priority(p_trigger varchar) RETURNS integer
LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN p_trigger IN ('full_sync', 'reconcile', 'catalog_sync') THEN 0 ELSE 1 END
$$;
-- Pending catalogue rows of a channel (a stock row whose shop item does not
-- exist yet looks here for the product row it waits for).
CREATE INDEX IF NOT EXISTS stock_relay_outbox_catalog_open
    ON stock_relay_outbox (channel_id, kind, product_id)
    WHERE kind IN ('product', 'price') AND state IN ('pending', 'in_flight');

-- Per-template commit clock for catalogue rows: the same guarantee as
-- stock_relay_product_clock (the newest document was computed from all
-- committed data), in its own key space so stock and catalogue edits of one
-- product do not conflict with each other.
CREATE TABLE IF NOT EXISTS stock_relay_catalog_clock (
    kind        varchar NOT NULL,
    template_id integer NOT NULL,
    ticks       bigint  NOT NULL DEFAULT 0,
    PRIMARY KEY (kind, template_id)
);

-- Enqueue catalogue documents (parallel arrays; kind 'product' or 'price').
-- Newer wins per key exactly as stock_relay_enqueue; rows in flight are never
-- touched; failed rows of the key are closed as superseded. Returns the
-- number of rows written.
CREATE OR REPLACE FUNCTION stock_relay_enqueue_documents(
    p_kind         varchar,
    p_channel_ids  integer[],
    p_template_ids integer[],
    p_external_ids varchar[],
    p_payloads     jsonb[],
    p_trigger      varchar DEFAULT 'catalog'
) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    n integer;
BEGIN
    IF p_kind NOT IN ('product', 'price') THEN
        RAISE EXCEPTION 'stock_relay_enqueue_documents: kind must be product or price, not %', p_kind;
    END IF;
    IF cardinality(p_channel_ids) IS DISTINCT FROM cardinality(p_template_ids)
       OR cardinality(p_channel_ids) IS DISTINCT FROM cardinality(p_external_ids)
       OR cardinality(p_channel_ids) IS DISTINCT FROM cardinality(p_payloads) THEN
        RAISE EXCEPTION 'stock_relay_enqueue_documents: argument arrays differ in length';
    END IF;
    INSERT INTO stock_relay_catalog_clock AS c (kind, template_id, ticks)
    SELECT DISTINCT p_kind, tid, 1 FROM unnest(p_template_ids) AS tid ORDER BY 2
    ON CONFLICT (kind, template_id) DO UPDATE SET ticks = c.ticks + 1;

    INSERT INTO stock_relay_outbox AS o
        (channel_id, kind, product_id, sku, location_key, quantity, payload, trigger, priority)
    SELECT DISTINCT ON (t.channel_id, t.template_id)
           t.channel_id, p_kind, t.template_id, t.external_id, '', 0, t.payload, p_trigger,
           stock_relay_trigger_priority(p_trigger)
      FROM unnest(p_channel_ids, p_template_ids, p_external_ids, p_payloads)
           WITH ORDINALITY AS t(channel_id, template_id, external_id, payload, ord)
     ORDER BY t.channel_id, t.template_id, t.ord DESC
    ON CONFLICT (channel_id, kind, product_id, location_key) WHERE state = 'pending'
    DO UPDATE SET payload    = EXCLUDED.payload,
                  sku        = EXCLUDED.sku,
                  version    = EXCLUDED.version,
                  trigger    = EXCLUDED.trigger,
                  priority   = greatest(o.priority, EXCLUDED.priority),
                  updated_at = (now() AT TIME ZONE 'UTC');
    GET DIAGNOSTICS n = ROW_COUNT;
    UPDATE stock_relay_outbox o
       SET state = 'superseded', updated_at = (now() AT TIME ZONE 'UTC')
     WHERE o.id IN (
            SELECT f.id
              FROM stock_relay_outbox f
              JOIN unnest(p_channel_ids, p_template_ids) AS k(channel_id, template_id)
                ON f.channel_id = k.channel_id AND f.product_id = k.template_id
             WHERE f.state = 'failed' AND f.kind = p_kind AND f.location_key = ''
               FOR UPDATE OF f SKIP LOCKED);
    RETURN n;
END $$;

-- Odoo objects -> shop objects, per channel (daemon-written, Odoo reads it
-- for the product's shop links). One row per template ('product') and per
-- variant ('variant'), keyed by Odoo's external id, so a re-run updates
-- instead of duplicating. adopted: matched to a shop object created by hand
-- with the same SKU. document_hash: the last document published for a
-- template (a re-run of an unchanged document sends nothing).
CREATE TABLE IF NOT EXISTS stock_relay_catalog_map (
    channel_id       integer NOT NULL REFERENCES stock_relay_channel (id) ON DELETE CASCADE,
    external_id      varchar NOT NULL,
    object           varchar NOT NULL CHECK (object IN ('product', 'variant')),
    template_id      integer NOT NULL,
    product_id       integer,
    remote_id        varchar NOT NULL,
    parent_remote_id varchar NOT NULL DEFAULT '',
    handle           varchar,
    document_hash    varchar,
    adopted          boolean NOT NULL DEFAULT false,
    synced_at        timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    PRIMARY KEY (channel_id, external_id)
);
CREATE INDEX IF NOT EXISTS stock_relay_catalog_map_template
    ON stock_relay_catalog_map (channel_id, template_id);

-- Dry runs ("what would change in the shop"): Odoo writes the documents it
-- would publish (one template or the whole selection, same shape as the
-- outbox payloads); the daemon reads the shop and answers in `result`:
--   {"created": [{"external_id", "name"}],
--    "updated": [{"external_id", "name", "fields": {"<field>": {"shop": .., "odoo": ..}}}],
--    "unchanged": [{"external_id", "name"}],
--    "conflicts": [{"external_id", "name", "code", "message"}]}
-- The daemon changes nothing in the shop for a preview.
CREATE TABLE IF NOT EXISTS stock_relay_catalog_preview (
    id           bigserial PRIMARY KEY,
    channel_id   integer NOT NULL REFERENCES stock_relay_channel (id) ON DELETE CASCADE,
    template_id  integer,                -- NULL: the channel's whole selection
    documents    jsonb   NOT NULL DEFAULT '[]'::jsonb,
    state        varchar NOT NULL DEFAULT 'requested'
                 CHECK (state IN ('requested', 'running', 'done', 'failed')),
    result       jsonb,
    error        text,
    requested_by integer,                -- res.users id
    requested_at timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC'),
    started_at   timestamp,
    finished_at  timestamp
);
CREATE INDEX IF NOT EXISTS stock_relay_catalog_preview_open
    ON stock_relay_catalog_preview (id) WHERE state IN ('requested', 'running');
CREATE OR REPLACE FUNCTION stock_relay_catalog_preview_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('stock_relay_catalog_preview', '');
    RETURN NULL;
END $$;
DROP TRIGGER IF EXISTS stock_relay_catalog_preview_notify ON stock_relay_catalog_preview;
CREATE TRIGGER stock_relay_catalog_preview_notify
    AFTER INSERT ON stock_relay_catalog_preview
    FOR EACH STATEMENT EXECUTE FUNCTION stock_relay_catalog_preview_notify();
-- Retry of failed catalogue rows (stock_relay_retry_failed is stock-only: a
-- catalogue row has no quantity to re-enqueue, its document is the value).
-- Same rules: the newest failed row per key is re-queued with its stored
-- document (trigger 'manual_retry'), every picked failed row is closed as
-- superseded; an older failed row whose key has a newer row is only closed.
-- Odoo's own Retry recomputes the document instead; this is for
-- `stockrelayd retry` and the daemon.
CREATE OR REPLACE FUNCTION stock_relay_retry_failed_documents(
    p_channel_id  integer   DEFAULT NULL,
    p_row_id      bigint    DEFAULT NULL,
    p_error_codes varchar[] DEFAULT NULL,
    OUT requeued  integer,
    OUT closed    integer
) LANGUAGE plpgsql AS $$
DECLARE
    ids bigint[]; k varchar; ch integer[]; tp integer[]; ex varchar[]; pl jsonb[];
BEGIN
    SELECT coalesce(array_agg(f.id), '{}') INTO ids
      FROM (SELECT f.id FROM stock_relay_outbox f
             WHERE f.state = 'failed' AND f.kind IN ('product', 'price') AND f.payload IS NOT NULL
               AND (p_channel_id IS NULL OR f.channel_id = p_channel_id)
               AND (p_row_id IS NULL OR f.id = p_row_id)
               AND (p_error_codes IS NULL OR f.error_code = ANY (p_error_codes))
               FOR UPDATE SKIP LOCKED) f;  -- a locked failed row is being closed by its holder
    UPDATE stock_relay_outbox SET state = 'superseded', updated_at = (now() AT TIME ZONE 'UTC')
     WHERE id = ANY (ids);
    closed := cardinality(ids);
    requeued := 0;
    FOREACH k IN ARRAY ARRAY['product', 'price'] LOOP
        SELECT coalesce(array_agg(l.channel_id), '{}'), coalesce(array_agg(l.product_id), '{}'),
               coalesce(array_agg(l.sku), '{}'), coalesce(array_agg(l.payload), '{}')
          INTO ch, tp, ex, pl
          FROM (SELECT DISTINCT ON (o.channel_id, o.product_id) o.*
                  FROM stock_relay_outbox o
                 WHERE o.id = ANY (ids) AND o.kind = k
                 ORDER BY o.channel_id, o.product_id, o.version DESC) l
         WHERE NOT EXISTS (SELECT 1 FROM stock_relay_outbox n
                            WHERE n.channel_id = l.channel_id AND n.kind = l.kind AND n.product_id = l.product_id
                              AND n.version > l.version AND n.state <> 'superseded');
        IF cardinality(ch) > 0 THEN
            requeued := requeued + stock_relay_enqueue_documents(k, ch, tp, ex, pl, 'manual_retry');
        END IF;
    END LOOP;
END $$;
-- ---- end v5 [catalogue] ----------------------------------------------------

-- ---- v6 [catalogue-ops] (issue #16) ---------------------------------------
-- Reserved: what running the catalogue for real needs: automatic retry of
-- transient catalogue failures, catalogue figures for the dashboard.
-- ---- end v6 [catalogue-ops] ------------------------------------------------

-- ---- v6 [drain] (issue #17) ------------------------------------------------
-- Reserved: the drain's fast path (one-round-trip ack + claim, lean acks).
-- ---- end v6 [drain] --------------------------------------------------------

-- ---- v6 [in-flight] (issue #17) --------------------------------------------
-- Slow shops (real WooCommerce spends ~37 ms per product save) are driven by
-- several batches at once: the daemon keeps up to batches_in_flight batches
-- of one channel in flight on DISJOINT keys (the claim still skips every key
-- that has a row in flight, so at most one row per key is ever in flight).
-- NULL: the daemon's default for the shop type (WooCommerce 4, Medusa 2,
-- Shopify 1: the measured best settings, docs/BENCHMARKS.md section 14). Bounded: every batch in
-- flight holds one PostgreSQL connection and one shop connection.
ALTER TABLE stock_relay_channel ADD COLUMN IF NOT EXISTS batches_in_flight integer;
ALTER TABLE stock_relay_channel DROP CONSTRAINT IF EXISTS stock_relay_channel_batches_in_flight_check;
ALTER TABLE stock_relay_channel ADD CONSTRAINT stock_relay_channel_batches_in_flight_check
    CHECK (batches_in_flight IS NULL OR batches_in_flight BETWEEN 1 AND 16);
COMMENT ON COLUMN stock_relay_channel.batches_in_flight IS
    'Batches of this channel the daemon keeps in flight at once, on disjoint keys (1-16; NULL: the daemon''s default by shop type: WooCommerce 4, Medusa 2, Shopify 1)';
-- ---- end v6 [in-flight] ----------------------------------------------------

-- ---- v6 [commit-clock] (issue #17) -----------------------------------------
-- Why: the per-product commit clock (stock_relay_product_clock, v1) makes two
-- Odoo transactions that publish one product conflict; the later one got a
-- serialization failure at precommit and Odoo replayed the WHOLE user request
-- (a picking validation: seconds of work), and past five replays the user saw
-- an error. bench/odoo_concurrency.py measured it: most of the retries of a
-- busy warehouse were stock_relay_enqueue's.
--
-- Now the capture path (the addon's precommit) calls
-- stock_relay_enqueue_or_defer: the same stock_relay_enqueue inside a
-- subtransaction. When the clock (or the key's pending row) says another
-- transaction published one of these products after this one's snapshot was
-- taken, the enqueue is rolled back -- the numbers it carried were computed
-- from a stale snapshot and must not become the newest row -- and the keys
-- are recorded in stock_relay_recheck instead, in the same transaction (so a
-- rolled-back transaction leaves nothing, invariant 1). The user's
-- transaction commits. Right after the commit the addon recomputes the
-- recorded keys in a new transaction (a fresh snapshot that sees both
-- commits) through the strict stock_relay_enqueue, and a cron sweeps what a
-- crash left behind (invariant 2). Invariant 3 holds for the rows: a row is
-- only ever written from a snapshot that saw every committed change of its
-- product (the clock still guarantees it); between the deferred commit and
-- the recheck (milliseconds) the newest row is the other transaction's, which
-- lacks this one's change, exactly as if this change had committed a moment
-- later. tests/integration/test_commit_clock.py and the addon's
-- test_concurrency.py prove both properties.
CREATE TABLE IF NOT EXISTS stock_relay_recheck (
    id           bigserial PRIMARY KEY,
    channel_id   integer NOT NULL REFERENCES stock_relay_channel (id) ON DELETE CASCADE,
    product_id   integer NOT NULL,
    location_key varchar NOT NULL DEFAULT '',
    trigger      varchar NOT NULL,
    created_at   timestamp NOT NULL DEFAULT (now() AT TIME ZONE 'UTC')
);

-- Arguments as stock_relay_enqueue. Returns the rows written, or -1 when the
-- keys were deferred to stock_relay_recheck.
-- Never deferred: a transaction that confirmed a shop order (it wrote a
-- stock_relay_inbox_absorbed row, absorbed_at = its start). The v4 rule "a
-- number computed in a transaction that started at or after absorbed_at
-- contains the order" needs that transaction to serialize with every other
-- publisher of the product, so it keeps the v1 behaviour: the serialization
-- failure reaches Odoo, which replays it (a new start, a new absorbed_at).
CREATE OR REPLACE FUNCTION stock_relay_enqueue_or_defer(
    p_channel_ids   integer[],
    p_product_ids   integer[],
    p_skus          varchar[],
    p_location_keys varchar[],
    p_quantities    numeric[],
    p_trigger       varchar DEFAULT 'quant',
    p_kind          varchar DEFAULT 'stock'
) RETURNS integer LANGUAGE plpgsql AS $$
BEGIN
    IF p_kind <> 'stock' THEN
        RAISE EXCEPTION 'stock_relay_enqueue_or_defer: only stock rows are deferred (kind %)', p_kind;
    END IF;
    BEGIN
        RETURN stock_relay_enqueue(p_channel_ids, p_product_ids, p_skus, p_location_keys, p_quantities,
                                   p_trigger, p_kind);
    EXCEPTION WHEN serialization_failure OR deadlock_detected THEN
        IF EXISTS (SELECT 1 FROM stock_relay_inbox_absorbed
                    WHERE absorbed_at = (now() AT TIME ZONE 'UTC')) THEN
            RAISE;  -- this transaction absorbed an order (see above)
        END IF;
        INSERT INTO stock_relay_recheck (channel_id, product_id, location_key, trigger)
        SELECT DISTINCT k.channel_id, k.product_id, coalesce(k.location_key, ''), p_trigger
          FROM unnest(p_channel_ids, p_product_ids, p_location_keys) AS k(channel_id, product_id, location_key);
        RETURN -1;
    END;
END $$;
-- ---- end v6 [commit-clock] -------------------------------------------------

INSERT INTO stock_relay_schema_version (singleton, version) VALUES (true, 6)
ON CONFLICT (singleton) DO UPDATE SET version = EXCLUDED.version;
