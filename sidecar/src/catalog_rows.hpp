// What happens to a claimed batch of catalogue rows in the shop, before any
// of it is written: documents parsed, mappings loaded, products and prices
// published through the Publisher's batch entry points (fewer calls where
// the shop has batch endpoints), rows that wait for another row postponed.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "catalog_queries.hpp"
#include "pg.hpp"
#include "stockrelay/catalog/publisher.hpp"

namespace stockrelay::sidecar {

// What happened to one row, before it is written.
struct RowFate {
    std::optional<Error> error;
    bool postpone = false;  // waits for another row: pending again, attempt refunded
    std::string why;        // postpone: the reason shown on the row
    stockrelay::catalog::PublishOutcome outcome;
};

// fates[i] is rows[i]'s.
std::vector<RowFate> publish_rows(pg::Connection& conn, stockrelay::catalog::Publisher& pub, std::int64_t channel_id,
                                  const std::vector<catalog_queries::CatalogRow>& rows);

}  // namespace stockrelay::sidecar
