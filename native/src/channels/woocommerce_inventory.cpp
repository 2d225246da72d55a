// WooCommerce's whole inventory: every product (any status but trash) and
// every variation of its variable products, one record each at the store's
// single stock location (key ''), the key pushes use.
#include <cmath>

#include <fmt/format.h>

#include "channels/inventory_readers.hpp"
#include "channels/rest_support.hpp"
#include "stockrelay/http/http.hpp"

namespace stockrelay::channels::readers {
namespace {

using nlohmann::json;
using detail::at_key;

constexpr int kPerPage = 100;  // WooCommerce's maximum per_page
constexpr int kMaxVariationPages = 100;
constexpr std::string_view kFields = "id,sku,type,parent_id,manage_stock,stock_quantity,status";

std::string query(int page) {
    return fmt::format("per_page={}&page={}&orderby=id&order=asc&_fields={}", kPerPage, page, http::url_encode(kFields));
}

int total_pages(const http::Response& r) {
    auto h = r.header("x-wp-totalpages");
    if (!h) return 0;
    try {
        return std::stoi(*h);
    } catch (...) {
        return 0;
    }
}

// A whole number of items, or nullopt.
std::optional<std::int64_t> whole(const json& q) {
    if (q.is_number_integer()) return q.get<std::int64_t>();
    if (q.is_number_float() && std::isfinite(q.get<double>()) && std::floor(q.get<double>()) == q.get<double>())
        return static_cast<std::int64_t>(q.get<double>());
    return std::nullopt;
}

// One product or variation as a record; what is malformed goes in `problem`.
// `fallback_id` names an item that came without a usable id.
InventoryRecord record_of(const json& p, const std::string& parent, const std::string& fallback_id) {
    InventoryRecord r;
    r.parent_id = parent;
    r.quantity.reset();
    if (!p.is_object()) {
        r.remote_id = fallback_id;
        r.tracked = false;
        r.problem = "not a JSON object: " + http::excerpt(p.dump(), 200);
        return r;
    }
    const json id = at_key(p, "id");
    if (id.is_number_integer() && id.get<std::int64_t>() > 0) {
        r.remote_id = std::to_string(id.get<std::int64_t>());
    } else {
        r.remote_id = fallback_id;
        r.problem = "no numeric id: " + http::excerpt(id.dump(), 100);
    }
    const json sku = at_key(p, "sku");
    if (sku.is_string() && !sku.get<std::string>().empty())
        r.sku = sku.get<std::string>();
    else if (!sku.is_string() && !sku.is_null() && r.problem.empty())
        r.problem = "sku is not a string: " + http::excerpt(sku.dump(), 100);
    const json ms = at_key(p, "manage_stock");
    r.tracked = ms.is_boolean() && ms.get<bool>();  // "parent": the variation's stock is its parent's
    if (!ms.is_boolean() && !(ms.is_string() && ms.get<std::string>() == "parent") && r.problem.empty())
        r.problem = "manage_stock is neither true, false nor \"parent\": " + http::excerpt(ms.dump(), 100);
    const json type = at_key(p, "type");
    if ((type == "grouped" || type == "external")) r.tracked = false;  // they hold no stock of their own
    if (!r.tracked) return r;
    const json q = at_key(p, "stock_quantity");
    r.quantity = whole(q);
    if (!r.quantity && r.problem.empty())
        r.problem = "stock management is on but stock_quantity is not a whole number: " + http::excerpt(q.dump(), 100);
    if (!r.problem.empty()) r.quantity.reset();
    return r;
}

// Every variation of variable product `parent`, appended to `out`.
std::optional<Error> read_variations(const Get& get, const std::string& parent, std::vector<InventoryRecord>& out,
                                     ReadReport& report) {
    for (int page = 1; page <= kMaxVariationPages; ++page) {
        auto res = get(fmt::format("products/{}/variations?{}", parent, query(page)), report);
        if (!res) return std::move(res).error();
        auto body = json::parse(res->body, nullptr, false);
        if (!body.is_array())
            return make_error(ErrorCode::transient,
                              fmt::format("variations of product #{}: WooCommerce answered with something other than "
                                          "a list: {}",
                                          parent, http::excerpt(res->body, 200)),
                              res->status);
        for (std::size_t k = 0; k < body.size(); ++k)
            out.push_back(record_of(body[k], parent, fmt::format("malformed:{}/v{}.{}", parent, page, k)));
        if (page >= total_pages(*res) || body.size() < static_cast<std::size_t>(kPerPage)) return std::nullopt;
    }
    return std::nullopt;
}

}  // namespace

Error stopped_error() { return make_error(ErrorCode::transient, "the read was stopped (shutdown); it resumes from its cursor"); }

std::optional<Error> read_woocommerce(const Get& get, const json& cursor, const InventorySink& sink,
                                      ReadReport& report) {
    report.method = "paginated";
    int page = 1;
    if (auto p = at_key(cursor, "page"); p.is_number_integer() && p.get<int>() > 0) page = p.get<int>();
    for (;; ++page) {
        auto res = get("products?" + query(page), report);
        if (!res) return std::move(res).error();
        auto body = json::parse(res->body, nullptr, false);
        if (!body.is_array())
            return make_error(ErrorCode::transient,
                              fmt::format("products page {}: WooCommerce answered with something other than a list: {}",
                                          page, http::excerpt(res->body, 200)),
                              res->status);
        std::vector<InventoryRecord> records;
        for (std::size_t k = 0; k < body.size(); ++k) {
            records.push_back(record_of(body[k], "", fmt::format("malformed:p{}.{}", page, k)));
            const std::string id = records.back().remote_id;  // copied: reading variations grows `records`
            if (at_key(body[k], "type") == "variable" && records.back().problem.empty())
                if (auto e = read_variations(get, id, records, report)) return e;
        }
        if (!sink(records, json{{"page", page + 1}})) return stopped_error();
        report.items += static_cast<std::int64_t>(records.size());
        if (page >= total_pages(*res) || body.size() < static_cast<std::size_t>(kPerPage)) return std::nullopt;
    }
}

}  // namespace stockrelay::channels::readers
