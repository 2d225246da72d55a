// What the daemon accepts as a quantity to publish. The sellable-quantity
// policy itself is the contract's SQL function stock_relay_sellable
// (native/sql/stock_relay_schema.sql, block [sellable-policy]): Odoo computes
// it at commit, with or without the native module; the daemon only checks the
// number it is handed.
#pragma once

#include <cstdint>
#include <string_view>

#include "stockrelay/error.hpp"

namespace stockrelay::policy {

// A quantity read from an outbox row must be a non-negative integer that the
// shops accept (<= 1e9); anything else is a producer bug reported on the row.
Result<std::int64_t> validate_quantity(std::string_view text);

inline constexpr std::int64_t kMaxQuantity = 1'000'000'000;

}  // namespace stockrelay::policy
