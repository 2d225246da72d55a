#include "catalog_heal.hpp"

#include <optional>

#include <fmt/format.h>

#include "stockrelay/log.hpp"

namespace stockrelay::sidecar {

namespace {

constexpr const char* kHealable = "ARRAY['transient', 'throttled']::varchar[]";

bool has_healable(pg::Connection& conn, std::int64_t channel_id) {
    auto r = conn.exec(fmt::format("SELECT EXISTS (SELECT 1 FROM stock_relay_outbox WHERE channel_id = $1::integer "
                                   "AND kind IN ('product', 'price') AND state = 'failed' AND error_code = ANY ({}))",
                                   kHealable).c_str(),
                       pg::Params().add(channel_id));
    return r.rows() > 0 && r.boolean(0, 0);
}

bool queue_empty(pg::Connection& conn, std::int64_t channel_id) {
    auto r = conn.exec("SELECT NOT EXISTS (SELECT 1 FROM stock_relay_outbox WHERE channel_id = $1::integer "
                       "AND kind IN ('product', 'price') AND state IN ('pending', 'in_flight'))",
                       pg::Params().add(channel_id));
    return r.rows() > 0 && r.boolean(0, 0);
}

// Re-queues the healable failed rows of the channel (only `row` when set).
std::int64_t requeue(pg::Connection& conn, std::int64_t channel_id, std::optional<std::int64_t> row) {
    pg::Transaction tx(conn);
    auto r = conn.exec(fmt::format("SELECT requeued FROM stock_relay_retry_failed_documents($1::integer, "
                                   "$2::bigint, {})",
                                   kHealable).c_str(),
                       pg::Params().add(channel_id).add(row));
    tx.commit();
    return r.rows() > 0 ? r.i64(0, 0) : 0;
}

std::optional<std::int64_t> probe_row(pg::Connection& conn, std::int64_t channel_id) {
    auto r = conn.exec(fmt::format("SELECT id FROM stock_relay_outbox WHERE channel_id = $1::integer "
                                   "AND kind IN ('product', 'price') AND state = 'failed' AND error_code = ANY ({}) "
                                   "AND payload IS NOT NULL ORDER BY kind = 'product' DESC, id DESC LIMIT 1",
                                   kHealable).c_str(),
                       pg::Params().add(channel_id));
    if (r.rows() == 0) return std::nullopt;
    return r.i64(0, 0);
}

}  // namespace

std::int64_t CatalogHealer::after_pass(pg::Connection& conn, std::int64_t channel_id, int landed) {
    if (!has_healable(conn, channel_id)) return 0;
    if (landed > 0) {
        const auto n = requeue(conn, channel_id, std::nullopt);
        if (n > 0)
            log::info("channel {}: the shop works again: {} catalogue row(s) failed for its state re-queued",
                      channel_id, n);
        return n;
    }
    const auto now = std::chrono::steady_clock::now();
    auto it = last_probe_.find(channel_id);
    if (it != last_probe_.end() && now - it->second < probe_every_) return 0;
    if (!queue_empty(conn, channel_id)) return 0;
    last_probe_[channel_id] = now;
    const auto row = probe_row(conn, channel_id);
    if (!row) return 0;
    const auto n = requeue(conn, channel_id, row);
    log::info("channel {}: catalogue row {} (failed for the shop's state) re-queued to see whether the shop works "
              "again", channel_id, *row);
    return n;
}

}  // namespace stockrelay::sidecar
