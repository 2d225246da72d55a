// Warming the SKU cache from one inventory read: see warm_cache.hpp.
#include "warm_cache.hpp"

#include <condition_variable>
#include <mutex>
#include <thread>
#include <unordered_map>

#include <fmt/format.h>

#include "lease.hpp"
#include "stockrelay/log.hpp"

namespace stockrelay::sidecar {
namespace {

using std::chrono::steady_clock;

constexpr std::size_t kUpsertChunk = 2000;

std::int64_t int_setting(const nlohmann::json& s, std::string_view key, std::int64_t fallback) {
    auto it = s.is_object() ? s.find(key) : s.end();
    return it != s.end() && it->is_number_integer() && it->get<std::int64_t>() >= 0 ? it->get<std::int64_t>() : fallback;
}

// Extends the batch's leases while `work` runs (the read never uses `conn`).
template <typename F>
void keeping_leases(pg::Connection& conn, const WarmLease& lease, F&& work) {
    std::mutex m;
    std::condition_variable cv;
    bool done = false;
    std::thread heartbeat([&] {
        std::unique_lock lock(m);
        while (!cv.wait_for(lock, LeaseGuard::heartbeat_every(lease.lease), [&] { return done; })) {
            try {
                queries::extend_lease(conn, lease.row_ids, lease.worker_id, lease.lease);
            } catch (const std::exception& e) {
                log::warn("cache warm-up: could not extend the batch's lease: {}", e.what());
                return;
            }
        }
    });
    auto stop = [&] {
        {
            std::lock_guard lock(m);
            done = true;
        }
        cv.notify_all();
        heartbeat.join();
    };
    try {
        work();
    } catch (...) {
        stop();
        throw;
    }
    stop();
}

}  // namespace

WarmCacheOptions WarmCacheOptions::from_settings(const nlohmann::json& settings) {
    WarmCacheOptions o;
    o.min_missing = static_cast<std::size_t>(int_setting(settings, "warm_cache_min_missing", 100));
    o.cooldown = std::chrono::seconds{int_setting(settings, "warm_cache_cooldown_s", 3600)};
    return o;
}

std::size_t CacheWarmer::missing(const std::vector<std::string>& batch_skus,
                                 const std::map<std::string, queries::CachedSku>& cache) {
    std::size_t n = 0;
    for (const auto& sku : batch_skus) {
        auto c = cache.find(sku);
        if (c == cache.end() || c->second.expired || c->second.resolution.remote_id.empty()) ++n;
    }
    return n;
}

bool CacheWarmer::maybe_warm(pg::Connection& conn, channels::Channel& channel, const channels::Config& config,
                             const std::vector<std::string>& batch_skus,
                             const std::map<std::string, queries::CachedSku>& cache, const WarmLease& lease) {
    const auto opts = WarmCacheOptions::from_settings(config.settings);
    if (unsupported_ || opts.min_missing == 0) return false;
    const auto now = steady_clock::now();
    if (last_ && now - *last_ < opts.cooldown) return false;
    const std::size_t n = missing(batch_skus, cache);
    if (n < opts.min_missing) return false;
    last_ = now;
    log::info("channel {} ({}): {} SKUs of this batch are not cached; reading the shop once to warm the SKU cache",
              config.id, config.name, n);
    const auto started = steady_clock::now();
    WarmResult r = warm(conn, channel, config, lease);
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - started).count();
    if (r.error && r.error->code == ErrorCode::config) {  // e.g. a channel type that cannot read yet: once
        unsupported_ = true;
        log::info("channel {} ({}): no SKU cache warm-up: {}", config.id, config.name, r.error->message);
        return false;
    }
    if (r.error) {
        log::warn("channel {} ({}): SKU cache warm-up failed after {} ms ({} records read): {}; the push looks SKUs up "
                  "as usual", config.id, config.name, ms, r.records, r.error->message);
        return false;
    }
    log::info("channel {} ({}): SKU cache warm-up: {} records read in {} ms with {} API calls; {} SKUs cached, {} "
              "duplicate SKUs left to the push", config.id, config.name, r.records, ms, r.api_calls, r.cached,
              r.duplicates);
    return r.cached > 0;
}

WarmResult CacheWarmer::warm(pg::Connection& conn, channels::Channel& channel, const channels::Config& config,
                             const WarmLease& lease) {
    WarmResult out;
    // SKU -> the one shop item carrying it ("" once a second item carries it too).
    std::unordered_map<std::string, std::string> found;
    channels::ReadReport report;
    keeping_leases(conn, lease, [&] {
        out.error = channel.read_inventory({}, nullptr, [&](const std::vector<channels::InventoryRecord>& page,
                                                           const nlohmann::json&) {
            for (const auto& rec : page) {
                ++out.records;
                if (!rec.sku || rec.remote_id.empty() || !rec.problem.empty()) continue;
                // "-": untracked (left to the push); "": on two or more items.
                auto [it, fresh] = found.try_emplace(*rec.sku, rec.tracked ? rec.remote_id : std::string("-"));
                if (!fresh && it->second != (rec.tracked ? rec.remote_id : std::string("-"))) it->second.clear();
            }
            return true;
        }, report);
    });
    out.api_calls = report.api_calls;
    if (out.error) return out;
    std::map<std::string, queries::CachedSku> chunk;
    for (const auto& [sku, remote] : found) {
        if (remote.empty() || remote == "-") {
            if (remote.empty()) ++out.duplicates;
            continue;
        }
        queries::CachedSku c;
        c.resolution.remote_id = remote;
        chunk.emplace(sku, std::move(c));  // owner stays unset: the ownership check decides it
        if (chunk.size() >= kUpsertChunk) {
            queries::update_cache(conn, config.id, chunk, {});
            out.cached += static_cast<std::int64_t>(chunk.size());
            chunk.clear();
        }
    }
    if (!chunk.empty()) queries::update_cache(conn, config.id, chunk, {});
    out.cached += static_cast<std::int64_t>(chunk.size());
    return out;
}

}  // namespace stockrelay::sidecar
