#include "reclaim.hpp"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include "stockrelay/log.hpp"
#include "worker_id.hpp"

namespace stockrelay::sidecar {

Reclaimed reclaim_dead_workers(pg::Connection& conn, std::int64_t channel_id, const std::string& self) {
    Reclaimed out;
    const auto host = Instance::parse(self);
    if (!host) return out;  // an operator-chosen id: nothing to compare with
    auto r = conn.exec(
        "SELECT DISTINCT leased_by FROM stock_relay_outbox "
        " WHERE state = 'in_flight' AND channel_id = $1::integer AND leased_by LIKE $2 AND leased_by <> $3",
        pg::Params().add(channel_id).add(host->host + ":%").add(self));
    for (int i = 0; i < r.rows(); ++i)
        if (instance_gone(r.str(i, 0))) out.workers.push_back(r.str(i, 0));
    if (out.workers.empty()) return out;
    out.rows = conn.exec(
        "UPDATE stock_relay_outbox "
        "   SET lease_until = least(lease_until, (now() AT TIME ZONE 'UTC') + make_interval(secs => $3::integer)) "
        " WHERE state = 'in_flight' AND channel_id = $1::integer AND leased_by = ANY ($2::varchar[])",
        pg::Params().add(channel_id).add(pg::text_array(out.workers))
            .add(static_cast<std::int64_t>(kReclaimGrace.count())))
                   .affected();
    return out;
}

void reclaim_and_log(pg::Connection& conn, std::int64_t channel_id, const std::string& channel_name,
                     const std::string& self) {
    const auto r = reclaim_dead_workers(conn, channel_id, self);
    if (r.rows == 0) return;
    log::warn("channel {} ({}): {} row(s) leased by {} come back in {} s: that process is gone (crashed or killed)",
              channel_id, channel_name, r.rows, fmt::join(r.workers, ", "), kReclaimGrace.count());
}

}  // namespace stockrelay::sidecar
