// WooCommerce REST v3 channel. Facts it relies on (observed on WooCommerce
// 7.9, see shared/specs/woocommerce.md): Basic auth only over HTTPS, OAuth
// 1.0a in the query over plain HTTP; ?sku=A,B matches products AND
// variations; variations must be written under their parent; batch calls take
// at most 100 items and report per-item errors inside a 200.
#include <algorithm>
#include <cmath>
#include <ctime>
#include <map>

#include <fmt/format.h>

#include "channels/factories.hpp"
#include "channels/inventory_readers.hpp"
#include "channels/rest_support.hpp"
#include "stockrelay/channels/woocommerce.hpp"
#include "stockrelay/log.hpp"
#include "stockrelay/policy.hpp"

namespace stockrelay::channels {
namespace {

using nlohmann::json;
namespace wc = woocommerce;
using detail::at_key;
using detail::Ctx;
using detail::str_at;
using detail::Target;
using std::chrono::milliseconds;

// A failed item reports the status of its error, 0 for a lookup miss.
constexpr auto how_fail = detail::StatusOnFail::from_error;
constexpr auto fail = &detail::fail<how_fail>;

constexpr std::string_view kApiPath = "/wp-json/wc/v3";
constexpr std::string_view kLookupFields = "id,sku,name,type,status,parent_id,manage_stock,stock_quantity";
constexpr int kPerPage = 100;
constexpr int kMaxPages = 50;
// Lookup SKUs in comma-separated chunks, each SKU costing its encoded length
// plus the encoded comma, at most 1500 characters of ?sku= per call. A SKU with
// a comma goes alone (WooCommerce also matches the whole string then).
const detail::SkuChunking kLookupChunking{wc::kSkusPerLookup, 1500, 3, ','};

std::string id_text(const json& j) {
    if (j.is_number_integer() || j.is_number_unsigned()) return std::to_string(j.get<std::int64_t>());
    if (j.is_string()) return j.get<std::string>();
    return {};
}

bool is_invalid_id_code(std::string_view code) {
    return code.find("invalid_id") != std::string_view::npos || code.find("invalid_product_id") != std::string_view::npos;
}

// "code: message" from WooCommerce's error envelope, else an excerpt of the body.
std::string error_text(const std::string& body) { return detail::envelope_text(body, "code"); }

std::string error_code(const std::string& body) {
    auto j = json::parse(body, nullptr, false);
    if (j.is_object() && j.contains("code") && j["code"].is_string()) return j["code"].get<std::string>();
    return {};
}

// A target whose write showed it is not the SKU's item (gone, moved, trashed).
struct Stale {
    Target target;
    std::string why;  // "#12 now has SKU 'X'", "#12 is gone", ...
};

bool looks_like_json(const std::string& body) {
    auto p = body.find_first_not_of(" \t\r\n");
    return p != std::string::npos && (body[p] == '{' || body[p] == '[');
}

class WooChannel final : public Channel {
public:
    WooChannel(Config config, std::unique_ptr<http::Client> client, std::string home, bool oauth,
               wc::OAuthCredentials creds, std::size_t batch)
        : cfg_(std::move(config)),
          client_(std::move(client)),
          home_(std::move(home)),
          api_(home_ + std::string(kApiPath)),
          oauth_(oauth),
          creds_(std::move(creds)),
          batch_(batch),
          secrets_(cfg_.secrets()) {}

    std::string_view type() const override { return "woocommerce"; }
    std::size_t max_batch() const override { return wc::kMaxBatch; }
    std::size_t batch_size() const override { return batch_; }

    Result<std::string> test_connection() override {
        Ctx ctx;
        std::string store;
        // The REST index is public: fetched without credentials. Its absence is the
        // "plain permalinks" trap, where key auth cannot work at all.
        http::Request index;
        index.url = home_ + "/wp-json/";
        index.timeout = cfg_.timeout;
        index.headers.push_back({"Accept", "application/json"});
        auto idx = client_->send(index);
        if (!idx) {
            Error e = idx.error();
            e.message = redact(fmt::format("cannot reach the WooCommerce store at {}: {}", home_, e.message));
            return e;
        }
        if (idx->status == 200 || idx->status == 404) {
            auto j = json::parse(idx->body, nullptr, false);
            if (idx->status == 404 || !j.is_object()) return site_error(idx->status);
            store = str_at(j, "name");
            if (auto ns = j.find("namespaces"); ns != j.end() && ns->is_array() &&
                std::find(ns->begin(), ns->end(), json("wc/v3")) == ns->end())
                return no_woocommerce_error();
        }
        auto s = send("GET", fmt::format("products?per_page=1&_fields={}", http::url_encode("id")), "", ctx);
        if (auto e = failure(s, "test connection")) return *e;
        auto j = json::parse(s->body, nullptr, false);
        if (!j.is_array())
            return make_error(ErrorCode::config,
                              fmt::format("{}{}/products did not answer with a product list; is {} the WordPress home URL?",
                                          home_, kApiPath, home_),
                              s->status);
        auto total = s->header("x-wp-total").value_or("?");
        return fmt::format("WooCommerce REST v3 at {}{}: {} products, authenticated with {}", home_,
                           store.empty() ? "" : fmt::format(" (store \"{}\")", store), total,
                           oauth_ ? "OAuth 1.0a (plain HTTP)" : "HTTP Basic over HTTPS");
    }

    Result<std::vector<Location>> list_locations() override {
        // WooCommerce core keeps one stock figure per product or variation.
        return std::vector<Location>{Location{"", "Store stock", true}};
    }

    Result<std::vector<RemoteItem>> lookup_sku(const std::string& sku) override {
        if (sku.empty()) return make_error(ErrorCode::sku_not_found, "an empty SKU matches nothing");
        Ctx ctx;
        auto products = fetch({sku}, ctx);
        if (!products) return std::move(products).error();
        std::vector<RemoteItem> out;
        for (const auto& p : *products) {
            if (!p.is_object() || str_at(p, "sku") != sku) continue;
            RemoteItem item;
            item.sku = sku;
            item.title = str_at(p, "name");
            item.resolution = resolution_of(p);
            auto ms = p.find("manage_stock");
            item.tracked = ms != p.end() && ms->is_boolean() && ms->get<bool>();
            if (auto q = p.find("stock_quantity"); q != p.end() && q->is_number()) item.levels[""] = q->get<std::int64_t>();
            out.push_back(std::move(item));
        }
        return out;
    }

    Result<http::Response> rest_call(const std::string& method, const std::string& rel, const std::string& body) override {
        Ctx ctx;
        auto res = send(method, rel, body, ctx);
        if (auto e = failure(res, method + " " + rel.substr(0, rel.find('?')))) return *e;
        return std::move(*res);
    }

    PushReport push(const std::vector<PushItem>& items) override {
        PushReport rep;
        rep.items.resize(items.size());
        Ctx ctx;
        std::vector<Target> targets;
        std::vector<std::size_t> unresolved;
        for (std::size_t i = 0; i < items.size(); ++i) {
            const auto& it = items[i];
            rep.items[i].row_id = it.row_id;
            if (!it.location_key.empty()) {
                fail(rep, i, make_error(ErrorCode::rejected,
                                        fmt::format("WooCommerce keeps a single stock figure per product; location key '{}' "
                                                    "does not exist there (map the channel to the store stock, key '')",
                                                    it.location_key)));
            } else if (auto e = detail::row_error(it)) {
                fail(rep, i, *e);
            } else if (it.cached && !it.cached->remote_id.empty()) {
                targets.push_back({i, *it.cached, true});
            } else {
                unresolved.push_back(i);
            }
        }
        resolve_into(items, unresolved, rep, targets, ctx);
        std::vector<PushItem> work = items;  // sales-aware: the values to write, after reading the levels
        targets = read_levels(work, std::move(targets), rep, ctx);
        apply(work, std::move(targets), rep, ctx, true);
        rep.http_calls = ctx.calls;
        rep.throttled_for = ctx.throttled;
        return rep;
    }

    // WooCommerce has one stock location (key ''): `location_keys` changes nothing.
    std::optional<Error> read_inventory(const std::vector<std::string>&, const json& cursor, const InventorySink& sink,
                                        ReadReport& report) override {
        return readers::read_woocommerce(
            [this](const std::string& rel, ReadReport& rep) -> Result<http::Response> {
                Ctx ctx;
                auto res = send("GET", rel, "", ctx);
                rep.api_calls += ctx.calls;
                rep.throttled_for += ctx.throttled;
                if (auto e = failure(res, fmt::format("read inventory (GET {}/{})", kApiPath, rel.substr(0, rel.find('?')))))
                    return *e;
                return std::move(*res);
            },
            cursor, sink, report);
    }

private:
    std::string redact(std::string_view text) const { return http::redact(text, secrets_); }

    // Sales-aware pushes: one read of the current stock of the batch's items
    // (products?include=..., or a parent's variations?include=...), then each
    // item's on_level decides what to write. An item whose level could not be
    // read is not written (that could put sold units back on sale): it retries.
    std::vector<Target> read_levels(std::vector<PushItem>& items, std::vector<Target> targets, PushReport& rep, Ctx& ctx) {
        std::map<std::string, std::vector<std::size_t>> by_parent;
        for (std::size_t k = 0; k < targets.size(); ++k)
            if (items[targets[k].idx].on_level && items[targets[k].idx].baseline_for(targets[k].res.remote_id))
                by_parent[targets[k].res.parent_id].push_back(k);
        std::vector<bool> unread(targets.size(), false);
        for (const auto& [parent, ks] : by_parent) {
            for (std::size_t at = 0; at < ks.size(); at += kPerPage) {
                const std::vector<std::size_t> chunk(ks.begin() + static_cast<std::ptrdiff_t>(at),
                                                     ks.begin() + static_cast<std::ptrdiff_t>(std::min(ks.size(), at + kPerPage)));
                std::string ids;
                for (auto k : chunk) ids += (ids.empty() ? "" : ",") + targets[k].res.remote_id;
                const auto rel = fmt::format("{}?include={}&_fields=id,manage_stock,stock_quantity&per_page={}",
                                             parent.empty() ? "products" : fmt::format("products/{}/variations", parent),
                                             ids, kPerPage);
                auto res = send("GET", rel, "", ctx);
                auto err = failure(res, "read the stock before writing it");
                std::map<std::string, std::int64_t> level;
                if (!err) {
                    const auto j = json::parse(res->body);
                    for (const auto& p : j.is_array() ? j : json::array())
                        if (p.is_object() && at_key(p, "stock_quantity").is_number())
                            level[id_text(at_key(p, "id"))] = std::llround(p["stock_quantity"].get<double>());
                }
                for (auto k : chunk) {
                    auto& it = items[targets[k].idx];
                    if (err) {
                        fail(rep, targets[k].idx, *err);
                        unread[k] = true;
                    } else if (auto l = level.find(targets[k].res.remote_id); l != level.end()) {
                        it.quantity = it.on_level(l->second);
                        rep.items[targets[k].idx].set = it.quantity;
                    }
                }
            }
        }
        std::vector<Target> out;
        for (std::size_t k = 0; k < targets.size(); ++k)
            if (!unread[k]) out.push_back(std::move(targets[k]));
        return out;
    }

    Error permalink_error(int status) const {
        return make_error(ErrorCode::config,
                          fmt::format("the WordPress REST API is not reachable at {}/wp-json/ (HTTP {} without a JSON "
                                      "answer): WooCommerce API keys need pretty permalinks (WordPress → Settings → "
                                      "Permalinks: anything but \"Plain\"); the ?rest_route= fallback refuses API keys",
                                      home_, status),
                          status);
    }

    // /wp-json/ did not answer with the REST index (HTTP `status`). WordPress
    // with plain permalinks still answers /?rest_route=/ (without
    // credentials): then it is the permalink trap (or WooCommerce is not
    // active); otherwise the URL is not a WordPress site at all.
    Error site_error(int status) const {
        http::Request probe;
        probe.url = home_ + "/?rest_route=" + http::url_encode("/");
        probe.timeout = cfg_.timeout;
        probe.headers.push_back({"Accept", "application/json"});
        auto res = client_->send(probe);
        json j = res && res->status == 200 ? json::parse(res->body, nullptr, false) : json();
        if (auto ns = j.is_object() ? j.find("namespaces") : j.end(); j.is_object() && ns != j.end() && ns->is_array()) {
            if (std::find(ns->begin(), ns->end(), json("wc/v3")) != ns->end()) return permalink_error(status);
            return no_woocommerce_error();
        }
        return make_error(ErrorCode::config,
                          fmt::format("{} is not a WooCommerce store: neither {}/wp-json/ (HTTP {}) nor {}/?rest_route=/ "
                                      "({}) answered like the WordPress REST API; set the channel's base URL to the "
                                      "home URL of the WordPress site that runs WooCommerce",
                                      home_, home_, status, home_,
                                      res ? fmt::format("HTTP {}", res->status) : redact(res.error().message)),
                          status);
    }

    Error no_woocommerce_error() const {
        return make_error(ErrorCode::config, fmt::format("the WordPress site at {} has no WooCommerce REST API (wc/v3): "
                                                         "is the WooCommerce plugin active?",
                                                         home_));
    }

    // One authenticated call; rel is relative to /wp-json/wc/v3 and carries an
    // already-encoded query. A 429 with a short Retry-After is waited out here.
    Result<http::Response> send(const std::string& method, const std::string& rel, const std::string& body, Ctx& ctx) {
        const std::string url = api_ + "/" + rel;
        for (int waits = 0;;) {
            http::Request r;
            r.method = method;
            r.timeout = cfg_.timeout;
            r.headers.push_back({"Accept", "application/json"});
            if (!body.empty()) {
                r.headers.push_back({"Content-Type", "application/json"});
                r.body = body;
            }
            if (oauth_) {
                // A fresh nonce per request: WooCommerce refuses a nonce it has seen.
                r.url = wc::oauth_sign_url(method, url, creds_, wc::random_nonce(), std::time(nullptr));
            } else {
                r.url = url;
                r.headers.push_back({"Authorization",
                                     "Basic " + http::base64(creds_.consumer_key + ":" + creds_.consumer_secret), true});
            }
            ++ctx.calls;
            auto res = client_->send(r);
            if (!detail::wait_out_throttle(res, waits, ctx, "woocommerce", home_,
                                           [this](milliseconds d) { return sleep_for(d); }))
                return res;
        }
    }

    // The error for a failed call (transport error, non-2xx, non-JSON 2xx), or nullopt.
    std::optional<Error> failure(const Result<http::Response>& res, std::string_view what) const {
        auto body_ok = [](const std::string& body) {
            return looks_like_json(body) && !json::parse(body, nullptr, false).is_discarded();
        };
        auto reword = [&](Error& e, const http::Response& r, const std::string& text) {
            if (e.code == ErrorCode::auth) {
                e.message = fmt::format("{}: WooCommerce refused the consumer key/secret ({}){}", what, text,
                                        oauth_ ? "; over plain HTTP the requests are OAuth 1.0a-signed, so the base URL "
                                                 "must equal the WordPress home URL exactly and the clocks must agree"
                                               : "; the key needs Read/Write permission");
            } else if (r.status == 404 && !looks_like_json(r.body)) {
                e = site_error(404);
            } else if (r.status == 404 && error_code(r.body) == "rest_no_route") {
                e.code = ErrorCode::config;
                e.message = fmt::format("{}: {} (is WooCommerce active and up to date?)", what, text);
            } else {
                return false;
            }
            return true;
        };
        return detail::call_failure(res, what, "WooCommerce", "JSON", body_ok, error_text, reword,
                                    [this](std::string_view t) { return redact(t); });
    }

    // All products and variations whose SKU is one of `skus` (plus near misses:
    // callers match exactly).
    Result<std::vector<json>> fetch(const std::vector<std::string>& skus, Ctx& ctx) {
        std::string joined;
        for (const auto& s : skus) joined += (joined.empty() ? "" : ",") + s;
        std::vector<json> out;
        for (int page = 1; page <= kMaxPages; ++page) {
            auto rel = fmt::format("products?sku={}&_fields={}&per_page={}&page={}", http::url_encode(joined),
                                   http::url_encode(kLookupFields), kPerPage, page);
            auto s = send("GET", rel, "", ctx);
            detail::note_lookup(ctx, skus, redact(http::excerpt(fmt::format("GET {}/{}", kApiPath, rel))),
                                s ? redact(detail::response_text(s->status, s->body)) : std::string());
            if (auto e = failure(s, detail::lookup_what(skus))) return *e;
            auto j = json::parse(s->body);
            if (!j.is_array())
                return make_error(ErrorCode::transient, "SKU lookup: WooCommerce answered with something other than a list",
                                  s->status);
            for (auto& p : j) out.push_back(std::move(p));
            int pages = 1;
            if (auto h = s->header("x-wp-totalpages")) {
                try {
                    pages = std::stoi(*h);
                } catch (...) {
                    pages = 1;
                }
            }
            if (page >= pages || j.size() < static_cast<std::size_t>(kPerPage)) break;
        }
        return out;
    }

    static Resolution resolution_of(const json& p) {
        Resolution r;
        r.remote_id = id_text(at_key(p, "id"));
        auto type = str_at(p, "type", "simple");
        if (type == "variation") r.parent_id = id_text(at_key(p, "parent_id"));
        r.extra = json{{"type", type}};
        return r;
    }

    // Exactly one stock-holding product or variation must carry `sku`.
    static Result<Resolution> pick(const std::string& sku, const std::vector<json>& products) {
        std::vector<const json*> hits;
        std::vector<std::string> stockless;
        for (const auto& p : products) {
            // A trashed product keeps its SKU but is no target (a new one may carry the SKU now).
            if (!p.is_object() || str_at(p, "sku") != sku || str_at(p, "status") == "trash") continue;
            auto type = str_at(p, "type", "simple");
            auto ms = p.find("manage_stock");
            bool manages = ms != p.end() && ms->is_boolean() && ms->get<bool>();
            if ((type == "variable" && !manages) || type == "grouped" || type == "external")
                stockless.push_back(fmt::format("{} product #{}", type, id_text(at_key(p, "id"))));
            else
                hits.push_back(&p);
        }
        if (hits.empty()) {
            if (!stockless.empty())
                return make_error(ErrorCode::rejected,
                                  fmt::format("SKU '{}' belongs to a {}, which holds no stock of its own (a variable "
                                              "product's stock lives on its variations: give each variation its SKU)",
                                              sku, stockless.front()));
            return make_error(ErrorCode::sku_not_found,
                              fmt::format("no WooCommerce product or variation has SKU '{}'", sku));
        }
        if (hits.size() > 1) {
            std::string ids;
            for (const auto* p : hits) {
                if (!ids.empty()) ids += ", ";
                ids += "#" + id_text(at_key(*p, "id"));
                if (str_at(*p, "type") == "variation")
                    ids += fmt::format(" (variation of #{})", id_text(at_key(*p, "parent_id")));
            }
            return make_error(ErrorCode::duplicate_sku,
                              fmt::format("SKU '{}' is used by {} WooCommerce items: {}", sku, hits.size(), ids));
        }
        auto r = resolution_of(*hits.front());
        if (r.remote_id.empty() || (str_at(r.extra, "type") == "variation" && (r.parent_id.empty() || r.parent_id == "0")))
            return make_error(ErrorCode::permanent, fmt::format("WooCommerce answered SKU '{}' without usable ids", sku));
        return r;
    }

    void resolve_into(const std::vector<PushItem>& items, const std::vector<std::size_t>& idxs, PushReport& rep,
                      std::vector<Target>& targets, Ctx& ctx) {
        detail::resolve_into<how_fail>(items, idxs, rep, targets, kLookupChunking,
                                       [&](const std::vector<std::string>& chunk) { return fetch(chunk, ctx); }, pick);
        detail::lookup_excerpts(items, idxs, rep, ctx);
    }

    static json update_entry(const Target& t, std::int64_t qty) {
        json id;
        try {
            std::size_t used = 0;
            auto v = std::stoll(t.res.remote_id, &used);
            id = used == t.res.remote_id.size() ? json(v) : json(t.res.remote_id);
        } catch (...) {
            id = t.res.remote_id;
        }
        // Stock management is switched on only for an item this push just
        // resolved by its SKU: a cached id may by now be another product.
        json entry{{"id", id}, {"stock_quantity", qty}};
        if (!t.from_cache) entry["manage_stock"] = true;
        return entry;
    }

    // Why the item a write landed on is not (or no longer) the SKU's, from
    // WooCommerce's answer to that write; empty when it is.
    static std::string mismatch(const json& answer, const Target& t, const std::string& sku) {
        if (auto s = answer.find("sku"); s != answer.end() && s->is_string() && s->get<std::string>() != sku)
            return fmt::format("#{} now has SKU '{}'", t.res.remote_id, s->get<std::string>());
        if (str_at(answer, "status") == "trash") return fmt::format("#{} is in the trash", t.res.remote_id);
        if (auto m = answer.find("manage_stock"); t.from_cache && m != answer.end() && m->is_boolean() && !m->get<bool>())
            return fmt::format("#{} no longer has stock management on", t.res.remote_id);
        return {};
    }

    // Push the targets grouped per endpoint. A target WooCommerce calls an
    // invalid id, or whose answer shows another SKU or the trash, is looked up
    // again (the cache or the shop changed) and pushed once more.
    void apply(const std::vector<PushItem>& items, std::vector<Target> targets, PushReport& rep, Ctx& ctx,
               bool may_reresolve) {
        std::map<std::string, std::vector<Target>> groups;
        for (auto& t : targets) groups[t.res.parent_id].push_back(std::move(t));
        std::vector<Stale> stale;
        for (auto& [parent, group] : groups) {
            const std::string path = parent.empty() ? "products/batch" : fmt::format("products/{}/variations/batch", parent);
            for (std::size_t at = 0; at < group.size(); at += batch_) {
                std::vector<Target> chunk(group.begin() + static_cast<std::ptrdiff_t>(at),
                                          group.begin() + static_cast<std::ptrdiff_t>(std::min(group.size(), at + batch_)));
                send_batch(items, path, chunk, rep, ctx, stale);
            }
        }
        if (stale.empty()) return;
        if (!may_reresolve) {
            for (const auto& [t, why] : stale) {
                rep.items[t.idx].drop_cache = true;
                rep.items[t.idx].resolved.reset();
                fail(rep, t.idx,
                     make_error(ErrorCode::transient,
                                fmt::format("WooCommerce's answer for SKU '{}' right after looking it up: {}; will look "
                                            "it up again",
                                            items[t.idx].sku, why),
                                rep.items[t.idx].http_status));
            }
            return;
        }
        std::vector<std::size_t> again;
        for (const auto& [t, why] : stale) {
            log::info("woocommerce {}: {} (SKU '{}'); looking the SKU up again", home_, why, items[t.idx].sku);
            auto& o = rep.items[t.idx];
            o.drop_cache = t.from_cache;
            o.resolved.reset();
            o.error.reset();
            o.request_excerpt.clear();  // what explains the row now is the lookup (or the next write)
            o.response_excerpt.clear();
            again.push_back(t.idx);
        }
        std::vector<Target> fresh;
        resolve_into(items, again, rep, fresh, ctx);
        for (const auto& t : fresh) rep.items[t.idx].drop_cache = false;  // the new mapping overwrites the stale one
        apply(items, std::move(fresh), rep, ctx, false);
    }

    void send_batch(const std::vector<PushItem>& items, const std::string& path, const std::vector<Target>& chunk,
                    PushReport& rep, Ctx& ctx, std::vector<Stale>& stale) {
        json updates = json::array();
        for (const auto& t : chunk) updates.push_back(update_entry(t, items[t.idx].quantity));
        const std::string shown = fmt::format("POST {}/{}", kApiPath, path);
        auto request_excerpt = [&](std::size_t k) {
            return redact(http::excerpt(fmt::format("{} {}", shown, json{{"update", json::array({updates[k]})}}.dump())));
        };
        auto res = send("POST", path, json{{"update", updates}}.dump(), ctx);
        const int status = res ? res->status : 0;
        if (res && chunk.size() > 1 && (status == 413 || status == 400)) {
            // Too big for this server (its limit is filterable), or one entry
            // fails validation for the whole call: halve until it passes.
            log::info("woocommerce {}: {} on a {}-item batch, splitting it", home_, status, chunk.size());
            auto mid = chunk.begin() + static_cast<std::ptrdiff_t>(chunk.size() / 2);
            send_batch(items, path, std::vector<Target>(chunk.begin(), mid), rep, ctx, stale);
            send_batch(items, path, std::vector<Target>(mid, chunk.end()), rep, ctx, stale);
            return;
        }
        if (auto e = failure(res, fmt::format("update stock ({})", path))) {
            std::string resp = res ? redact(detail::response_text(status, res->body)) : e->message;
            const bool gone = res && (status == 400 || status == 404) && is_invalid_id_code(error_code(res->body));
            if (res && status == 413)
                e = make_error(ErrorCode::permanent,
                               "WooCommerce refuses even a single-item batch as too large (413); check the server's "
                               "request size limits",
                               413);
            for (std::size_t k = 0; k < chunk.size(); ++k) {
                auto& o = rep.items[chunk[k].idx];
                o.request_excerpt = request_excerpt(k);
                o.response_excerpt = resp;
                o.http_status = status;
                if (gone)
                    stale.push_back({chunk[k], fmt::format("#{} is gone", chunk[k].res.remote_id)});
                else
                    fail(rep, chunk[k].idx, *e);
            }
            return;
        }
        auto body = json::parse(res->body);
        const json* answers = body.is_object() && body.contains("update") && body["update"].is_array() ? &body["update"] : nullptr;
        for (std::size_t k = 0; k < chunk.size(); ++k) {
            const auto& t = chunk[k];
            auto& o = rep.items[t.idx];
            o.request_excerpt = request_excerpt(k);
            o.http_status = status;
            const json* a = nullptr;
            if (answers) {
                // Answers come in request order; fall back to matching ids.
                if (k < answers->size() && id_text(at_key((*answers)[k], "id")) == t.res.remote_id)
                    a = &(*answers)[k];
                for (std::size_t m = 0; !a && m < answers->size(); ++m)
                    if (id_text(at_key((*answers)[m], "id")) == t.res.remote_id) a = &(*answers)[m];
            }
            if (!a) {
                o.response_excerpt = redact(detail::response_text(status, res->body));
                fail(rep, t.idx, make_error(ErrorCode::transient,
                                            fmt::format("WooCommerce's batch answer has no entry for #{} (SKU '{}')",
                                                        t.res.remote_id, items[t.idx].sku),
                                            status));
                continue;
            }
            take_answer(items[t.idx], t, *a, status, rep, stale);
        }
    }

    // One item's entry in a batch answer: a per-item error, the proof that
    // the write landed on the SKU's item, or the sign that it did not.
    void take_answer(const PushItem& item, const Target& t, const json& a, int status, PushReport& rep,
                     std::vector<Stale>& stale) const {
        auto& o = rep.items[t.idx];
        if (auto err = a.find("error"); err != a.end() && err->is_object()) {
            o.response_excerpt = redact(http::excerpt(a.dump(), 1000));
            auto code = str_at(*err, "code");
            auto msg = str_at(*err, "message");
            int st = 0;
            if (auto d = err->find("data"); d != err->end() && d->is_object() && d->contains("status") &&
                                             (*d)["status"].is_number_integer())
                st = (*d)["status"].get<int>();
            o.http_status = st ? st : status;
            if (is_invalid_id_code(code)) {
                stale.push_back({t, fmt::format("#{} is gone", t.res.remote_id)});
                return;
            }
            ErrorCode ec = st >= 500 ? ErrorCode::transient : (st == 401 || st == 403) ? ErrorCode::auth : ErrorCode::rejected;
            fail(rep, t.idx, make_error(ec, redact(fmt::format("WooCommerce refused the update of #{} (SKU '{}'): {}: {}",
                                                               t.res.remote_id, item.sku, code, msg)),
                                        o.http_status));
            return;
        }
        json shown_answer = json::object();
        for (const char* f : {"id", "sku", "status", "manage_stock", "stock_quantity", "stock_status"})
            if (a.contains(f)) shown_answer[f] = a[f];
        o.response_excerpt = redact(http::excerpt(shown_answer.dump(), 1000));
        if (auto why = mismatch(a, t, item.sku); !why.empty()) {
            // The write landed on an item that is not the SKU's any more: the
            // row is not done. Say which item took the quantity.
            log::warn("woocommerce {}: wrote stock_quantity {} for SKU '{}', but {}", home_, item.quantity, item.sku, why);
            stale.push_back({t, why});
            return;
        }
        if (auto q = a.find("stock_quantity"); q != a.end() && q->is_number() && q->get<std::int64_t>() != item.quantity)
            fail(rep, t.idx, make_error(ErrorCode::rejected,
                                        fmt::format("WooCommerce kept stock_quantity {} for #{} instead of {}",
                                                    q->get<std::int64_t>(), t.res.remote_id, item.quantity),
                                        status));
    }

    Config cfg_;
    std::unique_ptr<http::Client> client_;
    std::string home_;
    std::string api_;
    bool oauth_;
    wc::OAuthCredentials creds_;
    std::size_t batch_;
    std::vector<std::string> secrets_;
};

std::string setting_string(const json& settings, const char* key) {
    auto it = settings.find(key);
    return it != settings.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

}  // namespace

Result<std::unique_ptr<Channel>> make_woocommerce(const Config& config, std::unique_ptr<http::Client> client) {
    wc::OAuthCredentials creds{detail::credential(config, "consumer_key"), detail::credential(config, "consumer_secret"),
                               "HMAC-SHA256"};
    if (creds.consumer_key.empty() || creds.consumer_secret.empty())
        return make_error(ErrorCode::config,
                          "WooCommerce needs credentials 'consumer_key' and 'consumer_secret' (WooCommerce → Settings → "
                          "Advanced → REST API → Add key, permission Read/Write)");
    if (!config.api_version.empty() && config.api_version != "v3" && config.api_version != "wc/v3")
        return make_error(ErrorCode::config,
                          fmt::format("WooCommerce API version '{}' is not supported (only wc/v3)", config.api_version));
    auto url = http::Url::parse(config.base_url);
    if (!url) return std::move(url).error();
    if (!url->query.empty())
        return make_error(ErrorCode::config,
                          "channel setting 'base_url' must be the WordPress home URL without a query: the ?rest_route= "
                          "form refuses API keys, enable pretty permalinks instead");
    std::string path = url->path;
    if (auto p = path.find("/wp-json"); p != std::string::npos) path.resize(p);  // forgive a pasted API URL
    const bool plain = url->scheme == "http";
    const auto& settings = config.settings;
    if (auto e = detail::plain_http_error(*url, settings)) return *e;
    // Auto: WooCommerce only accepts Basic when it sees HTTPS. "oauth" covers a
    // TLS proxy in front of a server that believes it is on plain HTTP.
    auto auth = setting_string(settings, "auth");
    if (!auth.empty() && auth != "basic" && auth != "oauth")
        return make_error(ErrorCode::config, fmt::format("channel setting 'auth' is '{}' (expected basic or oauth)", auth));
    const bool oauth = auth.empty() ? plain : auth == "oauth";
    if (auto m = setting_string(settings, "oauth_signature_method"); !m.empty()) {
        if (m != "HMAC-SHA256" && m != "HMAC-SHA1")
            return make_error(ErrorCode::config, fmt::format("channel setting 'oauth_signature_method' is '{}' "
                                                             "(expected HMAC-SHA256 or HMAC-SHA1)", m));
        creds.signature_method = m;
    }
    const std::size_t batch = detail::batch_size(config, wc::kDefaultBatch, wc::kMaxBatch);
    return std::unique_ptr<Channel>(std::make_unique<WooChannel>(config, std::move(client), url->origin() + path, oauth,
                                                                 std::move(creds), batch));
}

}  // namespace stockrelay::channels
