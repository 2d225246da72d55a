// Reading a Shopify shop's whole inventory (reconciliation, issue 11): a bulk
// query operation whose JSONL result is parsed while it downloads, or a
// paginated inventoryItems query. ShopifyChannel::read_inventory wires these to
// its cost-aware GraphQL call; the pure parts are exposed for unit tests.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "stockrelay/channels/channel.hpp"
#include "stockrelay/channels/shopify.hpp"

namespace stockrelay::channels::shopify {

// Documents (validated by the emulator against the pinned schemas).
std::string bulk_inventory_query();                     // the query bulkOperationRunQuery runs
std::string bulk_run_document(const ApiVersion& v);     // groupObjects: true from 2025-07
std::string bulk_status_document(const ApiVersion& v);  // bulkOperation(id:) 2026-01+, else currentBulkOperation
std::string_view inventory_page_document();             // paginated inventoryItems + levels
std::string_view variant_count_document();              // productVariantsCount

// Parses a bulk result (JSONL, inventoryItems with nested inventoryLevels, as
// Shopify writes it: each level line after its item line with "__parentId")
// chunk by chunk, holding one line and one item at a time. Records reach
// `on_page` in pages ending at item boundaries, with the number of lines
// consumed so far (the resume point: skip that many lines next time).
class BulkInventoryParser {
public:
    using PageFn = std::function<bool(std::vector<InventoryRecord>& page, std::int64_t lines_done)>;
    // locations: shop location gid -> the key records carry; empty = every location, keyed by gid.
    BulkInventoryParser(std::map<std::string, std::string> locations, std::int64_t skip_lines, std::size_t page_size, PageFn on_page);

    // false when on_page asked to stop.
    bool feed(std::string_view chunk);
    bool finish();  // the last item and page
    std::int64_t lines() const { return line_no_; }
    std::int64_t malformed() const { return malformed_; }

private:
    bool line(std::string_view text);
    void close_item();
    void level(const nlohmann::json& obj);
    bool flush();

    std::map<std::string, std::string> locations_;
    std::int64_t skip_ = 0;
    std::size_t page_size_;
    PageFn on_page_;
    std::string partial_;
    std::int64_t line_no_ = 0;  // lines seen (complete)
    std::int64_t malformed_ = 0;
    bool open_ = false;         // an item is being collected
    InventoryRecord item_;      // the current item's fields (location/quantity unset)
    bool item_in_scope_ = false;
    std::vector<InventoryRecord> page_;
};

// One inventory item node (paginated answer, or a bulk item line with its
// levels gathered) -> records at the wanted locations (one with an empty
// location_key when it has none there).
InventoryRecord item_record(const nlohmann::json& node, std::int64_t seq);
// The record of one level node of `item`; nullopt when its location is not wanted.
std::optional<InventoryRecord> level_record(const InventoryRecord& item, const nlohmann::json& level,
                                            const std::map<std::string, std::string>& locations);

// What the reader needs from the channel.
struct GraphqlAnswer {
    std::optional<Error> error;
    nlohmann::json data;
    double cost = 0;  // actualQueryCost charged
};
struct ReadDeps {
    ApiVersion version;
    std::function<GraphqlAnswer(std::string_view op, std::string_view doc, const nlohmann::json& vars, double est)> graphql;
    http::Client* client = nullptr;                    // downloads the result URL (never with the token)
    std::function<bool(std::chrono::milliseconds)> sleep;
    nlohmann::json settings = nlohmann::json::object();  // the channel's settings
};

std::optional<Error> read_inventory(ReadDeps& deps, const std::vector<std::string>& location_keys,
                                    const nlohmann::json& cursor, const InventorySink& sink, ReadReport& report);

}  // namespace stockrelay::channels::shopify
