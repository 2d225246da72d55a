// Reading a Shopify shop's whole inventory against a scripted fake client: the
// streaming JSONL parser, the bulk flow (start, poll with backoff, download
// without the token, resume), the fallback to pages, cost accounting.
#include <gtest/gtest.h>

#include <deque>
#include <functional>

#include "stockrelay/channels/channel.hpp"
#include "stockrelay/channels/shopify_inventory.hpp"

using namespace stockrelay;
using namespace stockrelay::channels;
using nlohmann::json;
using std::chrono::milliseconds;

namespace {

constexpr const char* kToken = "shpat_inventory_secret_0123456789";
const std::string L1 = "gid://shopify/Location/1";
const std::string L2 = "gid://shopify/Location/2";
const std::string kUrl = "https://storage.example/bulk/result.jsonl?X-Goog-Signature=abc";

using Reply = std::function<http::Response(const http::Request&)>;

struct Script {
    std::deque<Reply> replies;
    std::vector<http::Request> sent;
};

class FakeClient final : public http::Client {
public:
    explicit FakeClient(std::shared_ptr<Script> s) : s_(std::move(s)) {}
    Result<http::Response> send(const http::Request& request) override {
        s_->sent.push_back(request);
        if (s_->replies.empty()) return make_error(ErrorCode::transient, "fake: no scripted reply left");
        auto r = std::move(s_->replies.front());
        s_->replies.pop_front();
        return r(request);
    }

private:
    std::shared_ptr<Script> s_;
};

http::Response resp(int status, std::string body) {
    http::Response r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

Reply data(json d, double cost = 10) {
    return [d = std::move(d), cost](const http::Request&) {
        json ext = {{"cost", {{"requestedQueryCost", cost}, {"actualQueryCost", cost},
                              {"throttleStatus", {{"maximumAvailable", 2000}, {"currentlyAvailable", 1900}, {"restoreRate", 100}}}}}};
        return resp(200, json{{"data", d}, {"extensions", ext}}.dump());
    };
}

// A download that streams the body in small chunks when the request asks for it.
Reply jsonl(std::string body, std::size_t chunk = 7) {
    return [body = std::move(body), chunk](const http::Request& req) {
        if (!req.on_body) return resp(200, body);
        for (std::size_t i = 0; i < body.size(); i += chunk)
            if (!req.on_body(std::string_view(body).substr(i, chunk))) return resp(200, "");
        return resp(200, "");
    };
}

json status(const std::string& id, const std::string& st, const std::string& url = "") {
    return {{"currentBulkOperation", {{"id", id}, {"status", st}, {"errorCode", nullptr}, {"objectCount", "3"},
                                      {"url", url.empty() ? json(nullptr) : json(url)}, {"partialDataUrl", nullptr}}}};
}

const std::string kResult =
    R"({"id":"gid://shopify/InventoryItem/1","sku":"A","tracked":true})" "\n"
    R"({"location":{"id":"gid://shopify/Location/1"},"quantities":[{"name":"available","quantity":5}],"__parentId":"gid://shopify/InventoryItem/1"})" "\n"
    R"({"location":{"id":"gid://shopify/Location/2"},"quantities":[{"name":"available","quantity":7}],"__parentId":"gid://shopify/InventoryItem/1"})" "\n"
    R"({"id":"gid://shopify/InventoryItem/2","sku":null,"tracked":true})" "\n"
    R"({"location":{"id":"gid://shopify/Location/1"},"quantities":[{"name":"available","quantity":1}],"__parentId":"gid://shopify/InventoryItem/2"})" "\n"
    R"({"id":"gid://shopify/InventoryItem/3","sku":"C","tracked":false})" "\n"
    R"({"location":{"id":"gid://shopify/Location/1"},"quantities":[{"name":"available","quantity":9}],"__parentId":"gid://shopify/InventoryItem/3"})" "\n"
    R"({"id":"gid://shopify/InventoryItem/4","sku":"D","tracked":true})" "\n"
    R"({"location":{"id":"gid://shopify/Location/1"},"quantities":[{"name":"available","quantity":"lots"}],"__parentId":"gid://shopify/InventoryItem/4"})" "\n"
    "{not json\n"
    R"({"id":"gid://shopify/InventoryItem/5","sku":"E","tracked":true})" "\n";

struct Harness {
    std::shared_ptr<Script> script = std::make_shared<Script>();
    std::unique_ptr<Channel> channel;
    std::vector<milliseconds> sleeps;
    std::vector<std::vector<InventoryRecord>> pages;
    std::vector<json> cursors;

    explicit Harness(const std::string& version = "2025-10", json settings = json::object()) {
        auto cfg = Config::from_json(json{{"channel_type", "shopify"}, {"base_url", "https://test-shop.myshopify.com"},
                                          {"api_version", version}, {"credentials", {{"access_token", kToken}}},
                                          {"settings", settings}});
        channel = std::move(make_channel(cfg.value(), std::make_unique<FakeClient>(script)).value());
        channel->set_sleeper([this](milliseconds d) {
            sleeps.push_back(d);
            return true;
        });
    }
    void reply(Reply r) { script->replies.push_back(std::move(r)); }
    std::optional<Error> read(json cursor = nullptr, std::vector<std::string> locs = {}) {
        return channel->read_inventory(locs, cursor, [this](const std::vector<InventoryRecord>& p, const json& c) {
            pages.push_back(p);
            cursors.push_back(c);
            return true;
        }, report);
    }
    std::vector<InventoryRecord> records() const {
        std::vector<InventoryRecord> all;
        for (const auto& p : pages) all.insert(all.end(), p.begin(), p.end());
        return all;
    }
    std::string query(std::size_t i) const { return json::parse(script->sent.at(i).body).at("query").get<std::string>(); }
    ReadReport report;
};

bool has_header(const http::Request& r, const std::string& name) {
    for (const auto& h : r.headers)
        if (h.name == name) return true;
    return false;
}

}  // namespace

TEST(ShopifyBulkParser, ParsesItemsAcrossAnyChunkingAndReportsWhatIsWrong) {
    std::vector<InventoryRecord> got;
    shopify::BulkInventoryParser p({}, 0, 1000, [&](std::vector<InventoryRecord>& page, std::int64_t) {
        got.insert(got.end(), page.begin(), page.end());
        return true;
    });
    for (char c : kResult) ASSERT_TRUE(p.feed(std::string_view(&c, 1)));  // one byte at a time
    ASSERT_TRUE(p.finish());
    ASSERT_EQ(got.size(), 7u);
    EXPECT_EQ(got[0].sku, "A");
    EXPECT_EQ(got[0].location_key, L1);
    EXPECT_EQ(got[0].quantity, 5);
    EXPECT_EQ(got[1].location_key, L2);
    EXPECT_EQ(got[1].quantity, 7);
    EXPECT_FALSE(got[2].sku.has_value()) << "an item without SKU is listed as such";
    EXPECT_EQ(got[2].quantity, 1);
    EXPECT_FALSE(got[3].tracked);
    EXPECT_FALSE(got[3].quantity.has_value()) << "an untracked item's quantity means nothing";
    EXPECT_EQ(got[4].remote_id, "gid://shopify/InventoryItem/4");
    EXPECT_FALSE(got[4].quantity.has_value());
    EXPECT_NE(got[4].problem.find("not an integer"), std::string::npos);
    EXPECT_EQ(got[5].remote_id, "malformed-line-10");
    EXPECT_NE(got[5].problem.find("not a JSON object"), std::string::npos);
    EXPECT_EQ(got[6].sku, "E");
    EXPECT_EQ(got[6].location_key, "") << "an item stocked nowhere still appears";
    EXPECT_EQ(p.malformed(), 2);
}

TEST(ShopifyBulkParser, PagesEndAtItemsAndResumingSkipsExactlyTheDeliveredLines) {
    std::vector<std::pair<std::size_t, std::int64_t>> pages;
    shopify::BulkInventoryParser p({}, 0, 2, [&](std::vector<InventoryRecord>& page, std::int64_t lines) {
        pages.emplace_back(page.size(), lines);
        return true;
    });
    ASSERT_TRUE(p.feed(kResult));
    ASSERT_TRUE(p.finish());
    ASSERT_GE(pages.size(), 2u);
    EXPECT_EQ(pages[0], std::make_pair(std::size_t{2}, std::int64_t{3})) << "item 1's two levels, then the page ends";
    // Resume after the first page: the rest arrives once, nothing repeated.
    std::vector<InventoryRecord> rest;
    shopify::BulkInventoryParser q({}, pages[0].second, 1000, [&](std::vector<InventoryRecord>& page, std::int64_t) {
        rest.insert(rest.end(), page.begin(), page.end());
        return true;
    });
    ASSERT_TRUE(q.feed(kResult));
    ASSERT_TRUE(q.finish());
    ASSERT_EQ(rest.size(), 5u);
    EXPECT_EQ(rest[0].remote_id, "gid://shopify/InventoryItem/2");
}

TEST(ShopifyBulkParser, KeepsOnlyTheWantedLocationsUnderTheCallersKeys) {
    std::vector<InventoryRecord> got;
    shopify::BulkInventoryParser p({{L2, "2"}}, 0, 1000, [&](std::vector<InventoryRecord>& page, std::int64_t) {
        got.insert(got.end(), page.begin(), page.end());
        return true;
    });
    ASSERT_TRUE(p.feed(kResult.substr(0, kResult.find("{\"id\":\"gid://shopify/InventoryItem/2\""))));
    ASSERT_TRUE(p.finish());
    ASSERT_EQ(got.size(), 1u);
    EXPECT_EQ(got[0].location_key, "2");
    EXPECT_EQ(got[0].quantity, 7);
}

TEST(ShopifyInventoryRead, BulkStartsPollsWithBackoffAndDownloadsWithoutTheToken) {
    Harness h("2025-10");
    const std::string op = "gid://shopify/BulkOperation/9";
    h.reply(data({{"productVariantsCount", {{"count", 50000}}}}, 1));
    h.reply(data({{"bulkOperationRunQuery", {{"bulkOperation", {{"id", op}, {"status", "CREATED"}}}, {"userErrors", json::array()}}}}));
    h.reply(data(status(op, "RUNNING"), 1));
    h.reply(data(status(op, "RUNNING"), 1));
    h.reply(data(status(op, "COMPLETED", kUrl), 1));
    h.reply(jsonl(kResult));
    auto err = h.read();
    ASSERT_FALSE(err) << err->message;
    EXPECT_EQ(h.report.method, "bulk");
    EXPECT_EQ(h.report.api_calls, 6);
    EXPECT_EQ(h.report.cost_points, 14);
    EXPECT_EQ(h.report.items, 7);
    EXPECT_EQ(h.records().size(), 7u);
    EXPECT_NE(h.query(1).find("groupObjects: true"), std::string::npos);
    EXPECT_NE(h.query(2).find("currentBulkOperation(type: QUERY)"), std::string::npos);
    ASSERT_EQ(h.sleeps.size(), 2u);
    EXPECT_LT(h.sleeps[0], h.sleeps[1]) << "polls back off";
    const auto& dl = h.script->sent.back();
    EXPECT_EQ(dl.method, "GET");
    EXPECT_EQ(dl.url, kUrl);
    EXPECT_FALSE(has_header(dl, "X-Shopify-Access-Token")) << "the token never goes to the storage host";
    EXPECT_EQ(h.cursors.front(), (json{{"method", "bulk"}, {"operation", op}, {"lines", 0}}))
        << "the operation id is persisted before polling, so a restart resumes it";
    EXPECT_EQ(h.cursors.back()["lines"], 11);
}

TEST(ShopifyInventoryRead, ResumesTheSameOperationAndSkipsDeliveredLines) {
    Harness h("2026-01", json{{"inventory_read", "bulk"}});
    const std::string op = "gid://shopify/BulkOperation/9";
    h.reply(data({{"bulkOperation", status(op, "COMPLETED", kUrl)["currentBulkOperation"]}}, 1));
    h.reply(jsonl(kResult));
    auto err = h.read(json{{"method", "bulk"}, {"operation", op}, {"lines", 3}});
    ASSERT_FALSE(err) << err->message;
    EXPECT_NE(h.query(0).find("bulkOperation(id: $id)"), std::string::npos) << "2026-01+ asks for the operation by id";
    EXPECT_EQ(json::parse(h.script->sent[0].body)["variables"]["id"], op);
    auto recs = h.records();
    ASSERT_EQ(recs.size(), 5u);
    EXPECT_EQ(recs[0].remote_id, "gid://shopify/InventoryItem/2");
}

TEST(ShopifyInventoryRead, FallsBackToPagesWhenTheBulkSlotIsTaken) {
    Harness h("2025-10", json{{"inventory_read", "bulk"}, {"read_page_size", 2}});
    h.reply(data({{"bulkOperationRunQuery", {{"bulkOperation", nullptr},
                  {"userErrors", json::array({{{"code", "OPERATION_IN_PROGRESS"}, {"field", nullptr},
                                               {"message", "A bulk query operation for this app and shop is already in progress"}}})}}}}));
    auto node = [](int n, const std::string& sku) {
        return json{{"id", "gid://shopify/InventoryItem/" + std::to_string(n)}, {"sku", sku}, {"tracked", true},
                    {"inventoryLevels", {{"nodes", json::array({{{"location", {{"id", L1}}},
                                                                  {"quantities", json::array({{{"name", "available"}, {"quantity", n}}})}}})},
                                         {"pageInfo", {{"hasNextPage", false}}}}}};
    };
    h.reply(data({{"inventoryItems", {{"nodes", json::array({node(1, "A"), node(2, "B")})},
                                      {"pageInfo", {{"hasNextPage", true}, {"endCursor", "c2"}}}}}}, 20));
    h.reply([](const http::Request&) {
        json body = {{"errors", json::array({{{"message", "Throttled"}, {"extensions", {{"code", "THROTTLED"}}}}})},
                     {"extensions", {{"cost", {{"requestedQueryCost", 150}, {"actualQueryCost", nullptr},
                                               {"throttleStatus", {{"maximumAvailable", 2000}, {"currentlyAvailable", 50}, {"restoreRate", 100}}}}}}}};
        return resp(200, body.dump());
    });
    h.reply(data({{"inventoryItems", {{"nodes", json::array({node(3, "C")})},
                                      {"pageInfo", {{"hasNextPage", false}, {"endCursor", "c3"}}}}}}, 12));
    auto err = h.read(nullptr, {"1"});
    ASSERT_FALSE(err) << err->message;
    EXPECT_EQ(h.report.method, "paginated");
    EXPECT_EQ(h.report.api_calls, 4);
    EXPECT_EQ(h.report.cost_points, 42) << "a throttled call charges nothing";
    EXPECT_GE(h.report.throttled_for.count(), 1000);
    auto recs = h.records();
    ASSERT_EQ(recs.size(), 3u);
    EXPECT_EQ(recs[2].quantity, 3);
    EXPECT_EQ(recs[0].location_key, "1") << "records carry the caller's location key";
    EXPECT_EQ(h.cursors[0], (json{{"method", "paginated"}, {"after", "c2"}}));
    EXPECT_EQ(json::parse(h.script->sent[3].body)["variables"]["after"], "c2");
}

TEST(ShopifyInventoryRead, AFailedOperationIsReplacedAndAnExpiredUrlResetsTheCursor) {
    Harness h("2025-10", json{{"inventory_read", "bulk"}});
    const std::string old_op = "gid://shopify/BulkOperation/1", op = "gid://shopify/BulkOperation/2";
    json failed = status(old_op, "FAILED");
    failed["currentBulkOperation"]["errorCode"] = "INTERNAL_SERVER_ERROR";
    h.reply(data(failed, 1));
    h.reply(data({{"bulkOperationRunQuery", {{"bulkOperation", {{"id", op}, {"status", "CREATED"}}}, {"userErrors", json::array()}}}}));
    h.reply(data(status(op, "COMPLETED", kUrl), 1));
    h.reply([](const http::Request&) { return resp(403, "<Error><Code>ExpiredToken</Code></Error>"); });
    auto err = h.read(json{{"method", "bulk"}, {"operation", old_op}, {"lines", 0}});
    ASSERT_TRUE(err);
    EXPECT_EQ(err->code, ErrorCode::transient);
    EXPECT_NE(err->message.find("HTTP 403"), std::string::npos);
    EXPECT_EQ(h.cursors.back(), (json{{"method", "bulk"}})) << "the next attempt starts a new operation";
}

TEST(ShopifyInventoryRead, PagesStayUnderTheSingleQueryCostLimit) {
    Harness h("2026-10", json{{"inventory_read", "paginated"}});
    h.reply(data({{"inventoryItems", {{"nodes", json::array()}, {"pageInfo", {{"hasNextPage", false}, {"endCursor", nullptr}}}}}}, 2));
    auto err = h.read();
    ASSERT_FALSE(err) << err->message;
    const json vars = json::parse(h.script->sent[0].body)["variables"];
    const auto first = vars["first"].get<int>(), levels = vars["levels"].get<int>();
    EXPECT_LE(2 + first * (3 + 3 * levels), 1000) << "Shopify refuses a query over 1,000 points (MAX_COST_EXCEEDED)";
    EXPECT_GE(first, 25);
    EXPECT_TRUE(h.records().empty());
}
