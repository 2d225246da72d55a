// The Shopify channel end to end against a scripted fake http::Client:
// config checks, the buttons, and the whole push flow (resolve -> set ->
// userError retry -> activate -> throttled then ok).
#include <gtest/gtest.h>

#include <deque>
#include <functional>
#include <set>

#include "stockrelay/channels/channel.hpp"
#include "stockrelay/channels/shopify.hpp"

using namespace stockrelay;
using namespace stockrelay::channels;
using nlohmann::json;
using std::chrono::milliseconds;

namespace {

constexpr const char* kToken = "shpat_test_secret_0123456789";

struct Sent {
    http::Request request;
    std::string query;
    json variables;
    std::string op() const {  // "mutation SetQty(..." -> "SetQty"
        auto sp = query.find(' ');
        auto end = query.find_first_of("( {", sp + 1);
        return query.substr(sp + 1, end - sp - 1);
    }
};

using Reply = std::function<Result<http::Response>(const Sent&)>;

struct Script {
    std::deque<Reply> replies;
    std::vector<Sent> sent;
};

class FakeClient final : public http::Client {
public:
    explicit FakeClient(std::shared_ptr<Script> s) : s_(std::move(s)) {}
    Result<http::Response> send(const http::Request& request) override {
        Sent sent{request, "", json()};
        auto body = json::parse(request.body);
        sent.query = body.at("query").get<std::string>();
        sent.variables = body.at("variables");
        s_->sent.push_back(sent);
        if (s_->replies.empty()) return make_error(ErrorCode::transient, "fake: no scripted reply left");
        auto r = std::move(s_->replies.front());
        s_->replies.pop_front();
        return r(sent);
    }

private:
    std::shared_ptr<Script> s_;
};

json cost(double requested = 10, double available = 1990, double max = 2000, double rate = 100) {
    return {{"cost",
             {{"requestedQueryCost", requested},
              {"actualQueryCost", requested},
              {"throttleStatus", {{"maximumAvailable", max}, {"currentlyAvailable", available}, {"restoreRate", rate}}}}}};
}

http::Response resp(int status, std::string body) {
    http::Response r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

Reply data(json d, json ext = cost()) {
    return [d = std::move(d), ext = std::move(ext)](const Sent&) -> Result<http::Response> {
        return resp(200, json{{"data", d}, {"extensions", ext}}.dump());
    };
}

Reply raw(int status, std::string body) {
    return [status, body = std::move(body)](const Sent&) -> Result<http::Response> { return resp(status, body); };
}

Reply throttled(double requested, double available, double rate, double max = 1000) {
    json body = {{"errors", json::array({{{"message", "Throttled"}, {"extensions", {{"code", "THROTTLED"}}}}})},
                 {"extensions", cost(requested, available, max, rate)}};
    body["extensions"]["cost"]["actualQueryCost"] = nullptr;
    return raw(200, body.dump());
}

json variant(const std::string& sku, int n, bool tracked = true) {
    return {{"id", "gid://shopify/ProductVariant/" + std::to_string(n)},
            {"sku", sku},
            {"product", {{"id", "gid://shopify/Product/" + std::to_string(n)}}},
            {"inventoryItem", {{"id", "gid://shopify/InventoryItem/" + std::to_string(n)}, {"tracked", tracked}, {"sku", sku}}}};
}

json variants_page(json nodes, bool more = false, const std::string& cursor = "") {
    return {{"productVariants",
             {{"nodes", std::move(nodes)},
              {"pageInfo", {{"hasNextPage", more}, {"endCursor", cursor.empty() ? json(nullptr) : json(cursor)}}}}}};
}

json set_ok() {
    return {{"inventorySetQuantities",
             {{"inventoryAdjustmentGroup", {{"id", "gid://shopify/InventoryAdjustmentGroup/1"}}}, {"userErrors", json::array()}}}};
}

json set_errors(json errors) {
    return {{"inventorySetQuantities", {{"inventoryAdjustmentGroup", nullptr}, {"userErrors", std::move(errors)}}}};
}

json user_error(const std::string& code, int index, const std::string& leaf, const std::string& message) {
    return {{"code", code}, {"field", {"input", "quantities", std::to_string(index), leaf}}, {"message", message}};
}

struct Harness {
    std::shared_ptr<Script> script = std::make_shared<Script>();
    std::unique_ptr<Channel> channel;
    std::vector<milliseconds> sleeps;
    bool allow_sleep = true;

    explicit Harness(const std::string& version = "2025-10", json settings = json::object(), int batch_size = 0) {
        auto cfg = Config::from_json(json{{"channel_type", "shopify"},
                                          {"base_url", "https://test-shop.myshopify.com"},
                                          {"api_version", version},
                                          {"credentials", {{"access_token", kToken}}},
                                          {"settings", settings},
                                          {"batch_size", batch_size}});
        EXPECT_TRUE(cfg) << cfg.error().message;
        auto ch = make_channel(cfg.value(), std::make_unique<FakeClient>(script));
        EXPECT_TRUE(ch) << ch.error().message;
        channel = std::move(ch.value());
        channel->set_sleeper([this](milliseconds d) {
            sleeps.push_back(d);
            return allow_sleep;
        });
    }
    void reply(Reply r) { script->replies.push_back(std::move(r)); }
    const std::vector<Sent>& sent() const { return script->sent; }
};

PushItem item(std::int64_t row, const std::string& sku, const std::string& loc, std::int64_t qty,
              std::optional<std::string> cached = std::nullopt) {
    PushItem p;
    p.row_id = row;
    p.sku = sku;
    p.location_key = loc;
    p.quantity = qty;
    p.version = row * 10;
    if (cached) p.cached = Resolution{*cached, "", json::object()};
    return p;
}

const std::string L1 = "gid://shopify/Location/1";
const std::string L2 = "gid://shopify/Location/2";

std::string code_of(const ItemOutcome& o) { return o.error ? std::string(to_string(o.error->code)) : "ok"; }

}  // namespace

TEST(ShopifyChannelConfig, RefusesBadSettingsClearly) {
    auto base = json{{"channel_type", "shopify"}, {"base_url", "https://s.myshopify.com"},
                     {"credentials", {{"access_token", kToken}}}};
    auto make = [](json row) { return make_channel(Config::from_json(row).value(), std::make_unique<FakeClient>(std::make_shared<Script>())); };

    auto no_token = base;
    no_token["credentials"] = json::object();
    auto r = make(no_token);
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::config);
    EXPECT_NE(r.error().message.find("access_token"), std::string::npos);

    auto bad_version = base;
    bad_version["api_version"] = "2024-04";
    auto v = make(bad_version);
    ASSERT_FALSE(v);
    EXPECT_EQ(v.error().code, ErrorCode::config);
    EXPECT_NE(v.error().message.find("2026-10"), std::string::npos);

    auto ok = make(base);
    ASSERT_TRUE(ok);
    EXPECT_EQ((*ok)->type(), "shopify");
    EXPECT_EQ((*ok)->max_batch(), 250u);
    EXPECT_EQ((*ok)->batch_size(), 250u);
    auto small = base;
    small["batch_size"] = 40;
    EXPECT_EQ(make(small).value()->batch_size(), 40u);
    small["batch_size"] = 1000;
    EXPECT_EQ(make(small).value()->batch_size(), 250u);
}

TEST(ShopifyChannel, TestConnectionSendsTheTokenToTheVersionedEndpoint) {
    Harness h("2026-01");
    h.reply(data({{"shop", {{"name", "Demo Shop"}}}}));
    auto r = h.channel->test_connection();
    ASSERT_TRUE(r) << r.error().message;
    EXPECT_EQ(*r, "Connected to Shopify shop 'Demo Shop' (API 2026-01)");
    ASSERT_EQ(h.sent().size(), 1u);
    const auto& req = h.sent()[0].request;
    EXPECT_EQ(req.method, "POST");
    EXPECT_EQ(req.url, "https://test-shop.myshopify.com/admin/api/2026-01/graphql.json");
    bool token = false;
    for (const auto& hd : req.headers)
        if (hd.name == "X-Shopify-Access-Token") token = hd.value == kToken && hd.secret;
    EXPECT_TRUE(token);
    EXPECT_EQ(req.body.find(kToken), std::string::npos);
}

TEST(ShopifyChannel, TestConnectionAuthFailures) {
    Harness h;
    h.reply(raw(401, R"J({"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"})J"));
    auto r = h.channel->test_connection();
    ASSERT_FALSE(r);
    EXPECT_EQ(r.error().code, ErrorCode::auth);
    EXPECT_NE(r.error().message.find("Invalid API key or access token"), std::string::npos);

    Harness s;
    s.reply(raw(403, R"({"errors":[{"message":"Access denied for shop field. Required access: `read_shop` access scope.","extensions":{"code":"ACCESS_DENIED"}}]})"));
    auto e = s.channel->test_connection();
    ASSERT_FALSE(e);
    EXPECT_EQ(e.error().code, ErrorCode::auth);
    EXPECT_NE(e.error().message.find("'read_shop'"), std::string::npos) << e.error().message;
}

TEST(ShopifyChannel, ListLocationsFollowsPages) {
    Harness h;
    h.reply(data({{"locations",
                   {{"nodes", {{{"id", L1}, {"name", "Main"}, {"isActive", true}}}},
                    {"pageInfo", {{"hasNextPage", true}, {"endCursor", "c1"}}}}}},
                 cost(252)));
    h.reply(data({{"locations",
                   {{"nodes", {{{"id", L2}, {"name", "Back"}, {"isActive", true}}}},
                    {"pageInfo", {{"hasNextPage", false}, {"endCursor", "c2"}}}}}},
                 cost(252)));
    auto r = h.channel->list_locations();
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->size(), 2u);
    EXPECT_EQ((*r)[0].id, L1);
    EXPECT_EQ((*r)[1].name, "Back");
    EXPECT_TRUE(h.sent()[0].variables["after"].is_null());
    EXPECT_EQ(h.sent()[1].variables["after"], "c1");
    EXPECT_EQ(h.sent()[0].op(), "Locations");
}

TEST(ShopifyChannel, LookupSkuKeepsExactMatchesWithLevels) {
    Harness h;
    json v = variant("A 'B'", 5);
    v["displayName"] = "Shirt - Red";
    v["inventoryItem"]["inventoryLevels"] = {
        {"nodes", {{{"location", {{"id", L1}}}, {"quantities", {{{"name", "available"}, {"quantity", 7}}}}}}}};
    json fuzzy = variant("A 'B'-XL", 6);
    h.reply(data({{"productVariants", {{"nodes", {v, fuzzy}}}}}));
    auto r = h.channel->lookup_sku("A 'B'");
    ASSERT_TRUE(r) << r.error().message;
    ASSERT_EQ(r->size(), 1u);
    EXPECT_EQ((*r)[0].title, "Shirt - Red");
    EXPECT_EQ((*r)[0].resolution.remote_id, "gid://shopify/InventoryItem/5");
    EXPECT_EQ((*r)[0].levels.at(L1), 7);
    EXPECT_EQ(h.sent()[0].variables["q"], R"(sku:'A \'B\'')");
}

// The whole flow: resolve -> set -> userErrors (not stocked, stale cache,
// bad quantity) -> activate -> set again, throttled -> wait -> ok.
TEST(ShopifyPush, WholeFlow) {
    Harness h("2025-10");
    std::vector<PushItem> items = {
        item(1, "A", L1, 5),
        item(2, "B", L1, 7),
        item(3, "C", L2, 3),
        item(4, "D", L1, 9, "gid://shopify/InventoryItem/404"),  // stale cache
        item(5, "E", L1, 1),                                      // not in the shop
        item(6, "F", L1, 1),                                      // duplicate SKU
        item(7, "G", L1, 1),                                      // untracked
        item(8, "A", L2, 6),                                      // same SKU, other location
    };
    // 1. resolve: one query for the six SKUs; a fuzzy "A-EXTRA" hit must not count.
    h.reply(data(variants_page({variant("A", 1), variant("A-EXTRA", 90), variant("B", 2), variant("C", 3),
                                variant("F", 61), variant("F", 62), variant("G", 7, false)})));
    // 2. set A@1, B, C, D, A@2 -> userErrors for B, C, D (nothing applied)
    h.reply(data(set_errors({user_error("INVALID_QUANTITY_TOO_HIGH", 1, "quantity", "too high"),
                             user_error("ITEM_NOT_STOCKED_AT_LOCATION", 2, "locationId", "not stocked"),
                             user_error("INVALID_INVENTORY_ITEM", 3, "inventoryItemId", "not found")})));
    // 3. activate C at L2 with its quantity
    h.reply(data({{"inventoryActivate", {{"inventoryLevel", {{"id", "gid://shopify/InventoryLevel/1"}}}, {"userErrors", json::array()}}}}));
    // 4. set A@1, C, A@2 -> throttled: (10 - 5) / 2 = 2.5 s
    h.reply(throttled(10, 5, 2));
    // 5. same call again -> ok
    h.reply(data(set_ok()));

    auto rep = h.channel->push(items);
    ASSERT_EQ(rep.items.size(), items.size());
    for (std::size_t i = 0; i < items.size(); ++i) EXPECT_EQ(rep.items[i].row_id, items[i].row_id);
    EXPECT_EQ(code_of(rep.items[0]), "ok");
    EXPECT_EQ(code_of(rep.items[1]), "invalid_quantity");
    EXPECT_EQ(code_of(rep.items[2]), "ok");
    EXPECT_EQ(code_of(rep.items[3]), "not_found");
    EXPECT_TRUE(rep.items[3].drop_cache);
    EXPECT_EQ(code_of(rep.items[4]), "sku_not_found");
    EXPECT_EQ(code_of(rep.items[5]), "duplicate_sku");
    EXPECT_NE(rep.items[5].error->message.find("gid://shopify/ProductVariant/61"), std::string::npos);
    EXPECT_NE(rep.items[5].error->message.find("gid://shopify/ProductVariant/62"), std::string::npos);
    EXPECT_EQ(code_of(rep.items[6]), "rejected");
    EXPECT_NE(rep.items[6].error->message.find("Track quantity"), std::string::npos);
    EXPECT_EQ(code_of(rep.items[7]), "ok");
    // Fresh resolutions come back for caching; cached and failed rows do not.
    ASSERT_TRUE(rep.items[0].resolved);
    EXPECT_EQ(rep.items[0].resolved->remote_id, "gid://shopify/InventoryItem/1");
    EXPECT_EQ(rep.items[0].resolved->extra["variant_id"], "gid://shopify/ProductVariant/1");
    EXPECT_TRUE(rep.items[2].resolved);
    EXPECT_FALSE(rep.items[3].resolved);
    EXPECT_FALSE(rep.items[4].resolved);
    EXPECT_FALSE(rep.items[5].resolved);

    EXPECT_EQ(rep.http_calls, 5);
    EXPECT_EQ(rep.throttled_for, milliseconds{2500});
    EXPECT_EQ(h.sleeps, std::vector<milliseconds>{milliseconds{2500}});

    const auto& sent = h.sent();
    ASSERT_EQ(sent.size(), 5u);
    EXPECT_EQ(sent[0].op(), "ResolveSkus");
    EXPECT_EQ(sent[0].variables["q"], "sku:'A' OR sku:'B' OR sku:'C' OR sku:'E' OR sku:'F' OR sku:'G'");
    EXPECT_EQ(sent[0].variables["first"].get<int>(), 6);  // page size = the SKUs asked (was 2x)
    // Only the fields resolution uses: no product, no inventory item SKU.
    EXPECT_EQ(sent[0].query.find("product {"), std::string::npos);
    EXPECT_NE(sent[0].query.find("inventoryItem { id tracked }"), std::string::npos);

    EXPECT_EQ(sent[1].op(), "SetQty");
    const json& in1 = sent[1].variables["input"];
    EXPECT_EQ(in1["ignoreCompareQuantity"], true);
    EXPECT_EQ(in1["name"], "available");
    EXPECT_EQ(in1["reason"], "correction");
    EXPECT_EQ(in1["referenceDocumentUri"], "gid://stockrelay/OutboxRow/1");
    ASSERT_EQ(in1["quantities"].size(), 5u);
    EXPECT_EQ(in1["quantities"][3]["inventoryItemId"], "gid://shopify/InventoryItem/404");
    EXPECT_FALSE(sent[1].variables.contains("key"));

    EXPECT_EQ(sent[2].op(), "Activate");
    EXPECT_EQ(sent[2].variables, json({{"itemId", "gid://shopify/InventoryItem/3"}, {"locationId", L2}, {"available", 3}}));

    // The retry carries exactly the good rows (and the activated one), in order.
    for (int k : {3, 4}) {
        EXPECT_EQ(sent[k].op(), "SetQty");
        const json& q = sent[k].variables["input"]["quantities"];
        ASSERT_EQ(q.size(), 3u);
        EXPECT_EQ(q[0], json({{"inventoryItemId", "gid://shopify/InventoryItem/1"}, {"locationId", L1}, {"quantity", 5}}));
        EXPECT_EQ(q[1]["inventoryItemId"], "gid://shopify/InventoryItem/3");
        EXPECT_EQ(q[2], json({{"inventoryItemId", "gid://shopify/InventoryItem/1"}, {"locationId", L2}, {"quantity", 6}}));
    }
    EXPECT_EQ(sent[3].request.body, sent[4].request.body);  // the throttled call is retried as is

    // Every outcome says what went out and what came back.
    for (const auto& o : rep.items) {
        EXPECT_EQ(o.http_status, 200) << o.row_id;
        EXPECT_FALSE(o.request_excerpt.empty()) << o.row_id;
        EXPECT_FALSE(o.response_excerpt.empty()) << o.row_id;
    }
    EXPECT_NE(rep.items[0].request_excerpt.find("\"quantity\":5"), std::string::npos) << rep.items[0].request_excerpt;
    EXPECT_NE(rep.items[1].response_excerpt.find("INVALID_QUANTITY_TOO_HIGH"), std::string::npos);
}

TEST(ShopifyPush, IdempotencyKeysOn2026_04) {
    auto run = [](std::vector<std::string>& keys) {
        Harness h("2026-04");
        h.reply(data(set_errors({user_error("INVALID_LOCATION", 0, "locationId", "bad location")})));
        h.reply(data(set_ok()));
        auto rep = h.channel->push({item(1, "A", "gid://shopify/Location/999", 5, "gid://shopify/InventoryItem/1"),
                                    item(2, "B", L1, 6, "gid://shopify/InventoryItem/2")});
        EXPECT_EQ(code_of(rep.items[0]), "rejected");
        EXPECT_NE(rep.items[0].error->message.find("gid://shopify/Location/999"), std::string::npos);
        EXPECT_EQ(code_of(rep.items[1]), "ok");
        for (const auto& s : h.sent()) {
            EXPECT_EQ(s.op(), "SetQtyIdem");
            EXPECT_NE(s.query.find("@idempotent(key: $key)"), std::string::npos);
            for (const auto& q : s.variables["input"]["quantities"]) {
                EXPECT_TRUE(q.contains("changeFromQuantity") && q["changeFromQuantity"].is_null());
            }
            keys.push_back(s.variables["key"].get<std::string>());
        }
    };
    std::vector<std::string> first, second;
    run(first);
    run(second);
    ASSERT_EQ(first.size(), 2u);
    EXPECT_NE(first[0], first[1]);  // the retry without the bad row is another payload
    EXPECT_EQ(first, second);       // the same rows again: the same keys
}

TEST(ShopifyPush, ActivateCarriesIdempotencyOn2026_04AndIsSkippedOn2026_10) {
    {
        Harness h("2026-07");
        h.reply(data(set_errors({user_error("ITEM_NOT_STOCKED_AT_LOCATION", 0, "locationId", "not stocked")})));
        h.reply(data({{"inventoryActivate", {{"inventoryLevel", {{"id", "x"}}}, {"userErrors", json::array()}}}}));
        h.reply(data(set_ok()));
        auto rep = h.channel->push({item(1, "A", L1, 5, "gid://shopify/InventoryItem/1")});
        EXPECT_EQ(code_of(rep.items[0]), "ok");
        ASSERT_EQ(h.sent().size(), 3u);
        EXPECT_EQ(h.sent()[1].op(), "ActivateIdem");
        EXPECT_TRUE(h.sent()[1].variables["key"].is_string());
        // Same rows again, but the first key drew userErrors that Shopify would replay: a new key.
        EXPECT_EQ(h.sent()[2].variables["input"], h.sent()[0].variables["input"]);
        EXPECT_NE(h.sent()[2].variables["key"], h.sent()[0].variables["key"]);
    }
    {
        Harness h("2026-10");
        h.reply(data(set_errors({user_error("ITEM_NOT_STOCKED_AT_LOCATION", 0, "locationId", "not stocked")})));
        auto rep = h.channel->push({item(1, "A", L1, 5, "gid://shopify/InventoryItem/1")});
        EXPECT_EQ(code_of(rep.items[0]), "rejected");
        EXPECT_EQ(h.sent().size(), 1u);
    }
    {
        Harness h("2025-01");  // activation refused: the row fails, nothing loops
        h.reply(data(set_errors({user_error("ITEM_NOT_STOCKED_AT_LOCATION", 0, "locationId", "not stocked")})));
        h.reply(data({{"inventoryActivate", {{"inventoryLevel", nullptr},
                                             {"userErrors", {{{"field", {"locationId"}}, {"message", "Location does not exist"}}}}}}}));
        auto rep = h.channel->push({item(1, "A", L1, 5, "gid://shopify/InventoryItem/1")});
        EXPECT_EQ(code_of(rep.items[0]), "rejected");
        EXPECT_NE(rep.items[0].error->message.find("Location does not exist"), std::string::npos);
        EXPECT_EQ(h.sent().size(), 2u);
    }
}

TEST(ShopifyPush, GarbageTruncatedAndDatalessAnswersAreTransientForEveryRow) {
    std::string full = set_ok().dump();
    for (const std::string& body : {std::string("<html><body>502 Bad Gateway</body></html>"), full.substr(0, full.size() / 2),
                                    std::string(R"({"extensions":{}})")}) {
        Harness h;
        h.reply(raw(200, body));
        auto rep = h.channel->push({item(1, "A", L1, 5, "gid://shopify/InventoryItem/1"),
                                    item(2, "B", L1, 5, "gid://shopify/InventoryItem/2")});
        for (const auto& o : rep.items) {
            EXPECT_EQ(code_of(o), "transient") << body;
            EXPECT_EQ(o.http_status, 200);
            EXPECT_EQ(o.response_excerpt, body);
            EXPECT_NE(o.error->message.find(body.substr(0, 8)), std::string::npos) << o.error->message;
        }
    }
    Harness t;
    t.reply([](const Sent&) -> Result<http::Response> { return make_error(ErrorCode::transient, "connection reset"); });
    auto rep = t.channel->push({item(1, "A", L1, 5, "gid://shopify/InventoryItem/1")});
    EXPECT_EQ(code_of(rep.items[0]), "transient");
    EXPECT_NE(rep.items[0].error->message.find("connection reset"), std::string::npos);
    EXPECT_EQ(rep.items[0].http_status, 0);
}

TEST(ShopifyPush, AuthFailureFailsAllRowsWithOneCall) {
    Harness h;
    h.reply(raw(401, R"J({"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"})J"));
    std::vector<PushItem> items;
    for (int i = 0; i < 120; ++i) items.push_back(item(i + 1, "S" + std::to_string(i), L1, 1));
    auto rep = h.channel->push(items);
    EXPECT_EQ(rep.http_calls, 1);
    for (const auto& o : rep.items) EXPECT_EQ(code_of(o), "auth");
}

TEST(ShopifyPush, ValidationErrorIsPermanentWithTheServersMessage) {
    Harness h("2026-04");
    h.reply(raw(200, R"({"errors":[{"message":"InventoryQuantityInput must include the following argument: changeFromQuantity.","extensions":{"code":"INVALID_FIELD_ARGUMENTS"}}],"data":{"inventorySetQuantities":null}})"));
    auto rep = h.channel->push({item(1, "A", L1, 5, "gid://shopify/InventoryItem/1")});
    EXPECT_EQ(code_of(rep.items[0]), "permanent");
    EXPECT_NE(rep.items[0].error->message.find("must include the following argument"), std::string::npos);
}

TEST(ShopifyPush, ThrottleBudgetRunsOutIntoThrottledRows) {
    Harness h("2025-10", json{{"max_throttle_wait_ms", 5000}});
    h.reply(throttled(100, 0, 50));  // 2 s
    h.reply(throttled(100, 0, 50));  // 2 s
    h.reply(throttled(100, 0, 50));  // would exceed 5 s
    auto rep = h.channel->push({item(1, "A", L1, 5, "gid://shopify/InventoryItem/1"),
                                item(2, "B", L1, 5, "gid://shopify/InventoryItem/2")});
    EXPECT_EQ(rep.http_calls, 3);
    EXPECT_EQ(rep.throttled_for, milliseconds{4000});
    for (const auto& o : rep.items) {
        EXPECT_EQ(code_of(o), "throttled");
        EXPECT_EQ(o.error->retry_after, milliseconds{2000});
    }
}

TEST(ShopifyPush, ShutdownInterruptsTheWait) {
    Harness h;
    h.allow_sleep = false;
    h.reply(throttled(100, 0, 50));
    auto rep = h.channel->push({item(1, "A", L1, 5, "gid://shopify/InventoryItem/1")});
    EXPECT_EQ(rep.http_calls, 1);
    EXPECT_EQ(code_of(rep.items[0]), "throttled");
    EXPECT_EQ(rep.throttled_for, milliseconds{0});
}

TEST(ShopifyPush, WaitsForTheBucketBeforeACallThatWouldBeThrottled) {
    Harness h;
    // The resolve leaves the bucket empty (restore 1000 points/s); the set
    // (estimated 10 points until Shopify reports otherwise) must wait ~10 ms first.
    h.reply(data(variants_page({variant("A", 1)}), cost(10, 0, 1000, 1000)));
    h.reply(data(set_ok()));
    auto rep = h.channel->push({item(1, "A", L1, 5)});
    EXPECT_EQ(code_of(rep.items[0]), "ok");
    ASSERT_EQ(h.sleeps.size(), 1u);
    EXPECT_GT(h.sleeps[0], milliseconds{0});
    EXPECT_LE(h.sleeps[0], milliseconds{10});
    EXPECT_EQ(rep.throttled_for, h.sleeps[0]);
}

TEST(ShopifyPush, HugeQueryCostIsPermanentNotAnEndlessWait) {
    Harness h;
    h.reply(throttled(1500, 1000, 50, 1000));
    auto rep = h.channel->push({item(1, "A", L1, 5)});
    EXPECT_EQ(code_of(rep.items[0]), "permanent");
    EXPECT_TRUE(h.sleeps.empty());
}

TEST(ShopifyPush, BatchesRespectBatchSizeAndTheInputLimit) {
    Harness h("2025-10", json::object(), 100);
    std::vector<PushItem> items;
    for (int i = 0; i < 230; ++i) items.push_back(item(i + 1, "S" + std::to_string(i), L1, i, "gid://shopify/InventoryItem/" + std::to_string(i)));
    for (int k = 0; k < 3; ++k) h.reply(data(set_ok()));
    auto rep = h.channel->push(items);
    ASSERT_EQ(h.sent().size(), 3u);
    EXPECT_EQ(h.sent()[0].variables["input"]["quantities"].size(), 100u);
    EXPECT_EQ(h.sent()[2].variables["input"]["quantities"].size(), 30u);
    EXPECT_EQ(h.sent()[1].variables["input"]["referenceDocumentUri"], "gid://stockrelay/OutboxRow/101");
    for (const auto& o : rep.items) EXPECT_EQ(code_of(o), "ok");

    Harness big;
    items.clear();
    for (int i = 0; i < 260; ++i) items.push_back(item(i + 1, "S" + std::to_string(i), L1, 1, "gid://shopify/InventoryItem/" + std::to_string(i)));
    big.reply(data(set_ok()));
    big.reply(data(set_ok()));
    big.channel->push(items);
    ASSERT_EQ(big.sent().size(), 2u);
    EXPECT_EQ(big.sent()[0].variables["input"]["quantities"].size(), 250u);
}

TEST(ShopifyPush, ResolutionIsChunkedPaginatedAndExact) {
    Harness h;
    std::vector<PushItem> items;
    for (int i = 0; i < 60; ++i) items.push_back(item(i + 1, "K" + std::to_string(i), L1, 1));
    json page1 = json::array(), page2 = json::array();
    for (int i = 0; i < 50; ++i) (i < 30 ? page1 : page2).push_back(variant("K" + std::to_string(i), 100 + i));
    h.reply(data(variants_page(page1, true, "cur1")));
    h.reply(data(variants_page(page2)));
    json rest = json::array();
    for (int i = 50; i < 60; ++i) rest.push_back(variant("K" + std::to_string(i), 100 + i));
    h.reply(data(variants_page(rest)));
    h.reply(data(set_ok()));
    auto rep = h.channel->push(items);
    ASSERT_EQ(h.sent().size(), 4u);
    EXPECT_EQ(h.sent()[1].variables["after"], "cur1");
    EXPECT_EQ(h.sent()[1].variables["q"], h.sent()[0].variables["q"]);
    EXPECT_LE(h.sent()[0].variables["first"].get<int>(), 250);
    EXPECT_EQ(h.sent()[3].variables["input"]["quantities"].size(), 60u);
    for (const auto& o : rep.items) EXPECT_EQ(code_of(o), "ok");
}

TEST(ShopifyPush, NastySkusRoundTrip) {
    Harness h;
    const std::vector<std::string> skus = {"A B", "it's", R"(back\slash)", "Grüße-鞋", "X' OR sku:'Y"};
    std::vector<PushItem> items;
    json nodes = json::array();
    for (std::size_t i = 0; i < skus.size(); ++i) {
        items.push_back(item(static_cast<std::int64_t>(i + 1), skus[i], L1, 1));
        nodes.push_back(variant(skus[i], static_cast<int>(i + 1)));
    }
    nodes.push_back(variant("Y", 99));  // what an unescaped injection would have found
    h.reply(data(variants_page(nodes)));
    h.reply(data(set_ok()));
    auto rep = h.channel->push(items);
    for (const auto& o : rep.items) EXPECT_EQ(code_of(o), "ok") << (o.error ? o.error->message : "");
    EXPECT_EQ(h.sent()[0].variables["q"],
              R"(sku:'A B' OR sku:'it\'s' OR sku:'back\\slash' OR sku:'Grüße-鞋' OR sku:'X\' OR sku:\'Y')");
    EXPECT_EQ(h.sent()[1].variables["input"]["quantities"].size(), skus.size());
}

TEST(ShopifyPush, SecretsNeverReachExcerptsOrMessages) {
    Harness h;
    h.reply(raw(500, std::string("upstream echoed token ") + kToken));
    auto rep = h.channel->push({item(1, "A", L1, 5, "gid://shopify/InventoryItem/1")});
    EXPECT_EQ(code_of(rep.items[0]), "transient");
    EXPECT_EQ(rep.items[0].response_excerpt.find(kToken), std::string::npos);
    EXPECT_NE(rep.items[0].response_excerpt.find("[redacted]"), std::string::npos);
    EXPECT_EQ(rep.items[0].error->message.find(kToken), std::string::npos);
}

TEST(ShopifyPush, BadRowsFailWithoutCalls) {
    Harness h;
    auto rep = h.channel->push({item(1, "", L1, 5), item(2, "A", "", 5), item(3, "A", L1, -1)});
    EXPECT_EQ(code_of(rep.items[0]), "sku_not_found");
    EXPECT_EQ(code_of(rep.items[1]), "rejected");
    EXPECT_EQ(code_of(rep.items[2]), "invalid_quantity");
    EXPECT_EQ(rep.http_calls, 0);
    EXPECT_TRUE(h.channel->push({}).items.empty());
}

TEST(ShopifyPush, PreviousAttemptFailedGetsAFreshKeyForTheSamePayload) {
    Harness h("2026-10");
    h.reply(data(set_errors({{{"code", "IDEMPOTENCY_PREVIOUS_ATTEMPT_FAILED"}, {"field", {"idempotent", "key"}},
                              {"message", "A previous attempt with this key failed."}}})));
    h.reply(data(set_ok()));
    auto rep = h.channel->push({item(1, "A", L1, 5, "gid://shopify/InventoryItem/1")});
    EXPECT_EQ(code_of(rep.items[0]), "ok");
    ASSERT_EQ(h.sent().size(), 2u);
    EXPECT_EQ(h.sent()[1].variables["input"], h.sent()[0].variables["input"]);
    EXPECT_NE(h.sent()[1].variables["key"], h.sent()[0].variables["key"]);

    Harness m("2026-10");  // a mismatch cannot be fixed by retrying: permanent, with Shopify's words
    m.reply(data(set_errors({{{"code", "IDEMPOTENCY_KEY_PARAMETER_MISMATCH"}, {"field", {"idempotent", "key"}},
                              {"message", "The idempotency key was already used with different parameters."}}})));
    auto r = m.channel->push({item(1, "A", L1, 5, "gid://shopify/InventoryItem/1")});
    EXPECT_EQ(code_of(r.items[0]), "permanent");
    EXPECT_NE(r.items[0].error->message.find("already used with different parameters"), std::string::npos);
}

TEST(ShopifyPush, SmallBucketsGetSmallerSkuSearches) {
    Harness h;
    h.reply(data({{"shop", {{"name", "Tiny"}}}}, cost(1, 60, 60, 1000)));
    ASSERT_TRUE(h.channel->test_connection());
    std::vector<PushItem> items;
    for (int i = 0; i < 40; ++i) items.push_back(item(i + 1, "T" + std::to_string(i), L1, 1));
    for (int k = 0; k < 4; ++k) h.reply(data(variants_page(json::array()), cost(10, 60, 60, 1000)));
    auto rep = h.channel->push(items);
    ASSERT_EQ(h.sent().size(), 5u);  // (60/2 - 3) / 2 = 13 SKUs per search: 13 + 13 + 13 + 1
    EXPECT_EQ(h.sent()[1].variables["first"], 13);
    EXPECT_EQ(h.sent()[4].variables["first"], 1);
    for (const auto& o : rep.items) EXPECT_EQ(code_of(o), "sku_not_found");
}

namespace {
// Answers every SetQty with a userError naming no input element when the
// call includes `poison`, else applies it (as Shopify would: all or nothing).
Reply refuse_calls_with(const std::string& poison, json field = nullptr) {
    return [poison, field](const Sent& s) -> Result<http::Response> {
        for (const auto& q : s.variables["input"]["quantities"])
            if (q["inventoryItemId"] == poison)
                return resp(200, json{{"data", set_errors(json::array({{{"code", "SOMETHING_NEW"},
                                                                        {"field", field},
                                                                        {"message", "The shop cannot say which item"}}}))},
                                      {"extensions", cost()}}
                                     .dump());
        return resp(200, json{{"data", set_ok()}, {"extensions", cost()}}.dump());
    };
}
}  // namespace

TEST(ShopifyPush, AUserErrorNamingNoRowIsIsolatedAndOnlyItsRowFails) {
    Harness h;
    for (int k = 0; k < 40; ++k) h.reply(refuse_calls_with("gid://shopify/InventoryItem/5"));
    std::vector<PushItem> items;
    for (int i = 1; i <= 8; ++i)
        items.push_back(item(i, "S" + std::to_string(i), L1, i, "gid://shopify/InventoryItem/" + std::to_string(i)));
    auto rep = h.channel->push(items);
    for (int i = 1; i <= 8; ++i) {
        const auto& o = rep.items[static_cast<std::size_t>(i - 1)];
        if (i != 5) {
            EXPECT_EQ(code_of(o), "ok") << i << ": " << o.error->message;
            continue;
        }
        // An unknown code: transient until proven otherwise, with the shop's words.
        EXPECT_EQ(code_of(o), "transient");
        EXPECT_NE(o.error->message.find("SOMETHING_NEW"), std::string::npos) << o.error->message;
        EXPECT_NE(o.error->message.find("The shop cannot say which item"), std::string::npos);
        // The excerpts show the call it was alone in and Shopify's answer to it.
        EXPECT_NE(o.request_excerpt.find("InventoryItem/5"), std::string::npos);
        EXPECT_EQ(o.request_excerpt.find("element"), std::string::npos) << o.request_excerpt;
        EXPECT_NE(o.response_excerpt.find("SOMETHING_NEW"), std::string::npos);
    }
    // Halving: 1 + 2 + 2 + 2 calls, not one per row.
    EXPECT_EQ(h.sent().size(), 7u);
}

TEST(ShopifyPush, AnUnknownPerRowCodeIsTransientWithTheShopsText) {
    Harness h;
    h.reply(data(set_errors(json::array({user_error("BRAND_NEW_RULE", 1, "quantity", "Not today")}))));
    h.reply(data(set_ok()));
    auto rep = h.channel->push({item(1, "A", L1, 5, "gid://shopify/InventoryItem/1"),
                                item(2, "B", L1, 6, "gid://shopify/InventoryItem/2")});
    EXPECT_EQ(code_of(rep.items[0]), "ok");
    ASSERT_EQ(code_of(rep.items[1]), "transient");
    EXPECT_NE(rep.items[1].error->message.find("BRAND_NEW_RULE: Not today"), std::string::npos)
        << rep.items[1].error->message;
    EXPECT_NE(rep.items[1].response_excerpt.find("BRAND_NEW_RULE"), std::string::npos);
}

TEST(ShopifyPush, AnErrorOnTheCallsOwnFieldsFailsEveryRowWithoutHalving) {
    Harness h;
    for (int k = 0; k < 10; ++k)
        h.reply(refuse_calls_with("gid://shopify/InventoryItem/1", json::array({"input", "reason"})));
    auto rep = h.channel->push({item(1, "A", L1, 5, "gid://shopify/InventoryItem/1"),
                                item(2, "B", L1, 6, "gid://shopify/InventoryItem/2")});
    for (const auto& o : rep.items) {
        EXPECT_EQ(code_of(o), "permanent");
        EXPECT_NE(o.error->message.find("SOMETHING_NEW"), std::string::npos);
    }
    EXPECT_EQ(h.sent().size(), 1u);
}

// ---- Sales-aware pushes: compare conflicts (issue 13)

namespace {

json level_answer(std::int64_t available) {
    return {{"inventoryItem",
             {{"id", "gid://shopify/InventoryItem/1"},
              {"inventoryLevel", {{"quantities", json::array({{{"name", "available"}, {"quantity", available}}})}}}}}};
}

PushItem sales_aware_item(std::int64_t last_set, std::vector<std::int64_t>& levels_seen) {
    PushItem p = item(1, "A", L1, 12, "gid://shopify/InventoryItem/1");
    p.last_set = last_set;
    p.on_level = [&levels_seen, last_set](std::int64_t level) {
        levels_seen.push_back(level);
        return 12 - (last_set - level);  // the units sold since our write stay off sale
    };
    return p;
}

}  // namespace

TEST(ShopifyPush, AStaleChangeFromIsReadAccountedAndSetAgainstTheLevelRead) {
    Harness h("2026-04");
    std::vector<std::int64_t> seen;
    h.reply(data(set_errors(json::array({user_error("CHANGE_FROM_QUANTITY_STALE", 0, "changeFromQuantity",
                                                    "The changeFromQuantity value does not match persisted value.")}))));
    h.reply(data(level_answer(7)));
    h.reply(data(set_ok()));
    auto rep = h.channel->push({sales_aware_item(10, seen)});
    ASSERT_EQ(code_of(rep.items[0]), "ok");
    EXPECT_EQ(seen, std::vector<std::int64_t>{7});
    EXPECT_EQ(rep.items[0].compare_conflicts, 1);
    EXPECT_EQ(rep.items[0].set, 9);
    ASSERT_EQ(h.sent().size(), 3u);
    EXPECT_EQ(h.sent()[0].variables["input"]["quantities"][0]["changeFromQuantity"], 10);
    EXPECT_EQ(h.sent()[1].op(), "Level");
    const auto& again = h.sent()[2].variables["input"]["quantities"][0];
    EXPECT_EQ(again["changeFromQuantity"], 7);
    EXPECT_EQ(again["quantity"], 9);
    EXPECT_NE(h.sent()[2].variables["key"], h.sent()[0].variables["key"]);
}

TEST(ShopifyPush, ALevelThatKeepsChangingIsBoundedAndRetriedNotFailed) {
    Harness h("2025-10");
    std::vector<std::int64_t> seen;
    auto stale = data(set_errors(json::array({user_error("COMPARE_QUANTITY_STALE", 0, "compareQuantity",
                                                         "The compareQuantity value does not match.")})));
    for (int i = 0; i < 3; ++i) {
        h.reply(stale);
        if (i < 2) h.reply(data(level_answer(9 - i)));
    }
    auto rep = h.channel->push({sales_aware_item(10, seen)});
    EXPECT_EQ(code_of(rep.items[0]), "transient");
    EXPECT_NE(rep.items[0].error->message.find("kept changing"), std::string::npos);
    EXPECT_EQ(seen.size(), 2u);
    EXPECT_EQ(h.sent().size(), 5u);  // set, read, set, read, set: then it stops
}
