// Orders in, the shop side: reading orders updated since a time (the
// polling fallback) and registering the order webhooks that point at the
// daemon's listener. Built on Channel::graphql_call / rest_call, so auth,
// TLS, redaction and rate limits are the channel's own.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "stockrelay/channels/channel.hpp"
#include "stockrelay/error.hpp"

namespace stockrelay::orders {

struct RawOrder {
    nlohmann::json json;  // the shop's order object (a GraphQL Order node, a REST order)
    std::string text;     // its JSON text as stored in payload.raw
};

// One page, oldest update first. Return false to stop (shutdown).
using OrderPageSink = std::function<bool(const std::vector<RawOrder>& page)>;

struct PollReport {
    int api_calls = 0;
    int pages = 0;
    long long orders = 0;
};

// Every order updated strictly after `since` (UTC "YYYY-MM-DDTHH:MM:SSZ"),
// page by page: Shopify orders(query: "updated_at:>…", sortKey: UPDATED_AT),
// WooCommerce GET orders?modified_after=…&dates_are_gmt=true, Medusa
// GET /admin/orders?updated_at[$gt]=… (the `$` matters: Medusa silently
// ignores updated_at[gt]). nullopt when all were read.
std::optional<Error> poll_orders(channels::Channel& channel, const std::string& since, const OrderPageSink& sink,
                                 PollReport& report);

// Shopify's GraphQL document the poll sends (tests validate it against the schema).
const std::string& shopify_orders_document();

struct Webhook {
    std::string topic;    // the shop's own name: "ORDERS_CREATE", "order.created"
    std::string id;
    std::string address;  // where the shop delivers
};

struct Registration {
    std::vector<Webhook> webhooks;            // what the shop now has for this address
    std::optional<std::string> new_secret;    // WooCommerce: generated because credentials had none; store it
};

// Creates the shop's order subscriptions pointing at `address` (the daemon's
// public URL + "/webhooks/<channel id>"), skipping topics already registered
// there. Shopify: webhookSubscriptionCreate for ORDERS_CREATE, ORDERS_UPDATED,
// ORDERS_CANCELLED (signed with the app's client secret); WooCommerce: POST
// webhooks for order.created and order.updated with credentials.webhook_secret
// (generated when missing). Medusa has no webhooks: ErrorCode::config.
Result<Registration> register_webhooks(channels::Channel& channel, const channels::Config& config,
                                       const std::string& address);
// The shop's order subscriptions (all addresses).
Result<std::vector<Webhook>> list_webhooks(channels::Channel& channel);

// A random secret for WooCommerce webhooks (32 bytes, hex).
std::string generate_secret();

}  // namespace stockrelay::orders
