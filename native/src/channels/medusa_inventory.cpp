// Medusa's whole inventory: every inventory item with its location levels,
// one record per (item, stock location). The quantity is what a customer can
// buy, stocked - reserved: the number pushes make equal to Odoo's sellable
// (pushes write stocked = sellable + reserved). An item with no level at the
// locations read is one record at location '' without a quantity, so that
// its SKU is still known.
#include <algorithm>
#include <cmath>

#include <fmt/format.h>

#include "channels/inventory_readers.hpp"
#include "channels/rest_support.hpp"
#include "stockrelay/http/http.hpp"

namespace stockrelay::channels::readers {
namespace {

using nlohmann::json;
using detail::at_key;

constexpr int kPageSize = 500;
constexpr std::string_view kFields =
    "id,sku,location_levels.location_id,location_levels.stocked_quantity,location_levels.reserved_quantity";

// A finite number as a whole quantity (Medusa stores numerics), or nullopt.
std::optional<std::int64_t> number(const json& q) {
    if (!q.is_number() || !std::isfinite(q.get<double>())) return std::nullopt;
    return std::llround(q.get<double>());
}

void item_records(const json& it, const std::vector<std::string>& keys, const std::string& fallback_id,
                  std::vector<InventoryRecord>& out) {
    InventoryRecord base;
    const json id = at_key(it, "id");
    base.remote_id = id.is_string() && !id.get<std::string>().empty() ? id.get<std::string>() : fallback_id;
    if (!it.is_object()) {
        base.problem = "not a JSON object: " + http::excerpt(it.dump(), 200);
        out.push_back(base);
        return;
    }
    if (base.remote_id == fallback_id) base.problem = "no inventory item id: " + http::excerpt(id.dump(), 100);
    const json sku = at_key(it, "sku");
    if (sku.is_string() && !sku.get<std::string>().empty()) base.sku = sku.get<std::string>();
    else if (!sku.is_string() && !sku.is_null() && base.problem.empty())
        base.problem = "sku is not a string: " + http::excerpt(sku.dump(), 100);
    const json levels = at_key(it, "location_levels");
    const std::size_t before = out.size();
    if (levels.is_array()) {
        for (const auto& l : levels) {
            const json loc = at_key(l, "location_id");
            if (!loc.is_string()) continue;
            if (!keys.empty() && std::find(keys.begin(), keys.end(), loc.get<std::string>()) == keys.end()) continue;
            InventoryRecord r = base;
            r.location_key = loc.get<std::string>();
            const auto stocked = number(at_key(l, "stocked_quantity"));
            const json reserved_j = at_key(l, "reserved_quantity");
            const auto reserved = reserved_j.is_null() ? std::optional<std::int64_t>{0} : number(reserved_j);
            if (!stocked || !reserved) {
                if (r.problem.empty())
                    r.problem = fmt::format("level at {}: stocked_quantity {} / reserved_quantity {} are not numbers",
                                            r.location_key, http::excerpt(at_key(l, "stocked_quantity").dump(), 50),
                                            http::excerpt(reserved_j.dump(), 50));
            } else if (r.problem.empty()) {
                r.quantity = *stocked - *reserved;
            }
            out.push_back(std::move(r));
        }
    } else if (!levels.is_null() && base.problem.empty()) {
        base.problem = "location_levels is not a list: " + http::excerpt(levels.dump(), 100);
    }
    if (out.size() == before) out.push_back(base);  // no level where we read: the item and its SKU still count
}

}  // namespace

std::optional<Error> read_medusa(const Get& get, const std::vector<std::string>& location_keys, const json& cursor,
                                 const InventorySink& sink, ReadReport& report) {
    report.method = "paginated";
    std::int64_t offset = 0;
    if (auto o = at_key(cursor, "offset"); o.is_number_integer() && o.get<std::int64_t>() > 0)
        offset = o.get<std::int64_t>();
    for (;;) {
        auto res = get(fmt::format("/admin/inventory-items?fields={}&limit={}&offset={}&order=id", kFields, kPageSize,
                                   offset),
                       report);
        if (!res) return std::move(res).error();
        auto body = json::parse(res->body, nullptr, false);
        const json items = at_key(body, "inventory_items");
        if (!items.is_array())
            return make_error(ErrorCode::transient,
                              fmt::format("inventory items at offset {}: the answer has no inventory_items list: {}",
                                          offset, http::excerpt(res->body, 200)),
                              res->status);
        std::vector<InventoryRecord> records;
        for (std::size_t k = 0; k < items.size(); ++k)
            item_records(items[k], location_keys, fmt::format("malformed:{}", offset + static_cast<std::int64_t>(k)),
                         records);
        offset += static_cast<std::int64_t>(items.size());
        if (!sink(records, json{{"offset", offset}})) return stopped_error();
        report.items += static_cast<std::int64_t>(records.size());
        const json count = at_key(body, "count");
        if (items.empty() || !count.is_number() || offset >= count.get<std::int64_t>()) return std::nullopt;
    }
}

}  // namespace stockrelay::channels::readers
