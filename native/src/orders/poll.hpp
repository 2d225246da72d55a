// Private helpers of the order poll (poll.cpp: REST shops and dispatch;
// shopify_poll.cpp: Shopify's cost-sized GraphQL pages).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "stockrelay/orders_api.hpp"

namespace stockrelay::orders::detail {

// The page without the orders the inbox holds (asks `stored` once for the
// whole page); orders whose identity is unreadable stay in (normalize() names why).
OrderPage unstored(std::string_view shop_type, const nlohmann::json& list, const StoredFilter& stored);

Error malformed_page(std::string_view shop, std::string_view what, const std::string& body);

std::optional<Error> poll_shopify(channels::Channel& ch, const std::string& since, const StoredFilter& stored,
                                  const OrderPageSink& sink, PollReport& rep);

}  // namespace stockrelay::orders::detail
