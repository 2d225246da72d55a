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

// One page of the shop's list, oldest update first, without the orders the
// inbox already holds (never normalized again, and for Shopify their extra
// line items are not fetched).
struct OrderPage {
    std::vector<RawOrder> orders;
    std::string newest_updated_at;  // UTC; the newest update on the shop's page, skipped orders included ("" if none)
    int skipped = 0;                // listed, already stored
};

// Which of these event keys the inbox holds (same order as the keys).
using StoredFilter = std::function<std::vector<bool>(const std::vector<std::string>& event_keys)>;
// Stores one page. Return false to stop after it (shutdown, or the poll's
// time slice is used up: the cursor resumes there next time).
using OrderPageSink = std::function<bool(const OrderPage& page)>;

struct PollReport {
    int api_calls = 0;   // all requests, Shopify's extra line-item reads included
    int pages = 0;       // order-list pages
    long long orders = 0;
    long long skipped = 0;
};

// Every order updated strictly after `since` (UTC "YYYY-MM-DDTHH:MM:SSZ"),
// page by page, oldest update first: Shopify orders(query: "updated_at:>…",
// sortKey: UPDATED_AT) as large as the query-cost limit allows, WooCommerce
// GET orders?modified_after=…&dates_are_gmt=true&orderby=modified&per_page=100,
// Medusa GET /admin/orders?updated_at[$gt]=…&order=updated_at&limit=100 (the
// `$` matters: Medusa silently ignores updated_at[gt]). nullopt when all were
// read or the sink stopped.
std::optional<Error> poll_orders(channels::Channel& channel, const std::string& since, const StoredFilter& stored,
                                 const OrderPageSink& sink, PollReport& report);

// Shopify's GraphQL documents the poll sends (tests validate them against the
// schema): the order list, and the rest of one order's line items.
const std::string& shopify_orders_document();
const std::string& shopify_order_lines_document();
// Orders per list call: the most whose requested cost (spec: object 1,
// connection 2 + first x node) stays within Shopify's 1000-point query limit.
int shopify_orders_page_size();

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
