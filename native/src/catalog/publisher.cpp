// The Publisher's default batch entry points: one publish per item, for shops
// without batch endpoints (or until their publisher implements them).
#include "stockrelay/catalog/publisher.hpp"

#include <exception>

#include <fmt/format.h>

#include "stockrelay/http/http.hpp"

namespace stockrelay::catalog {

std::vector<PublishOutcome> Publisher::publish_batch(const std::vector<PublishItem>& items) {
    std::vector<PublishOutcome> out;
    out.reserve(items.size());
    for (const auto& it : items) out.push_back(publish(*it.doc, *it.mapping));
    return out;
}

std::vector<PublishOutcome> Publisher::publish_prices_batch(const std::vector<PriceItem>& items) {
    std::vector<PublishOutcome> out;
    out.reserve(items.size());
    for (const auto& it : items) out.push_back(publish_prices(*it.prices, *it.mapping));
    return out;
}

std::optional<PublishOutcome> unchanged_outcome(const Document& doc, const Mapping& mapping) {
    const auto* p = mapping.product();
    if (!p || p->document_hash != doc.hash) return std::nullopt;
    PublishOutcome out;
    out.unchanged = true;
    out.action = "unchanged";
    return out;
}

void guard_row(PublishOutcome& out, std::string_view shop, const std::function<std::optional<Error>()>& work,
               Error (*reword)(Error)) {
    try {
        if (auto err = work()) out.error = reword ? reword(*err) : *err;
    } catch (const std::exception& ex) {  // a malformed answer must fail the row, not the daemon
        out.error = make_error(ErrorCode::transient, fmt::format("unexpected answer from {}: {}", shop, ex.what()));
    }
}

Result<nlohmann::json> rest_json(channels::Channel& channel, std::string_view shop, const std::string& method,
                                 const std::string& rel, const nlohmann::json& body, PublishOutcome& out) {
    const auto text = body.is_null() ? std::string() : body.dump();
    if (method != "GET") out.request_excerpt = http::excerpt(method + " " + rel + " " + text, 2000);
    auto r = channel.rest_call(method, rel, text);
    if (!r) {
        out.http_status = r.error().http_status;
        out.response_excerpt = http::excerpt(r.error().message, 2000);
        return r.error();
    }
    out.http_status = r->status;
    if (method != "GET") out.response_excerpt = http::excerpt(r->body, 2000);
    auto j = nlohmann::json::parse(r->body, nullptr, false);
    if (j.is_discarded()) return make_error(ErrorCode::transient, fmt::format("{} answered with no JSON", shop), r->status);
    return j;
}

}  // namespace stockrelay::catalog
