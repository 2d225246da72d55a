// The channel interface: one implementation per shop type. The sidecar pushes
// through it; the Odoo addon's buttons (test connection, load locations, look
// up SKU) call the very same code through the Python module.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "stockrelay/error.hpp"
#include "stockrelay/http/http.hpp"

namespace stockrelay::channels {

// A row of stock_relay_channel, validated.
struct Config {
    std::int64_t id = 0;
    std::string name;
    std::string type;         // shopify | woocommerce | medusa
    std::string base_url;
    std::string api_version;  // empty = the channel type's default
    nlohmann::json credentials = nlohmann::json::object();
    nlohmann::json settings = nlohmann::json::object();
    int batch_size = 0;       // 0 = the channel type's default
    int max_attempts = 10;
    double retry_window_hours = 24;  // a transiently failing row retries this long before it fails
    std::chrono::milliseconds timeout{15000};
    bool tls_verify = true;
    // How long a cached SKU resolution is trusted before the next push looks it up again.
    std::chrono::seconds sku_cache_max_age{3600};

    // From the JSON shape of a channel row (keys as the SQL columns). Fails
    // with ErrorCode::config and a message naming the bad field.
    static Result<Config> from_json(const nlohmann::json& row);
    // Every credential string, for redaction.
    std::vector<std::string> secrets() const;
    http::ClientOptions client_options() const;
};

struct Location {
    std::string id;     // the key used in outbox rows' location_key
    std::string name;
    bool active = true;
};

// What a SKU resolves to in the shop; cached in stock_relay_sku_cache.
struct Resolution {
    std::string remote_id;  // shopify inventory item gid, woo product/variation id, medusa inventory item id
    std::string parent_id;  // woo variation parent; else empty
    nlohmann::json extra = nlohmann::json::object();
};

// What "Look up SKU" shows.
struct RemoteItem {
    std::string sku;
    std::string title;
    Resolution resolution;
    bool tracked = true;                          // stock managed by the shop
    std::map<std::string, std::int64_t> levels;  // location key -> available
};

struct PushItem {
    std::int64_t row_id = 0;
    std::string sku;
    std::string location_key;
    std::int64_t quantity = 0;   // validated: 0 <= q <= 1e9
    std::int64_t version = 0;
    std::optional<Resolution> cached;
    // True when last_set belongs to the shop item `remote_id` (the SKU did not move since).
    bool baseline_for(const std::string& remote_id) const {
        return last_set && (last_set_remote.empty() || last_set_remote == remote_id);
    }
    // Sales-aware pushes (contract v4 [sales-aware]). `last_set`: the value
    // stockrelay set last for this key (Shopify sends it as the compare value).
    // `on_level`, when set: the value to write given the shop's level now; the
    // channel calls it whenever it reads the level before writing (WooCommerce,
    // Medusa: always; Shopify: after a compare conflict) and writes its answer
    // instead of `quantity`.
    std::optional<std::int64_t> last_set;
    std::string last_set_remote;  // the shop item last_set was set on; empty: unknown. Another item: no baseline
    std::function<std::int64_t(std::int64_t shop_level)> on_level;
};

struct ItemOutcome {
    std::int64_t row_id = 0;
    std::optional<Error> error;          // nullopt = applied
    std::optional<Resolution> resolved;  // a mapping worth caching
    bool drop_cache = false;             // the cached mapping proved stale
    int http_status = 0;
    std::string request_excerpt;         // redacted
    std::string response_excerpt;        // redacted
    std::optional<std::int64_t> set;     // the value written (nullopt: the item's `quantity`)
    int compare_conflicts = 0;           // compare-and-set conflicts resolved by reading the level again
};

struct PushReport {
    std::vector<ItemOutcome> items;  // exactly one per input item, same order
    int http_calls = 0;
    std::chrono::milliseconds throttled_for{0};  // time spent waiting on rate limits
};

// ---- Reconciliation (contract v3): reading the shop's whole inventory ----
// One shop item at one shop location, as stored in stock_relay_snapshot.
struct InventoryRecord {
    std::string remote_id;                  // same id space as Resolution::remote_id
    std::string parent_id;                  // woo variation parent; else empty
    std::optional<std::string> sku;         // nullopt: the shop item has no SKU
    std::string location_key;               // same key as outbox rows' location_key
    std::optional<std::int64_t> quantity;   // nullopt: unknown (untracked item, malformed answer)
    bool tracked = true;                    // the shop manages this item's stock
    std::string problem;                    // non-empty: what was malformed in the shop's answer
};

// Receives the records page by page, with the resume point *after* that page
// (persist both in one transaction). Returns false to stop (shutdown): the
// reader then returns quickly with an error.
using InventorySink = std::function<bool(const std::vector<InventoryRecord>& page, const nlohmann::json& cursor)>;

// Filled while reading, also when the read fails part-way.
struct ReadReport {
    std::string method;                          // "bulk", "paginated", ...
    int api_calls = 0;
    int cost_points = 0;                         // Shopify query cost actually used; 0 elsewhere
    std::int64_t items = 0;                      // records handed to the sink
    std::chrono::milliseconds throttled_for{0};
};

// Channels sleep (rate limits) through this; it returns false when the
// caller wants to stop (shutdown), and the channel then gives up quickly.
using Sleeper = std::function<bool(std::chrono::milliseconds)>;

class Channel {
public:
    virtual ~Channel() = default;

    virtual std::string_view type() const = 0;
    virtual std::size_t max_batch() const = 0;      // the shop's hard limit per call
    virtual std::size_t batch_size() const = 0;     // configured, clamped to max_batch

    // A harmless authenticated call; the success text names the shop/API.
    virtual Result<std::string> test_connection() = 0;
    virtual Result<std::vector<Location>> list_locations() = 0;
    virtual Result<std::vector<RemoteItem>> lookup_sku(const std::string& sku) = 0;

    // Set absolute quantities. Never throws; every item gets one outcome.
    // Items may share SKUs but not (sku, location) pairs.
    virtual PushReport push(const std::vector<PushItem>& items) = 0;

    // Reads every inventory record at the given shop locations (empty = all
    // locations), starting after `cursor` (null = from the start) and handing
    // pages to `sink`. Returns nullopt when the whole inventory was read; on an
    // error (timeout, throttling beyond patience, 5xx, auth) the caller keeps
    // the last cursor the sink persisted and resumes from it later. A
    // malformed item is a record with `problem` set, never a failed read.
    virtual std::optional<Error> read_inventory(const std::vector<std::string>& location_keys,
                                                const nlohmann::json& cursor, const InventorySink& sink,
                                                ReadReport& report);

    // ---- Orders in (contract v3 [orders]): the raw authenticated calls the
    // order poller and webhook registration (stockrelay/orders_api.hpp) build on.
    // Shopify: one GraphQL call, cost-aware (waits on the query-cost bucket),
    // returning its "data" object. Other shops: ErrorCode::config.
    virtual Result<nlohmann::json> graphql_call(std::string_view op, const std::string& document,
                                                const nlohmann::json& variables);
    // WooCommerce and Medusa: one REST call relative to the API root
    // ("orders?page=2", "admin/orders?..."); a non-2xx or non-JSON answer is
    // the channel's usual specific error. Shopify: ErrorCode::config.
    virtual Result<http::Response> rest_call(const std::string& method, const std::string& rel,
                                             const std::string& body);

    void set_sleeper(Sleeper sleeper) { sleeper_ = std::move(sleeper); }

protected:
    bool sleep_for(std::chrono::milliseconds d) const;
    Sleeper sleeper_;
};

// Builds the channel for config.type with its own HTTP client (or `client`,
// for tests). Fails with ErrorCode::config for unknown types/versions/URLs or
// missing credentials.
Result<std::unique_ptr<Channel>> make_channel(const Config& config, std::unique_ptr<http::Client> client = nullptr);

}  // namespace stockrelay::channels
