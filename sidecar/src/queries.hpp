// Every SQL statement stockrelayd runs against the outbox contract
// (native/sql/stock_relay_schema.sql), as functions over a pg::Connection.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "pg.hpp"
#include "stockrelay/channels/channel.hpp"

namespace stockrelay::sidecar::queries {

// The contract version in the database; nullopt when there is no contract at all.
std::optional<int> schema_version(pg::Connection& conn);
void apply_schema(pg::Connection& conn);

struct ChannelRow {
    std::int64_t id = 0;
    std::string name;
    std::string type;
    bool enabled = true;
    std::string json;  // row_to_json of the whole row: Config::from_json input and change fingerprint
};
std::vector<ChannelRow> load_channels(pg::Connection& conn, bool enabled_only, std::optional<std::int64_t> only);

struct ClaimedRow {
    std::int64_t id = 0;
    std::int64_t product_id = 0;
    std::string sku;
    std::string location_key;
    std::string quantity;  // numeric as text: validated before use
    std::int64_t version = 0;
    int attempts = 0;      // including this claim
};

// Recovers expired leases of the channel, then claims up to `limit` due rows
// (at most one per key in flight; highest priority first, then oldest due) in
// one transaction. Retries when another
// replica wins a race on the in-flight index.
// `due_before` (a UTC timestamp as text) limits the claim to rows that were
// due then: `drain --once` drains what was due when it started, not retries
// it scheduled itself.
std::vector<ClaimedRow> claim(pg::Connection& conn, std::int64_t channel_id, const std::string& worker_id,
                              std::chrono::seconds lease, int limit, const std::optional<std::string>& due_before,
                              std::int64_t* recovered = nullptr);

// The same two statements inside the caller's transaction, without retries:
// the ack of one batch folds the claim of the next into its own transaction
// (one commit, one fewer BEGIN/COMMIT pair); a unique violation aborts the
// caller's transaction, which the caller retries as a whole.
std::vector<ClaimedRow> claim_in_tx(pg::Connection& conn, std::int64_t channel_id, const std::string& worker_id,
                                    std::chrono::seconds lease, int limit,
                                    const std::optional<std::string>& due_before, std::int64_t* recovered = nullptr);

// The database's current UTC time as text (for `due_before`).
std::string db_now(pg::Connection& conn);

// Pushes the lease of our in-flight rows forward (a long push must not let
// another worker take them over and apply an older value after a newer one).
// Returns how many rows are still ours.
std::int64_t extend_lease(pg::Connection& conn, const std::vector<std::int64_t>& ids, const std::string& worker_id,
                          std::chrono::seconds lease);

// Re-queues the channel's rows that failed because the shop refused its
// credentials or settings (called when a worker starts with new settings).
std::int64_t requeue_refused(pg::Connection& conn, std::int64_t channel_id);

// Time until the channel's next pending row is due or lease expires (<= 0:
// already due); nullopt when there is nothing to wait for.
std::optional<std::chrono::milliseconds> next_due(pg::Connection& conn, std::int64_t channel_id);

// Milliseconds since each of `ids` was enqueued (for the retry window).
std::map<std::int64_t, std::chrono::milliseconds> row_ages(pg::Connection& conn, const std::vector<std::int64_t>& ids);

// stock_relay_channel_state (contract v2): what the daemon saw of a channel as a whole.
struct ChannelStateRow {
    std::string state;   // flowing | down | refused (status: unknown when the table cannot be read)
    std::string since;   // ISO 8601 UTC
    std::optional<std::string> reason;
    std::optional<std::string> error_code;
    std::optional<std::string> worker_id;
    int probes = 0;
    std::optional<std::string> next_probe_at;  // ISO 8601 UTC
};
std::optional<ChannelStateRow> load_channel_state(pg::Connection& conn, std::int64_t channel_id);
// Upserts the channel's state; `since` moves only when the state changes.
void save_channel_state(pg::Connection& conn, std::int64_t channel_id, std::string_view state,
                        const std::optional<std::string>& reason, const std::optional<std::string>& error_code,
                        const std::string& worker_id, int probes, std::chrono::milliseconds next_probe_in);

struct CachedSku {
    channels::Resolution resolution;
    std::optional<std::int64_t> owner;  // the Odoo product publishing this SKU on the channel
    bool expired = false;               // resolved longer ago than the channel trusts: look it up again
};
std::map<std::string, CachedSku> load_cache(pg::Connection& conn, std::int64_t channel_id,
                                            const std::vector<std::string>& skus, std::chrono::seconds max_age);

// The SKU each of `products` carries on its newest row of the channel.
std::map<std::int64_t, std::string> current_skus(pg::Connection& conn, std::int64_t channel_id,
                                                 const std::vector<std::int64_t>& products);

// Rows among `ids` whose key has a pending row (necessarily newer).
std::set<std::int64_t> rows_with_pending_successor(pg::Connection& conn, const std::vector<std::int64_t>& ids);

struct AckRow {
    std::int64_t id = 0;
    std::string state;  // done | pending | failed | superseded
    std::chrono::milliseconds delay{0};
    bool refund_attempt = false;
    int http_status = 0;
    std::optional<std::string> error_code;
    std::optional<std::string> last_error;
    std::optional<std::string> request_excerpt;   // nullopt keeps the previous
    std::optional<std::string> response_excerpt;  // nullopt keeps the previous
};
// One statement for the whole batch; only rows still in flight under our
// lease are touched. Returns how many were.
std::int64_t write_acks(pg::Connection& conn, const std::string& worker_id, const std::vector<AckRow>& rows);

// Drops stale mappings and upserts fresh ones (mapping and owning product),
// in one statement each; the upsert goes through the primary key, so its cost
// does not depend on the cache's size or statistics.
void update_cache(pg::Connection& conn, std::int64_t channel_id, const std::map<std::string, CachedSku>& upserts,
                  const std::set<std::string>& drops);

struct RetryResult {
    std::int64_t requeued = 0;
    std::int64_t closed = 0;
};
// stock_relay_retry_failed() of the contract: newest failed value per key re-queued,
// the picked failed rows superseded. Empty `error_codes` = any code.
RetryResult retry_failed(pg::Connection& conn, std::optional<std::int64_t> channel_id, std::optional<std::int64_t> row_id,
                         const std::vector<std::string>& error_codes = {});

struct ChannelStatus {
    std::int64_t id = 0;
    std::string name;
    std::string type;
    bool enabled = true;
    std::map<std::string, std::int64_t> counts;  // every state, zeros included
    std::optional<double> oldest_pending_seconds;
    std::optional<std::string> last_success;     // ISO 8601 UTC
    std::optional<std::string> last_error;       // newest failed row's reason
    std::optional<ChannelStateRow> health;       // nullopt: never reported (flowing)
    std::map<std::string, std::int64_t> failed_by_reason;  // failed rows per error_code
    std::optional<std::string> last_failure_at;  // ISO 8601 UTC of the newest failed row
};
std::vector<ChannelStatus> status(pg::Connection& conn, std::optional<std::int64_t> only);

}  // namespace stockrelay::sidecar::queries
