// WooCommerce REST v3 order (also the body of its order.* webhooks). Line
// amounts in the REST answer are net of tax whatever the shop's "prices
// include tax" setting, so lines say taxes_included: false.
#include <map>

#include <fmt/format.h>

#include "address.hpp"
#include "normalizers.hpp"
#include "support.hpp"

namespace stockrelay::orders::detail {
namespace {

struct Rate {
    json name;
    std::string rate;
};

// tax_lines[] by rate_id: the label and rate of each tax a line refers to.
std::map<std::string, Rate> rates(const json& r) {
    std::map<std::string, Rate> out;
    const auto& lines = array_member(r, "tax_lines", "");
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const auto p = fmt::format("tax_lines[{}]", i);
        const json* pct = optional_member(lines[i], "rate_percent");
        out[id_text(member(lines[i], "rate_id", p), p + ".rate_id")] =
            Rate{opt_text(lines[i], "label"), pct ? money(*pct, p + ".rate_percent").shifted(2).str() : ""};
    }
    return out;
}

json taxes(const json& owner, const std::map<std::string, Rate>& by_id, const std::string& path) {
    json out = json::array();
    const auto& list = array_member(owner, "taxes", path);
    for (std::size_t i = 0; i < list.size(); ++i) {
        const auto p = fmt::format("{}.taxes[{}]", path, i);
        const json* total = optional_member(list[i], "total");
        if (!total || (total->is_string() && total->get_ref<const std::string&>().empty())) continue;  // rate not applied
        const auto id = id_text(member(list[i], "id", p), p + ".id");
        auto it = by_id.find(id);
        if (it == by_id.end()) throw Malformed(fmt::format("{}.id: tax rate {} is not in tax_lines[]", p, id));
        out.push_back({{"name", it->second.name},
                       {"rate", it->second.rate.empty() ? json() : json(it->second.rate)},
                       {"amount", money(*total, p + ".total").str()}});
    }
    return out;
}

json meta(const json& li, const std::string& path) {
    json out = json::array();
    for (const auto& m : array_member(li, "meta_data", path)) {
        const auto key = opt_text(m, "key");
        if (!key.is_string() || key.get<std::string>().rfind('_', 0) == 0) continue;  // WooCommerce-internal
        const json* label = optional_member(m, "display_key");
        const json* value = optional_member(m, "display_value");
        if (!value) value = optional_member(m, "value");
        out.push_back({{"key", label && label->is_string() ? *label : key},
                       {"value", !value ? json() : value->is_string() ? *value : json(value->dump())}});
    }
    return out;
}

std::string financial_status(const std::string& status, const json& r) {
    if (status == "refunded") return "refunded";
    if (status == "failed") return "failed";
    if (optional_member(r, "date_paid_gmt") || status == "processing" || status == "completed") return "paid";
    return "pending";
}

json lines(const json& r, const std::map<std::string, Rate>& by_id, Decimal& subtotal) {
    json out = json::array();
    const auto& items = array_member(r, "line_items", "");
    for (std::size_t i = 0; i < items.size(); ++i) {
        const auto p = fmt::format("line_items[{}]", i);
        const auto& li = items[i];
        const auto qty = quantity(member(li, "quantity", p), p + ".quantity");
        const auto sub = money(member(li, "subtotal", p), p + ".subtotal");
        const auto total = money(member(li, "total", p), p + ".total");
        subtotal = subtotal + sub;
        out.push_back({{"id", id_text(member(li, "id", p), p + ".id")},
                       {"sku", opt_text(li, "sku")},
                       {"name", opt_text(li, "name")},
                       {"quantity", qty},
                       {"unit_price", (qty > 0 ? sub.divided(qty) : sub).str()},
                       {"discount", (sub - total).str()},
                       {"taxes", taxes(li, by_id, p)},
                       {"taxes_included", false},
                       {"meta", meta(li, p)}});
    }
    return out;
}

}  // namespace

Draft normalize_woocommerce(const json& r) {
    Draft d;
    auto& o = d.order;
    const auto status = text(r, "status", "");
    d.cancelled = status == "cancelled";
    o["id"] = id_text(member(r, "id", ""), "id");
    const json number = opt_text(r, "number");
    o["name"] = "#" + (number.is_string() ? number.get<std::string>() : o["id"].get<std::string>());
    o["status"] = d.cancelled ? "cancelled" : "open";
    o["financial_status"] = financial_status(status, r);
    o["currency"] = text(r, "currency", "");
    o["created_at"] = utc(r, "date_created_gmt", "");
    o["updated_at"] = utc(r, "date_modified_gmt", "");
    const json* billing = optional_member(r, "billing");
    o["email"] = billing ? opt_text(*billing, "email") : json();
    o["customer"] = billing ? json{{"first_name", opt_text(*billing, "first_name")},
                                   {"last_name", opt_text(*billing, "last_name")},
                                   {"email", opt_text(*billing, "email")}, {"phone", opt_text(*billing, "phone")}}
                            : json();
    o["billing_address"] = address(billing, kWooAddress);
    o["shipping_address"] = address(optional_member(r, "shipping"), kWooAddress);
    const auto by_id = rates(r);
    Decimal subtotal;
    o["lines"] = lines(r, by_id, subtotal);
    o["shipping"] = json::array();
    const auto& ship = array_member(r, "shipping_lines", "");
    for (std::size_t i = 0; i < ship.size(); ++i) {
        const auto p = fmt::format("shipping_lines[{}]", i);
        o["shipping"].push_back({{"name", opt_text(ship[i], "method_title")},
                                 {"price", money(member(ship[i], "total", p), p + ".total").str()},
                                 {"discount", "0"},
                                 {"taxes", taxes(ship[i], by_id, p)}});
    }
    o["totals"] = {{"subtotal", subtotal.str()},
                   {"tax", money_or_zero(r, "total_tax", "").str()},
                   {"shipping", money_or_zero(r, "shipping_total", "").str()},
                   {"discount", money_or_zero(r, "discount_total", "").str()},
                   {"total", money(member(r, "total", ""), "total").str()}};
    return d;
}

}  // namespace stockrelay::orders::detail
