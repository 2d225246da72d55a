// Shop orders in (contract v3 [orders]): each shop's order JSON becomes the
// one normalized shape stored in stock_relay_inbox.payload.order, plus the
// event identity that makes a webhook and a poll of one update dedupe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "stockrelay/error.hpp"

namespace stockrelay::orders {

// The inbox's topic column: derived from the order itself (cancelled, or
// created == updated), never from a header, so a replayed body under another
// topic header is the same event.
std::string_view topic_for(bool cancelled, const std::string& created_at, const std::string& updated_at);

struct OrderEvent {
    std::string shop_order_id;    // "450789469" (Shopify: the number of the gid), Woo id, Medusa "order_01…"
    std::string name;             // "#1001"
    std::string topic;            // order_created | order_updated | order_cancelled
    std::string shop_updated_at;  // UTC, "2026-11-30T12:00:05Z"
    std::string event_key;        // "<shop_order_id>@<shop_updated_at>", + "/cancelled" for a cancelled order
    nlohmann::json order;         // the normalized order (schema comment of stock_relay_inbox)
};

// `shop_type` is the channel type: shopify (a GraphQL Order node or the
// REST-shaped webhook body), woocommerce (REST v3 order = webhook body),
// medusa (an admin order). A malformed order fails with ErrorCode::rejected
// and a message naming the field ("line_items[1].quantity: not an integer").
Result<OrderEvent> normalize(std::string_view shop_type, const nlohmann::json& raw);

// The event identity normalize() would give, read from the id, update time
// and status fields only: lets a poll skip orders already stored without
// normalizing them. nullopt when those fields are unreadable (normalize()
// then names the field).
struct EventIdentity {
    std::string shop_order_id;
    std::string shop_updated_at;  // UTC, to the second
    std::string event_key;
};
std::optional<EventIdentity> event_identity(std::string_view shop_type, const nlohmann::json& raw);

// Timestamps as shops write them ("…+02:00", "…Z", "….123Z", Woo's
// offset-less GMT) -> UTC "YYYY-MM-DDTHH:MM:SSZ" (fraction dropped).
std::optional<std::string> to_utc_second(std::string_view iso);
// The same, `seconds` later (negative: earlier).
std::optional<std::string> utc_second_plus(std::string_view iso, long long seconds);

// payload column text: {"order": <normalized>, "raw": <body>}, with the raw
// body copied byte for byte (its numbers never pass through a double).
std::string inbox_payload(const OrderEvent& event, std::string_view raw_body);

}  // namespace stockrelay::orders
