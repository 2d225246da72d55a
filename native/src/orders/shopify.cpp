// Shopify: the GraphQL Order node our poll asks for (ids are gids, money in
// *Set{shopMoney{amount}}) and the REST-shaped body Shopify's order webhooks
// carry (numeric ids, money strings). Both give the same normalized order and
// the same shop order id (the number), so a webhook and a poll dedupe.
#include <algorithm>
#include <cctype>

#include <fmt/format.h>

#include "address.hpp"
#include "normalizers.hpp"
#include "support.hpp"

namespace stockrelay::orders::detail {
namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

// "gid://shopify/Order/450789469" -> "450789469"; REST ids are numbers.
std::string numeric_id(const json& v, const std::string& path) {
    auto id = id_text(v, path);
    const auto slash = id.rfind('/');
    if (id.rfind("gid://", 0) == 0) {
        if (slash == std::string::npos || slash + 1 == id.size()) throw Malformed(path + ": not a Shopify gid");
        id = id.substr(slash + 1);
        if (const auto q = id.find('?'); q != std::string::npos) id.resize(q);
    }
    return id;
}

// GraphQL MoneyBag: {"shopMoney": {"amount": "12.50", "currencyCode": "EUR"}}
Decimal bag(const json& obj, const char* key, const std::string& path) {
    const json* b = optional_member(obj, key);
    if (!b) return Decimal{};
    const std::string p = path + "." + key;
    return money(member(member(*b, "shopMoney", p), "amount", p + ".shopMoney"), p + ".shopMoney.amount");
}

json tax_lines_rest(const json& owner, const std::string& path) {
    json out = json::array();
    const auto& lines = array_member(owner, "tax_lines", path);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const auto p = fmt::format("{}.tax_lines[{}]", path, i);
        out.push_back({{"name", opt_text(lines[i], "title")},
                       {"rate", money(member(lines[i], "rate", p), p + ".rate").str()},
                       {"amount", money(member(lines[i], "price", p), p + ".price").str()}});
    }
    return out;
}

json tax_lines_graphql(const json& owner, const std::string& path) {
    json out = json::array();
    const auto& lines = array_member(owner, "taxLines", path);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const auto p = fmt::format("{}.taxLines[{}]", path, i);
        out.push_back({{"name", opt_text(lines[i], "title")},
                       {"rate", money(member(lines[i], "rate", p), p + ".rate").str()},
                       {"amount", bag(lines[i], "priceSet", p).str()}});
    }
    return out;
}

json meta(const json& list, const char* key_field, const std::string& path) {
    json out = json::array();
    for (std::size_t i = 0; i < list.size(); ++i)
        out.push_back({{"key", text(list[i], key_field, fmt::format("{}[{}]", path, i))},
                       {"value", opt_text(list[i], "value")}});
    return out;
}

// connection { nodes [...] } or { edges [{node}] }
json nodes(const json& obj, const char* key, const std::string& path) {
    const json* c = optional_member(obj, key);
    if (!c) return json::array();
    if (const json* n = optional_member(*c, "nodes"); n && n->is_array()) return *n;
    json out = json::array();
    for (const auto& e : array_member(*c, "edges", path + "." + key)) out.push_back(member(e, "node", path + "." + key));
    return out;
}

Draft from_rest(const json& r) {
    Draft d;
    auto& o = d.order;
    d.cancelled = optional_member(r, "cancelled_at") != nullptr;
    o["id"] = numeric_id(member(r, "id", ""), "id");
    o["name"] = text(r, "name", "");
    o["status"] = d.cancelled ? "cancelled" : "open";
    o["financial_status"] = opt_text(r, "financial_status");
    o["currency"] = text(r, "currency", "");
    o["created_at"] = utc(r, "created_at", "");
    o["updated_at"] = utc(r, "updated_at", "");
    o["email"] = opt_text(r, "email");
    const json* c = optional_member(r, "customer");
    o["customer"] = c ? json{{"first_name", opt_text(*c, "first_name")}, {"last_name", opt_text(*c, "last_name")},
                             {"email", opt_text(*c, "email")}, {"phone", opt_text(*c, "phone")}}
                      : json();
    o["billing_address"] = address(optional_member(r, "billing_address"), kShopifyRestAddress);
    o["shipping_address"] = address(optional_member(r, "shipping_address"), kShopifyRestAddress);
    const bool incl = r.value("taxes_included", false);
    o["lines"] = json::array();
    const auto& items = array_member(r, "line_items", "");
    for (std::size_t i = 0; i < items.size(); ++i) {
        const auto p = fmt::format("line_items[{}]", i);
        const auto& li = items[i];
        o["lines"].push_back({{"id", id_text(member(li, "id", p), p + ".id")},
                              {"sku", opt_text(li, "sku")},
                              {"name", opt_text(li, "name").is_null() ? opt_text(li, "title") : opt_text(li, "name")},
                              {"quantity", quantity(member(li, "quantity", p), p + ".quantity")},
                              {"unit_price", money(member(li, "price", p), p + ".price").str()},
                              {"discount", money_or_zero(li, "total_discount", p).str()},
                              {"taxes", tax_lines_rest(li, p)},
                              {"taxes_included", incl},
                              {"meta", meta(array_member(li, "properties", p), "name", p + ".properties")}});
    }
    o["shipping"] = json::array();
    Decimal shipping_total;
    const auto& ship = array_member(r, "shipping_lines", "");
    for (std::size_t i = 0; i < ship.size(); ++i) {
        const auto p = fmt::format("shipping_lines[{}]", i);
        const auto price = money(member(ship[i], "price", p), p + ".price");
        const json* dp = optional_member(ship[i], "discounted_price");
        const auto discount = dp ? price - money(*dp, p + ".discounted_price") : Decimal{};
        shipping_total = shipping_total + price;
        o["shipping"].push_back({{"name", opt_text(ship[i], "title")}, {"price", price.str()},
                                 {"discount", discount.str()}, {"taxes", tax_lines_rest(ship[i], p)}});
    }
    o["totals"] = {{"subtotal", money_or_zero(r, "subtotal_price", "").str()},
                   {"tax", money_or_zero(r, "total_tax", "").str()},
                   {"shipping", shipping_total.str()},
                   {"discount", money_or_zero(r, "total_discounts", "").str()},
                   {"total", money(member(r, "total_price", ""), "total_price").str()}};
    return d;
}

Draft from_graphql(const json& r) {
    Draft d;
    auto& o = d.order;
    d.cancelled = optional_member(r, "cancelledAt") != nullptr;
    o["id"] = numeric_id(member(r, "id", ""), "id");
    o["name"] = text(r, "name", "");
    o["status"] = d.cancelled ? "cancelled" : "open";
    const auto fin = opt_text(r, "displayFinancialStatus");
    o["financial_status"] = fin.is_string() ? json(lower(fin.get<std::string>())) : json();
    o["currency"] = text(r, "currencyCode", "");
    o["created_at"] = utc(r, "createdAt", "");
    o["updated_at"] = utc(r, "updatedAt", "");
    o["email"] = opt_text(r, "email");
    const json* c = optional_member(r, "customer");
    o["customer"] = c ? json{{"first_name", opt_text(*c, "firstName")}, {"last_name", opt_text(*c, "lastName")},
                             {"email", opt_text(*c, "email")}, {"phone", opt_text(*c, "phone")}}
                      : json();
    o["billing_address"] = address(optional_member(r, "billingAddress"), kShopifyGraphqlAddress);
    o["shipping_address"] = address(optional_member(r, "shippingAddress"), kShopifyGraphqlAddress);
    const bool incl = r.value("taxesIncluded", false);
    o["lines"] = json::array();
    for (const char* key : {"lineItems", "shippingLines"})
        if (const json* conn = optional_member(r, key))
            if (const json* info = optional_member(*conn, "pageInfo"); info && info->value("hasNextPage", false))
                throw Malformed(fmt::format("{}: only the first page of them was read (the poll reads the rest "
                                            "before normalizing); its webhook carries them all", key));
    const auto items = nodes(r, "lineItems", "");
    for (std::size_t i = 0; i < items.size(); ++i) {
        const auto p = fmt::format("lineItems[{}]", i);
        const auto& li = items[i];
        o["lines"].push_back({{"id", numeric_id(member(li, "id", p), p + ".id")},
                              {"sku", opt_text(li, "sku")},
                              {"name", opt_text(li, "name")},
                              {"quantity", quantity(member(li, "quantity", p), p + ".quantity")},
                              {"unit_price", bag(li, "originalUnitPriceSet", p).str()},
                              {"discount", bag(li, "totalDiscountSet", p).str()},
                              {"taxes", tax_lines_graphql(li, p)},
                              {"taxes_included", incl},
                              {"meta", meta(array_member(li, "customAttributes", p), "key", p + ".customAttributes")}});
    }
    o["shipping"] = json::array();
    const auto ship = nodes(r, "shippingLines", "");
    for (std::size_t i = 0; i < ship.size(); ++i) {
        const auto p = fmt::format("shippingLines[{}]", i);
        const auto price = bag(ship[i], "originalPriceSet", p);
        const auto discounted = optional_member(ship[i], "discountedPriceSet") ? bag(ship[i], "discountedPriceSet", p) : price;
        o["shipping"].push_back({{"name", opt_text(ship[i], "title")}, {"price", price.str()},
                                 {"discount", (price - discounted).str()}, {"taxes", tax_lines_graphql(ship[i], p)}});
    }
    if (!optional_member(r, "totalPriceSet")) throw Malformed("totalPriceSet: missing");
    o["totals"] = {{"subtotal", bag(r, "subtotalPriceSet", "").str()},
                   {"tax", bag(r, "totalTaxSet", "").str()},
                   {"shipping", bag(r, "totalShippingPriceSet", "").str()},
                   {"discount", bag(r, "totalDiscountsSet", "").str()},
                   {"total", bag(r, "totalPriceSet", "").str()}};
    return d;
}

}  // namespace

Draft normalize_shopify(const json& raw) {
    const json* id = optional_member(raw, "id");
    const bool graphql = id && id->is_string() && id->get_ref<const std::string&>().rfind("gid://", 0) == 0;
    return graphql ? from_graphql(raw) : from_rest(raw);
}

}  // namespace stockrelay::orders::detail
