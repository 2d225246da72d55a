#include "channels/rest_support.hpp"

#include <algorithm>

#include "stockrelay/policy.hpp"

namespace stockrelay::channels::detail {

json at_key(const json& j, const char* key) {
    if (!j.is_object()) return json();
    auto it = j.find(key);
    return it != j.end() ? *it : json();
}

std::string str_at(const json& j, const char* key, const char* fallback) {
    if (!j.is_object()) return fallback;
    auto it = j.find(key);
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string(fallback);
}

std::string envelope_text(const std::string& body, const char* kind_key) {
    auto j = json::parse(body, nullptr, false);
    if (j.is_object() && j.contains("message") && j["message"].is_string()) {
        auto kind = str_at(j, kind_key);
        auto msg = j["message"].get<std::string>();
        return kind.empty() ? msg : fmt::format("{}: {}", kind, msg);
    }
    return http::excerpt(body, 300);
}

std::string response_text(int status, const std::string& body, std::size_t max) {
    return fmt::format("HTTP {} {}", status, http::excerpt(body, max));
}

std::string lookup_what(const std::vector<std::string>& skus) {
    return fmt::format("look up SKU {}", skus.size() == 1 ? "'" + skus[0] + "'"
                                                          : fmt::format("'{}' and {} more", skus[0], skus.size() - 1));
}

void note_lookup(Ctx& ctx, const std::vector<std::string>& skus, const std::string& request, const std::string& response) {
    for (const auto& s : skus) ctx.lookups[s] = {request, response};
}

void lookup_excerpts(const std::vector<PushItem>& items, const std::vector<std::size_t>& idxs, PushReport& rep,
                     const Ctx& ctx) {
    for (auto i : idxs) {
        auto& o = rep.items[i];
        auto l = ctx.lookups.find(items[i].sku);
        if (!o.error || !o.request_excerpt.empty() || l == ctx.lookups.end()) continue;
        o.request_excerpt = l->second.first;
        o.response_excerpt = l->second.second;
    }
}

std::optional<Error> row_error(const PushItem& item) {
    if (item.quantity < 0 || item.quantity > policy::kMaxQuantity)
        return make_error(ErrorCode::invalid_quantity,
                          fmt::format("quantity {} is outside 0..{}", item.quantity, policy::kMaxQuantity));
    if (item.sku.empty()) return make_error(ErrorCode::sku_not_found, "the row has no SKU");
    return std::nullopt;
}

std::vector<std::vector<std::string>> chunk_skus(const std::vector<std::string>& skus, const SkuChunking& chunking) {
    const auto& [per_call, max_query, overhead, alone_with] = chunking;
    std::vector<std::vector<std::string>> chunks;
    std::vector<std::string> cur;
    std::size_t cur_len = 0;
    for (const auto& s : skus) {
        if (alone_with && s.find(*alone_with) != std::string::npos) {
            chunks.push_back({s});
            continue;
        }
        auto len = http::url_encode(s).size() + overhead;
        if (!cur.empty() && (cur.size() >= per_call || cur_len + len > max_query)) {
            chunks.push_back(std::move(cur));
            cur.clear();
            cur_len = 0;
        }
        cur.push_back(s);
        cur_len += len;
    }
    if (!cur.empty()) chunks.push_back(std::move(cur));
    return chunks;
}

std::string credential(const Config& config, const char* key) {
    auto it = config.credentials.find(key);
    return it != config.credentials.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

std::optional<Error> plain_http_error(const http::Url& url, const json& settings) {
    bool insecure_ok = false;
    if (auto it = settings.find("allow_insecure_http"); it != settings.end() && it->is_boolean())
        insecure_ok = it->get<bool>();
    if (url.scheme != "http" || url.is_loopback() || insecure_ok) return std::nullopt;
    return make_error(ErrorCode::config,
                      fmt::format("channel setting 'base_url' is plain HTTP to {}: use https:// (plain HTTP is only "
                                  "allowed for a loopback test shop or with settings.allow_insecure_http)",
                                  url.host));
}

std::size_t batch_size(const Config& config, std::size_t fallback, std::size_t max) {
    std::size_t batch = config.batch_size > 0 ? static_cast<std::size_t>(config.batch_size) : fallback;
    return std::min(batch, max);
}

}  // namespace stockrelay::channels::detail
