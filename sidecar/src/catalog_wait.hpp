// A stock row may reach the shop before its product does: Odoo enqueues a
// new product's stock and its catalogue document together. A stock row whose
// SKU the shop does not have yet, while an open 'product' row of the channel
// carries that SKU, waits for it (pending again, attempt refunded) instead of
// failing with sku_not_found; it lands after the product row.
#pragma once

#include <cstdint>
#include <vector>

#include "pg.hpp"
#include "queries.hpp"
#include "worker.hpp"

namespace stockrelay::sidecar {

inline constexpr std::chrono::milliseconds kWaitForProductRow{1000};

void wait_for_catalog(pg::Connection& conn, std::int64_t channel_id, const std::vector<queries::ClaimedRow>& rows,
                      std::vector<PendingAck>& acks);

}  // namespace stockrelay::sidecar
