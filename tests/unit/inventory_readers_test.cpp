// Whole-inventory reads (reconciliation) of the WooCommerce and Medusa
// channels against scripted shops: paging, variations, location levels,
// malformed items as records, and resuming from the cursor after a failure.
#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <map>
#include <memory>

#include <fmt/format.h>

#include "stockrelay/channels/channel.hpp"

using namespace stockrelay;
using namespace stockrelay::channels;
using nlohmann::json;

namespace {

// Answers GETs by the longest registered prefix of "path?query"; records every URL.
struct Script {
    std::vector<std::pair<std::string, std::function<http::Response(const std::string& url)>>> routes;
    std::vector<std::string> urls;
    std::function<std::optional<Result<http::Response>>(const std::string& url)> fault;

    Result<http::Response> handle(const http::Request& rq) {
        urls.push_back(rq.url);
        if (fault)
            if (auto f = fault(rq.url)) return *f;
        for (const auto& [needle, f] : routes)
            if (rq.url.find(needle) != std::string::npos) return f(rq.url);
        http::Response r;
        r.status = 404;
        r.body = R"({"code":"rest_no_route","message":"No route"})";
        return r;
    }
};

class ScriptClient : public http::Client {
public:
    explicit ScriptClient(std::shared_ptr<Script> s) : s_(std::move(s)) {}
    Result<http::Response> send(const http::Request& r) override { return s_->handle(r); }

private:
    std::shared_ptr<Script> s_;
};

http::Response reply(const json& body, int pages = 0) {
    http::Response r;
    r.status = 200;
    r.body = body.dump();
    if (pages) r.headers = {{"x-wp-totalpages", std::to_string(pages)}, {"x-wp-total", "?"}};
    return r;
}

int param(const std::string& url, const std::string& name) {
    auto p = url.find("&" + name + "=");
    if (p == std::string::npos) p = url.find("?" + name + "=");
    return p == std::string::npos ? -1 : std::stoi(url.substr(p + name.size() + 2));
}

std::unique_ptr<Channel> make(const std::shared_ptr<Script>& s, const json& row) {
    auto cfg = Config::from_json(row);
    EXPECT_TRUE(cfg) << cfg.error().message;
    auto ch = make_channel(*cfg, std::make_unique<ScriptClient>(s));
    EXPECT_TRUE(ch) << ch.error().message;
    return std::move(ch).value();
}

json woo_row() {
    return json{{"id", 1},
                {"channel_type", "woocommerce"},
                {"base_url", "https://shop.example"},
                {"credentials", {{"consumer_key", "ck_live_abcdef"}, {"consumer_secret", "cs_live_123456"}}}};
}

json medusa_row() {
    return json{{"id", 2}, {"channel_type", "medusa"}, {"base_url", "http://127.0.0.1:9000"},
                {"credentials", {{"api_key", "sk_0123456789abcdef"}}}};
}

struct Collected {
    std::vector<InventoryRecord> records;
    std::vector<json> cursors;
    InventorySink sink() {
        return [this](const std::vector<InventoryRecord>& page, const json& cursor) {
            records.insert(records.end(), page.begin(), page.end());
            cursors.push_back(cursor);
            return true;
        };
    }
    const InventoryRecord* find(const std::string& id, const std::string& loc = "") const {
        for (const auto& r : records)
            if (r.remote_id == id && r.location_key == loc) return &r;
        return nullptr;
    }
};

// 250 simple products (ids 1..250) plus variable #1000 with two variations.
std::shared_ptr<Script> woo_shop() {
    auto s = std::make_shared<Script>();
    s->routes.push_back({"/products/1000/variations?", [](const std::string&) {
                             return reply(json::array({
                                 {{"id", 1001}, {"sku", "TEE-S"}, {"type", "variation"}, {"manage_stock", true}, {"stock_quantity", 4}},
                                 {{"id", 1002}, {"sku", "TEE-M"}, {"type", "variation"}, {"manage_stock", "parent"}, {"stock_quantity", 9}},
                             }), 1);
                         }});
    s->routes.push_back({"/products?", [](const std::string& url) {
                             const int page = param(url, "page");
                             json out = json::array();
                             for (int id = (page - 1) * 100 + 1; id <= std::min(page * 100, 250); ++id)
                                 out.push_back({{"id", id}, {"sku", "SKU-" + std::to_string(id)}, {"type", "simple"},
                                                {"manage_stock", true}, {"stock_quantity", id % 7}});
                             if (page == 3) {
                                 out.push_back({{"id", 1000}, {"sku", "TEE"}, {"type", "variable"}, {"manage_stock", false}});
                                 out.push_back({{"id", 1100}, {"sku", ""}, {"type", "simple"}, {"manage_stock", false}, {"stock_quantity", nullptr}});
                                 out.push_back({{"id", 1200}, {"sku", "BAD"}, {"type", "simple"}, {"manage_stock", true}, {"stock_quantity", "lots"}});
                                 out.push_back("garbage");
                             }
                             return reply(out, 3);
                         }});
    return s;
}

TEST(WooInventory, ReadsEveryPageAndTheVariationsOfVariableProducts) {
    auto s = woo_shop();
    auto ch = make(s, woo_row());
    Collected c;
    ReadReport rep;
    auto err = ch->read_inventory({}, nullptr, c.sink(), rep);
    ASSERT_FALSE(err) << err->describe();
    EXPECT_EQ(rep.method, "paginated");
    EXPECT_EQ(rep.api_calls, 4);  // three product pages, one variations page
    EXPECT_EQ(rep.items, 250 + 1 + 2 + 3);
    EXPECT_EQ(c.records.size(), 256u);
    ASSERT_EQ(c.cursors.size(), 3u);
    EXPECT_EQ(c.cursors[0], json({{"page", 2}}));
    const auto* p7 = c.find("7");
    ASSERT_TRUE(p7);
    EXPECT_EQ(p7->sku, "SKU-7");
    EXPECT_EQ(p7->quantity, 0);
    EXPECT_TRUE(p7->tracked);
    const auto* s1 = c.find("1001");
    ASSERT_TRUE(s1);
    EXPECT_EQ(s1->parent_id, "1000");
    EXPECT_EQ(s1->quantity, 4);
    const auto* m = c.find("1002");  // manage_stock "parent": not tracked on its own
    ASSERT_TRUE(m);
    EXPECT_FALSE(m->tracked);
    EXPECT_FALSE(m->quantity);
    // Every URL asks only for the fields it needs, in a stable order.
    for (const auto& u : s->urls) {
        EXPECT_NE(u.find("_fields=id%2Csku%2Ctype"), std::string::npos) << u;
        EXPECT_NE(u.find("orderby=id&order=asc"), std::string::npos) << u;
    }
}

TEST(WooInventory, NoSkuUntrackedAndMalformedItemsAreRecordsNotFailures) {
    auto s = woo_shop();
    auto ch = make(s, woo_row());
    Collected c;
    ReadReport rep;
    ASSERT_FALSE(ch->read_inventory({}, nullptr, c.sink(), rep));
    const auto* nosku = c.find("1100");
    ASSERT_TRUE(nosku);
    EXPECT_FALSE(nosku->sku);
    EXPECT_FALSE(nosku->tracked);
    EXPECT_TRUE(nosku->problem.empty());
    const auto* bad = c.find("1200");
    ASSERT_TRUE(bad);
    EXPECT_FALSE(bad->quantity);
    EXPECT_NE(bad->problem.find("stock_quantity"), std::string::npos) << bad->problem;
    const auto* garbage = c.find("malformed:p3.53");
    ASSERT_TRUE(garbage);
    EXPECT_NE(garbage->problem.find("not a JSON object"), std::string::npos);
}

TEST(WooInventory, ATimeoutMidReadFailsWithTheCursorOfTheLastPageAndResumesThere) {
    auto s = woo_shop();
    bool fail = true;
    s->fault = [&](const std::string& url) -> std::optional<Result<http::Response>> {
        if (fail && url.find("page=2") != std::string::npos && url.find("/variations") == std::string::npos)
            return Result<http::Response>(make_error(ErrorCode::transient, "timed out after 15000 ms"));
        return std::nullopt;
    };
    auto ch = make(s, woo_row());
    Collected first;
    ReadReport rep;
    auto err = ch->read_inventory({}, nullptr, first.sink(), rep);
    ASSERT_TRUE(err);
    EXPECT_EQ(err->code, ErrorCode::transient);
    ASSERT_EQ(first.cursors.size(), 1u);
    EXPECT_EQ(first.records.size(), 100u);
    fail = false;
    s->urls.clear();
    Collected rest;
    ASSERT_FALSE(ch->read_inventory({}, first.cursors.back(), rest.sink(), rep));
    EXPECT_EQ(s->urls.front().find("page=1&"), std::string::npos);  // page 1 is not read again
    EXPECT_EQ(first.records.size() + rest.records.size(), 256u);
    EXPECT_TRUE(rest.find("101"));
    EXPECT_FALSE(rest.find("100"));
}

TEST(WooInventory, RefusedCredentialsFailTheReadAsAuth) {
    auto s = std::make_shared<Script>();
    s->routes.push_back({"/products?", [](const std::string&) {
                             http::Response r;
                             r.status = 401;
                             r.body = R"({"code":"woocommerce_rest_cannot_view","message":"Sorry, you cannot list resources.","data":{"status":401}})";
                             return r;
                         }});
    auto ch = make(s, woo_row());
    Collected c;
    ReadReport rep;
    auto err = ch->read_inventory({}, nullptr, c.sink(), rep);
    ASSERT_TRUE(err);
    EXPECT_EQ(err->code, ErrorCode::auth);
    EXPECT_TRUE(c.records.empty());
}

TEST(WooInventory, ASinkThatStopsEndsTheReadAtOnce) {
    auto s = woo_shop();
    auto ch = make(s, woo_row());
    ReadReport rep;
    int pages = 0;
    auto err = ch->read_inventory({}, nullptr, [&](const std::vector<InventoryRecord>&, const json&) { return ++pages < 1; }, rep);
    ASSERT_TRUE(err);
    EXPECT_EQ(pages, 1);
    EXPECT_EQ(s->urls.size(), 1u);
}

// 3 items per "page" of the real API are simulated by the offset/limit the reader sends.
std::shared_ptr<Script> medusa_shop(std::vector<json> items) {
    auto s = std::make_shared<Script>();
    s->routes.push_back({"/admin/inventory-items?", [items](const std::string& url) {
                             const int offset = param(url, "offset"), limit = param(url, "limit");
                             json arr = json::array();
                             for (int k = offset; k < static_cast<int>(items.size()) && k < offset + limit; ++k)
                                 arr.push_back(items[k]);
                             return reply(json{{"inventory_items", arr}, {"count", items.size()}, {"offset", offset}, {"limit", limit}});
                         }});
    return s;
}

json level(const std::string& loc, json stocked, json reserved) {
    return json{{"location_id", loc}, {"stocked_quantity", stocked}, {"reserved_quantity", reserved}};
}

TEST(MedusaInventory, QuantityIsStockedMinusReservedPerLocation) {
    auto s = medusa_shop({
        {{"id", "iitem_a"}, {"sku", "A"}, {"location_levels", {level("sloc_1", 10, 2), level("sloc_2", 5, 0)}}},
        {{"id", "iitem_b"}, {"sku", nullptr}, {"location_levels", json::array()}},
        {{"id", "iitem_c"}, {"sku", "C"}, {"location_levels", {level("sloc_1", "ten", 0)}}},
        {{"id", "iitem_d"}, {"sku", "D"}, {"location_levels", {level("sloc_2", 7, nullptr)}}},
    });
    auto ch = make(s, medusa_row());
    Collected c;
    ReadReport rep;
    auto err = ch->read_inventory({}, nullptr, c.sink(), rep);
    ASSERT_FALSE(err) << err->describe();
    ASSERT_TRUE(c.find("iitem_a", "sloc_1"));
    EXPECT_EQ(c.find("iitem_a", "sloc_1")->quantity, 8);
    EXPECT_EQ(c.find("iitem_a", "sloc_2")->quantity, 5);
    const auto* b = c.find("iitem_b", "");  // no level anywhere: still listed, without SKU or quantity
    ASSERT_TRUE(b);
    EXPECT_FALSE(b->sku);
    EXPECT_FALSE(b->quantity);
    const auto* bad = c.find("iitem_c", "sloc_1");
    ASSERT_TRUE(bad);
    EXPECT_FALSE(bad->quantity);
    EXPECT_NE(bad->problem.find("stocked_quantity"), std::string::npos);
    EXPECT_EQ(c.find("iitem_d", "sloc_2")->quantity, 7);
    EXPECT_EQ(rep.items, 5);
    EXPECT_EQ(c.cursors.back(), json({{"offset", 4}}));
    EXPECT_NE(s->urls.front().find("location_levels.reserved_quantity"), std::string::npos);
}

TEST(MedusaInventory, OnlyTheRequestedLocationsAreRecorded) {
    auto s = medusa_shop({{{"id", "iitem_a"}, {"sku", "A"}, {"location_levels", {level("sloc_1", 10, 2), level("sloc_2", 5, 0)}}}});
    auto ch = make(s, medusa_row());
    Collected c;
    ReadReport rep;
    ASSERT_FALSE(ch->read_inventory({"sloc_2"}, nullptr, c.sink(), rep));
    ASSERT_EQ(c.records.size(), 1u);
    EXPECT_EQ(c.records[0].location_key, "sloc_2");
}

TEST(MedusaInventory, PagesByOffsetAndResumesFromTheCursor) {
    std::vector<json> items;
    for (int k = 0; k < 1200; ++k)
        items.push_back({{"id", fmt::format("iitem_{:05}", k)}, {"sku", fmt::format("S{}", k)},
                         {"location_levels", {level("sloc_1", k, 0)}}});
    auto s = medusa_shop(items);
    int calls = 0;
    s->fault = [&](const std::string&) -> std::optional<Result<http::Response>> {
        if (++calls == 2) {
            http::Response r;
            r.status = 503;
            r.body = R"({"type":"unknown_error","message":"busy"})";
            return Result<http::Response>(r);
        }
        return std::nullopt;
    };
    auto ch = make(s, medusa_row());
    Collected first;
    ReadReport rep;
    auto err = ch->read_inventory({}, nullptr, first.sink(), rep);
    ASSERT_TRUE(err);
    EXPECT_EQ(err->code, ErrorCode::transient);
    ASSERT_EQ(first.cursors.size(), 1u);
    Collected rest;
    ASSERT_FALSE(ch->read_inventory({}, first.cursors.back(), rest.sink(), rep));
    EXPECT_EQ(first.records.size() + rest.records.size(), 1200u);
    EXPECT_EQ(rest.records.front().remote_id, "iitem_00500");
    EXPECT_EQ(rep.api_calls, 4);  // page 1, the 503, then pages 2 and 3
}

}  // namespace
