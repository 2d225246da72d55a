// Which inbox sales count against a push (contract v4 [sales-aware]). Pure.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace stockrelay::sales_aware {

// One SKU's quantity in one shop order, as the inbox holds it (the order's
// newest event that is not 'ignored').
struct OrderLine {
    std::string order_id;
    std::string sku;
    std::int64_t quantity = 0;
    bool cancelled = false;
    // When Odoo confirmed it (the transaction start of the inbox row's move to
    // 'done', microseconds since the epoch); nullopt: not a sale order yet.
    std::optional<std::int64_t> absorbed_at;
    std::int64_t first_inbox_id = 0;  // the order's first event in the inbox
};

// The sales Odoo's number of `valued_at` (the transaction start that computed
// it) does not contain: orders not confirmed yet, or confirmed by a later
// transaction. Why this is exact: the transaction that confirms an order
// re-publishes the product in the same transaction, and the per-product commit
// clock serializes every other transaction that publishes it, so a number
// computed in a transaction that started at or after the confirmation sees it.
std::int64_t unabsorbed(const std::vector<OrderLine>& lines, const std::string& sku, std::int64_t valued_at);

// The sales of orders first received in (after_mark, up_to_mark]: orders that
// arrived since the last write and may explain drops of the shop's level.
std::int64_t received_between(const std::vector<OrderLine>& lines, const std::string& sku, std::int64_t after_mark,
                              std::int64_t up_to_mark);

}  // namespace stockrelay::sales_aware
