#include "catalog_wait.hpp"

#include <fmt/format.h>

#include "catalog_queries.hpp"

namespace stockrelay::sidecar {

void wait_for_catalog(pg::Connection& conn, std::int64_t channel_id, const std::vector<queries::ClaimedRow>& rows,
                      std::vector<PendingAck>& acks) {
    std::map<std::int64_t, const queries::ClaimedRow*> by_id;
    for (const auto& r : rows) by_id[r.id] = &r;
    std::vector<std::string> missing;
    for (const auto& a : acks)
        if (a.decision.error_code == "sku_not_found" && by_id.count(a.row_id)) missing.push_back(by_id[a.row_id]->sku);
    if (missing.empty()) return;
    const auto waiting = catalog_queries::skus_awaiting_product(conn, channel_id, missing);
    for (auto& a : acks) {
        if (a.decision.error_code != "sku_not_found" || !by_id.count(a.row_id)) continue;
        const auto& sku = by_id[a.row_id]->sku;
        if (!waiting.count(sku)) continue;
        a.decision.verdict = Verdict::retry;
        a.decision.refund_attempt = true;
        a.decision.delay = kWaitForProductRow;
        a.decision.error_code.clear();
        a.decision.message = fmt::format(
            "waiting for the catalogue: SKU '{}' is not in the shop yet, and a pending product row of this channel "
            "creates it",
            sku);
    }
}

}  // namespace stockrelay::sidecar
