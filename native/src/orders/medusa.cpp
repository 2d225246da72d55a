// Medusa v2 admin order (GET /admin/orders with the fields our poll asks
// for). Amounts are JSON numbers; tax rates are percentages (21 = 21 %).
#include <fmt/format.h>

#include "address.hpp"
#include "normalizers.hpp"
#include "support.hpp"

namespace stockrelay::orders::detail {
namespace {

json taxes(const json& owner, const std::string& path) {
    json out = json::array();
    const auto& list = array_member(owner, "tax_lines", path);
    for (std::size_t i = 0; i < list.size(); ++i) {
        const auto p = fmt::format("{}.tax_lines[{}]", path, i);
        const json* total = optional_member(list[i], "total");
        const json* name = optional_member(list[i], "description");
        out.push_back({{"name", name ? opt_text(list[i], "description") : opt_text(list[i], "code")},
                       {"rate", money(member(list[i], "rate", p), p + ".rate").shifted(2).str()},
                       {"amount", total ? json(money(*total, p + ".total").str()) : json()}});
    }
    return out;
}

json meta(const json& li) {
    json out = json::array();
    const json* m = optional_member(li, "metadata");
    if (!m || !m->is_object()) return out;
    for (const auto& [k, v] : m->items()) out.push_back({{"key", k}, {"value", v.is_string() ? v : json(v.dump())}});
    return out;
}

json financial_status(const json& r) {
    const json s = opt_text(r, "payment_status");
    if (!s.is_string()) return nullptr;
    const auto v = s.get<std::string>();
    if (v == "captured") return "paid";
    if (v == "partially_captured") return "partially_paid";
    if (v == "not_paid" || v == "awaiting") return "pending";
    return v;
}

json lines(const json& r) {
    json out = json::array();
    const auto& items = array_member(r, "items", "");
    for (std::size_t i = 0; i < items.size(); ++i) {
        const auto p = fmt::format("items[{}]", i);
        const auto& li = items[i];
        json name = opt_text(li, "product_title");
        if (name.is_null()) name = opt_text(li, "title");
        out.push_back({{"id", id_text(member(li, "id", p), p + ".id")},
                       {"sku", opt_text(li, "variant_sku")},
                       {"name", name},
                       {"quantity", quantity(member(li, "quantity", p), p + ".quantity")},
                       {"unit_price", money(member(li, "unit_price", p), p + ".unit_price").str()},
                       {"discount", money_or_zero(li, "discount_total", p).str()},
                       {"taxes", taxes(li, p)},
                       {"taxes_included", li.value("is_tax_inclusive", false)},
                       {"meta", meta(li)}});
    }
    return out;
}

}  // namespace

Draft normalize_medusa(const json& r) {
    Draft d;
    auto& o = d.order;
    const auto status = text(r, "status", "");
    d.cancelled = status == "canceled";
    o["id"] = id_text(member(r, "id", ""), "id");
    o["name"] = "#" + id_text(member(r, "display_id", ""), "display_id");
    o["status"] = d.cancelled ? "cancelled" : "open";
    o["financial_status"] = financial_status(r);
    auto currency = text(r, "currency_code", "");
    for (auto& ch : currency) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    o["currency"] = currency;
    o["created_at"] = utc(r, "created_at", "");
    o["updated_at"] = utc(r, "updated_at", "");
    o["email"] = opt_text(r, "email");
    const json* c = optional_member(r, "customer");
    o["customer"] = c ? json{{"first_name", opt_text(*c, "first_name")}, {"last_name", opt_text(*c, "last_name")},
                             {"email", opt_text(*c, "email")}, {"phone", opt_text(*c, "phone")}}
                      : json();
    o["billing_address"] = address(optional_member(r, "billing_address"), kMedusaAddress);
    o["shipping_address"] = address(optional_member(r, "shipping_address"), kMedusaAddress);
    o["lines"] = lines(r);
    o["shipping"] = json::array();
    const auto& ship = array_member(r, "shipping_methods", "");
    for (std::size_t i = 0; i < ship.size(); ++i) {
        const auto p = fmt::format("shipping_methods[{}]", i);
        o["shipping"].push_back({{"name", opt_text(ship[i], "name")},
                                 {"price", money(member(ship[i], "amount", p), p + ".amount").str()},
                                 {"discount", money_or_zero(ship[i], "discount_total", p).str()},
                                 {"taxes", taxes(ship[i], p)}});
    }
    o["totals"] = {{"subtotal", money_or_zero(r, "item_subtotal", "").str()},
                   {"tax", money_or_zero(r, "tax_total", "").str()},
                   {"shipping", money_or_zero(r, "shipping_total", "").str()},
                   {"discount", money_or_zero(r, "discount_total", "").str()},
                   {"total", money(member(r, "total", ""), "total").str()}};
    return d;
}

}  // namespace stockrelay::orders::detail
