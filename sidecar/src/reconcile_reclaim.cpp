#include <algorithm>

#include <fmt/format.h>

#include "reconcile_queries.hpp"
#include "stockrelay/log.hpp"
#include "worker_id.hpp"

namespace stockrelay::sidecar::reconcile_queries {

std::int64_t reclaim_dead_readers(pg::Connection& conn, const std::string& self) {
    auto r = conn.exec(
        "SELECT DISTINCT leased_by FROM stock_relay_reconcile "
        " WHERE state = 'reading' AND leased_by IS NOT NULL AND leased_by <> $1 "
        "   AND lease_until > (now() AT TIME ZONE 'UTC')",
        pg::Params().add(self));
    std::int64_t n = 0;
    for (int i = 0; i < r.rows(); ++i) {
        const auto who = r.str(i, 0);
        if (!instance_gone(who)) continue;
        auto u = conn.exec(
            "UPDATE stock_relay_reconcile SET lease_until = (now() AT TIME ZONE 'UTC') "
            " WHERE state = 'reading' AND leased_by = $1",
            pg::Params().add(who));
        n += u.affected();
        log::info("reconcile: reader '{}' is gone; its {} run(s) resume from their cursor now", who, u.affected());
    }
    return n;
}

std::optional<std::chrono::milliseconds> next_due(pg::Connection& conn, std::optional<std::int64_t> channel) {
    auto r = conn.exec(
        "SELECT ceil(extract(epoch FROM min(lease_until) - (now() AT TIME ZONE 'UTC')) * 1000)::bigint "
        "  FROM stock_relay_reconcile WHERE state IN ('pending', 'reading') AND lease_until IS NOT NULL "
        "   AND ($1::integer IS NULL OR channel_id = $1::integer)",
        pg::Params().add(channel));
    if (r.rows() == 0 || r.is_null(0, 0)) return std::nullopt;
    return std::chrono::milliseconds{std::max<std::int64_t>(0, r.i64(0, 0))};
}

}  // namespace stockrelay::sidecar::reconcile_queries
