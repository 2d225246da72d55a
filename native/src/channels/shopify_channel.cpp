// The Shopify channel: Admin GraphQL over one reused HTTP client. Resolves
// SKUs in batched searches, sets absolute quantities with
// inventorySetQuantities in the input shape of the configured API version,
// retries the good rows when some rows draw userErrors (Shopify applies
// nothing then), and paces itself on the query-cost bucket Shopify reports.
#include <algorithm>
#include <cmath>
#include <iterator>
#include <map>
#include <set>
#include <unordered_map>

#include <fmt/format.h>

#include "channels/factories.hpp"
#include "stockrelay/channels/shopify.hpp"
#include "stockrelay/channels/shopify_inventory.hpp"
#include "stockrelay/log.hpp"

namespace stockrelay::channels {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;
namespace sh = shopify;

constexpr std::size_t kExcerptBytes = 2000;
constexpr int kMaxSetRounds = 6;            // calls per batch while shedding rows with userErrors
constexpr int kMaxConflicts = 2;            // compare conflicts resolved per row and push (sales-aware)
constexpr int kMaxResolvePages = 10;
constexpr int kMaxLocationPages = 100;
constexpr int kMaxThrottleRetries = 50;
constexpr milliseconds kDefaultThrottleBudget{60000};
constexpr milliseconds kInteractiveThrottleBudget{10000};
constexpr milliseconds kNoHintThrottleWait{1000};

const json* at(const json& j, std::initializer_list<std::string_view> keys) {
    const json* cur = &j;
    for (auto k : keys) {
        if (!cur->is_object()) return nullptr;
        auto it = cur->find(k);
        if (it == cur->end()) return nullptr;
        cur = &*it;
    }
    return cur;
}

std::string str_at(const json& j, std::initializer_list<std::string_view> keys) {
    const json* v = at(j, keys);
    return v && v->is_string() ? v->get<std::string>() : std::string();
}

// Shared by the calls of one operation (a push, a button click).
struct CallState {
    explicit CallState(milliseconds b) : budget(b) {}
    milliseconds budget;
    milliseconds waited{0};
    int http_calls = 0;
    std::optional<Error> fatal;  // auth refused, shutdown, throttle budget spent: stop calling
};

struct Call {
    std::optional<Error> error;
    int http_status = 0;
    json data;                     // the "data" object when !error
    double actual_cost = 0;        // actualQueryCost Shopify charged
    std::string response_excerpt;  // redacted
};

struct Variant {
    std::string variant_id;
    std::string item_id;
    bool tracked = true;
};

// A row ready for inventorySetQuantities.
struct Pending {
    std::size_t idx = 0;  // into the push input
    sh::SetLine line;
    bool from_cache = false;
    bool activated = false;
    const PushItem* item = nullptr;  // for its on_level (sales-aware pushes)
};

class ShopifyChannel final : public Channel {
public:
    ShopifyChannel(const Config& config, sh::ApiVersion version, std::unique_ptr<http::Client> client,
                   std::string endpoint, std::string token, milliseconds throttle_budget)
        : config_(config),
          version_(version),
          client_(std::move(client)),
          endpoint_(std::move(endpoint)),
          token_(std::move(token)),
          secrets_(config.secrets()),
          throttle_budget_(throttle_budget) {}

    std::string_view type() const override { return "shopify"; }
    std::size_t max_batch() const override { return sh::kMaxBatch; }
    std::size_t batch_size() const override {
        if (config_.batch_size <= 0) return sh::kMaxBatch;
        return std::min<std::size_t>(static_cast<std::size_t>(config_.batch_size), sh::kMaxBatch);
    }

    Result<std::string> test_connection() override {
        CallState st{kInteractiveThrottleBudget};
        auto c = graphql("Shop", sh::shop_document(), json::object(), 1, st);
        if (c.error) return *c.error;
        std::string name = str_at(c.data, {"shop", "name"});
        if (name.empty())
            return make_error(ErrorCode::transient, redact(fmt::format("Shop: answer without shop.name: {}", c.response_excerpt)),
                              c.http_status);
        return fmt::format("Connected to Shopify shop '{}' (API {})", name, version_.str());
    }

    Result<std::vector<Location>> list_locations() override {
        CallState st{kInteractiveThrottleBudget};
        std::vector<Location> out;
        json after = nullptr;
        for (int page = 0; page < kMaxLocationPages; ++page) {
            auto c = graphql("Locations", sh::locations_document(), json{{"after", after}}, 252, st);
            if (c.error) return *c.error;
            const json* nodes = at(c.data, {"locations", "nodes"});
            if (!nodes || !nodes->is_array())
                return make_error(ErrorCode::transient, fmt::format("Locations: answer without locations.nodes: {}",
                                                                    c.response_excerpt), c.http_status);
            for (const auto& n : *nodes) {
                Location l;
                l.id = str_at(n, {"id"});
                l.name = str_at(n, {"name"});
                const json* active = at(n, {"isActive"});
                l.active = !active || !active->is_boolean() || active->get<bool>();
                if (!l.id.empty()) out.push_back(std::move(l));
            }
            const json* more = at(c.data, {"locations", "pageInfo", "hasNextPage"});
            std::string cursor = str_at(c.data, {"locations", "pageInfo", "endCursor"});
            if (!more || !more->is_boolean() || !more->get<bool>() || cursor.empty()) return out;
            after = cursor;
        }
        log::warn("shopify: more than {} pages of locations; the list is cut", kMaxLocationPages);
        return out;
    }

    Result<std::vector<RemoteItem>> lookup_sku(const std::string& sku) override {
        if (sku.empty()) return make_error(ErrorCode::sku_not_found, "an empty SKU cannot be looked up");
        CallState st{kInteractiveThrottleBudget};
        auto c = graphql("LookupSku", sh::lookup_document(), json{{"q", sh::sku_term(sku)}}, 210, st);
        if (c.error) return *c.error;
        const json* nodes = at(c.data, {"productVariants", "nodes"});
        if (!nodes || !nodes->is_array())
            return make_error(ErrorCode::transient, fmt::format("LookupSku: answer without productVariants.nodes: {}",
                                                                c.response_excerpt), c.http_status);
        std::vector<RemoteItem> out;
        for (const auto& n : *nodes) {
            if (str_at(n, {"sku"}) != sku) continue;  // search may be fuzzy; only exact SKUs count
            RemoteItem item;
            item.sku = sku;
            item.title = str_at(n, {"displayName"});
            item.resolution.remote_id = str_at(n, {"inventoryItem", "id"});
            item.resolution.extra = json{{"variant_id", str_at(n, {"id"})}, {"product_id", str_at(n, {"product", "id"})}};
            const json* tracked = at(n, {"inventoryItem", "tracked"});
            item.tracked = !tracked || !tracked->is_boolean() || tracked->get<bool>();
            if (const json* levels = at(n, {"inventoryItem", "inventoryLevels", "nodes"}); levels && levels->is_array()) {
                for (const auto& lv : *levels) {
                    std::string loc = str_at(lv, {"location", "id"});
                    const json* qs = at(lv, {"quantities"});
                    if (loc.empty() || !qs || !qs->is_array()) continue;
                    for (const auto& q : *qs)
                        if (str_at(q, {"name"}) == "available" && q.contains("quantity") && q["quantity"].is_number_integer())
                            item.levels[loc] = q["quantity"].get<std::int64_t>();
                }
            }
            out.push_back(std::move(item));
        }
        return out;
    }

    Result<json> graphql_call(std::string_view op, const std::string& document, const json& variables) override {
        CallState st{throttle_budget_};
        auto c = graphql(op, document, variables, 50, st);
        if (c.error) return *c.error;
        return std::move(c.data);
    }

    PushReport push(const std::vector<PushItem>& items) override {
        PushReport rep;
        rep.items.resize(items.size());
        CallState st{throttle_budget_};
        std::vector<Pending> ready;
        std::vector<std::string> skus;                           // to resolve, first-seen order
        std::unordered_map<std::string, std::vector<std::size_t>> rows_by_sku;

        for (std::size_t i = 0; i < items.size(); ++i) {
            const PushItem& it = items[i];
            ItemOutcome& out = rep.items[i];
            out.row_id = it.row_id;
            if (it.quantity < 0 || it.quantity > 1'000'000'000) {
                out.error = make_error(ErrorCode::invalid_quantity,
                                       fmt::format("quantity {} is outside what Shopify accepts (0..1000000000)", it.quantity));
                continue;
            }
            if (it.sku.empty()) {
                out.error = make_error(ErrorCode::sku_not_found, "the row has an empty SKU");
                continue;
            }
            if (it.location_key.empty()) {
                out.error = make_error(ErrorCode::rejected, "the row has no Shopify location (map the location in Odoo)");
                continue;
            }
            sh::SetLine line{"", sh::location_gid(it.location_key), it.quantity, it.row_id, it.version};
            if (it.cached && !it.cached->remote_id.empty()) {
                line.inventory_item_id = it.cached->remote_id;
                if (it.baseline_for(line.inventory_item_id)) line.compare = it.last_set;
                ready.push_back(Pending{i, std::move(line), true, false, &it});
                continue;
            }
            auto [pos, fresh] = rows_by_sku.try_emplace(it.sku);
            if (fresh) skus.push_back(it.sku);
            pos->second.push_back(i);
        }

        resolve(items, skus, rows_by_sku, rep, ready, st);

        std::sort(ready.begin(), ready.end(), [](const Pending& a, const Pending& b) { return a.idx < b.idx; });
        const std::size_t batch = std::max<std::size_t>(1, batch_size());
        // Calls allowed per push, isolation of refused rows included (as Medusa).
        int budget = 24 + 4 * static_cast<int>(std::ceil(std::log2(static_cast<double>(items.size()) + 1)));
        for (std::size_t start = 0; start < ready.size(); start += batch) {
            std::vector<Pending> chunk(ready.begin() + static_cast<std::ptrdiff_t>(start),
                                       ready.begin() + static_cast<std::ptrdiff_t>(std::min(ready.size(), start + batch)));
            set_batch(std::move(chunk), rep, st, budget);
        }
        rep.http_calls = st.http_calls;
        rep.throttled_for = st.waited;
        return rep;
    }

    // Bulk operation or pages (shopify_inventory.cpp); each call gets the
    // push's throttle patience.
    std::optional<Error> read_inventory(const std::vector<std::string>& location_keys, const json& cursor,
                                        const InventorySink& sink, ReadReport& report) override {
        sh::ReadDeps deps;
        deps.version = version_;
        deps.client = client_.get();
        deps.settings = config_.settings;
        deps.sleep = [this](milliseconds d) { return sleep_for(d); };
        deps.graphql = [&](std::string_view op, std::string_view doc, const json& vars, double est) {
            CallState st{throttle_budget_};
            Call c = graphql(op, doc, vars, est, st);
            report.api_calls += st.http_calls;
            report.throttled_for += st.waited;
            return sh::GraphqlAnswer{c.error, std::move(c.data), c.actual_cost};
        };
        return sh::read_inventory(deps, location_keys, cursor, sink, report);
    }

private:
    std::string redact(std::string_view s) const { return http::redact(s, secrets_); }
    std::string trim(std::string_view s) const { return http::excerpt(redact(s), kExcerptBytes); }

    double estimate(std::string_view label, double fallback) const {
        auto it = last_cost_.find(std::string(label));
        return it == last_cost_.end() ? fallback : it->second;
    }

    // Sleeps on a rate limit within the operation's budget; false (and
    // st.fatal set) when the budget is spent or the caller is shutting down.
    bool throttle_sleep(milliseconds w, CallState& st, std::string_view op) {
        if (st.waited + w > st.budget) {
            Error e = make_error(ErrorCode::throttled,
                                 fmt::format("{}: Shopify's rate limit needs another {} ms after {} ms of waiting; "
                                             "giving up for now", op, w.count(), st.waited.count()));
            e.retry_after = w;
            st.fatal = e;
            return false;
        }
        log::info("shopify: waiting {} ms for the query-cost bucket before {}", w.count(), op);
        if (!sleep_for(w)) {
            Error e = make_error(ErrorCode::throttled, fmt::format("{}: stopped while waiting for Shopify's rate limit", op));
            e.retry_after = w;
            st.fatal = e;
            return false;
        }
        st.waited += w;
        return true;
    }

    Call graphql(std::string_view op, std::string_view document, const json& variables, double fallback_cost,
                 CallState& st, std::string_view cost_label = {}) {
        Call c;
        if (st.fatal) {
            c.error = st.fatal;
            return c;
        }
        const std::string label(cost_label.empty() ? op : cost_label);
        const double est = estimate(label, fallback_cost);
        http::Request req;
        req.method = "POST";
        req.url = endpoint_;
        req.headers = {{"X-Shopify-Access-Token", token_, true},
                       {"Content-Type", "application/json"},
                       {"Accept", "application/json"}};
        req.body = json{{"query", document}, {"variables", variables}}.dump();
        req.timeout = config_.timeout;

        bool precheck = true;
        for (int attempt = 0;; ++attempt) {
            if (precheck) {
                auto w = bucket_.wait_for(est, sh::CostBucket::Clock::now());
                if (w.count() > 0 && !throttle_sleep(w, st, op)) {
                    c.error = st.fatal;
                    return c;
                }
            }
            precheck = true;
            auto res = client_->send(req);
            ++st.http_calls;
            if (!res) {
                Error e = res.error();
                e.message = redact(fmt::format("{}: {}", op, e.message));
                if (e.code == ErrorCode::config) st.fatal = e;
                c.error = std::move(e);
                c.http_status = 0;
                c.response_excerpt.clear();
                return c;
            }
            sh::Answer a = sh::interpret_response(*res, op);
            c.http_status = a.http_status;
            c.response_excerpt = trim(a.body_excerpt);
            if (a.cost) {
                if (a.cost->throttle) bucket_.update(*a.cost->throttle, sh::CostBucket::Clock::now());
                if (a.cost->requested && *a.cost->requested > 0) last_cost_[label] = *a.cost->requested;
            }
            if (a.error && a.error->code == ErrorCode::throttled) {
                double requested = a.cost && a.cost->requested ? *a.cost->requested : est;
                if (bucket_.known() && bucket_.maximum() > 0 && requested > bucket_.maximum()) {
                    c.error = make_error(ErrorCode::permanent,
                                         fmt::format("{}: the query costs {} points, more than this shop's bucket holds ({})",
                                                     op, requested, bucket_.maximum()),
                                         a.http_status);
                    return c;
                }
                milliseconds w = a.error->retry_after;
                if (w.count() <= 0 && bucket_.known()) w = bucket_.wait_for(requested, sh::CostBucket::Clock::now());
                if (w.count() <= 0) w = res->retry_after();
                if (w.count() <= 0) w = kNoHintThrottleWait;
                if (attempt >= kMaxThrottleRetries) {
                    Error e = *a.error;
                    e.retry_after = w;
                    e.message = redact(fmt::format("{} (still throttled after {} attempts)", e.message, attempt + 1));
                    st.fatal = e;
                    c.error = std::move(e);
                    return c;
                }
                if (!throttle_sleep(w, st, op)) {
                    c.error = st.fatal;
                    c.error->http_status = a.http_status;
                    return c;
                }
                precheck = false;  // we just waited for exactly this call
                continue;
            }
            if (a.error) {
                Error e = *a.error;
                e.message = redact(e.message);
                if (e.code == ErrorCode::auth || e.code == ErrorCode::config) st.fatal = e;
                log::debug("shopify: {} failed: {}", op, e.describe());
                c.error = std::move(e);
                return c;
            }
            c.data = a.body["data"];
            if (a.cost && a.cost->actual) c.actual_cost = *a.cost->actual;
            return c;
        }
    }

    void resolve(const std::vector<PushItem>& items, const std::vector<std::string>& skus,
                 const std::unordered_map<std::string, std::vector<std::size_t>>& rows_by_sku, PushReport& rep,
                 std::vector<Pending>& ready, CallState& st) {
        // A search for n SKUs asks for n variants (a duplicate SKU spills onto a
        // next page) at 2 points each plus 3; keep it well inside the bucket
        // this shop reported (small buckets would never fit 50).
        std::size_t per_query = sh::kMaxSkusPerQuery;
        if (bucket_.known() && bucket_.maximum() > 0)
            per_query = std::clamp<std::size_t>(static_cast<std::size_t>(std::max(0.0, (bucket_.maximum() / 2 - 3) / 2)), 1,
                                                sh::kMaxSkusPerQuery);
        for (const auto& chunk : sh::chunk_skus(skus, per_query)) {
            const std::string q = sh::sku_search_query(chunk);
            const std::size_t first = std::min<std::size_t>(sh::kMaxBatch, chunk.size());
            const std::set<std::string> wanted(chunk.begin(), chunk.end());
            std::map<std::string, std::vector<Variant>> found;
            std::optional<Error> failure;
            std::string request_excerpt, response_excerpt;
            int http_status = 0;
            json after = nullptr;
            for (int page = 0; page < kMaxResolvePages; ++page) {
                json vars = {{"q", q}, {"first", first}, {"after", after}};
                request_excerpt = trim(vars.dump());
                auto c = graphql("ResolveSkus", sh::resolve_document(), vars, 3.0 + 2.0 * static_cast<double>(first), st,
                                 fmt::format("ResolveSkus/{}", first));
                http_status = c.http_status;
                response_excerpt = c.response_excerpt;
                if (c.error) {
                    failure = c.error;
                    break;
                }
                const json* nodes = at(c.data, {"productVariants", "nodes"});
                if (!nodes || !nodes->is_array()) {
                    failure = make_error(ErrorCode::transient,
                                         fmt::format("ResolveSkus: answer without productVariants.nodes: {}",
                                                     http::excerpt(c.response_excerpt, 300)),
                                         c.http_status);
                    break;
                }
                for (const auto& n : *nodes) {
                    const json* s = at(n, {"sku"});
                    if (!s || !s->is_string() || !wanted.count(s->get<std::string>())) continue;
                    Variant v{str_at(n, {"id"}), str_at(n, {"inventoryItem", "id"}), true};
                    const json* tracked = at(n, {"inventoryItem", "tracked"});
                    v.tracked = !tracked || !tracked->is_boolean() || tracked->get<bool>();
                    auto& list = found[s->get<std::string>()];
                    if (std::none_of(list.begin(), list.end(), [&](const Variant& x) { return x.variant_id == v.variant_id; }))
                        list.push_back(std::move(v));
                }
                const json* more = at(c.data, {"productVariants", "pageInfo", "hasNextPage"});
                std::string cursor = str_at(c.data, {"productVariants", "pageInfo", "endCursor"});
                if (!more || !more->is_boolean() || !more->get<bool>() || cursor.empty()) break;
                after = cursor;
            }

            for (const auto& sku : chunk) {
                std::optional<Error> err = failure;
                std::optional<Resolution> res;
                if (!err) {
                    const auto& hits = found[sku];
                    if (hits.empty()) {
                        err = make_error(ErrorCode::sku_not_found,
                                         fmt::format("no product variant in Shopify has the SKU '{}'", sku), http_status);
                    } else if (hits.size() > 1) {
                        std::string ids;
                        for (const auto& h : hits) ids += (ids.empty() ? "" : ", ") + h.variant_id;
                        err = make_error(ErrorCode::duplicate_sku,
                                         fmt::format("SKU '{}' is used by {} variants in Shopify ({}); make it unique",
                                                     sku, hits.size(), ids),
                                         http_status);
                    } else if (!hits.front().tracked) {
                        err = make_error(ErrorCode::rejected,
                                         fmt::format("Shopify does not track inventory for SKU '{}' (variant {}); "
                                                     "turn on 'Track quantity' for it in Shopify",
                                                     sku, hits.front().variant_id),
                                         http_status);
                    } else if (hits.front().item_id.empty()) {
                        err = make_error(ErrorCode::transient,
                                         fmt::format("Shopify returned variant {} for SKU '{}' without an inventory item",
                                                     hits.front().variant_id, sku),
                                         http_status);
                    } else {
                        Resolution r;
                        r.remote_id = hits.front().item_id;
                        r.extra = json{{"variant_id", hits.front().variant_id}};
                        res = std::move(r);
                    }
                }
                for (std::size_t idx : rows_by_sku.at(sku)) {
                    ItemOutcome& out = rep.items[idx];
                    out.http_status = http_status;
                    out.request_excerpt = request_excerpt;
                    out.response_excerpt = response_excerpt;
                    if (err) {
                        out.error = err;
                        continue;
                    }
                    out.resolved = res;
                    const PushItem& it = items[idx];
                    ready.push_back(Pending{idx,
                                            sh::SetLine{res->remote_id, sh::location_gid(it.location_key), it.quantity,
                                                        it.row_id, it.version,
                                                        it.baseline_for(res->remote_id) ? it.last_set : std::nullopt},
                                            false, false, &it});
                }
            }
        }
    }

    // Activates an item at a location with the row's quantity (API <= 2026-07).
    std::optional<Error> activate(const Pending& p, ItemOutcome& out, CallState& st) {
        const std::string key = version_.requires_idempotent() ? sh::activate_idempotency_key(p.line) : std::string();
        json vars = sh::activate_variables(version_, p.line, key);
        auto c = graphql("Activate", sh::activate_document(version_), vars, 10, st);
        out.http_status = c.http_status;
        out.request_excerpt = trim(vars.dump());
        out.response_excerpt = c.response_excerpt;
        if (c.error) return c.error;
        const json* payload = at(c.data, {"inventoryActivate"});
        if (!payload || !payload->is_object())
            return make_error(ErrorCode::transient, "Activate: answer without an inventoryActivate payload", c.http_status);
        auto errs = sh::parse_user_errors(*payload, "");
        if (!errs.empty())
            return make_error(ErrorCode::rejected,
                              fmt::format("could not stock inventory item {} at location {}: {}", p.line.inventory_item_id,
                                          p.line.location_id, errs.front().message),
                              c.http_status);
        log::info("shopify: stocked {} at {} (inventoryActivate)", p.line.inventory_item_id, p.line.location_id);
        return std::nullopt;
    }

    // The error a row gets for a userError that names it; nullopt = keep the row.
    std::optional<Error> row_error(const sh::UserError& ue, Pending& p, ItemOutcome& out, int status, CallState& st) {
        const std::string& code = ue.code;
        auto err = [&](ErrorCode ec, std::string msg) {
            return make_error(ec, fmt::format("{} [{}: {}]", msg, code.empty() ? "userError" : code, ue.message), status);
        };
        if (code == "ITEM_NOT_STOCKED_AT_LOCATION" && version_.needs_inventory_activate() && !p.activated) {
            p.activated = true;
            auto e = activate(p, out, st);
            return e;  // stocked: the row goes into the next set call
        }
        if (code == "INVALID_INVENTORY_ITEM") {
            out.drop_cache = true;
            out.resolved.reset();
            Error e = err(ErrorCode::not_found,
                          fmt::format("inventory item {} no longer exists in Shopify; the SKU will be looked up again",
                                      p.line.inventory_item_id));
            e.retry_after = milliseconds{1000};
            return e;
        }
        if (code == "INVALID_LOCATION")
            return err(ErrorCode::rejected, fmt::format("Shopify location '{}' does not exist or is not active; fix the "
                                                        "location mapping", p.line.location_id));
        if (code.rfind("INVALID_QUANTITY", 0) == 0)
            return err(ErrorCode::invalid_quantity, fmt::format("Shopify refused quantity {}", p.line.quantity));
        if (code == "ITEM_NOT_STOCKED_AT_LOCATION")
            return err(ErrorCode::rejected, fmt::format("inventory item {} is not stocked at location {}",
                                                        p.line.inventory_item_id, p.line.location_id));
        if ((code == "COMPARE_QUANTITY_STALE" || code == "CHANGE_FROM_QUANTITY_STALE") && p.line.compare)
            return resolve_conflict(p, out, status, st);
        if (code.find("COMPARE_QUANTITY") != std::string::npos || code == "CHANGE_FROM_QUANTITY_STALE")
            return err(ErrorCode::permanent, fmt::format("unexpected compare-quantity check for API {} (a stockrelay bug)",
                                                         version_.str()));
        if (code == "NON_MUTABLE_INVENTORY_ITEM")
            return err(ErrorCode::rejected, fmt::format("Shopify does not let apps change inventory item {}",
                                                        p.line.inventory_item_id));
        if (code == "NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR")
            return err(ErrorCode::permanent, "the same item and location twice in one call (a stockrelay bug)");
        // A code this version does not know: transient until proven otherwise,
        // with Shopify's own words on the row.
        return err(ErrorCode::transient, "Shopify refused this row for a reason stockrelay does not know yet; will retry");
    }

    // Sales-aware pushes: the shop's level is no longer the value we set last
    // (a sale, or an edit in the admin). Read it, let the item decide again
    // and set with the level just read as the compare value; the row stays in
    // the call. Bounded: after kMaxConflicts the row retries later (never
    // failed for it, never a blind loop).
    std::optional<Error> resolve_conflict(Pending& p, ItemOutcome& out, int status, CallState& st) {
        if (!p.item || !p.item->on_level || out.compare_conflicts >= kMaxConflicts) {
            Error e = make_error(ErrorCode::transient,
                                 fmt::format("the shop's level of {} at {} kept changing while stockrelay set it; will "
                                             "retry", p.line.inventory_item_id, p.line.location_id),
                                 status);
            e.retry_after = milliseconds{1000};
            return e;
        }
        auto c = graphql("Level", sh::level_document(),
                         json{{"item", p.line.inventory_item_id}, {"location", p.line.location_id}}, 3, st);
        if (c.error) return c.error;
        const json* qs = at(c.data, {"inventoryItem", "inventoryLevel", "quantities"});
        std::optional<std::int64_t> level;
        if (qs && qs->is_array())
            for (const auto& q : *qs)
                if (str_at(q, {"name"}) == "available" && at(q, {"quantity"}) && at(q, {"quantity"})->is_number())
                    level = at(q, {"quantity"})->get<std::int64_t>();
        if (!level)
            return make_error(ErrorCode::transient,
                              fmt::format("Level: Shopify gave no available quantity for {} at {}: {}",
                                          p.line.inventory_item_id, p.line.location_id,
                                          http::excerpt(c.response_excerpt, 300)),
                              c.http_status);
        ++out.compare_conflicts;
        p.line.compare = *level;
        p.line.quantity = p.item->on_level(*level);
        out.set = p.line.quantity;
        log::info("shopify: row {} ({} at {}): the shop holds {} instead of our last {}; setting {} against it",
                  p.line.row_id, p.line.inventory_item_id, p.line.location_id, *level,
                  p.item->last_set.value_or(-1), p.line.quantity);
        return std::nullopt;
    }

    // A row of a successful call keeps its own part of the answer (its
    // `changes`), not the first 2 kB of a 250-row answer that mostly talks
    // about other rows: more useful in the log, and ~10x less to write per row.
    void own_answers(const json& payload, const std::vector<Pending>& pending, PushReport& rep) const {
        const json* group = at(payload, {"inventoryAdjustmentGroup"});
        const json* changes = group ? at(*group, {"changes"}) : nullptr;
        if (!changes || !changes->is_array()) return;  // keep the whole-answer excerpt
        std::unordered_map<std::string, json> by_line;
        for (const auto& ch : *changes)
            by_line[str_at(ch, {"item", "id"}) + '|' + str_at(ch, {"location", "id"})].push_back(ch);
        const json group_id = group->value("id", json());
        for (const auto& p : pending) {
            auto it = by_line.find(p.line.inventory_item_id + '|' + p.line.location_id);
            json own = {{"inventorySetQuantities",
                         {{"inventoryAdjustmentGroup",
                           {{"id", group_id}, {"changes", it == by_line.end() ? json::array() : std::move(it->second)}}},
                          {"userErrors", json::array()}}}};
            std::string text = own.dump();
            if (pending.size() > 1) text += fmt::format(" (this row's part of an answer for {} rows)", pending.size());
            rep.items[p.idx].response_excerpt = trim(text);
        }
    }

    // What a userError that names no input element says about the call.
    enum class Unmapped { retry_new_key, fail_all, isolate };

    Unmapped classify_unmapped(const sh::UserError& u, bool rows_named, int salt) const {
        if (u.code == "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED" && !rows_named && salt < 3)
            return Unmapped::retry_new_key;  // Shopify will not retry a failed key: same payload, new key
        if (u.code == "IDEMPOTENCY_CONCURRENT_REQUEST" || u.code == "IDEMPOTENCY_KEY_PARAMETER_MISMATCH")
            return Unmapped::fail_all;
        // ["input","name"], ["input","reason"], ...: the call's own fields, wrong for every row.
        if (u.field.size() >= 2 && u.field[0] == "input" && u.field[1] != "quantities") return Unmapped::fail_all;
        return Unmapped::isolate;
    }

    Error whole_call_error(const sh::UserError& u, int status) const {
        const auto ec = u.code == "IDEMPOTENCY_CONCURRENT_REQUEST" ? ErrorCode::transient : ErrorCode::permanent;
        const auto what = ec == ErrorCode::transient ? "the same request is still running in Shopify" : "Shopify refused the call";
        return make_error(ec, redact(fmt::format("SetQty: {} [{}: {} (field {})]", what, u.code.empty() ? "userError" : u.code,
                                                 u.message, json(u.field).dump())),
                          status);
    }

    // One inventorySetQuantities call for `pending` and the excerpts each row keeps of it.
    Call send_set(const std::vector<Pending>& pending, const std::string& key, PushReport& rep, CallState& st) {
        std::vector<sh::SetLine> lines;
        lines.reserve(pending.size());
        for (const auto& p : pending) lines.push_back(p.line);
        const json vars = sh::set_quantities_variables(version_, lines, key);
        auto c = graphql("SetQty", sh::set_quantities_document(version_), vars, 10, st);
        // Each row's excerpt is the call with only its own line. The shell
        // is copied once, not once per row (that copy was O(n^2) per batch).
        json one = vars;
        one["input"]["quantities"] = json::array();
        const json& all_lines = vars["input"]["quantities"];
        for (std::size_t k = 0; k < pending.size(); ++k) {
            ItemOutcome& out = rep.items[pending[k].idx];
            one["input"]["quantities"] = json::array({all_lines[k]});
            std::string text = one.dump();
            if (pending.size() > 1) text += fmt::format(" (element {} of {} in input.quantities)", k, pending.size());
            out.request_excerpt = trim(text);
            out.response_excerpt = c.response_excerpt;
            out.http_status = c.http_status;
        }
        return c;
    }

    // Sets `pending`, retrying without the rows Shopify refused (it applies
    // nothing when any row draws a userError). A userError that names no row
    // is isolated by halving, like the Medusa channel: only the row that draws
    // it alone fails. Every call spends `budget`.
    void set_batch(std::vector<Pending> pending, PushReport& rep, CallState& st, int& budget) {
        int salt = 0;
        // Keys whose call Shopify answered with userErrors: it remembers that
        // outcome, so sending the same rows again (after inventoryActivate) needs a new key.
        std::set<std::string> refused_keys;
        auto fail_all = [&](const Error& e) {
            for (const auto& p : pending) rep.items[p.idx].error = e;
            pending.clear();
        };
        for (int round = 0; round < kMaxSetRounds && !pending.empty(); ++round) {
            if (budget-- <= 0)
                return fail_all(make_error(ErrorCode::transient, "SetQty: Shopify refused calls containing this row and "
                                                                 "the calls allowed for isolating the refused rows are "
                                                                 "spent; will retry"));
            std::string key;
            if (version_.requires_idempotent()) {
                std::vector<sh::SetLine> lines;
                for (const auto& p : pending) lines.push_back(p.line);
                key = sh::idempotency_key(lines, salt);
                while (refused_keys.count(key)) key = sh::idempotency_key(lines, ++salt);
            }
            auto c = send_set(pending, key, rep, st);
            if (c.error) return fail_all(*c.error);
            const json* payload = at(c.data, {"inventorySetQuantities"});
            if (!payload || !payload->is_object())
                return fail_all(make_error(ErrorCode::transient,
                                           fmt::format("SetQty: answer without an inventorySetQuantities payload: {}",
                                                       http::excerpt(c.response_excerpt, 300)),
                                           c.http_status));
            auto errors = sh::parse_user_errors(*payload);
            if (errors.empty()) {
                own_answers(*payload, pending, rep);
                for (const auto& p : pending) rep.items[p.idx].error.reset();
                return;
            }
            if (!key.empty()) refused_keys.insert(key);

            std::map<std::size_t, sh::UserError> by_row;
            std::vector<sh::UserError> unmapped;
            for (auto& e : errors) {
                if (e.index && *e.index < pending.size())
                    by_row.try_emplace(*e.index, e);
                else
                    unmapped.push_back(e);
            }
            const std::size_t sent = pending.size();
            if (!unmapped.empty()) {
                const auto& u = unmapped.front();
                log::warn("shopify: inventorySetQuantities answered a userError naming no row ({} rows sent): {} {}", sent,
                          u.code, redact(u.message));
                switch (classify_unmapped(u, !by_row.empty(), salt)) {
                    case Unmapped::retry_new_key: continue;
                    case Unmapped::fail_all: return fail_all(whole_call_error(u, c.http_status));
                    case Unmapped::isolate: break;
                }
                if (sent == 1) {  // alone in the call: this row draws it
                    by_row.try_emplace(0, u);
                    unmapped.clear();
                }
            }
            pending = drop_refused(std::move(pending), by_row, rep, c.http_status, st);
            if (!unmapped.empty() && pending.size() > 1) {
                auto mid = pending.begin() + static_cast<std::ptrdiff_t>(pending.size() / 2);
                std::vector<Pending> left(std::make_move_iterator(pending.begin()), std::make_move_iterator(mid));
                std::vector<Pending> right(std::make_move_iterator(mid), std::make_move_iterator(pending.end()));
                set_batch(std::move(left), rep, st, budget);
                set_batch(std::move(right), rep, st, budget);
                return;
            }
        }
        for (const auto& p : pending)
            rep.items[p.idx].error = make_error(
                ErrorCode::transient,
                fmt::format("SetQty: gave up after {} calls that each refused other rows; will retry", kMaxSetRounds));
    }

    // The rows of `pending` that no userError refused (an activated row stays).
    std::vector<Pending> drop_refused(std::vector<Pending> pending, const std::map<std::size_t, sh::UserError>& by_row,
                                      PushReport& rep, int status, CallState& st) {
        std::vector<Pending> next;
        for (std::size_t k = 0; k < pending.size(); ++k) {
            Pending& p = pending[k];
            ItemOutcome& out = rep.items[p.idx];
            auto hit = by_row.find(k);
            if (hit == by_row.end()) {
                next.push_back(std::move(p));
                continue;
            }
            log::warn("shopify: row {} ({} at {}): {} {}", p.line.row_id, p.line.inventory_item_id, p.line.location_id,
                      hit->second.code, redact(hit->second.message));
            auto e = row_error(hit->second, p, out, status, st);
            if (e) {
                e->message = redact(e->message);
                out.error = std::move(e);
            } else {
                next.push_back(std::move(p));
            }
        }
        return next;
    }

    Config config_;
    sh::ApiVersion version_;
    std::unique_ptr<http::Client> client_;
    std::string endpoint_;
    std::string token_;
    std::vector<std::string> secrets_;
    milliseconds throttle_budget_;
    sh::CostBucket bucket_;
    std::map<std::string, double> last_cost_;
};

}  // namespace

Result<std::unique_ptr<Channel>> make_shopify(const Config& config, std::unique_ptr<http::Client> client) {
    auto version = sh::ApiVersion::parse(config.api_version);
    if (!version) return version.error();
    const json* token = at(config.credentials, {"access_token"});
    if (!token || !token->is_string() || token->get<std::string>().empty())
        return make_error(ErrorCode::config,
                          "channel setting 'credentials.access_token' is missing (a Shopify Admin API access token)");
    auto url = http::Url::parse(config.base_url);
    if (!url) return url.error();
    std::string endpoint = fmt::format("{}{}/admin/api/{}/graphql.json", url->origin(), url->path, version->str());
    milliseconds budget = kDefaultThrottleBudget;
    if (const json* b = at(config.settings, {"max_throttle_wait_ms"}); b && !b->is_null()) {
        if (!b->is_number_integer() || b->get<std::int64_t>() < 0)
            return make_error(ErrorCode::config, "channel setting 'settings.max_throttle_wait_ms' must be a non-negative integer");
        budget = milliseconds{b->get<std::int64_t>()};
    }
    if (!client) client = http::make_curl_client(config.client_options());
    return std::unique_ptr<Channel>(std::make_unique<ShopifyChannel>(config, *version, std::move(client), std::move(endpoint),
                                                                     token->get<std::string>(), budget));
}

}  // namespace stockrelay::channels
