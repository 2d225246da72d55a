// After a complete read, the snapshot is the shop's truth about which item
// carries which SKU: the SKU cache (stock_relay_sku_cache) follows it.
#pragma once

#include <cstdint>

#include "pg.hpp"

namespace stockrelay::sidecar {

struct CacheRefresh {
    std::int64_t confirmed = 0;  // same item: resolved_at renewed
    std::int64_t moved = 0;      // the SKU is on another item now: remote ids updated, owner kept
    std::int64_t dropped = 0;    // on two items, untracked, or gone: the next push looks it up (and reports why)
};

// Refreshes the channel's cached SKUs from snapshot `reconcile_id`, in the
// caller's transaction. SKUs whose snapshot rows carry a problem (malformed
// answer) are left alone; the snapshot never adds SKUs to the cache.
CacheRefresh refresh_sku_cache(pg::Connection& conn, std::int64_t channel_id, std::int64_t reconcile_id);

}  // namespace stockrelay::sidecar
