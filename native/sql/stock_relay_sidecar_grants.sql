-- Least privilege for stockrelayd's own PostgreSQL role. Apply as the owner
-- of Odoo's database, after the addon is installed (the tables exist):
--   psql -d <odoo_db> -v role=stockrelayd -f native/sql/stock_relay_sidecar_grants.sql
-- The role needs LOGIN and a password (or peer/cert auth) set separately; it
-- is not a superuser and owns nothing.
GRANT CONNECT ON DATABASE :"DBNAME" TO :"role";
GRANT USAGE ON SCHEMA public TO :"role";
GRANT SELECT ON stock_relay_schema_version, stock_relay_channel TO :"role";
-- Claim/ack rows; re-queue failed rows (`stockrelayd retry`) through stock_relay_enqueue.
GRANT SELECT, INSERT, UPDATE ON stock_relay_outbox TO :"role";
GRANT USAGE, SELECT ON SEQUENCE stock_relay_outbox_id_seq, stock_relay_outbox_version_seq TO :"role";
GRANT SELECT, INSERT, UPDATE ON stock_relay_product_clock TO :"role";
GRANT EXECUTE ON FUNCTION stock_relay_enqueue(integer[], integer[], varchar[], varchar[], numeric[], varchar, varchar),
                          stock_relay_retry_failed(integer, bigint, varchar[]) TO :"role";
-- The SKU -> remote id cache is the sidecar's own.
GRANT SELECT, INSERT, UPDATE, DELETE ON stock_relay_sku_cache TO :"role";
-- Contract v2 (issue 10): the daemon records what it sees of each channel as a whole.
GRANT SELECT, INSERT, UPDATE ON stock_relay_channel_state TO :"role";
-- Contract v3: the daemon reads shops into snapshots for reconcile runs, and
-- stores shop order events in the inbox (Odoo turns them into sale orders).
GRANT SELECT, UPDATE ON stock_relay_reconcile TO :"role";
GRANT INSERT ON stock_relay_reconcile TO :"role";  -- `stockrelayd reconcile` requests a run
GRANT USAGE, SELECT ON SEQUENCE stock_relay_reconcile_id_seq TO :"role";
GRANT SELECT, INSERT, UPDATE, DELETE ON stock_relay_snapshot TO :"role";
GRANT SELECT, INSERT ON stock_relay_inbox TO :"role";
GRANT USAGE, SELECT ON SEQUENCE stock_relay_inbox_id_seq TO :"role";
GRANT SELECT, INSERT, UPDATE ON stock_relay_order_cursor TO :"role";
GRANT EXECUTE ON FUNCTION stock_relay_wake_odoo(varchar) TO :"role";
-- Contract v4: the daemon's heartbeat.
GRANT SELECT, INSERT, UPDATE, DELETE ON stock_relay_daemon TO :"role";
GRANT USAGE, SELECT ON SEQUENCE stock_relay_daemon_id_seq TO :"role";
-- Contract v4 [sales-aware]: the value last set per key is the daemon's own;
-- it reads when Odoo confirmed each inbox order.
GRANT SELECT, INSERT, UPDATE, DELETE ON stock_relay_last_set TO :"role";
GRANT SELECT ON stock_relay_inbox_absorbed TO :"role";
-- Contract v5 [catalogue]: the daemon maps Odoo's products to shop objects,
-- answers dry runs, and re-queues failed catalogue rows.
GRANT SELECT, INSERT, UPDATE, DELETE ON stock_relay_catalog_map TO :"role";
GRANT SELECT, UPDATE ON stock_relay_catalog_preview TO :"role";
GRANT INSERT ON stock_relay_catalog_preview TO :"role";  -- `stockrelayd catalog --dry-run` requests one
GRANT USAGE, SELECT ON SEQUENCE stock_relay_catalog_preview_id_seq TO :"role";
GRANT SELECT, INSERT, UPDATE ON stock_relay_catalog_clock TO :"role";
GRANT EXECUTE ON FUNCTION stock_relay_enqueue_documents(varchar, integer[], integer[], varchar[], jsonb[], varchar) TO :"role";
