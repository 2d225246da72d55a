// Reading a Shopify shop's whole inventory: a bulk query operation (start,
// poll with backoff, stream the JSONL result into the sink) for large shops,
// a paginated inventoryItems query for small ones or when another bulk query
// of this app holds the shop's bulk slot (we fall back rather than wait: the
// other operation may run for hours).
//
// Cursors: {"method":"bulk","operation":<gid>,"lines":<n>} resumes polling the
// same operation and skips the n result lines already delivered;
// {"method":"paginated","after":<page cursor>} resumes the pages.
//
// Settings (channel settings JSON): inventory_read = auto | bulk | paginated
// (auto: bulk from bulk_min_items variants, default 2000), bulk_poll_max_ms
// (5000), bulk_max_wait_s (3600), read_page_size (as many as fit 1,000 points), read_levels_per_item (10).
#include <algorithm>

#include <fmt/format.h>

#include "stockrelay/channels/shopify_inventory.hpp"
#include "stockrelay/log.hpp"

namespace stockrelay::channels::shopify {
namespace {

using nlohmann::json;
using std::chrono::milliseconds;

constexpr std::size_t kSinkPage = 1000;

std::int64_t setting(const ReadDeps& d, std::string_view key, std::int64_t fallback) {
    auto it = d.settings.find(key);
    return it != d.settings.end() && it->is_number_integer() && it->get<std::int64_t>() > 0 ? it->get<std::int64_t>() : fallback;
}

std::int64_t int_at(const json& j, std::string_view key) {
    auto it = j.is_object() ? j.find(key) : j.end();
    return it != j.end() && it->is_number_integer() ? it->get<std::int64_t>() : 0;
}

// j[key] when it is an object, else an empty object (answers are not trusted to be well-formed).
json obj(const json& j, std::string_view key) {
    auto it = j.is_object() ? j.find(key) : j.end();
    return it != j.end() && it->is_object() ? *it : json::object();
}

json list(const json& j, std::string_view key) {
    auto it = j.is_object() ? j.find(key) : j.end();
    return it != j.end() && it->is_array() ? *it : json::array();
}

bool flag(const json& j, std::string_view key) {
    auto it = j.is_object() ? j.find(key) : j.end();
    return it != j.end() && it->is_boolean() && it->get<bool>();
}

std::string str(const json& j, std::string_view key) {
    auto it = j.is_object() ? j.find(key) : j.end();
    return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// Shop location gid -> the key the caller used (outbox form); empty = all.
std::map<std::string, std::string> location_map(const std::vector<std::string>& keys) {
    std::map<std::string, std::string> out;
    for (const auto& k : keys) out.emplace(location_gid(k), k);
    return out;
}

class Reader {
public:
    Reader(ReadDeps& d, const std::vector<std::string>& keys, const InventorySink& sink, ReadReport& rep)
        : d_(d), locations_(location_map(keys)), sink_(sink), rep_(rep) {}

    std::optional<Error> run(const json& cursor) {
        const std::string method = str(cursor, "method");
        if (method == "paginated") return paginated(str(cursor, "after"));
        if (method == "bulk") return bulk(str(cursor, "operation"), int_at(cursor, "lines"));
        auto choice = choose();
        if (!choice) return choice.error();
        return *choice == "bulk" ? bulk("", 0) : paginated("");
    }

private:
    GraphqlAnswer call(std::string_view op, std::string_view doc, const json& vars, double est) {
        GraphqlAnswer a = d_.graphql(op, doc, vars, est);
        rep_.cost_points += static_cast<int>(a.cost + 0.5);
        return a;
    }

    Result<std::string> choose() {
        auto it = d_.settings.find("inventory_read");
        std::string mode = it != d_.settings.end() && it->is_string() ? it->get<std::string>() : "auto";
        if (mode == "bulk" || mode == "paginated") return mode;
        if (mode != "auto")
            return make_error(ErrorCode::config, fmt::format("channel setting 'settings.inventory_read' is '{}' "
                                                             "(expected auto, bulk or paginated)", mode));
        auto a = call("VariantCount", variant_count_document(), json::object(), 2);
        if (a.error) return *a.error;
        const std::int64_t n = int_at(obj(a.data, "productVariantsCount"), "count");
        return n >= setting(d_, "bulk_min_items", 2000) ? std::string("bulk") : std::string("paginated");
    }

    bool deliver(std::vector<InventoryRecord>& page, const json& cursor) {
        rep_.items += static_cast<std::int64_t>(page.size());
        return sink_(page, cursor);
    }

    std::optional<Error> stopped() { return make_error(ErrorCode::transient, "the inventory read was stopped (shutdown)"); }

    // ---- paginated
    std::optional<Error> paginated(std::string after) {
        rep_.method = "paginated";
        // A page's requested cost is 2 + first x (3 + 3 x levels); keep it under Shopify's 1,000-point query limit.
        const auto levels = std::min<std::int64_t>(setting(d_, "read_levels_per_item", 10), 250);
        const auto first = std::clamp<std::int64_t>(setting(d_, "read_page_size", 250), 1, std::max<std::int64_t>(1, 998 / (3 + 3 * levels)));
        for (;;) {
            json vars = {{"first", first}, {"after", after.empty() ? json(nullptr) : json(after)}, {"levels", levels}};
            auto a = call("ReadInventory", inventory_page_document(), vars, 2.0 + static_cast<double>(first * (3 + 3 * levels)));
            if (a.error) return a.error;
            const json conn = obj(a.data, "inventoryItems");
            std::vector<InventoryRecord> page;
            const json nodes = list(conn, "nodes");
            for (std::size_t i = 0; i < nodes.size(); ++i) page_of(nodes[i], rep_.items + static_cast<std::int64_t>(i), page);
            const json info = obj(conn, "pageInfo");
            const bool more = flag(info, "hasNextPage") && !str(info, "endCursor").empty();
            after = str(info, "endCursor");
            if (!deliver(page, json{{"method", "paginated"}, {"after", after}})) return stopped();
            if (!more) return std::nullopt;
        }
    }

    void page_of(const json& node, std::int64_t seq, std::vector<InventoryRecord>& page) {
        InventoryRecord item = item_record(node, seq);
        bool any = false;
        const json levels = obj(node, "inventoryLevels");
        for (const auto& lv : list(levels, "nodes")) {
            auto r = level_record(item, lv, locations_);
            if (r) {
                page.push_back(std::move(*r));
                any = true;
            }
        }
        if (flag(obj(levels, "pageInfo"), "hasNextPage")) {
            InventoryRecord more = item;
            more.location_key = "";
            more.problem = "the item is stocked at more locations than read_levels_per_item; raise it to read them all";
            page.push_back(std::move(more));
            any = true;
        }
        if (!any) page.push_back(std::move(item));
    }

    // ---- bulk
    std::optional<Error> bulk(std::string op, std::int64_t skip) {
        rep_.method = "bulk";
        if (op.empty()) {
            auto started = start();
            if (!started) return started.error();
            if (started->empty()) return paginated("");  // the bulk slot is taken: read page by page
            op = *started;
            std::vector<InventoryRecord> none;
            if (!deliver(none, json{{"method", "bulk"}, {"operation", op}, {"lines", 0}})) return stopped();
            skip = 0;
        }
        auto done = poll(op);
        if (!done) return done.error();
        if (done->is_null()) return bulk("", 0);  // the operation is gone (failed, expired): start over
        return download(op, str(*done, "url"), skip);
    }

    // The new operation's id; "" when another bulk query holds the slot.
    Result<std::string> start() {
        auto a = call("BulkInventory", bulk_run_document(d_.version), json{{"query", bulk_inventory_query()}}, 10);
        if (a.error) return *a.error;
        const json payload = obj(a.data, "bulkOperationRunQuery");
        for (const auto& e : list(payload, "userErrors")) {
            const std::string code = str(e, "code");
            if (code == "OPERATION_IN_PROGRESS" || code == "LIMIT_REACHED") {
                log::info("shopify: bulk query slot busy ({}); reading the inventory page by page", str(e, "message"));
                return std::string();
            }
            return make_error(ErrorCode::permanent, fmt::format("BulkInventory: Shopify refused the bulk query: {} [{}]",
                                                                str(e, "message"), code));
        }
        std::string id = str(obj(payload, "bulkOperation"), "id");
        if (id.empty()) return make_error(ErrorCode::transient, "BulkInventory: answer without bulkOperation.id");
        return id;
    }

    // The finished operation (url may be null: nothing to read); json null
    // when it failed in a way a new operation fixes.
    Result<json> poll(const std::string& op) {
        const bool by_id = d_.version >= ApiVersion{2026, 1};
        milliseconds wait{200}, waited{0};
        const milliseconds cap{setting(d_, "bulk_poll_max_ms", 5000)};
        const milliseconds limit{setting(d_, "bulk_max_wait_s", 3600) * 1000};
        for (;;) {
            auto a = call("BulkStatus", bulk_status_document(d_.version), by_id ? json{{"id", op}} : json::object(), 1);
            if (a.error) return *a.error;
            const json st = obj(a.data, by_id ? "bulkOperation" : "currentBulkOperation");
            if (str(st, "id") != op) {
                log::warn("shopify: bulk operation {} is no longer the current one; starting a new read", op);
                return json(nullptr);
            }
            const std::string status = str(st, "status");
            if (status == "COMPLETED") return st;
            if (status == "FAILED" && str(st, "errorCode") == "ACCESS_DENIED")
                return make_error(ErrorCode::auth, "BulkStatus: the bulk query was denied access (the app lacks the "
                                                   "read_inventory or read_products scope)");
            if (status == "FAILED" || status == "CANCELED" || status == "EXPIRED") {
                log::warn("shopify: bulk operation {} ended {} {}; starting a new read", op, status, str(st, "errorCode"));
                return json(nullptr);
            }
            if (waited >= limit)
                return make_error(ErrorCode::transient, fmt::format("bulk operation {} still {} after {} s; the read "
                                                                    "resumes polling it later", op, status, waited.count() / 1000));
            if (!d_.sleep(wait)) return make_error(ErrorCode::transient, "the inventory read was stopped (shutdown)");
            waited += wait;
            wait = std::min(cap, wait * 5 / 4);  // gentle: a poll costs 1 point, overshooting the end costs time
        }
    }

    std::optional<Error> download(const std::string& op, const std::string& url, std::int64_t skip) {
        if (url.empty()) {  // Shopify's answer for an empty result
            std::vector<InventoryRecord> none;
            return deliver(none, json{{"method", "bulk"}, {"operation", op}, {"lines", 0}}) ? std::nullopt : stopped();
        }
        BulkInventoryParser parser(locations_, skip, kSinkPage, [&](std::vector<InventoryRecord>& page, std::int64_t lines) {
            return deliver(page, json{{"method", "bulk"}, {"operation", op}, {"lines", lines}});
        });
        bool stop = false;
        http::Request req;  // a signed storage URL: no shop token goes there
        req.method = "GET";
        req.url = url;
        req.timeout = milliseconds{setting(d_, "bulk_download_timeout_ms", 600000)};
        req.on_body = [&](std::string_view chunk) { return (stop = !parser.feed(chunk)) == false; };
        auto res = d_.client->send(req);
        ++rep_.api_calls;
        if (stop) return stopped();
        if (!res) return res.error();
        if (res->status < 200 || res->status >= 300) return download_failed(op, *res);
        if (!res->body.empty() && !parser.feed(res->body)) return stopped();  // a client that does not stream
        if (!parser.finish()) return stopped();
        return std::nullopt;
    }

    std::optional<Error> download_failed(const std::string& op, const http::Response& r) {
        if (r.status == 403 || r.status == 404 || r.status == 410) {  // expired URL: a new operation next time
            std::vector<InventoryRecord> none;
            if (!deliver(none, json{{"method", "bulk"}})) return stopped();
        }
        return make_error(ErrorCode::transient, fmt::format("downloading the result of bulk operation {} failed with HTTP {}: {}",
                                                            op, r.status, http::excerpt(r.body, 200)), r.status);
    }

    ReadDeps& d_;
    std::map<std::string, std::string> locations_;
    const InventorySink& sink_;
    ReadReport& rep_;
};

}  // namespace

std::optional<Error> read_inventory(ReadDeps& deps, const std::vector<std::string>& location_keys, const json& cursor,
                                    const InventorySink& sink, ReadReport& report) {
    Reader reader(deps, location_keys, sink, report);
    try {
        return reader.run(cursor.is_object() ? cursor : json::object());
    } catch (const json::exception& e) {  // a shape no check above foresaw: a failed read, never a crash
        return make_error(ErrorCode::transient, fmt::format("reading the Shopify inventory: unexpected answer: {}", e.what()));
    }
}

}  // namespace stockrelay::channels::shopify
