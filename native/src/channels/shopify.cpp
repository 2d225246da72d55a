// Shopify Admin GraphQL: the pure parts (versions, documents, variables,
// search strings, keys, response classification, the cost bucket). The
// channel that sends them lives in shopify_channel.cpp.
#include "stockrelay/channels/shopify.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <regex>

#include <fmt/format.h>

namespace stockrelay::channels::shopify {
namespace {

using nlohmann::json;

const json* member(const json& j, std::string_view key) {
    if (!j.is_object()) return nullptr;
    auto it = j.find(key);
    return it == j.end() ? nullptr : &*it;
}

std::optional<double> number(const json* j) {
    if (j && j->is_number()) return j->get<double>();
    return std::nullopt;
}

std::string string_or(const json* j, std::string_view fallback = {}) {
    if (j && j->is_string()) return j->get<std::string>();
    return std::string(fallback);
}

std::string hex_digest_uuid(std::string_view data) {
    std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
    unsigned int len = 0;
    if (EVP_Digest(data.data(), data.size(), md.data(), &len, EVP_sha256(), nullptr) != 1 || len < 16) {
        // Cannot happen with a working libcrypto; a fixed key would be wrong, so fail loudly.
        throw std::runtime_error("SHA-256 unavailable");
    }
    // RFC 4122 layout, version 5 (name-based) and the RFC variant bits.
    md[6] = static_cast<unsigned char>((md[6] & 0x0F) | 0x50);
    md[8] = static_cast<unsigned char>((md[8] & 0x3F) | 0x80);
    std::string hex;
    for (std::size_t i = 0; i < 16; ++i) {
        if (i == 4 || i == 6 || i == 8 || i == 10) hex += '-';
        hex += fmt::format("{:02x}", md[i]);
    }
    return hex;
}

void append_line(std::string& out, const SetLine& l) {
    // Length-prefixed fields so no choice of ids can make two payloads collide.
    out += fmt::format("{}:{}:{}:{}:{}:{}:{}|", l.row_id, l.version, l.quantity, l.inventory_item_id.size(),
                       l.inventory_item_id, l.location_id.size(), l.location_id);
    if (l.compare) out += fmt::format("cmp:{}|", *l.compare);  // absent before: old keys stay the same
}

}  // namespace

const std::vector<std::string_view>& supported_versions() {
    static const std::vector<std::string_view> versions = {"2025-01", "2025-04", "2025-07", "2025-10",
                                                           "2026-01", "2026-04", "2026-07", "2026-10"};
    return versions;
}

Result<ApiVersion> ApiVersion::parse(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back()))) text.remove_suffix(1);
    if (text.empty()) text = kDefaultApiVersion;
    const auto& known = supported_versions();
    if (std::find(known.begin(), known.end(), text) == known.end()) {
        std::string list;
        for (auto v : known) list += (list.empty() ? "" : ", ") + std::string(v);
        return make_error(ErrorCode::config, fmt::format("Shopify API version '{}' is not supported (supported: {})",
                                                         text, list));
    }
    ApiVersion v;
    v.year = std::stoi(std::string(text.substr(0, 4)));
    v.month = std::stoi(std::string(text.substr(5, 2)));
    return v;
}

std::string ApiVersion::str() const { return fmt::format("{:04}-{:02}", year, month); }

// ---- SKU search

std::string escape_search_value(std::string_view value) {
    std::string out;
    out.reserve(value.size() + 4);
    for (char c : value) {
        if (c == '\\' || c == '\'') out += '\\';
        out += c;
    }
    return out;
}

std::string sku_term(std::string_view sku) { return "sku:'" + escape_search_value(sku) + "'"; }

std::string sku_search_query(const std::vector<std::string>& skus) {
    std::string q;
    for (const auto& s : skus) {
        if (!q.empty()) q += " OR ";
        q += sku_term(s);
    }
    return q;
}

std::vector<std::vector<std::string>> chunk_skus(const std::vector<std::string>& skus, std::size_t max_skus,
                                                 std::size_t max_chars) {
    std::vector<std::vector<std::string>> out;
    std::size_t chars = 0;
    for (const auto& s : skus) {
        std::size_t len = sku_term(s).size() + 4;  // " OR "
        if (out.empty() || out.back().size() >= std::max<std::size_t>(1, max_skus) ||
            (!out.back().empty() && chars + len > max_chars)) {
            out.emplace_back();
            chars = 0;
        }
        out.back().push_back(s);
        chars += len;
    }
    return out;
}

std::string location_gid(std::string_view key) {
    if (!key.empty() && std::all_of(key.begin(), key.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return fmt::format("gid://shopify/Location/{}", key);
    return std::string(key);
}

// ---- documents

std::string_view shop_document() { return "query Shop { shop { name } }"; }

std::string_view locations_document() {
    return R"(query Locations($after: String) {
  locations(first: 250, after: $after, includeInactive: false) {
    nodes { id name isActive fulfillsOnlineOrders }
    pageInfo { hasNextPage endCursor }
  }
})";
}

std::string_view lookup_document() {
    return R"(query LookupSku($q: String!) {
  productVariants(first: 2, query: $q) {
    nodes { id sku displayName product { id } inventoryItem { id tracked sku
      inventoryLevels(first: 50) { nodes { location { id } quantities(names: ["available"]) { name quantity } } } } }
  }
})";
}

std::string_view resolve_document() {
    return R"(query ResolveSkus($q: String!, $first: Int!, $after: String) {
  productVariants(first: $first, after: $after, query: $q) {
    nodes { id sku inventoryItem { id tracked } }
    pageInfo { hasNextPage endCursor }
  }
})";
}

std::string set_quantities_document(const ApiVersion& v) {
    if (v.requires_idempotent())
        return R"(mutation SetQtyIdem($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id }
    userErrors { code field message }
  }
})";
    return R"(mutation SetQty($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { id reason referenceDocumentUri changes { name delta quantityAfterChange item { id } location { id } } }
    userErrors { code field message }
  }
})";
}

std::string activate_document(const ApiVersion& v) {
    if (v.requires_idempotent())
        return R"(mutation ActivateIdem($itemId: ID!, $locationId: ID!, $available: Int, $key: String!) {
  inventoryActivate(inventoryItemId: $itemId, locationId: $locationId, available: $available) @idempotent(key: $key) {
    inventoryLevel { id } userErrors { field message }
  }
})";
    return R"(mutation Activate($itemId: ID!, $locationId: ID!, $available: Int) {
  inventoryActivate(inventoryItemId: $itemId, locationId: $locationId, available: $available) {
    inventoryLevel { id } userErrors { field message }
  }
})";
}

std::string reference_document_uri(std::int64_t row_id) { return fmt::format("gid://stockrelay/OutboxRow/{}", row_id); }

std::string_view level_document() {
    return R"(query Level($item: ID!, $location: ID!) {
  inventoryItem(id: $item) { id inventoryLevel(locationId: $location) { quantities(names: ["available"]) { name quantity } } }
})";
}

// Sales-aware pushes: each line's compare value is the level stockrelay set
// last. 2026-01+: changeFromQuantity (null = no check). Up to 2025-10 the
// compare check is all or nothing per call: compareQuantity on every line when
// every line has one, else ignoreCompareQuantity as before.
nlohmann::json set_quantities_variables(const ApiVersion& v, const std::vector<SetLine>& lines, std::string_view key) {
    const bool compare_all = std::all_of(lines.begin(), lines.end(), [](const SetLine& l) { return l.compare.has_value(); });
    json quantities = json::array();
    for (const auto& l : lines) {
        json q = {{"inventoryItemId", l.inventory_item_id}, {"locationId", l.location_id}, {"quantity", l.quantity}};
        if (v.opts_out_with_null_change_from())
            q["changeFromQuantity"] = l.compare ? json(*l.compare) : json(nullptr);  // null: explicitly no check
        else if (compare_all)
            q["compareQuantity"] = *l.compare;
        quantities.push_back(std::move(q));
    }
    json input = {{"name", "available"}, {"reason", "correction"}};
    if (!lines.empty()) input["referenceDocumentUri"] = reference_document_uri(lines.front().row_id);
    if (v.needs_ignore_compare_quantity() && !compare_all) input["ignoreCompareQuantity"] = true;
    input["quantities"] = std::move(quantities);
    json vars = {{"input", std::move(input)}};
    if (v.requires_idempotent()) vars["key"] = std::string(key);
    return vars;
}

nlohmann::json activate_variables(const ApiVersion& v, const SetLine& line, std::string_view key) {
    json vars = {{"itemId", line.inventory_item_id}, {"locationId", line.location_id}, {"available", line.quantity}};
    if (v.requires_idempotent()) vars["key"] = std::string(key);
    return vars;
}

std::string idempotency_key(const std::vector<SetLine>& lines, int salt) {
    std::string material = "stockrelay/inventorySetQuantities/v1|";
    for (const auto& l : lines) append_line(material, l);
    if (salt > 0) material += fmt::format("salt:{}", salt);
    return hex_digest_uuid(material);
}

std::string activate_idempotency_key(const SetLine& line) {
    std::string material = "stockrelay/inventoryActivate/v1|";
    append_line(material, line);
    return hex_digest_uuid(material);
}

// ---- responses

std::optional<QueryCost> parse_cost(const nlohmann::json& body) {
    const json* cost = member(body, "extensions");
    cost = cost ? member(*cost, "cost") : nullptr;
    if (!cost || !cost->is_object()) return std::nullopt;
    QueryCost c;
    c.requested = number(member(*cost, "requestedQueryCost"));
    c.actual = number(member(*cost, "actualQueryCost"));
    if (const json* t = member(*cost, "throttleStatus"); t && t->is_object()) {
        auto max = number(member(*t, "maximumAvailable"));
        auto cur = number(member(*t, "currentlyAvailable"));
        auto rate = number(member(*t, "restoreRate"));
        if (max && cur && rate) c.throttle = ThrottleStatus{*max, *cur, *rate};
    }
    return c;
}

std::vector<GraphqlError> parse_errors(const nlohmann::json& body) {
    std::vector<GraphqlError> out;
    const json* errors = member(body, "errors");
    if (!errors || errors->is_null()) return out;
    if (errors->is_string()) {
        out.push_back({errors->get<std::string>(), ""});
    } else if (errors->is_array()) {
        for (const auto& e : *errors) {
            GraphqlError g;
            if (e.is_string()) {
                g.message = e.get<std::string>();
            } else {
                g.message = string_or(member(e, "message"), e.dump());
                if (const json* ext = member(e, "extensions")) g.code = string_or(member(*ext, "code"));
            }
            out.push_back(std::move(g));
        }
    } else {
        out.push_back({errors->dump(), ""});  // e.g. {"query": "Required parameter missing"}
    }
    return out;
}

std::optional<std::size_t> field_index(const std::vector<std::string>& field, std::string_view list) {
    for (std::size_t i = 0; i + 1 < field.size(); ++i) {
        if (field[i] != list) continue;
        const std::string& n = field[i + 1];
        if (n.empty() || n.size() > 9 || !std::all_of(n.begin(), n.end(), [](char c) { return c >= '0' && c <= '9'; }))
            return std::nullopt;
        return static_cast<std::size_t>(std::stoul(n));
    }
    return std::nullopt;
}

std::vector<UserError> parse_user_errors(const nlohmann::json& payload, std::string_view list) {
    std::vector<UserError> out;
    const json* errs = member(payload, "userErrors");
    if (!errs || !errs->is_array()) return out;
    for (const auto& e : *errs) {
        UserError u;
        u.code = string_or(member(e, "code"));
        u.message = string_or(member(e, "message"));
        if (const json* f = member(e, "field"); f && f->is_array())
            for (const auto& part : *f) u.field.push_back(part.is_string() ? part.get<std::string>() : part.dump());
        u.index = field_index(u.field, list);
        out.push_back(std::move(u));
    }
    return out;
}

std::chrono::milliseconds throttle_wait(double requested, double available, double restore_rate) {
    if (!(requested > available)) return std::chrono::milliseconds{0};
    if (!(restore_rate > 0) || !std::isfinite(restore_rate)) return std::chrono::milliseconds{1000};
    double ms = std::ceil((requested - available) / restore_rate * 1000.0);
    return std::chrono::milliseconds{static_cast<std::int64_t>(std::min(ms, 3600.0 * 1000))};
}

void CostBucket::update(const ThrottleStatus& status, Clock::time_point now) {
    status_ = status;
    at_ = now;
    known_ = true;
}

double CostBucket::available(Clock::time_point now) const {
    if (!known_) return 0;
    double secs = std::chrono::duration<double>(now - at_).count();
    return std::min(status_.maximum_available, status_.currently_available + std::max(0.0, secs) * status_.restore_rate);
}

std::chrono::milliseconds CostBucket::wait_for(double cost, Clock::time_point now) const {
    if (!known_) return std::chrono::milliseconds{0};
    double need = status_.maximum_available > 0 ? std::min(cost, status_.maximum_available) : cost;
    return throttle_wait(need, available(now), status_.restore_rate);
}

std::optional<std::string> missing_scope(std::string_view message) {
    static const std::regex scope(R"(\b((?:unauthenticated_)?(?:read|write)_[a-z_]+)\b)");
    std::match_results<std::string_view::const_iterator> m;
    if (std::regex_search(message.begin(), message.end(), m, scope)) return m[1].str();
    return std::nullopt;
}

Answer interpret_response(const http::Response& r, std::string_view what) {
    Answer a;
    a.http_status = r.status;
    a.body_excerpt = http::excerpt(r.body, 2000);
    const std::string snippet = http::excerpt(r.body, 300);
    auto fail = [&](ErrorCode code, std::string message) {
        Error e = make_error(code, std::move(message), r.status);
        a.error = std::move(e);
        return a;
    };

    bool parsed = true;
    try {
        a.body = json::parse(r.body);
    } catch (const json::exception&) {
        a.body = nullptr;
        parsed = false;
    }
    if (a.body.is_object()) a.cost = parse_cost(a.body);
    const auto errors = a.body.is_object() ? parse_errors(a.body) : std::vector<GraphqlError>{};
    auto joined = [&] {
        std::string s;
        for (const auto& e : errors) {
            if (!s.empty()) s += "; ";
            s += e.message;
            if (!e.code.empty()) s += fmt::format(" [{}]", e.code);
        }
        return s.empty() ? snippet : s;
    };
    auto throttled_wait = [&]() {
        if (a.cost && a.cost->throttle && a.cost->requested)
            return throttle_wait(*a.cost->requested, a.cost->throttle->currently_available, a.cost->throttle->restore_rate);
        return r.retry_after();
    };
    auto auth = [&](std::string detail) {
        if (auto scope = missing_scope(detail))
            return fail(ErrorCode::auth, fmt::format("{}: Shopify denied access: the app lacks the '{}' access scope ({})",
                                                     what, *scope, detail));
        return fail(ErrorCode::auth, fmt::format("{}: Shopify refused the access token: {}", what, detail));
    };

    const bool is_throttled = std::any_of(errors.begin(), errors.end(), [](const auto& e) { return e.code == "THROTTLED"; });
    if (r.status == 429 || (is_throttled && r.status >= 200 && r.status < 300)) {
        auto wait = throttled_wait();
        if (wait.count() == 0) wait = r.retry_after();
        Answer out = fail(ErrorCode::throttled, fmt::format("{}: throttled by Shopify (retry in {} ms)", what, wait.count()));
        out.error->retry_after = wait;
        return out;
    }
    if (r.status == 401 || r.status == 403) return auth(joined());
    if (r.status == 404)
        return fail(ErrorCode::config, fmt::format("{}: Shopify answered HTTP 404 (no such shop or API endpoint; "
                                                   "check the shop URL and API version): {}", what, snippet));
    if (r.status < 200 || r.status >= 300) {
        auto e = http::classify_status(r, what);
        if (e) {
            a.error = std::move(*e);
            return a;
        }
    }
    if (a.body.is_discarded() || a.body.is_null() || !a.body.is_object()) {
        std::string kind = r.body.empty() ? "an empty body"
                           : !parsed      ? "a body that is not valid JSON (garbage or cut short)"
                                          : "a JSON body that is not an object";
        return fail(ErrorCode::transient, fmt::format("{}: Shopify answered HTTP {} with {}: {}", what, r.status, kind, snippet));
    }
    if (!errors.empty()) {
        for (const auto& e : errors)
            if (e.code == "ACCESS_DENIED") return auth(joined());
        const bool server_side = std::all_of(errors.begin(), errors.end(), [](const auto& e) {
            return e.code == "INTERNAL_SERVER_ERROR" || e.code == "SERVICE_UNAVAILABLE" || e.code == "TIMEOUT";
        });
        if (server_side)
            return fail(ErrorCode::transient, fmt::format("{}: Shopify reported an internal error: {}", what, joined()));
        return fail(ErrorCode::permanent, fmt::format("{}: Shopify rejected the request: {}", what, joined()));
    }
    const json* data = member(a.body, "data");
    if (!data || !data->is_object())
        return fail(ErrorCode::transient, fmt::format("{}: Shopify answered HTTP {} without data: {}", what, r.status, snippet));
    return a;
}

}  // namespace stockrelay::channels::shopify
