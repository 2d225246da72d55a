#include "stockrelay/channels/channel.hpp"

#include <thread>

#include <fmt/format.h>

#include "channels/factories.hpp"

namespace stockrelay::channels {
namespace {

Error bad_field(std::string_view field, std::string_view why) {
    return make_error(ErrorCode::config, fmt::format("channel setting '{}' {}", field, why));
}

// Reads an optional typed member; a wrong type is a config error naming the field.
template <typename T>
std::optional<Error> read(const nlohmann::json& row, const char* key, T& out, bool required = false) {
    auto it = row.find(key);
    if (it == row.end() || it->is_null()) {
        if (required) return bad_field(key, "is missing");
        return std::nullopt;
    }
    try {
        out = it->get<T>();
    } catch (const nlohmann::json::exception&) {
        return bad_field(key, fmt::format("has the wrong type ({})", it->type_name()));
    }
    return std::nullopt;
}

void collect_strings(const nlohmann::json& j, std::vector<std::string>& out) {
    if (j.is_string()) {
        out.push_back(j.get<std::string>());
    } else if (j.is_object() || j.is_array()) {
        for (const auto& v : j) collect_strings(v, out);
    }
}

}  // namespace

Result<Config> Config::from_json(const nlohmann::json& row) {
    if (!row.is_object()) return make_error(ErrorCode::config, "channel configuration must be a JSON object");
    Config c;
    std::int64_t timeout_ms = 15000;
    std::int64_t cache_age = 3600;
    if (auto e = read(row, "id", c.id)) return *e;
    if (auto e = read(row, "name", c.name)) return *e;
    if (auto e = read(row, "channel_type", c.type, true)) return *e;
    if (auto e = read(row, "base_url", c.base_url, true)) return *e;
    if (auto e = read(row, "api_version", c.api_version)) return *e;
    if (auto e = read(row, "batch_size", c.batch_size)) return *e;
    if (auto e = read(row, "max_attempts", c.max_attempts)) return *e;
    if (auto e = read(row, "timeout_ms", timeout_ms)) return *e;
    if (auto e = read(row, "retry_window_hours", c.retry_window_hours)) return *e;
    if (auto e = read(row, "tls_verify", c.tls_verify)) return *e;
    if (auto e = read(row, "sku_cache_max_age_seconds", cache_age)) return *e;
    if (auto it = row.find("credentials"); it != row.end() && !it->is_null()) {
        if (!it->is_object()) return bad_field("credentials", "must be a JSON object");
        c.credentials = *it;
    }
    if (auto it = row.find("settings"); it != row.end() && !it->is_null()) {
        if (!it->is_object()) return bad_field("settings", "must be a JSON object");
        c.settings = *it;
    }
    // Settings every channel type reads: a wrong type must not be ignored
    // silently (a ca_file of 7 would quietly fall back to the system CAs).
    if (auto it = c.settings.find("ca_file"); it != c.settings.end() && !it->is_null()) {
        if (!it->is_string() || it->get<std::string>().empty())
            return bad_field("settings.ca_file", fmt::format("must be the path of a PEM file (got {})", it->dump()));
    }
    if (auto it = c.settings.find("allow_insecure_http"); it != c.settings.end() && !it->is_null() && !it->is_boolean())
        return bad_field("settings.allow_insecure_http", fmt::format("must be true or false (got {})", it->dump()));
    if (c.type != "shopify" && c.type != "woocommerce" && c.type != "medusa")
        return bad_field("channel_type", fmt::format("'{}' is unknown (expected shopify, woocommerce or medusa)", c.type));
    if (c.batch_size < 0) return bad_field("batch_size", "must be positive");
    if (c.max_attempts <= 0) return bad_field("max_attempts", "must be positive");
    if (!(c.retry_window_hours > 0)) return bad_field("retry_window_hours", "must be positive");
    if (timeout_ms <= 0 || timeout_ms > 10 * 60 * 1000) return bad_field("timeout_ms", "must be between 1 and 600000");
    c.timeout = std::chrono::milliseconds{timeout_ms};
    if (cache_age < 0) return bad_field("sku_cache_max_age_seconds", "must be 0 or more");
    c.sku_cache_max_age = std::chrono::seconds{cache_age};
    auto url = http::Url::parse(c.base_url);
    if (!url) return bad_field("base_url", url.error().message);
    return c;
}

std::vector<std::string> Config::secrets() const {
    std::vector<std::string> out;
    collect_strings(credentials, out);
    return out;
}

http::ClientOptions Config::client_options() const {
    http::ClientOptions o;
    o.tls_verify = tls_verify;
    if (auto it = settings.find("ca_file"); it != settings.end() && it->is_string()) o.ca_file = it->get<std::string>();
    if (auto it = settings.find("allow_insecure_http"); it != settings.end() && it->is_boolean())
        o.allow_insecure_http = it->get<bool>();
    o.connect_timeout = std::min(timeout, std::chrono::milliseconds{10000});
    return o;
}

std::optional<Error> Channel::read_inventory(const std::vector<std::string>&, const nlohmann::json&,
                                            const InventorySink&, ReadReport&) {
    return make_error(ErrorCode::config, "reading the whole inventory is not supported for " + std::string(type()) +
                                             " channels yet");
}

Result<nlohmann::json> Channel::graphql_call(std::string_view, const std::string&, const nlohmann::json&) {
    return make_error(ErrorCode::config, fmt::format("a {} channel has no GraphQL API", type()));
}

Result<http::Response> Channel::rest_call(const std::string&, const std::string&, const std::string&) {
    return make_error(ErrorCode::config, fmt::format("a {} channel has no REST API here", type()));
}

bool Channel::sleep_for(std::chrono::milliseconds d) const {
    if (d.count() <= 0) return true;
    if (sleeper_) return sleeper_(d);
    std::this_thread::sleep_for(d);
    return true;
}

Result<std::unique_ptr<Channel>> make_channel(const Config& config, std::unique_ptr<http::Client> client) {
    if (!client) client = http::make_curl_client(config.client_options());
    if (config.type == "shopify") return make_shopify(config, std::move(client));
    if (config.type == "woocommerce") return make_woocommerce(config, std::move(client));
    if (config.type == "medusa") return make_medusa(config, std::move(client));
    return bad_field("channel_type", fmt::format("'{}' is unknown (expected shopify, woocommerce or medusa)", config.type));
}

}  // namespace stockrelay::channels
