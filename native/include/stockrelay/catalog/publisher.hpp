// Publishing catalogue documents into one shop. One implementation per shop
// type, built on the channel's raw authenticated calls (Channel::rest_call,
// Channel::graphql_call), so the Channel interface stays the stock relay's.
// Medusa is the first; Shopify (productSet) and WooCommerce (variable
// products through the batch endpoints) plug in through make_publisher.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "stockrelay/catalog/document.hpp"
#include "stockrelay/channels/channel.hpp"
#include "stockrelay/error.hpp"

namespace stockrelay::catalog {

// One row of stock_relay_catalog_map.
struct MapEntry {
    std::string external_id;
    std::string object;  // product | variant
    std::int64_t template_id = 0;
    std::optional<std::int64_t> product_id;  // variants: the Odoo product.product id
    std::string remote_id;
    std::string parent_remote_id;  // variants: the shop product's id
    std::string handle;
    std::string document_hash;     // products: the last document published
    bool adopted = false;
};

// The channel's map rows of one template.
struct Mapping {
    std::vector<MapEntry> entries;
    const MapEntry* product() const;
    const MapEntry* variant(const std::string& external_id) const;
};

struct PublishOutcome {
    std::optional<Error> error;           // nullopt: the shop has the document
    std::vector<MapEntry> map;            // rows to upsert (whole template: product and every variant)
    std::vector<std::string> unmap;       // external ids whose shop objects are gone
    bool adopted = false;                 // matched to a product made by hand in the shop
    bool unchanged = false;               // nothing was sent (same hash, mapping present)
    std::string action;                   // created | updated | unchanged | archived | prices
    int http_calls = 0;
    int http_status = 0;
    std::string request_excerpt;          // redacted by the channel
    std::string response_excerpt;
};

// One entry of a dry run's result (contract: stock_relay_catalog_preview.result).
struct PreviewEntry {
    std::string status;  // created | updated | unchanged | conflicts
    std::string external_id;
    std::string name;
    nlohmann::json fields = nlohmann::json::object();  // updated: {"<field>": {"shop": .., "odoo": ..}}
    std::string code;     // conflicts: an ErrorCode name
    std::string message;  // conflicts
};

// One document of a batch publish with the channel's map rows of its template
// (both borrowed for the duration of the call).
struct PublishItem {
    const Document* doc = nullptr;
    const Mapping* mapping = nullptr;
};

// One price payload of a batch price publish.
struct PriceItem {
    const PriceDocument* prices = nullptr;
    const Mapping* mapping = nullptr;
};

class Publisher {
public:
    virtual ~Publisher() = default;
    // Creates, updates (only what changed), adopts or archives the product.
    // Never throws; shop errors come back in the outcome.
    virtual PublishOutcome publish(const Document& doc, const Mapping& mapping) = 0;
    // Sets the variants' prices in the document's currency (the template must be mapped).
    virtual PublishOutcome publish_prices(const PriceDocument& prices, const Mapping& mapping) = 0;
    // Several documents at once: outcome i is items[i]'s. A shop with batch
    // endpoints overrides it to make fewer calls, but a bad document must still
    // fail alone with its own error while the others land. HTTP calls shared by
    // the batch are counted on one of the outcomes (the sum is the batch's).
    // Default (publisher.cpp): publish() for each item.
    virtual std::vector<PublishOutcome> publish_batch(const std::vector<PublishItem>& items);
    // publish_prices() for several templates; same rules as publish_batch().
    virtual std::vector<PublishOutcome> publish_prices_batch(const std::vector<PriceItem>& items);
    // Reads the shop and says what publish() would change; changes nothing.
    virtual PreviewEntry preview(const Document& doc, const Mapping& mapping) = 0;
    // HTTP calls made since construction (figures, tests).
    virtual int http_calls() const = 0;
};

// Shared by the shop publishers.
// The outcome of a document identical to the last one published (same hash,
// mapping present): nothing is sent. nullopt when the document must go out.
std::optional<PublishOutcome> unchanged_outcome(const Document& doc, const Mapping& mapping);
// Runs one row's work: its error (after `reword`, the shop's words made
// specific) or a malformed answer (an exception) fails the row, never the daemon.
void guard_row(PublishOutcome& out, std::string_view shop, const std::function<std::optional<Error>()>& work,
               Error (*reword)(Error) = nullptr);
// One REST call through the channel; writes leave their request and answer
// excerpts on the outcome. A body that is not JSON is transient.
Result<nlohmann::json> rest_json(channels::Channel& channel, std::string_view shop, const std::string& method,
                                 const std::string& rel, const nlohmann::json& body, PublishOutcome& out);

// The publisher of `channel` (which it borrows: it must outlive the publisher).
// ErrorCode::config for a shop type without catalogue support yet.
Result<std::unique_ptr<Publisher>> make_publisher(channels::Channel& channel, const channels::Config& config);

// The contract's result object from preview entries:
// {"created": [...], "updated": [...], "unchanged": [...], "conflicts": [...]}.
nlohmann::json preview_result(const std::vector<PreviewEntry>& entries);

}  // namespace stockrelay::catalog
