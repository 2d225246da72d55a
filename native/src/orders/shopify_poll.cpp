// Shopify's order poll: pages as large as the 1000-point query-cost limit
// allows, with a few line items per order in the list and the rest of a
// longer order read by a second, per-order query (only for orders not yet
// stored).
#include <fmt/format.h>

#include "poll.hpp"
#include "stockrelay/http/http.hpp"

namespace stockrelay::orders::detail {
namespace {

using nlohmann::json;

// Requested cost, per shopify.md section 5: scalar 0, object 1, connection
// 2 + first x (node cost); pageInfo counted as an object to stay on the safe side.
constexpr int kMaxQueryCost = 1000;
constexpr int kLineCost = 9;      // node 1 + 2 MoneyBags (1 + shopMoney 1) + taxLines (1 + priceSet 2) + customAttributes 1
constexpr int kShippingCost = 8;  // node 1 + 2 MoneyBags + taxLines 3
constexpr int kOrderCost = 14;    // node 1 + customer + 2 addresses + 5 MoneyBags
constexpr int connection(int first, int node_cost) { return 2 + 1 + first * node_cost; }

constexpr int kListLines = 3;     // most orders have fewer: one list call reads them whole
constexpr int kListShipping = 1;
constexpr int kPerOrder = kOrderCost + connection(kListLines, kLineCost) + connection(kListShipping, kShippingCost);
constexpr int kPage = (kMaxQueryCost - connection(0, 0)) / kPerOrder;
constexpr int kMoreLines = 50;    // per call for an order with more
constexpr int kMaxPages = 500;    // per poll; the cursor resumes where this stopped
static_assert(kPage >= 10, "an order list page of fewer than 10 orders falls behind a burst");
static_assert(1 + connection(kMoreLines, kLineCost) + connection(kMoreLines, kShippingCost) <= kMaxQueryCost);

const std::string kMoney = "{ shopMoney { amount } }";
const std::string kTaxLines = "taxLines { title rate priceSet " + kMoney + " }";
const std::string kLine = "id sku name quantity originalUnitPriceSet " + kMoney + " totalDiscountSet " + kMoney + " " +
                          kTaxLines + " customAttributes { key value }";
const std::string kShipping = "title originalPriceSet " + kMoney + " discountedPriceSet " + kMoney + " " + kTaxLines;
const std::string kAddress = "{ firstName lastName name company address1 address2 city zip provinceCode countryCodeV2 phone }";
const std::string kPageInfo = "pageInfo { hasNextPage endCursor }";

const std::string kOrders =
    "query StockRelayOrders($first: Int!, $after: String, $query: String) {\n"
    "  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {\n"
    "    nodes {\n"
    "      id name email createdAt updatedAt cancelledAt displayFinancialStatus currencyCode taxesIncluded\n"
    "      customer { firstName lastName email phone }\n"
    "      billingAddress " + kAddress + "\n      shippingAddress " + kAddress + "\n" +
    fmt::format("      lineItems(first: {}) {{ nodes {{ {} }} {} }}\n", kListLines, kLine, kPageInfo) +
    fmt::format("      shippingLines(first: {}) {{ nodes {{ {} }} {} }}\n", kListShipping, kShipping, kPageInfo) +
    "      subtotalPriceSet " + kMoney + " totalTaxSet " + kMoney + " totalShippingPriceSet " + kMoney +
    " totalDiscountsSet " + kMoney + " totalPriceSet " + kMoney + "\n    }\n    " + kPageInfo + "\n  }\n}";

const std::string kOrderLines =
    "query StockRelayOrderLines($id: ID!, $lines: Int!, $linesAfter: String, $shipping: Int!, $shippingAfter: String) {\n"
    "  order(id: $id) {\n"
    "    lineItems(first: $lines, after: $linesAfter) { nodes { " + kLine + " } " + kPageInfo + " }\n"
    "    shippingLines(first: $shipping, after: $shippingAfter) { nodes { " + kShipping + " } " + kPageInfo + " }\n"
    "  }\n}";

const json* page_info(const json& order, const char* key) {
    const auto c = order.find(key);
    if (c == order.end() || !c->is_object()) return nullptr;
    const auto info = c->find("pageInfo");
    return info != c->end() && info->is_object() ? &*info : nullptr;
}

bool has_more(const json& order, const char* key) {
    const json* info = page_info(order, key);
    return info && info->value("hasNextPage", false) && info->contains("endCursor") && (*info)["endCursor"].is_string();
}

// Appends the connection's next page (from the per-order answer) to the order's own.
bool append(json& order, const json& answer, const char* key) {
    const auto got = answer.find(key);
    if (got == answer.end() || !got->is_object() || !got->contains("nodes") || !(*got)["nodes"].is_array() ||
        !page_info(answer, key))
        return false;
    auto& mine = order[key];
    if (!mine["nodes"].is_array()) return false;
    for (const auto& n : (*got)["nodes"]) mine["nodes"].push_back(n);
    mine["pageInfo"] = (*got)["pageInfo"];
    return true;
}

// Reads the rest of an order's line items and shipping lines into it.
std::optional<Error> complete(channels::Channel& ch, json& order, PollReport& rep) {
    while (has_more(order, "lineItems") || has_more(order, "shippingLines")) {
        const bool lines = has_more(order, "lineItems"), shipping = has_more(order, "shippingLines");
        ++rep.api_calls;
        auto data = ch.graphql_call(
            "OrderLines", kOrderLines,
            json{{"id", order["id"]}, {"lines", lines ? kMoreLines : 0},
                 {"linesAfter", lines ? order["lineItems"]["pageInfo"]["endCursor"] : json()},
                 {"shipping", shipping ? kMoreLines : 0},
                 {"shippingAfter", shipping ? order["shippingLines"]["pageInfo"]["endCursor"] : json()}});
        if (!data) return data.error();
        const json* o = data->is_object() && data->contains("order") ? &(*data)["order"] : nullptr;
        if (!o || !o->is_object() || (lines && !append(order, *o, "lineItems")) ||
            (shipping && !append(order, *o, "shippingLines")))
            return malformed_page("shopify", "order.lineItems / order.shippingLines", data->dump());
    }
    return std::nullopt;
}

}  // namespace

std::optional<Error> poll_shopify(channels::Channel& ch, const std::string& since, const StoredFilter& stored,
                                  const OrderPageSink& sink, PollReport& rep) {
    json after = nullptr;
    const std::string query = fmt::format("updated_at:>'{}'", since);
    for (int page = 0; page < kMaxPages; ++page) {
        ++rep.api_calls;
        auto data = ch.graphql_call("Orders", kOrders, json{{"first", kPage}, {"after", after}, {"query", query}});
        if (!data) return data.error();
        const auto* orders = data->is_object() && data->contains("orders") ? &(*data)["orders"] : nullptr;
        if (!orders || !orders->is_object() || !(*orders)["nodes"].is_array())
            return malformed_page("shopify", "orders.nodes", data->dump());
        ++rep.pages;
        rep.orders += static_cast<long long>((*orders)["nodes"].size());
        auto out = unstored("shopify", (*orders)["nodes"], stored);
        rep.skipped += out.skipped;
        for (auto& raw : out.orders) {
            if (raw.json.is_object() && raw.json.contains("id") && raw.json["id"].is_string())
                if (auto err = complete(ch, raw.json, rep)) return err;
            raw.text = raw.json.dump();
        }
        if (!(*orders)["nodes"].empty() && !sink(out)) return std::nullopt;
        const auto& info = (*orders)["pageInfo"];
        if (!info.is_object() || !info.value("hasNextPage", false)) return std::nullopt;
        after = info["endCursor"];
    }
    return std::nullopt;
}

}  // namespace stockrelay::orders::detail

namespace stockrelay::orders {

const std::string& shopify_orders_document() { return detail::kOrders; }
const std::string& shopify_order_lines_document() { return detail::kOrderLines; }
int shopify_orders_page_size() { return detail::kPage; }

}  // namespace stockrelay::orders
