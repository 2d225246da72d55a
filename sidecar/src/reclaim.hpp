// Crash reclaim: rows left in flight by a dead predecessor on this host come
// back at once (after a short grace for a request it may still have had on
// the wire), not when their lease runs out. Rows of a live replica, of another
// host or container, or leased under an id we cannot check, are left to their
// lease.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "pg.hpp"

namespace stockrelay::sidecar {

// How long a dead worker's rows still wait: a request it wrote just before it
// died can still reach the shop; a newer value must not land before it.
inline constexpr std::chrono::seconds kReclaimGrace{2};

struct Reclaimed {
    std::vector<std::string> workers;  // the dead instances whose rows come back
    std::int64_t rows = 0;
};

// Shortens the lease of the channel's in-flight rows whose worker is gone to
// the grace; the claim's lease recovery then returns them to pending (or
// supersedes them). `self` is never reclaimed.
Reclaimed reclaim_dead_workers(pg::Connection& conn, std::int64_t channel_id, const std::string& self);

// reclaim_dead_workers plus one log line naming the dead workers (none when nothing came back).
void reclaim_and_log(pg::Connection& conn, std::int64_t channel_id, const std::string& channel_name,
                     const std::string& self);

}  // namespace stockrelay::sidecar
