// Shopify inventory reads, the pure parts: the documents, item/level nodes ->
// records, and the streaming JSONL parser of a bulk result.
#include <algorithm>

#include <fmt/format.h>

#include "stockrelay/channels/shopify_inventory.hpp"
#include "stockrelay/http/http.hpp"

namespace stockrelay::channels::shopify {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxLineBytes = 1 << 20;  // a longer "line" is garbage, not an item

const json* field(const json& j, std::string_view key) {
    if (!j.is_object()) return nullptr;
    auto it = j.find(key);
    return it == j.end() ? nullptr : &*it;
}

std::string text(const json* j) { return j && j->is_string() ? j->get<std::string>() : std::string(); }

InventoryRecord malformed_record(std::int64_t seq, std::string problem) {
    InventoryRecord r;
    r.remote_id = fmt::format("malformed-line-{}", seq);
    r.quantity.reset();
    r.problem = std::move(problem);
    return r;
}

}  // namespace

std::string bulk_inventory_query() {
    return "{ inventoryItems { edges { node { id sku tracked inventoryLevels { edges { node { location { id } "
           "quantities(names: [\"available\"]) { name quantity } } } } } } } }";
}

std::string bulk_run_document(const ApiVersion& v) {
    const bool group = v >= ApiVersion{2025, 7};
    return fmt::format(R"(mutation BulkInventory($query: String!) {{
  bulkOperationRunQuery(query: $query{}) {{
    bulkOperation {{ id status }}
    userErrors {{ code field message }}
  }}
}})", group ? ", groupObjects: true" : "");
}

std::string bulk_status_document(const ApiVersion& v) {
    if (v >= ApiVersion{2026, 1})
        return "query BulkStatus($id: ID!) { bulkOperation(id: $id) { id status errorCode objectCount url partialDataUrl } }";
    return "query BulkStatus { currentBulkOperation(type: QUERY) { id status errorCode objectCount url partialDataUrl } }";
}

std::string_view inventory_page_document() {
    return R"(query ReadInventory($first: Int!, $after: String, $levels: Int!) {
  inventoryItems(first: $first, after: $after) {
    nodes { id sku tracked
      inventoryLevels(first: $levels) { nodes { location { id } quantities(names: ["available"]) { name quantity } }
        pageInfo { hasNextPage } } }
    pageInfo { hasNextPage endCursor }
  }
})";
}

std::string_view variant_count_document() { return "query VariantCount { productVariantsCount { count } }"; }

InventoryRecord item_record(const json& node, std::int64_t seq) {
    std::string id = text(field(node, "id"));
    if (id.empty()) return malformed_record(seq, "inventory item without an id: " + http::excerpt(node.dump(), 200));
    InventoryRecord r;
    r.remote_id = std::move(id);
    if (const json* sku = field(node, "sku"); sku && sku->is_string() && !sku->get<std::string>().empty())
        r.sku = sku->get<std::string>();
    const json* tracked = field(node, "tracked");
    r.tracked = !tracked || !tracked->is_boolean() || tracked->get<bool>();
    if (tracked && !tracked->is_boolean() && !tracked->is_null())
        r.problem = "'tracked' is not a boolean: " + http::excerpt(tracked->dump(), 80);
    return r;
}

std::optional<InventoryRecord> level_record(const InventoryRecord& item, const json& level,
                                            const std::map<std::string, std::string>& locations) {
    InventoryRecord r = item;
    const json* where = field(level, "location");
    const std::string loc = where ? text(field(*where, "id")) : std::string();
    if (loc.empty()) {
        r.location_key = "";
        r.problem = "inventory level without a location id: " + http::excerpt(level.dump(), 200);
        return r;
    }
    if (!locations.empty()) {
        auto it = locations.find(loc);
        if (it == locations.end()) return std::nullopt;
        r.location_key = it->second;
    } else {
        r.location_key = loc;
    }
    std::optional<std::int64_t> available;
    bool found = false;
    if (const json* qs = field(level, "quantities"); qs && qs->is_array())
        for (const auto& q : *qs)
            if (text(field(q, "name")) == "available") {
                found = true;
                if (const json* n = field(q, "quantity"); n && n->is_number_integer()) available = n->get<std::int64_t>();
            }
    if (!available) {
        r.problem = found ? "the 'available' quantity is not an integer: " + http::excerpt(level.dump(), 200)
                          : "inventory level without an 'available' quantity";
    }
    r.quantity = r.tracked ? available : std::nullopt;
    return r;
}

BulkInventoryParser::BulkInventoryParser(std::map<std::string, std::string> locations, std::int64_t skip_lines,
                                         std::size_t page_size, PageFn on_page)
    : locations_(std::move(locations)), skip_(skip_lines), page_size_(std::max<std::size_t>(1, page_size)),
      on_page_(std::move(on_page)) {}

bool BulkInventoryParser::feed(std::string_view chunk) {
    while (!chunk.empty()) {
        auto nl = chunk.find('\n');
        if (nl == std::string_view::npos) {
            if (partial_.size() < kMaxLineBytes) partial_.append(chunk.substr(0, kMaxLineBytes - partial_.size()));
            return true;
        }
        bool ok;
        if (partial_.empty()) {
            ok = line(chunk.substr(0, nl));
        } else {
            if (partial_.size() < kMaxLineBytes) partial_.append(chunk.substr(0, std::min(nl, kMaxLineBytes - partial_.size())));
            ok = line(partial_);
            partial_.clear();
        }
        if (!ok) return false;
        chunk.remove_prefix(nl + 1);
    }
    return true;
}

bool BulkInventoryParser::finish() {
    if (!partial_.empty()) {
        std::string last = std::move(partial_);
        partial_.clear();
        if (!line(last)) return false;
    }
    close_item();
    return flush();
}

bool BulkInventoryParser::flush() {
    if (page_.empty() && line_no_ <= skip_) return true;
    bool ok = on_page_(page_, line_no_);
    page_.clear();
    return ok;
}

void BulkInventoryParser::close_item() {
    if (open_ && !item_in_scope_) page_.push_back(item_);  // no level at a wanted location
    open_ = false;
}

void BulkInventoryParser::level(const json& obj) {
    if (!open_ || text(field(obj, "__parentId")) != item_.remote_id) {
        ++malformed_;
        page_.push_back(malformed_record(line_no_, "inventory level line without its item line before it (parent " +
                                                http::excerpt(text(field(obj, "__parentId")), 100) + ")"));
        return;
    }
    auto r = level_record(item_, obj, locations_);
    if (!r) return;
    if (!r->problem.empty()) ++malformed_;
    item_in_scope_ = true;
    page_.push_back(std::move(*r));
}

bool BulkInventoryParser::line(std::string_view text_line) {
    ++line_no_;
    if (line_no_ <= skip_) return true;
    if (!text_line.empty() && text_line.back() == '\r') text_line.remove_suffix(1);
    if (text_line.empty()) return true;
    json obj = json::parse(text_line.begin(), text_line.end(), nullptr, false);
    if (obj.is_discarded() || !obj.is_object()) {
        ++malformed_;
        close_item();
        page_.push_back(malformed_record(line_no_, "a line of the bulk result is not a JSON object: " + http::excerpt(text_line, 200)));
        return true;
    }
    if (obj.contains("__parentId")) {
        level(obj);
        return true;
    }
    close_item();
    if (page_.size() >= page_size_) {
        // The page ends before this item line: resuming skips exactly the lines delivered.
        --line_no_;
        bool ok = flush();
        ++line_no_;
        if (!ok) return false;
    }
    item_ = item_record(obj, line_no_);
    if (!item_.problem.empty()) ++malformed_;
    open_ = item_.remote_id.rfind("malformed-line-", 0) != 0;
    if (!open_) page_.push_back(item_);
    item_in_scope_ = false;
    return true;
}

}  // namespace stockrelay::channels::shopify
