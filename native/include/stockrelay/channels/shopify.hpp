// The pure parts of the Shopify channel (Admin GraphQL): API versions and the
// input shape each one wants, SKU search strings, operation documents and
// variables, idempotency keys, response classification, the query-cost
// bucket. The channel itself is built by make_channel(); these are exposed so
// unit tests can pin the exact requests without a network.
#pragma once

#include <chrono>
#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "stockrelay/error.hpp"
#include "stockrelay/http/http.hpp"

namespace stockrelay::channels::shopify {

inline constexpr std::string_view kDefaultApiVersion = "2026-10";
inline constexpr std::size_t kMaxBatch = 250;          // Shopify's input-array limit
inline constexpr std::size_t kMaxSkusPerQuery = 50;    // keeps search strings short
inline constexpr std::size_t kMaxSearchChars = 4000;

// The dated versions this channel knows the inventory input shape of.
const std::vector<std::string_view>& supported_versions();

struct ApiVersion {
    int year = 0;
    int month = 0;

    // "" means kDefaultApiVersion; anything not in supported_versions() is a
    // config error naming the supported ones.
    static Result<ApiVersion> parse(std::string_view text);
    std::string str() const;
    auto operator<=>(const ApiVersion&) const = default;

    // <= 2025-10: quantities need compareQuantity unless ignoreCompareQuantity: true.
    bool needs_ignore_compare_quantity() const { return *this <= ApiVersion{2025, 10}; }
    // >= 2026-01: the compare check is skipped by an explicit changeFromQuantity: null
    // (2026-01 still requires a compare unless opted out; its schema deprecates
    // ignoreCompareQuantity in favour of the null).
    bool opts_out_with_null_change_from() const { return *this >= ApiVersion{2026, 1}; }
    // >= 2026-04: every quantity must carry changeFromQuantity (null = no check).
    bool requires_change_from_quantity() const { return *this >= ApiVersion{2026, 4}; }
    // >= 2026-04: inventory mutations must carry @idempotent(key:).
    bool requires_idempotent() const { return *this >= ApiVersion{2026, 4}; }
    // <= 2026-07: setting a level where the item is not stocked fails with
    // ITEM_NOT_STOCKED_AT_LOCATION and needs inventoryActivate first.
    bool needs_inventory_activate() const { return *this <= ApiVersion{2026, 7}; }
};

// ---- SKU search

// Backslash-escapes the characters that end or escape a quoted search value.
std::string escape_search_value(std::string_view value);
// sku:'<escaped>'
std::string sku_term(std::string_view sku);
// sku:'A' OR sku:'B' ...
std::string sku_search_query(const std::vector<std::string>& skus);
// Splits SKUs (kept in order) into groups whose search string stays within
// both limits; a single over-long SKU still gets its own group.
std::vector<std::vector<std::string>> chunk_skus(const std::vector<std::string>& skus,
                                                 std::size_t max_skus = kMaxSkusPerQuery,
                                                 std::size_t max_chars = kMaxSearchChars);
// "gid://shopify/Location/<n>" for a bare number; anything else unchanged.
std::string location_gid(std::string_view key);

// ---- documents (texts as in shared/specs/shopify-operations.graphql)

std::string_view shop_document();
std::string_view locations_document();
std::string_view lookup_document();    // productVariants(first: 2) + levels for display
// productVariants(first: $first, after: $after), paginated; only the fields
// resolution uses (variant id, SKU, inventory item id and tracked): 2 points a variant.
std::string_view resolve_document();
std::string set_quantities_document(const ApiVersion& v);   // SetQty, or SetQtyIdem on 2026-04+
std::string_view level_document();                          // one item's available level at one location
std::string activate_document(const ApiVersion& v);         // Activate (+ @idempotent on 2026-04+)

// One (inventory item, location, quantity) element of a set call, with the
// outbox row it comes from.
struct SetLine {
    std::string inventory_item_id;
    std::string location_id;
    std::int64_t quantity = 0;
    std::int64_t row_id = 0;
    std::int64_t version = 0;
    // Sales-aware pushes: the level the shop must still hold for the set to
    // apply (changeFromQuantity on 2026-01+, compareQuantity before); nullopt:
    // no check (the key was never set by stockrelay).
    std::optional<std::int64_t> compare = std::nullopt;
};

std::string reference_document_uri(std::int64_t row_id);  // gid://stockrelay/OutboxRow/<id>
// {"input": {...}} (+ "key" on 2026-04+; `key` is ignored elsewhere).
nlohmann::json set_quantities_variables(const ApiVersion& v, const std::vector<SetLine>& lines, std::string_view key);
nlohmann::json activate_variables(const ApiVersion& v, const SetLine& line, std::string_view key);

// UUID-shaped, derived from the rows (id, version) and what is sent for them,
// in order: a retry of the same rows reuses it, any other payload never does.
// `salt` > 0 yields a fresh key for the same payload (after a failed attempt).
std::string idempotency_key(const std::vector<SetLine>& lines, int salt = 0);
std::string activate_idempotency_key(const SetLine& line);

// ---- responses

struct ThrottleStatus {
    double maximum_available = 0;
    double currently_available = 0;
    double restore_rate = 0;
};

struct QueryCost {
    std::optional<double> requested;
    std::optional<double> actual;
    std::optional<ThrottleStatus> throttle;
};

// extensions.cost of a response body, when present.
std::optional<QueryCost> parse_cost(const nlohmann::json& body);

struct GraphqlError {
    std::string message;
    std::string code;  // extensions.code, may be empty
};
// The top-level "errors" (an array of objects, or Shopify's plain string form).
std::vector<GraphqlError> parse_errors(const nlohmann::json& body);

struct UserError {
    std::string code;
    std::vector<std::string> field;
    std::string message;
    std::optional<std::size_t> index;  // element of the input list it names
};
// userErrors of a mutation payload; `list` is the input array whose index
// `field` carries (["input","quantities","3",...] -> 3).
std::vector<UserError> parse_user_errors(const nlohmann::json& payload, std::string_view list = "quantities");
std::optional<std::size_t> field_index(const std::vector<std::string>& field, std::string_view list = "quantities");

// Seconds to wait, as milliseconds, until `requested` points are available
// at `restore_rate` points/s starting from `available` (0 when already there).
std::chrono::milliseconds throttle_wait(double requested, double available, double restore_rate);

// Shopify's leaky bucket as last reported, refilled with time.
class CostBucket {
public:
    using Clock = std::chrono::steady_clock;

    void update(const ThrottleStatus& status, Clock::time_point now);
    bool known() const { return known_; }
    double maximum() const { return status_.maximum_available; }
    double restore_rate() const { return status_.restore_rate; }
    double available(Clock::time_point now) const;
    // How long to wait before spending `cost` (capped at the bucket size); 0 if
    // unknown or enough is available.
    std::chrono::milliseconds wait_for(double cost, Clock::time_point now) const;

private:
    ThrottleStatus status_;
    Clock::time_point at_{};
    bool known_ = false;
};

// A GraphQL answer, classified.
struct Answer {
    int http_status = 0;
    nlohmann::json body;               // null when the body was not JSON
    std::optional<QueryCost> cost;
    std::optional<Error> error;        // set when `data` must not be used
    std::string body_excerpt;          // unredacted, trimmed
};

// 401/403/ACCESS_DENIED -> auth (missing scope named); 429/THROTTLED ->
// throttled (retry_after from the cost or Retry-After); 5xx, non-JSON,
// truncated JSON, JSON without data -> transient; other GraphQL errors ->
// permanent with the server's message. `what` names the operation.
Answer interpret_response(const http::Response& response, std::string_view what);

// Names the access scope in a Shopify message ("... `read_locations` access scope"), if any.
std::optional<std::string> missing_scope(std::string_view message);

}  // namespace stockrelay::channels::shopify
