// The polling fallback: orders updated after a time, oldest first, per shop.
#include <fmt/format.h>

#include "stockrelay/http/http.hpp"
#include "stockrelay/orders_api.hpp"

namespace stockrelay::orders {
namespace {

using nlohmann::json;

// Orders per call: Shopify charges the requested page sizes (2 orders x (50
// lines x 9 points + 3 shipping lines x 8 + 17) = ~990 of the 1000 points a
// query may cost). An order with more lines is refused, not cut (normalizer).
constexpr int kShopifyPage = 2;
constexpr int kRestPage = 50;
constexpr int kMaxPages = 200;     // per poll; the cursor resumes where this stopped

const std::string kShopifyOrders = R"GQL(query StockRelayOrders($first: Int!, $after: String, $query: String) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    nodes {
      id name email createdAt updatedAt cancelledAt displayFinancialStatus currencyCode taxesIncluded
      customer { firstName lastName email phone }
      billingAddress { firstName lastName name company address1 address2 city zip provinceCode countryCodeV2 phone }
      shippingAddress { firstName lastName name company address1 address2 city zip provinceCode countryCodeV2 phone }
      lineItems(first: 50) {
        nodes {
          id sku name quantity
          originalUnitPriceSet { shopMoney { amount currencyCode } }
          totalDiscountSet { shopMoney { amount currencyCode } }
          taxLines { title rate priceSet { shopMoney { amount currencyCode } } }
          customAttributes { key value }
        }
        pageInfo { hasNextPage }
      }
      shippingLines(first: 3) {
        nodes {
          title
          originalPriceSet { shopMoney { amount currencyCode } }
          discountedPriceSet { shopMoney { amount currencyCode } }
          taxLines { title rate priceSet { shopMoney { amount currencyCode } } }
        }
        pageInfo { hasNextPage }
      }
      subtotalPriceSet { shopMoney { amount currencyCode } }
      totalTaxSet { shopMoney { amount currencyCode } }
      totalShippingPriceSet { shopMoney { amount currencyCode } }
      totalDiscountsSet { shopMoney { amount currencyCode } }
      totalPriceSet { shopMoney { amount currencyCode } }
    }
    pageInfo { hasNextPage endCursor }
  }
})GQL";

// Medusa: the fields the normalizer reads (the default set has no email).
constexpr const char* kMedusaFields =
    "id,display_id,status,email,created_at,updated_at,currency_code,payment_status,total,item_subtotal,"
    "tax_total,shipping_total,discount_total,*items,*items.tax_lines,*customer,*shipping_address,"
    "*billing_address,*shipping_methods,*shipping_methods.tax_lines";

std::vector<RawOrder> raw_page(const json& list) {
    std::vector<RawOrder> out;
    for (const auto& o : list) out.push_back({o, o.dump()});
    return out;
}

Error malformed_page(std::string_view shop, std::string_view what, const std::string& body) {
    return make_error(ErrorCode::transient,
                      fmt::format("{} order poll: the answer has no {}: {}", shop, what, http::excerpt(body, 200)));
}

std::optional<Error> poll_shopify(channels::Channel& ch, const std::string& since, const OrderPageSink& sink,
                                  PollReport& rep) {
    json after = nullptr;
    const std::string query = fmt::format("updated_at:>'{}'", since);
    for (int page = 0; page < kMaxPages; ++page) {
        ++rep.api_calls;
        auto data = ch.graphql_call("Orders", kShopifyOrders,
                                    json{{"first", kShopifyPage}, {"after", after}, {"query", query}});
        if (!data) return data.error();
        const auto* orders = data->is_object() && data->contains("orders") ? &(*data)["orders"] : nullptr;
        if (!orders || !orders->is_object() || !(*orders)["nodes"].is_array())
            return malformed_page("shopify", "orders.nodes", data->dump());
        ++rep.pages;
        rep.orders += static_cast<long long>((*orders)["nodes"].size());
        if (!(*orders)["nodes"].empty() && !sink(raw_page((*orders)["nodes"]))) return std::nullopt;
        const auto& info = (*orders)["pageInfo"];
        if (!info.is_object() || !info.value("hasNextPage", false)) return std::nullopt;
        after = info["endCursor"];
    }
    return std::nullopt;
}

// WooCommerce and Medusa: GET `rel_of(page)` until a short page.
template <class RelOf>
std::optional<Error> poll_rest(channels::Channel& ch, std::string_view shop, const char* list_key, RelOf&& rel_of,
                               const OrderPageSink& sink, PollReport& rep) {
    for (int page = 0; page < kMaxPages; ++page) {
        ++rep.api_calls;
        auto res = ch.rest_call("GET", rel_of(page), "");
        if (!res) return res.error();
        const json body = json::parse(res->body, nullptr, false);
        const json* list = list_key ? (body.is_object() && body.contains(list_key) ? &body[list_key] : nullptr) : &body;
        if (!list || !list->is_array()) return malformed_page(shop, list_key ? list_key : "list of orders", res->body);
        ++rep.pages;
        rep.orders += static_cast<long long>(list->size());
        if (!list->empty() && !sink(raw_page(*list))) return std::nullopt;
        if (static_cast<int>(list->size()) < kRestPage) return std::nullopt;
    }
    return std::nullopt;
}

}  // namespace

const std::string& shopify_orders_document() { return kShopifyOrders; }

std::optional<Error> poll_orders(channels::Channel& ch, const std::string& since, const OrderPageSink& sink,
                                 PollReport& rep) {
    if (ch.type() == "shopify") return poll_shopify(ch, since, sink, rep);
    if (ch.type() == "woocommerce") {
        // modified_after compares strictly, to the second, in GMT with dates_are_gmt (no offset in the value).
        const std::string after = http::url_encode(since.substr(0, 19));
        return poll_rest(ch, "woocommerce", nullptr, [&](int page) {
            return fmt::format("orders?modified_after={}&dates_are_gmt=true&orderby=modified&order=asc&per_page={}&page={}",
                               after, kRestPage, page + 1);
        }, sink, rep);
    }
    if (ch.type() == "medusa") {
        return poll_rest(ch, "medusa", "orders", [&](int page) {
            return fmt::format("/admin/orders?fields={}&updated_at%5B%24gt%5D={}&order=updated_at&limit={}&offset={}",
                               http::url_encode(kMedusaFields), http::url_encode(since), kRestPage, page * kRestPage);
        }, sink, rep);
    }
    return make_error(ErrorCode::config, fmt::format("cannot poll orders of a {} channel", ch.type()));
}

}  // namespace stockrelay::orders
