// Shopify response handling: cost/throttle parsing, the cost bucket,
// userError -> row mapping, classification of odd answers.
#include <gtest/gtest.h>

#include "stockrelay/channels/shopify.hpp"

using namespace stockrelay;
using namespace stockrelay::channels::shopify;
using nlohmann::json;
using std::chrono::milliseconds;

namespace {

http::Response respond(int status, std::string body, std::vector<std::pair<std::string, std::string>> headers = {}) {
    http::Response r;
    r.status = status;
    r.body = std::move(body);
    r.headers = std::move(headers);
    return r;
}

const char* kThrottled = R"({"errors":[{"message":"Throttled","extensions":{"code":"THROTTLED",
  "documentation":"https://shopify.dev/api/usage/rate-limits"}}],
  "extensions":{"cost":{"requestedQueryCost":752,"actualQueryCost":null,
  "throttleStatus":{"maximumAvailable":1000.0,"currentlyAvailable":666,"restoreRate":50.0}}}})";

}  // namespace

TEST(ShopifyCost, ParsesExtensionsCost) {
    auto c = parse_cost(json::parse(R"({"data":{},"extensions":{"cost":{"requestedQueryCost":12,"actualQueryCost":10,
        "throttleStatus":{"maximumAvailable":2000.0,"currentlyAvailable":1990,"restoreRate":100.0}}}})"));
    ASSERT_TRUE(c);
    EXPECT_EQ(*c->requested, 12);
    EXPECT_EQ(*c->actual, 10);
    ASSERT_TRUE(c->throttle);
    EXPECT_EQ(c->throttle->maximum_available, 2000);
    EXPECT_EQ(c->throttle->currently_available, 1990);
    EXPECT_EQ(c->throttle->restore_rate, 100);
    auto t = parse_cost(json::parse(kThrottled));
    EXPECT_FALSE(t->actual);  // null while throttled
    EXPECT_FALSE(parse_cost(json::parse(R"({"data":{}})")));
}

TEST(ShopifyCost, ThrottleWaitIsMissingPointsOverRestoreRate) {
    EXPECT_EQ(throttle_wait(752, 666, 50), milliseconds{1720});  // (752-666)/50 s
    EXPECT_EQ(throttle_wait(10, 0, 100), milliseconds{100});
    EXPECT_EQ(throttle_wait(10, 10, 100), milliseconds{0});
    EXPECT_EQ(throttle_wait(10, 500, 100), milliseconds{0});
    EXPECT_EQ(throttle_wait(1001, 0, 1000), milliseconds{1001});  // rounds up, never early
    EXPECT_GT(throttle_wait(10, 0, 0), milliseconds{0});          // no rate reported: still wait
}

TEST(ShopifyCost, BucketRefillsWithTimeAndCapsAtItsSize) {
    CostBucket b;
    auto t0 = CostBucket::Clock::now();
    EXPECT_FALSE(b.known());
    EXPECT_EQ(b.wait_for(500, t0), milliseconds{0});  // nothing known yet: just try
    b.update({1000, 100, 50}, t0);
    EXPECT_DOUBLE_EQ(b.available(t0), 100);
    EXPECT_DOUBLE_EQ(b.available(t0 + std::chrono::seconds(2)), 200);
    EXPECT_DOUBLE_EQ(b.available(t0 + std::chrono::seconds(100)), 1000);
    EXPECT_EQ(b.wait_for(300, t0), milliseconds{4000});
    EXPECT_EQ(b.wait_for(300, t0 + std::chrono::seconds(1)), milliseconds{3000});
    EXPECT_EQ(b.wait_for(50, t0), milliseconds{0});
    // A request larger than the bucket can only ever wait for a full bucket.
    EXPECT_EQ(b.wait_for(5000, t0), milliseconds{18000});
    // Other shops report other sizes and rates: nothing is hard-coded.
    b.update({20000, 0, 1000}, t0);
    EXPECT_EQ(b.wait_for(2500, t0), milliseconds{2500});
    EXPECT_EQ(b.maximum(), 20000);
    EXPECT_EQ(b.restore_rate(), 1000);
}

TEST(ShopifyUserErrors, FieldMapsToTheRow) {
    auto payload = json::parse(R"({"inventoryAdjustmentGroup":null,"userErrors":[
        {"code":"INVALID_INVENTORY_ITEM","field":["input","quantities","0","inventoryItemId"],"message":"gone"},
        {"code":"ITEM_NOT_STOCKED_AT_LOCATION","field":["input","quantities","17","locationId"],"message":"not stocked"},
        {"code":"INVALID_REASON","field":["input","reason"],"message":"bad reason"},
        {"code":"IDEMPOTENCY_KEY_PARAMETER_MISMATCH","field":["idempotent","key"],"message":"mismatch"},
        {"code":null,"field":null,"message":"no field"}]})");
    auto errs = parse_user_errors(payload);
    ASSERT_EQ(errs.size(), 5u);
    EXPECT_EQ(errs[0].index, 0u);
    EXPECT_EQ(errs[0].code, "INVALID_INVENTORY_ITEM");
    EXPECT_EQ(errs[1].index, 17u);
    EXPECT_EQ(errs[1].message, "not stocked");
    EXPECT_FALSE(errs[2].index);
    EXPECT_FALSE(errs[3].index);
    EXPECT_FALSE(errs[4].index);
    EXPECT_TRUE(errs[4].code.empty());
    EXPECT_FALSE(field_index({"input", "quantities", "x1"}));
    EXPECT_FALSE(field_index({"input", "quantities"}));
    EXPECT_EQ(field_index({"input", "changes", "3", "delta"}, "changes"), 3u);
    EXPECT_TRUE(parse_user_errors(json::parse(R"({"userErrors":[]})")).empty());
}

TEST(ShopifyAnswer, GoodAnswerKeepsDataAndCost) {
    auto a = interpret_response(respond(200, R"({"data":{"shop":{"name":"S"}},"extensions":{"cost":{"requestedQueryCost":1,
        "actualQueryCost":1,"throttleStatus":{"maximumAvailable":2000.0,"currentlyAvailable":1999,"restoreRate":100.0}}}})"),
                                "Shop");
    EXPECT_FALSE(a.error);
    EXPECT_EQ(a.body["data"]["shop"]["name"], "S");
    EXPECT_EQ(a.cost->throttle->currently_available, 1999);
}

TEST(ShopifyAnswer, GarbageAndTruncatedAreTransientAndSayWhatCameBack) {
    std::string full = R"({"data":{"inventorySetQuantities":{"userErrors":[]}},"extensions":{"cost":{"requestedQueryCost":10}}})";
    for (const std::string& body : {std::string("<html><body><h1>502 Bad Gateway</h1>upstream sent garbage</body></html>"),
                                    full.substr(0, full.size() / 2), std::string(""), std::string("[1,2]"),
                                    std::string("\"ok\"")}) {
        auto a = interpret_response(respond(200, body), "SetQty");
        ASSERT_TRUE(a.error) << body;
        EXPECT_EQ(a.error->code, ErrorCode::transient) << body;
        EXPECT_EQ(a.error->http_status, 200);
        if (!body.empty() && body.size() < 200) {
            EXPECT_NE(a.error->message.find(body.substr(0, 10)), std::string::npos);
        }
    }
    auto nodata = interpret_response(respond(200, R"({"extensions":{"cost":{"requestedQueryCost":10}}})"), "SetQty");
    EXPECT_EQ(nodata.error->code, ErrorCode::transient);
    EXPECT_NE(nodata.error->message.find("without data"), std::string::npos);
    auto nulldata = interpret_response(respond(200, R"({"data":null})"), "SetQty");
    EXPECT_EQ(nulldata.error->code, ErrorCode::transient);
    for (int s : {500, 502, 503, 504}) {
        auto e = interpret_response(respond(s, "<html>oops</html>"), "SetQty");
        EXPECT_EQ(e.error->code, ErrorCode::transient) << s;
        EXPECT_EQ(e.error->http_status, s);
    }
}

TEST(ShopifyAnswer, AuthFailuresCarryShopifysMessageAndTheMissingScope) {
    auto a = interpret_response(
        respond(401, R"J({"errors":"[API] Invalid API key or access token (unrecognized login or wrong password)"})J"), "Shop");
    EXPECT_EQ(a.error->code, ErrorCode::auth);
    EXPECT_NE(a.error->message.find("Invalid API key or access token"), std::string::npos);
    EXPECT_EQ(a.error->http_status, 401);

    auto f = interpret_response(respond(403, R"({"errors":"[API] This action requires merchant approval for write_inventory scope."})"),
                                "SetQty");
    EXPECT_EQ(f.error->code, ErrorCode::auth);
    EXPECT_NE(f.error->message.find("'write_inventory' access scope"), std::string::npos) << f.error->message;

    auto d = interpret_response(respond(200, R"({"errors":[{"message":"Access denied for locations field. Required access: `read_locations` access scope.",
        "extensions":{"code":"ACCESS_DENIED","documentation":"https://shopify.dev/api/usage/access-scopes",
        "requiredAccess":"`read_locations` access scope."}}],"data":null})"),
                                "Locations");
    EXPECT_EQ(d.error->code, ErrorCode::auth);
    EXPECT_NE(d.error->message.find("'read_locations'"), std::string::npos) << d.error->message;
    EXPECT_EQ(missing_scope("needs `unauthenticated_read_product_listings`"), "unauthenticated_read_product_listings");
    EXPECT_FALSE(missing_scope("nothing here"));
}

TEST(ShopifyAnswer, ThrottledOn200And429) {
    auto t = interpret_response(respond(200, kThrottled), "ResolveSkus");
    ASSERT_TRUE(t.error);
    EXPECT_EQ(t.error->code, ErrorCode::throttled);
    EXPECT_EQ(t.error->retry_after, milliseconds{1720});
    EXPECT_EQ(t.cost->throttle->currently_available, 666);

    auto h = interpret_response(respond(429, R"({"errors":"Exceeded 2 calls per second for api client."})",
                                        {{"retry-after", "2.0"}}),
                                "SetQty");
    EXPECT_EQ(h.error->code, ErrorCode::throttled);
    EXPECT_EQ(h.error->retry_after, milliseconds{2000});
    auto hb = interpret_response(respond(429, kThrottled), "SetQty");
    EXPECT_EQ(hb.error->retry_after, milliseconds{1720});
}

TEST(ShopifyAnswer, ValidationErrorsArePermanentWithTheServersMessage) {
    auto v = interpret_response(respond(200, R"({"errors":[{"message":"Field 'ignoreCompareQuantity' is not defined by type 'InventorySetQuantitiesInput'",
        "extensions":{"code":"undefinedField"}}]})"),
                                "SetQty");
    EXPECT_EQ(v.error->code, ErrorCode::permanent);
    EXPECT_NE(v.error->message.find("ignoreCompareQuantity' is not defined"), std::string::npos);
    auto idem = interpret_response(respond(200, R"({"errors":[{"message":"The @idempotent directive is required for this mutation but was not provided.",
        "extensions":{"code":"BAD_REQUEST"}}],"data":{"inventorySetQuantities":null}})"),
                                   "SetQty");
    EXPECT_EQ(idem.error->code, ErrorCode::permanent);
    EXPECT_NE(idem.error->message.find("@idempotent directive is required"), std::string::npos);
    auto ise = interpret_response(respond(200, R"({"errors":[{"message":"Internal error","extensions":{"code":"INTERNAL_SERVER_ERROR"}}]})"),
                                  "SetQty");
    EXPECT_EQ(ise.error->code, ErrorCode::transient);
    auto bad = interpret_response(respond(400, R"({"errors":{"query":"Required parameter missing or invalid"}})"), "SetQty");
    EXPECT_EQ(bad.error->code, ErrorCode::permanent);
    auto missing = interpret_response(respond(404, R"({"errors":"Not Found"})"), "Shop");
    EXPECT_EQ(missing.error->code, ErrorCode::config);
    EXPECT_NE(missing.error->message.find("API version"), std::string::npos);
}
