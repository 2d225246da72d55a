// Warming the SKU cache from one inventory read (issue 11). A cold "Resync
// all" of a large channel would otherwise look up every SKU in batched
// searches (Shopify: 50 SKUs a search, ~100 points each), which under a
// Standard-plan bucket caps the resync at ~33 items/s. When a claimed batch
// holds at least `min_missing` SKUs with no valid cache entry, the channel
// can read its inventory and no warm-up ran within `cooldown`, the worker
// reads the shop once and caches every SKU found on exactly one shop item.
//   - Ownership is untouched: entries are written without a product
//     (an existing entry keeps its product_id); the push that lands a row
//     records its product as today (worker.cpp decide_acks).
//   - A SKU on two or more shop items is not cached, so the push resolves it
//     and reports duplicate_sku as before; untracked items and records with a
//     problem are left to the push's own lookup too.
//   - Only a complete read is used (a partial one cannot rule out duplicates).
//   - The batch's leases are extended while the shop is read.
// Settings: settings.warm_cache_min_missing (default 100; 0 turns it off),
// settings.warm_cache_cooldown_s (default 3600).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "pg.hpp"
#include "queries.hpp"
#include "stockrelay/channels/channel.hpp"

namespace stockrelay::sidecar {

struct WarmCacheOptions {
    std::size_t min_missing = 100;
    std::chrono::seconds cooldown{3600};
    static WarmCacheOptions from_settings(const nlohmann::json& settings);
};

struct WarmLease {
    std::vector<std::int64_t> row_ids;
    std::string worker_id;
    std::chrono::seconds lease{30};
};

// What one warm-up did (logged, and counted by tests through the log).
struct WarmResult {
    std::int64_t records = 0;
    std::int64_t cached = 0;
    std::int64_t duplicates = 0;
    int api_calls = 0;
    std::optional<Error> error;
};

class CacheWarmer {
public:
    // SKUs of `batch_skus` with no valid entry in `cache`.
    static std::size_t missing(const std::vector<std::string>& batch_skus,
                               const std::map<std::string, queries::CachedSku>& cache);
    // Runs a warm-up when due; true when entries were written (reload the cache).
    bool maybe_warm(pg::Connection& conn, channels::Channel& channel, const channels::Config& config,
                    const std::vector<std::string>& batch_skus, const std::map<std::string, queries::CachedSku>& cache,
                    const WarmLease& lease);

private:
    WarmResult warm(pg::Connection& conn, channels::Channel& channel, const channels::Config& config, const WarmLease& lease);
    std::optional<std::chrono::steady_clock::time_point> last_;
    bool unsupported_ = false;
};

}  // namespace stockrelay::sidecar
