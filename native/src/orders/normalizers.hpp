// One function per shop: fills `event` (order, ids, times) from the shop's
// JSON or throws detail::Malformed. normalize() dispatches and finishes.
#pragma once

#include "stockrelay/orders.hpp"

namespace stockrelay::orders::detail {

struct Draft {
    nlohmann::json order;   // normalized shape
    bool cancelled = false;
};

Draft normalize_shopify(const nlohmann::json& raw);      // GraphQL Order node or REST webhook body
Draft normalize_woocommerce(const nlohmann::json& raw);  // REST v3 order
Draft normalize_medusa(const nlohmann::json& raw);       // admin order

}  // namespace stockrelay::orders::detail
