// Medusa v2 Admin API channel. Facts it relies on (observed on Medusa 2.21,
// see shared/specs/medusa.md): secret keys go in HTTP Basic; the global
// location-levels batch endpoint is atomic (one bad row fails the call) and
// happily creates levels at locations that do not exist, so locations are
// checked here first; an update of a missing level is a 404 "not stocked at
// location", a create of an existing one a 400 "already exists".
//
// What a customer can buy in Medusa is a level's stocked_quantity minus its
// reserved_quantity (orders not fulfilled yet). Odoo's sellable is already net
// of Odoo's reservations, so a push writes stocked = sellable + the level's
// current reserved: Medusa's available then equals Odoo's sellable. Every
// push therefore reads its SKUs' items and levels first (one batched lookup
// by SKU), which also re-validates the SKU -> item mapping on every push.
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "channels/factories.hpp"
#include "channels/inventory_readers.hpp"
#include "channels/rest_support.hpp"
#include "stockrelay/channels/medusa.hpp"
#include "stockrelay/log.hpp"
#include "stockrelay/policy.hpp"

namespace stockrelay::channels {
namespace {

using nlohmann::json;
using detail::at_key;
using detail::Ctx;
using detail::str_at;
using detail::Target;
using std::chrono::milliseconds;

// A failed item keeps the status of the last call when its error has none.
constexpr auto how_fail = detail::StatusOnFail::keep_last;
constexpr auto fail = &detail::fail<how_fail>;

constexpr std::string_view kBatchPath = "/admin/inventory-items/location-levels/batch";
constexpr std::string_view kItemFields =
    "id,sku,title,location_levels.location_id,location_levels.stocked_quantity,location_levels.reserved_quantity";
constexpr int kPageSize = 500;  // Medusa has no maximum; a 250-SKU lookup fits one page
constexpr int kMaxPages = 50;
// Each SKU costs its encoded length plus "sku%5B%5D=" and "&", at most 8000 per call (Node takes 16 kB of headers).
const detail::SkuChunking kLookupChunking{medusa::kSkusPerLookup, 8000, 12, std::nullopt};

bool contains(std::string_view hay, std::string_view needle) { return hay.find(needle) != std::string_view::npos; }

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return s;
}

// Medusa's envelope is {"type": ..., "message": ...}.
std::string message_of(const std::string& body) {
    auto j = json::parse(body, nullptr, false);
    if (j.is_object() && j.contains("message") && j["message"].is_string()) return j["message"].get<std::string>();
    return http::excerpt(body, 300);
}

// "type: message", else an excerpt of the body.
std::string error_text(const std::string& body) { return detail::envelope_text(body, "type"); }

std::string b64url_decode(std::string_view in) {
    auto val = [](char c) -> int {
        if (c >= 'A' && c <= 'Z') return c - 'A';
        if (c >= 'a' && c <= 'z') return c - 'a' + 26;
        if (c >= '0' && c <= '9') return c - '0' + 52;
        if (c == '-' || c == '+') return 62;
        if (c == '_' || c == '/') return 63;
        return -1;
    };
    std::string out;
    unsigned acc = 0;
    int bits = 0;
    for (char c : in) {
        if (c == '=') break;
        int v = val(c);
        if (v < 0) return {};
        acc = (acc << 6) | static_cast<unsigned>(v);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out.push_back(static_cast<char>((acc >> bits) & 0xFF));
        }
    }
    return out;
}

struct Op {
    std::size_t idx;  // the push item
    std::string item;
    std::string location;
    std::int64_t qty;  // stocked_quantity: the row's sellable + the level's reserved
    bool create;
};

// The reserved quantity of the item's level at `location`, or nullopt when it
// has no level there (from the lookup's extra.levels {location: reserved}).
std::optional<std::int64_t> level_reserved(const Resolution& r, const std::string& location) {
    auto ls = r.extra.find("levels");
    if (ls == r.extra.end() || !ls->is_object()) return std::nullopt;
    auto l = ls->find(location);
    if (l == ls->end()) return std::nullopt;
    return l->is_number() ? std::max<std::int64_t>(0, std::llround(l->get<double>())) : 0;
}

class MedusaChannel final : public Channel {
public:
    MedusaChannel(Config config, std::unique_ptr<http::Client> client, std::string base, medusa::Clock clock,
                  std::size_t batch)
        : cfg_(std::move(config)),
          client_(std::move(client)),
          base_(std::move(base)),
          clock_(std::move(clock)),
          batch_(batch),
          secrets_(cfg_.secrets()) {
        api_key_ = detail::credential(cfg_, "api_key");
        email_ = detail::credential(cfg_, "email");
        password_ = detail::credential(cfg_, "password");
    }

    std::string_view type() const override { return "medusa"; }
    std::size_t max_batch() const override { return medusa::kMaxBatch; }
    std::size_t batch_size() const override { return batch_; }

    Result<std::string> test_connection() override {
        Ctx ctx;
        auto s = send("GET", "/admin/stock-locations?limit=1&fields=id", "", ctx);
        if (auto e = failure(s, "test connection")) return *e;
        auto j = json::parse(s->body);
        if (!j.is_object() || !j.contains("stock_locations"))
            return make_error(ErrorCode::config,
                              fmt::format("{}/admin/stock-locations did not answer like a Medusa v2 Admin API", base_),
                              s->status);
        auto count = at_key(j, "count").is_number() ? std::to_string(j["count"].get<std::int64_t>()) : "?";
        return fmt::format("Medusa Admin API at {}: {} stock location(s), authenticated with {}", base_, count,
                           api_key_.empty() ? "email/password (JWT)" : "a secret API key");
    }

    Result<std::vector<Location>> list_locations() override {
        Ctx ctx;
        return load_locations(ctx);
    }

    Result<std::vector<RemoteItem>> lookup_sku(const std::string& sku) override {
        if (sku.empty()) return make_error(ErrorCode::sku_not_found, "an empty SKU matches nothing");
        Ctx ctx;
        auto items = fetch({sku}, ctx);
        if (!items) return std::move(items).error();
        std::vector<RemoteItem> out;
        for (const auto& it : *items) {
            if (!it.is_object() || at_key(it, "sku") != json(sku)) continue;
            RemoteItem r;
            r.sku = sku;
            r.title = at_key(it, "title").is_string() ? it["title"].get<std::string>() : std::string{};
            r.resolution = resolution_of(it);
            if (auto ls = it.find("location_levels"); ls != it.end() && ls->is_array())
                for (const auto& l : *ls)
                    if (l.is_object() && at_key(l, "location_id").is_string() &&
                        at_key(l, "stocked_quantity").is_number()) {
                        // What a customer can buy: stocked minus reserved.
                        const double reserved =
                            at_key(l, "reserved_quantity").is_number() ? l["reserved_quantity"].get<double>() : 0.0;
                        r.levels[l["location_id"].get<std::string>()] =
                            static_cast<std::int64_t>(l["stocked_quantity"].get<double>() - reserved);
                    }
            out.push_back(std::move(r));
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
        std::vector<std::size_t> candidates;
        for (std::size_t i = 0; i < items.size(); ++i) {
            const auto& it = items[i];
            rep.items[i].row_id = it.row_id;
            if (auto e = detail::row_error(it))
                fail(rep, i, *e);
            else if (it.location_key.empty())
                fail(rep, i, make_error(ErrorCode::rejected,
                                        "Medusa keeps stock per stock location: the row has no location key (map the "
                                        "channel's Odoo locations to Medusa stock locations)"));
            else
                candidates.push_back(i);
        }
        bool fresh = false;  // locations re-read during this push
        auto placed = place(items, candidates, rep, ctx, fresh);
        // Read before write, cached or not: the item the SKU is now, its levels and their reservations.
        std::vector<Target> targets;
        resolve_into(items, placed, rep, targets, ctx);
        settle_cache(items, placed, targets, rep);
        targets = guard_new_levels(items, std::move(targets), rep, ctx, fresh);
        int budget = 24 + 4 * static_cast<int>(std::ceil(std::log2(static_cast<double>(items.size()) + 1)));
        apply(items, std::move(targets), rep, ctx, budget);
        rep.http_calls = ctx.calls;
        rep.throttled_for = ctx.throttled;
        return rep;
    }

    std::optional<Error> read_inventory(const std::vector<std::string>& location_keys, const json& cursor,
                                        const InventorySink& sink, ReadReport& report) override {
        return readers::read_medusa(
            [this](const std::string& rel, ReadReport& rep) -> Result<http::Response> {
                Ctx ctx;
                auto res = send("GET", rel, "", ctx);
                rep.api_calls += ctx.calls;
                rep.throttled_for += ctx.throttled;
                if (auto e = failure(res, "read inventory items")) return *e;
                return std::move(*res);
            },
            location_keys, cursor, sink, report);
    }

private:
    // The candidates whose location the shop has (locations re-read when one is unknown).
    std::vector<std::size_t> place(const std::vector<PushItem>& items, const std::vector<std::size_t>& candidates,
                                   PushReport& rep, Ctx& ctx, bool& fresh) {
        std::vector<std::size_t> placed;
        if (candidates.empty()) return placed;
        bool missing = !have_locations_;
        for (auto i : candidates) missing = missing || !known_location(items[i].location_key);
        std::optional<Error> load_error;
        if (missing) {
            fresh = true;
            if (auto l = load_locations(ctx); !l) load_error = l.error();
        }
        for (auto i : candidates) {
            if (known_location(items[i].location_key))
                placed.push_back(i);
            else if (load_error)
                fail(rep, i, *load_error);
            else
                fail(rep, i, orphan_error(items[i].location_key));
        }
        return placed;
    }

    Error orphan_error(const std::string& location) const {
        return make_error(ErrorCode::rejected, fmt::format("unknown Medusa stock location '{}' (the shop has: {}); nothing "
                                                           "was sent, Medusa would have created an orphan level",
                                                           location, location_names()));
    }

    // The lookup just resolved every placed SKU: report a mapping for the cache
    // only when it differs from the cached one, and drop a cached mapping the
    // shop no longer confirms.
    void settle_cache(const std::vector<PushItem>& items, const std::vector<std::size_t>& placed,
                      std::vector<Target>& targets, PushReport& rep) const {
        for (auto& t : targets) {
            const auto& cached = items[t.idx].cached;
            auto& o = rep.items[t.idx];
            if (cached && cached->remote_id == t.res.remote_id) {
                o.resolved.reset();
                t.from_cache = true;
                continue;
            }
            if (cached && !cached->remote_id.empty())
                log::info("medusa {}: SKU '{}' is now inventory item {} (was {})", base_, items[t.idx].sku,
                          t.res.remote_id, cached->remote_id);
            o.resolved = Resolution{t.res.remote_id, "", json::object()};
        }
        for (auto i : placed)
            if (rep.items[i].error && items[i].cached) rep.items[i].drop_cache = true;
    }

    // A push that creates a level re-reads the locations first (once): a stock
    // location deleted since they were read must not get an orphan level.
    std::vector<Target> guard_new_levels(const std::vector<PushItem>& items, std::vector<Target> targets, PushReport& rep,
                                         Ctx& ctx, bool& fresh) {
        const bool creates = std::any_of(targets.begin(), targets.end(), [&](const Target& t) {
            return !level_reserved(t.res, items[t.idx].location_key);
        });
        if (!creates || fresh) return targets;
        fresh = true;
        auto l = load_locations(ctx);
        std::vector<Target> kept;
        for (auto& t : targets) {
            const auto& loc = items[t.idx].location_key;
            if (level_reserved(t.res, loc) || (l && known_location(loc)))
                kept.push_back(std::move(t));
            else
                fail(rep, t.idx, l ? orphan_error(loc) : l.error());
        }
        return kept;
    }

    std::string redact(std::string_view text) const {
        auto secrets = secrets_;
        if (!jwt_.empty()) secrets.push_back(jwt_);
        return http::redact(text, secrets);
    }

    bool known_location(const std::string& id) const {
        return std::any_of(locations_.begin(), locations_.end(), [&](const Location& l) { return l.id == id; });
    }

    std::string location_names() const {
        if (locations_.empty()) return "no stock locations";
        std::string out;
        for (std::size_t k = 0; k < locations_.size() && k < 10; ++k)
            out += fmt::format("{}{} ({})", k ? ", " : "", locations_[k].id, locations_[k].name);
        if (locations_.size() > 10) out += fmt::format(" and {} more", locations_.size() - 10);
        return out;
    }

    Status login(Ctx& ctx) {
        http::Request r;
        r.method = "POST";
        r.url = base_ + "/auth/user/emailpass";
        r.timeout = cfg_.timeout;
        r.headers.push_back({"Content-Type", "application/json"});
        r.headers.push_back({"Accept", "application/json"});
        r.body = json{{"email", email_}, {"password", password_}}.dump();
        ++ctx.calls;
        auto res = client_->send(r);
        if (!res) {
            Error e = res.error();
            e.message = redact(fmt::format("Medusa login: {}", e.message));
            return e;
        }
        if (res->status == 401 || res->status == 403 || res->status == 400)
            return make_error(ErrorCode::auth,
                              redact(fmt::format("Medusa refused the email/password of the admin user: {}",
                                                 error_text(res->body))),
                              res->status);
        if (auto e = http::classify_status(*res, "Medusa login")) {
            e->message = redact(e->message);
            return *e;
        }
        auto j = json::parse(res->body, nullptr, false);
        if (!j.is_object() || !j.contains("token") || !j["token"].is_string())
            return make_error(ErrorCode::transient, "Medusa login answered without a token", res->status);
        jwt_ = j["token"].get<std::string>();
        jwt_exp_ = medusa::jwt_expiry(jwt_);
        log::debug("medusa {}: logged in, token valid for {} s", base_,
                   jwt_exp_ ? std::chrono::duration_cast<std::chrono::seconds>(*jwt_exp_ - clock_()).count() : -1);
        return Ok{};
    }

    Result<http::Header> auth_header(Ctx& ctx) {
        if (!api_key_.empty()) return http::Header{"Authorization", "Basic " + http::base64(api_key_ + ":"), true};
        if (jwt_.empty() || (jwt_exp_ && clock_() + medusa::kJwtRenewMargin >= *jwt_exp_))
            if (auto s = login(ctx); !s) return std::move(s).error();
        return http::Header{"Authorization", "Bearer " + jwt_, true};
    }

    // One authenticated Admin API call. A JWT refused with 401 is renewed once;
    // a 429 with a short Retry-After is waited out.
    Result<http::Response> send(const std::string& method, const std::string& rel, const std::string& body, Ctx& ctx) {
        bool relogged = false;
        int waits = 0;
        for (;;) {
            auto auth = auth_header(ctx);
            if (!auth) return std::move(auth).error();
            http::Request r;
            r.method = method;
            r.url = base_ + rel;
            r.timeout = cfg_.timeout;
            r.headers.push_back({"Accept", "application/json"});
            r.headers.push_back(*auth);
            if (!body.empty()) {
                r.headers.push_back({"Content-Type", "application/json"});
                r.body = body;
            }
            ++ctx.calls;
            auto res = client_->send(r);
            if (res && res->status == 401 && api_key_.empty() && !relogged) {
                relogged = true;
                jwt_.clear();
                continue;
            }
            if (!detail::wait_out_throttle(res, waits, ctx, "medusa", base_,
                                           [this](milliseconds d) { return sleep_for(d); }))
                return res;
        }
    }

    // The error for a failed call (transport error, non-2xx, 2xx without a JSON object), or nullopt.
    std::optional<Error> failure(const Result<http::Response>& res, std::string_view what) const {
        auto body_ok = [](const std::string& body) { return json::parse(body, nullptr, false).is_object(); };
        auto reword = [&](Error& e, const http::Response&, const std::string& text) {
            if (e.code != ErrorCode::auth) return false;
            e.message = fmt::format("{}: Medusa refused the {} ({})", what,
                                    api_key_.empty() ? "admin user's token" : "secret API key", text);
            return true;
        };
        return detail::call_failure(res, what, "Medusa", "a JSON object", body_ok, error_text, reword,
                                    [this](std::string_view t) { return redact(t); });
    }

    Result<std::vector<Location>> load_locations(Ctx& ctx) {
        std::vector<Location> out;
        for (int page = 0; page < kMaxPages; ++page) {
            auto s = send("GET", fmt::format("/admin/stock-locations?fields=id,name&limit={}&offset={}", kPageSize,
                                             page * kPageSize),
                          "", ctx);
            if (auto e = failure(s, "list stock locations")) return *e;
            auto j = json::parse(s->body);
            auto arr = j.find("stock_locations");
            if (arr == j.end() || !arr->is_array())
                return make_error(ErrorCode::transient, "list stock locations: the answer has no stock_locations",
                                  s->status);
            for (const auto& l : *arr)
                if (l.is_object() && at_key(l, "id").is_string())
                    out.push_back(Location{l["id"].get<std::string>(),
                                           at_key(l, "name").is_string() ? l["name"].get<std::string>() : "", true});
            std::int64_t count = at_key(j, "count").is_number() ? j["count"].get<std::int64_t>() : 0;
            if (arr->empty() || static_cast<std::int64_t>(out.size()) >= count) break;
        }
        locations_ = out;
        have_locations_ = true;
        return out;
    }

    // Inventory items whose SKU is one of `skus` (exact match server-side;
    // callers still compare).
    Result<std::vector<json>> fetch(const std::vector<std::string>& skus, Ctx& ctx) {
        std::string q;
        for (const auto& s : skus) q += "sku%5B%5D=" + http::url_encode(s) + "&";
        std::vector<json> out;
        for (int page = 0; page < kMaxPages; ++page) {
            const auto rel = fmt::format("/admin/inventory-items?{}fields={}&limit={}&offset={}", q, kItemFields,
                                         kPageSize, page * kPageSize);
            auto s = send("GET", rel, "", ctx);
            detail::note_lookup(ctx, skus, redact(http::excerpt("GET " + rel)),
                                s ? redact(detail::response_text(s->status, s->body)) : std::string());
            if (auto e = failure(s, detail::lookup_what(skus))) return *e;
            auto j = json::parse(s->body);
            auto arr = j.find("inventory_items");
            if (arr == j.end() || !arr->is_array())
                return make_error(ErrorCode::transient, "SKU lookup: the answer has no inventory_items", s->status);
            std::size_t got = arr->size();
            for (auto& it : *arr) out.push_back(std::move(it));
            std::int64_t count = at_key(j, "count").is_number() ? j["count"].get<std::int64_t>() : 0;
            if (got == 0 || static_cast<std::int64_t>(out.size()) >= count) break;
        }
        return out;
    }

    // extra.levels = {location id: reserved quantity} of the levels the item has.
    static Resolution resolution_of(const json& item) {
        Resolution r;
        r.remote_id = at_key(item, "id").is_string() ? item["id"].get<std::string>() : std::string{};
        json levels = json::object();
        json stocked = json::object();  // sales-aware pushes: the level before writing
        if (auto ls = item.find("location_levels"); ls != item.end() && ls->is_array())
            for (const auto& l : *ls)
                if (l.is_object() && at_key(l, "location_id").is_string()) {
                    const auto loc = l["location_id"].get<std::string>();
                    levels[loc] = at_key(l, "reserved_quantity").is_number() ? l["reserved_quantity"] : json(0);
                    if (at_key(l, "stocked_quantity").is_number()) stocked[loc] = l["stocked_quantity"];
                }
        r.extra = json{{"levels", levels}, {"stocked", stocked}};
        return r;
    }

    static Result<Resolution> pick(const std::string& sku, const std::vector<json>& found) {
        std::vector<const json*> hits;
        for (const auto& it : found)
            if (it.is_object() && at_key(it, "sku") == json(sku)) hits.push_back(&it);
        if (hits.empty())
            return make_error(ErrorCode::sku_not_found,
                              fmt::format("no Medusa inventory item has SKU '{}' (is the variant's "
                                          "\"manage inventory\" on?)",
                                          sku));
        if (hits.size() > 1) {
            std::string ids;
            for (const auto* h : hits) ids += (ids.empty() ? "" : ", ") + str_at(*h, "id");
            return make_error(ErrorCode::duplicate_sku,
                              fmt::format("SKU '{}' is used by {} Medusa inventory items: {}", sku, hits.size(), ids));
        }
        auto r = resolution_of(*hits.front());
        if (r.remote_id.empty())
            return make_error(ErrorCode::permanent, fmt::format("Medusa answered SKU '{}' without an item id", sku));
        return r;
    }

    void resolve_into(const std::vector<PushItem>& items, const std::vector<std::size_t>& idxs, PushReport& rep,
                      std::vector<Target>& targets, Ctx& ctx) {
        detail::resolve_into<how_fail>(items, idxs, rep, targets, kLookupChunking,
                                       [&](const std::vector<std::string>& chunk) { return fetch(chunk, ctx); }, pick);
        detail::lookup_excerpts(items, idxs, rep, ctx);
    }

    struct Run {
        std::vector<Op> ops;
        std::vector<std::size_t> stale;  // op indices whose inventory item is gone
        int budget;
    };

    // stocked = the row's sellable + the level's reserved, so that Medusa's
    // available (stocked - reserved) is Odoo's sellable.
    void apply(const std::vector<PushItem>& items, std::vector<Target> targets, PushReport& rep, Ctx& ctx, int& budget) {
        Run run{{}, {}, budget};
        for (const auto& t : targets) {
            const auto& loc = items[t.idx].location_key;
            const auto reserved = level_reserved(t.res, loc);
            run.ops.push_back(Op{t.idx, t.res.remote_id, loc, to_write(items[t.idx], t.res, rep.items[t.idx]) + reserved.value_or(0),
                                 !reserved});
        }
        for (std::size_t at = 0; at < run.ops.size(); at += batch_) {
            std::vector<std::size_t> chunk;
            for (std::size_t k = at; k < std::min(run.ops.size(), at + batch_); ++k) chunk.push_back(k);
            send_ops(chunk, run, rep, ctx);
        }
        budget = run.budget;
        for (auto k : run.stale) {
            const auto& op = run.ops[k];
            auto& o = rep.items[op.idx];
            o.resolved.reset();
            o.drop_cache = true;
            fail(rep, op.idx, make_error(ErrorCode::transient,
                                         fmt::format("Medusa does not know inventory item {} (SKU '{}') although the SKU "
                                                     "lookup just returned it; will look it up again",
                                                     op.item, items[op.idx].sku),
                                         o.http_status));
        }
    }

    // Sales-aware pushes: the lookup that precedes every write read the level
    // (available = stocked - reserved); the item's on_level decides from it.
    static std::int64_t to_write(const PushItem& item, const Resolution& res, ItemOutcome& out) {
        if (!item.on_level || !item.baseline_for(res.remote_id)) return item.quantity;
        const auto reserved = level_reserved(res, item.location_key);
        const auto stocked = res.extra.find("stocked");
        if (!reserved || stocked == res.extra.end() || !stocked->contains(item.location_key) ||
            !(*stocked)[item.location_key].is_number())
            return item.quantity;  // no level there yet: nothing was sold from it
        const auto available = std::llround((*stocked)[item.location_key].get<double>()) - *reserved;
        out.set = item.on_level(available);
        return *out.set;
    }

    static json op_json(const Op& op) {
        return json{{"inventory_item_id", op.item}, {"location_id", op.location}, {"stocked_quantity", op.qty}};
    }

    // Sends ops[idx...] as one atomic batch. A 4xx fails the whole call, so
    // the culprit is found by the error message when it names a pair (a level
    // that exists / does not), else by halving; each call spends budget.
    void send_ops(const std::vector<std::size_t>& idx, Run& run, PushReport& rep, Ctx& ctx) {
        if (idx.empty()) return;
        auto request_excerpt = [&](const Op& op) {
            return redact(http::excerpt(
                fmt::format("POST {} {}", kBatchPath, json{{op.create ? "create" : "update", json::array({op_json(op)})}}.dump())));
        };
        if (run.budget <= 0) {
            for (auto k : idx) {
                auto& op = run.ops[k];
                rep.items[op.idx].request_excerpt = request_excerpt(op);
                fail(rep, op.idx, make_error(ErrorCode::transient,
                                             "Medusa refused a batch containing this row and the calls allowed for "
                                             "isolating the bad rows are spent; retrying later"));
            }
            return;
        }
        --run.budget;
        json create = json::array(), update = json::array();
        for (auto k : idx) (run.ops[k].create ? create : update).push_back(op_json(run.ops[k]));
        json body = json::object();
        if (!create.empty()) body["create"] = create;
        if (!update.empty()) body["update"] = update;
        auto res = send("POST", std::string(kBatchPath), body.dump(), ctx);
        const int status = res ? res->status : 0;
        const bool refused = res && status >= 400 && status < 500 && status != 401 && status != 403 && status != 408 &&
                             status != 425 && status != 429;
        if (refused) {
            const auto msg = message_of(res->body);
            const auto lmsg = lower(msg);
            // The message names the (item, location) pair when a level exists or
            // is missing: it appeared or vanished since this push read it, so its
            // reservation is unknown. That row waits for a fresh read; the rest goes again.
            for (auto k : idx) {
                auto& op = run.ops[k];
                if (!contains(msg, op.item) || !contains(msg, op.location)) continue;
                if ((op.create && contains(lmsg, "already exists")) || (!op.create && contains(lmsg, "not stocked"))) {
                    auto& o = rep.items[op.idx];
                    o.request_excerpt = request_excerpt(op);
                    o.response_excerpt = redact(detail::response_text(status, res->body));
                    o.http_status = status;
                    fail(rep, op.idx, make_error(ErrorCode::transient,
                                                 fmt::format("the level of {} at {} {} since this push read it; will read "
                                                             "it again",
                                                             op.item, op.location, op.create ? "appeared" : "vanished"),
                                                 status));
                    std::vector<std::size_t> rest;
                    for (auto m : idx)
                        if (m != k) rest.push_back(m);
                    send_ops(rest, run, rep, ctx);
                    return;
                }
            }
            if (idx.size() > 1) {
                std::vector<std::size_t> left(idx.begin(), idx.begin() + static_cast<std::ptrdiff_t>(idx.size() / 2));
                std::vector<std::size_t> right(idx.begin() + static_cast<std::ptrdiff_t>(idx.size() / 2), idx.end());
                send_ops(left, run, rep, ctx);
                send_ops(right, run, rep, ctx);
                return;
            }
            auto& op = run.ops[idx.front()];
            auto& o = rep.items[op.idx];
            o.request_excerpt = request_excerpt(op);
            o.response_excerpt = redact(detail::response_text(status, res->body));
            o.http_status = status;
            if (contains(msg, op.item) && (contains(lmsg, "not found") || contains(lmsg, "does not exist"))) {
                run.stale.push_back(idx.front());
                return;
            }
            fail(rep, op.idx, make_error(ErrorCode::rejected,
                                         redact(fmt::format("Medusa refused stocked_quantity {} for SKU at {}: {}", op.qty,
                                                            op.location, error_text(res->body))),
                                         status));
            return;
        }
        auto e = failure(res, "set stock levels");
        json answer = e ? json() : json::parse(res->body);
        for (auto k : idx) {
            auto& op = run.ops[k];
            auto& o = rep.items[op.idx];
            o.request_excerpt = request_excerpt(op);
            o.http_status = status;
            if (e) {
                o.response_excerpt = res ? redact(detail::response_text(status, res->body)) : e->message;
                fail(rep, op.idx, *e);
                continue;
            }
            const json* level = nullptr;
            for (const char* key : {"created", "updated"})
                if (auto a = answer.find(key); a != answer.end() && a->is_array())
                    for (const auto& l : *a)
                        if (!level && l.is_object() && at_key(l, "inventory_item_id") == json(op.item) &&
                            at_key(l, "location_id") == json(op.location))
                            level = &l;
            if (!level) {
                o.response_excerpt = redact(detail::response_text(status, res->body, 300));
                continue;  // the call succeeded atomically; the echo is only for the log
            }
            json shown = json::object();
            for (const char* f : {"id", "inventory_item_id", "location_id", "stocked_quantity"})
                if (level->contains(f)) shown[f] = (*level)[f];
            o.response_excerpt = redact(shown.dump());
            if (auto q = level->find("stocked_quantity"); q != level->end() && q->is_number() &&
                                                           std::llround(q->get<double>()) != op.qty)
                fail(rep, op.idx, make_error(ErrorCode::rejected,
                                             fmt::format("Medusa kept stocked_quantity {} at {} instead of {}",
                                                         q->dump(), op.location, op.qty),
                                             status));
        }
    }

    Config cfg_;
    std::unique_ptr<http::Client> client_;
    std::string base_;
    medusa::Clock clock_;
    std::size_t batch_;
    std::vector<std::string> secrets_;
    std::string api_key_, email_, password_;
    std::string jwt_;
    std::optional<std::chrono::system_clock::time_point> jwt_exp_;
    std::vector<Location> locations_;
    bool have_locations_ = false;
};

}  // namespace

namespace medusa {

std::optional<std::chrono::system_clock::time_point> jwt_expiry(std::string_view jwt) {
    auto a = jwt.find('.');
    if (a == std::string_view::npos) return std::nullopt;
    auto b = jwt.find('.', a + 1);
    if (b == std::string_view::npos) return std::nullopt;
    auto payload = json::parse(b64url_decode(jwt.substr(a + 1, b - a - 1)), nullptr, false);
    if (!payload.is_object()) return std::nullopt;
    auto exp = payload.find("exp");
    if (exp == payload.end() || !exp->is_number()) return std::nullopt;
    return std::chrono::system_clock::time_point{std::chrono::seconds{static_cast<std::int64_t>(exp->get<double>())}};
}

Result<std::unique_ptr<Channel>> make_channel(const Config& config, std::unique_ptr<http::Client> client, Clock clock) {
    auto cred = [&](const char* k) { return !detail::credential(config, k).empty(); };
    if (!cred("api_key") && !(cred("email") && cred("password")))
        return make_error(ErrorCode::config,
                          "Medusa needs credentials 'api_key' (a secret API key, sk_…, from Settings → Secret API Keys) "
                          "or 'email' and 'password' of an admin user");
    if (!config.api_version.empty() && config.api_version != "v2" && config.api_version != "2")
        return make_error(ErrorCode::config,
                          fmt::format("Medusa API version '{}' is not supported (only the v2 Admin API)", config.api_version));
    auto url = http::Url::parse(config.base_url);
    if (!url) return std::move(url).error();
    if (auto e = detail::plain_http_error(*url, config.settings)) return *e;
    std::string path = url->path;
    if (auto p = path.find("/admin"); p != std::string::npos && p + 6 == path.size()) path.resize(p);
    const std::size_t batch = detail::batch_size(config, kDefaultBatch, kMaxBatch);
    if (!clock) clock = [] { return std::chrono::system_clock::now(); };
    return std::unique_ptr<Channel>(
        std::make_unique<MedusaChannel>(config, std::move(client), url->origin() + path, std::move(clock), batch));
}

}  // namespace medusa

Result<std::unique_ptr<Channel>> make_medusa(const Config& config, std::unique_ptr<http::Client> client) {
    return medusa::make_channel(config, std::move(client), nullptr);
}

}  // namespace stockrelay::channels
