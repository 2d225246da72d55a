// What the WooCommerce and Medusa channels (both JSON over REST) share: JSON
// member access that never throws, the per-push call context, SKU lookup in
// chunks, the skeleton of a failed call's error, the inline wait on a 429 and
// the factory checks. Each shop's wording and error mapping stay in its channel.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "stockrelay/channels/channel.hpp"
#include "stockrelay/log.hpp"

namespace stockrelay::channels::detail {

using nlohmann::json;

constexpr int kMaxThrottleWaits = 3;
constexpr std::chrono::milliseconds kMaxInlineWait{10000};  // longer Retry-After: give the rows back to the sidecar

// A member, or null when `j` is not an object or lacks it (json::value throws on non-objects).
json at_key(const json& j, const char* key);
// A string member, or `fallback` when it is missing or of another type (a shop
// answering {"sku": 123} must not make the parser throw).
std::string str_at(const json& j, const char* key, const char* fallback = "");
// "<kind>: <message>" from a JSON error envelope {"<kind_key>": ..., "message": ...},
// just the message without a kind, else an excerpt of the body.
std::string envelope_text(const std::string& body, const char* kind_key);
// "HTTP <status> <excerpt of body>" for an outcome's response excerpt; not redacted.
std::string response_text(int status, const std::string& body, std::size_t max = 1000);
// "look up SKU 'a'" or "look up SKU 'a' and 3 more": the `what` of a lookup call.
std::string lookup_what(const std::vector<std::string>& skus);

// What one operation (push, test, lookup) spent on HTTP.
struct Ctx {
    int calls = 0;
    std::chrono::milliseconds throttled{0};
    // SKU -> (request, response) excerpts of the lookup call that looked it up,
    // for the rows whose lookup fails (redacted by the channel).
    std::map<std::string, std::pair<std::string, std::string>> lookups;
};

// Records the lookup call of `skus` in ctx.lookups.
void note_lookup(Ctx& ctx, const std::vector<std::string>& skus, const std::string& request, const std::string& response);

// A push item with the shop record it writes to.
struct Target {
    std::size_t idx;
    Resolution res;
    bool from_cache;
};

// The shop-independent refusal of a push row (quantity out of range, no SKU), or nullopt.
std::optional<Error> row_error(const PushItem& item);

// What fail() does with the outcome's HTTP status: WooCommerce takes the
// error's (0 for a lookup miss), Medusa keeps the last call's when the error has none.
enum class StatusOnFail { from_error, keep_last };

template <StatusOnFail how>
void fail(PushReport& rep, std::size_t i, Error e) {
    auto& o = rep.items[i];
    if (how == StatusOnFail::from_error || e.http_status) o.http_status = e.http_status;
    o.error = std::move(e);
}

// How SKUs are grouped into lookup calls: at most `per_call` SKUs and
// `max_query` query characters, a SKU costing its encoded length plus
// `overhead`; a SKU containing `alone_with` gets a call of its own.
struct SkuChunking {
    std::size_t per_call;
    std::size_t max_query;
    std::size_t overhead;
    std::optional<char> alone_with;
};

std::vector<std::vector<std::string>> chunk_skus(const std::vector<std::string>& skus, const SkuChunking& chunking);

// Looks up the distinct SKUs of items[idxs], chunk by chunk with `fetch(chunk)`,
// and resolves each with `pick(sku, records of its chunk)`. A resolved item
// becomes a target (and a mapping worth caching); the others fail.
template <StatusOnFail how, class Fetch, class Pick>
void resolve_into(const std::vector<PushItem>& items, const std::vector<std::size_t>& idxs, PushReport& rep,
                  std::vector<Target>& targets, const SkuChunking& chunking, Fetch&& fetch, Pick&& pick) {
    if (idxs.empty()) return;
    std::vector<std::string> skus;
    std::set<std::string> seen;
    for (auto i : idxs)
        if (seen.insert(items[i].sku).second) skus.push_back(items[i].sku);
    std::map<std::string, Result<Resolution>> found;
    for (const auto& chunk : chunk_skus(skus, chunking)) {
        auto records = fetch(chunk);
        for (const auto& s : chunk)
            found.insert_or_assign(s, records ? pick(s, *records) : Result<Resolution>(records.error()));
    }
    for (auto i : idxs) {
        const auto& r = found.at(items[i].sku);
        if (r) {
            rep.items[i].resolved = *r;
            targets.push_back({i, *r, false});
        } else {
            fail<how>(rep, i, r.error());
        }
    }
}

// Gives the rows of items[idxs] that failed without excerpts those of their lookup call.
void lookup_excerpts(const std::vector<PushItem>& items, const std::vector<std::size_t>& idxs, PushReport& rep,
                     const Ctx& ctx);

// Waits out a 429 whose Retry-After (or, without one, 1 s per earlier wait)
// is short, at most kMaxThrottleWaits times: true when the caller should send
// again. `sleep` is the channel's sleep_for.
template <class Sleep>
bool wait_out_throttle(const Result<http::Response>& res, int& waits, Ctx& ctx, std::string_view channel,
                       std::string_view where, Sleep&& sleep) {
    if (!res || res->status != 429 || waits >= kMaxThrottleWaits) return false;
    auto wait = res->retry_after();
    if (wait.count() <= 0) wait = std::chrono::milliseconds{1000 * (waits + 1)};
    if (wait > kMaxInlineWait) return false;
    ++waits;
    log::info("{} {}: rate limited, waiting {} ms as Retry-After asks", channel, where, wait.count());
    if (!sleep(wait)) return false;
    ctx.throttled += wait;
    return true;
}

// The error for a failed call, or nullopt. A transport error gets `what` in
// front; a 2xx fails (transient) unless `body_ok(body)`; another status is
// classified by http::classify_status, then `reword(error, response, text)`
// gives it the shop's meaning (true when it did), else any but a throttle or a
// redirect reads "<shop> answered HTTP n: <text>", `text` being
// `text_of(body)`. Every message is passed through `redact`.
template <class BodyOk, class TextOf, class Reword, class Redact>
std::optional<Error> call_failure(const Result<http::Response>& res, std::string_view what, std::string_view shop,
                                  std::string_view expected, BodyOk&& body_ok, TextOf&& text_of, Reword&& reword,
                                  Redact&& redact) {
    if (!res) {
        Error e = res.error();
        e.message = redact(fmt::format("{}: {}", what, e.message));
        return e;
    }
    const auto& r = *res;
    if (r.status >= 200 && r.status < 300) {
        if (body_ok(r.body)) return std::nullopt;
        return make_error(ErrorCode::transient,
                          redact(fmt::format("{}: {} answered HTTP {} with something that is not {}: {}", what, shop,
                                             r.status, expected, http::excerpt(r.body, 200))),
                          r.status);
    }
    Error e = *http::classify_status(r, what);
    const std::string text = text_of(r.body);
    if (!reword(e, r, text) && e.code != ErrorCode::throttled && !http::is_redirect(r.status))
        e.message = fmt::format("{}: {} answered HTTP {}: {}", what, shop, r.status, text);
    e.message = redact(e.message);
    return e;
}

// A credential string, empty when missing or not a string.
std::string credential(const Config& config, const char* key);
// The config error for a plain-HTTP base URL to a host that is not loopback,
// unless settings.allow_insecure_http; else nullopt.
std::optional<Error> plain_http_error(const http::Url& url, const json& settings);
// config.batch_size, or `fallback` when unset, clamped to `max`.
std::size_t batch_size(const Config& config, std::size_t fallback, std::size_t max);

}  // namespace stockrelay::channels::detail
