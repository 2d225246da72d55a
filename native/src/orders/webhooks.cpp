// Registering the shops' order webhooks (the "Register webhooks" button).
#include <openssl/rand.h>

#include <set>
#include <stdexcept>

#include <fmt/format.h>

#include "stockrelay/orders_api.hpp"

namespace stockrelay::orders {
namespace {

using nlohmann::json;

const std::string kShopifyList = R"GQL(query StockRelayWebhooks($after: String) {
  webhookSubscriptions(first: 100, after: $after) {
    nodes { id topic endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } } }
    pageInfo { hasNextPage endCursor }
  }
})GQL";

const std::string kShopifyCreate = R"GQL(mutation StockRelayWebhookCreate($topic: WebhookSubscriptionTopic!, $sub: WebhookSubscriptionInput!) {
  webhookSubscriptionCreate(topic: $topic, webhookSubscription: $sub) {
    webhookSubscription { id topic endpoint { __typename ... on WebhookHttpEndpoint { callbackUrl } } }
    userErrors { field message }
  }
})GQL";

const std::vector<std::string> kShopifyTopics = {"ORDERS_CREATE", "ORDERS_UPDATED", "ORDERS_CANCELLED"};
// A WooCommerce cancellation is an order.updated (status cancelled).
const std::vector<std::string> kWooTopics = {"order.created", "order.updated"};

Webhook shopify_webhook(const json& node) {
    const auto& ep = node.value("endpoint", json::object());
    return {node.value("topic", ""), node.value("id", ""), ep.is_object() ? ep.value("callbackUrl", "") : ""};
}

Result<std::vector<Webhook>> list_shopify(channels::Channel& ch) {
    std::vector<Webhook> out;
    json after = nullptr;
    for (int page = 0; page < 50; ++page) {
        auto data = ch.graphql_call("Webhooks", kShopifyList, json{{"after", after}});
        if (!data) return data.error();
        const json subs = data->value("webhookSubscriptions", json::object());
        for (const auto& n : subs.value("nodes", json::array())) out.push_back(shopify_webhook(n));
        const json info = subs.value("pageInfo", json::object());
        if (!info.value("hasNextPage", false)) break;
        after = info["endCursor"];
    }
    return out;
}

std::string id_string(const json& v) { return v.is_string() ? v.get<std::string>() : v.dump(); }

Result<std::vector<Webhook>> list_woo(channels::Channel& ch) {
    std::vector<Webhook> out;
    for (int page = 1; page <= 20; ++page) {
        auto res = ch.rest_call("GET", fmt::format("webhooks?per_page=100&page={}", page), "");
        if (!res) return res.error();
        const json list = json::parse(res->body, nullptr, false);
        if (!list.is_array()) return make_error(ErrorCode::transient, "GET webhooks: WooCommerce answered no list");
        for (const auto& w : list)
            if (w.is_object()) out.push_back({w.value("topic", ""), id_string(w.value("id", json())), w.value("delivery_url", "")});
        if (list.size() < 100) break;
    }
    return out;
}

bool registered(const std::vector<Webhook>& have, const std::string& topic, const std::string& address) {
    for (const auto& w : have)
        if (w.topic == topic && w.address == address) return true;
    return false;
}

Result<Registration> register_shopify(channels::Channel& ch, const channels::Config& cfg, const std::string& address) {
    if (!cfg.credentials.contains("client_secret"))
        return make_error(ErrorCode::config, "Shopify signs webhooks with the app's client secret: set credentials "
                                             "client_secret first, or the daemon cannot verify what Shopify sends");
    auto have = list_shopify(ch);
    if (!have) return have.error();
    for (const auto& topic : kShopifyTopics) {
        if (registered(*have, topic, address)) continue;
        auto data = ch.graphql_call("WebhookCreate", kShopifyCreate,
                                    json{{"topic", topic}, {"sub", {{"callbackUrl", address}, {"format", "JSON"}}}});
        if (!data) return data.error();
        const json payload = data->value("webhookSubscriptionCreate", json::object());
        const json errors = payload.value("userErrors", json::array());
        if (!errors.empty())
            return make_error(ErrorCode::rejected, fmt::format("webhookSubscriptionCreate {}: {}", topic, errors.dump()));
    }
    auto now = list_shopify(ch);
    if (!now) return now.error();
    Registration r;
    for (auto& w : *now)
        if (w.address == address) r.webhooks.push_back(std::move(w));
    return r;
}

Result<Registration> register_woo(channels::Channel& ch, const channels::Config& cfg, const std::string& address) {
    Registration r;
    std::string secret;
    if (const auto it = cfg.credentials.find("webhook_secret"); it != cfg.credentials.end() && it->is_string())
        secret = it->get<std::string>();
    if (secret.empty()) r.new_secret = secret = generate_secret();
    auto have = list_woo(ch);
    if (!have) return have.error();
    for (const auto& topic : kWooTopics) {
        // A new secret would not match the one of an existing subscription: recreate those.
        if (!r.new_secret && registered(*have, topic, address)) continue;
        const json body = {{"name", "stockrelay " + topic}, {"topic", topic}, {"delivery_url", address},
                           {"secret", secret}, {"status", "active"}};
        auto res = ch.rest_call("POST", "webhooks", body.dump());
        if (!res) return res.error();
    }
    auto now = list_woo(ch);
    if (!now) return now.error();
    for (auto& w : *now)
        if (w.address == address) r.webhooks.push_back(std::move(w));
    return r;
}

}  // namespace

std::string generate_secret() {
    unsigned char bytes[32];
    if (RAND_bytes(bytes, sizeof bytes) != 1) throw std::runtime_error("OpenSSL RAND_bytes failed");
    std::string out;
    for (unsigned char b : bytes) out += fmt::format("{:02x}", b);
    return out;
}

Result<Registration> register_webhooks(channels::Channel& ch, const channels::Config& cfg, const std::string& address) {
    if (address.rfind("https://", 0) != 0 && address.rfind("http://", 0) != 0)
        return make_error(ErrorCode::config, fmt::format("the webhook address '{}' is not an http(s) URL", address));
    if (ch.type() == "shopify") return register_shopify(ch, cfg, address);
    if (ch.type() == "woocommerce") return register_woo(ch, cfg, address);
    return make_error(ErrorCode::config, fmt::format("{} sends no order webhooks of its own; orders come in by polling "
                                                     "(or a signed subscriber, see the README)", ch.type()));
}

Result<std::vector<Webhook>> list_webhooks(channels::Channel& ch) {
    if (ch.type() == "shopify") return list_shopify(ch);
    if (ch.type() == "woocommerce") return list_woo(ch);
    return std::vector<Webhook>{};
}

}  // namespace stockrelay::orders
