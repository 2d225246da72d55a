// The SQL of reconcile runs (contract v3 [reconcile]): claiming a request,
// streaming snapshot pages, finishing, failing, requesting and reporting.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pg.hpp"
#include "reconcile_cache.hpp"
#include "stockrelay/channels/channel.hpp"

namespace stockrelay::sidecar::reconcile_queries {

// Snapshot rows of older runs are deleted when a run completes: a channel
// keeps the snapshots of its newest kKeepSnapshots runs (the one just read
// included), enough for Odoo to compare the newest while an older report
// is still being looked at.
inline constexpr int kKeepSnapshots = 3;

struct Claimed {
    std::int64_t id = 0;
    std::int64_t channel_id = 0;
    nlohmann::json cursor;  // null: from the start
    int attempts = 0;       // including this claim
};

// Takes the oldest request that is pending, or reading but not leased (a
// retry whose time has come, or a reader that died), for `worker_id`, with a
// lease of `lease`; FOR UPDATE SKIP LOCKED, so two daemons never take one.
std::optional<Claimed> claim(pg::Connection& conn, const std::string& worker_id, std::chrono::seconds lease,
                             std::optional<std::int64_t> channel);

// One page: snapshot rows plus the run's cursor, counters and lease, in one
// transaction. False when the run is no longer ours (lease lost, cancelled).
bool store_page(pg::Connection& conn, const Claimed& run, const std::string& worker_id, std::chrono::seconds lease,
                const std::vector<channels::InventoryRecord>& page, const nlohmann::json& cursor, int api_calls,
                int cost_points);

struct Totals {
    std::int64_t items = 0;
    std::int64_t malformed = 0;
    CacheRefresh cache;
};

// Marks the run read (counts taken from its snapshot), refreshes the SKU
// cache, prunes old snapshots and wakes Odoo's reconcile cron, in one
// transaction. nullopt when the run is no longer ours.
std::optional<Totals> complete(pg::Connection& conn, const Claimed& run, const std::string& worker_id,
                               const std::string& method, int api_calls, int cost_points);

// A transient failure: the run stays 'reading' with its cursor, unleased
// until `retry_in` from now.
void postpone(pg::Connection& conn, const Claimed& run, const std::string& worker_id, const Error& error,
              std::chrono::milliseconds retry_in, int api_calls, int cost_points);

// Marks the run failed with the reason; its partial snapshot is deleted.
void fail(pg::Connection& conn, const Claimed& run, const std::string& worker_id, const Error& error, int api_calls,
          int cost_points);

// `stockrelayd reconcile`: a new request (or the channel's open one, which
// the unique index makes the same request). Returns (id, created).
std::pair<std::int64_t, bool> request(pg::Connection& conn, std::int64_t channel_id, bool heal,
                                      const std::string& requested_by);

struct RunRow {
    std::int64_t id = 0;
    std::int64_t channel_id = 0;
    std::string state;
    std::optional<std::string> requested_at, started_at, read_at, done_at;
    std::int64_t items_read = 0, malformed = 0, api_calls = 0, cost_points = 0, attempts = 0;
    std::optional<std::string> method, error_code, last_error;
    std::optional<std::int64_t> items_compared, drift_found, healed;
    std::optional<double> read_seconds;  // started_at -> read_at
};

std::optional<RunRow> get(pg::Connection& conn, std::int64_t id);
// The newest run of each channel (of `only`, when given).
std::vector<RunRow> latest(pg::Connection& conn, std::optional<std::int64_t> only);

}  // namespace stockrelay::sidecar::reconcile_queries

namespace stockrelay::sidecar::reconcile_queries {

// Runs left 'reading' by a dead reader on this host (worker_id.hpp
// instance_gone) become claimable at once instead of at lease expiry; `self`
// is never reclaimed. Returns how many came back.
std::int64_t reclaim_dead_readers(pg::Connection& conn, const std::string& self);

// How long until the next postponed or leased run may be claimed (nullopt: none waiting).
std::optional<std::chrono::milliseconds> next_due(pg::Connection& conn, std::optional<std::int64_t> channel);

}  // namespace stockrelay::sidecar::reconcile_queries
