// Orders in: each shop's order JSON -> the normalized inbox payload.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "stockrelay/orders.hpp"

using nlohmann::json;
using stockrelay::ErrorCode;
using stockrelay::orders::normalize;
using stockrelay::orders::to_utc_second;

namespace {

json fixture(const std::string& name) {
    std::ifstream in(std::string(STOCKRELAY_FIXTURES_DIR) + "/orders/" + name);
    EXPECT_TRUE(in.good()) << name;
    std::stringstream s;
    s << in.rdbuf();
    return json::parse(s.str());
}

std::string error_of(const std::string& shop, const json& raw) {
    auto r = normalize(shop, raw);
    EXPECT_FALSE(r.ok());
    if (r.ok()) return "";
    EXPECT_EQ(r.error().code, ErrorCode::rejected);
    return r.error().message;
}

}  // namespace

TEST(OrdersTime, ConvertsOffsetsAndDropsFractions) {
    EXPECT_EQ(to_utc_second("2026-11-30T14:02:05-05:00"), "2026-11-30T19:02:05Z");
    EXPECT_EQ(to_utc_second("2026-12-31T23:30:00-01:00"), "2027-01-01T00:30:00Z");
    EXPECT_EQ(to_utc_second("2026-03-01T00:10:00+01:00"), "2026-02-28T23:10:00Z");
    EXPECT_EQ(to_utc_second("2026-11-30T19:02:06.871Z"), "2026-11-30T19:02:06Z");
    EXPECT_EQ(to_utc_second("2026-11-30T19:02:07"), "2026-11-30T19:02:07Z");  // Woo *_gmt
    EXPECT_EQ(to_utc_second("2026-11-30 19:02:07+0000"), "2026-11-30T19:02:07Z");
    EXPECT_FALSE(to_utc_second("yesterday"));
    EXPECT_FALSE(to_utc_second("2026-13-01T00:00:00Z"));
    EXPECT_FALSE(to_utc_second("2026-11-30T19:02:07Zjunk"));
}

TEST(OrdersShopify, WebhookBodyNormalizes) {
    auto r = normalize("shopify", fixture("shopify_webhook_orders_create.json"));
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(r->shop_order_id, "450789469");
    EXPECT_EQ(r->name, "#1001");
    EXPECT_EQ(r->topic, "order_created");
    EXPECT_EQ(r->event_key, "450789469@2026-11-30T19:02:05Z");
    const auto& o = r->order;
    EXPECT_EQ(o["financial_status"], "paid");
    EXPECT_EQ(o["currency"], "EUR");
    EXPECT_EQ(o["customer"]["first_name"], "Bob");
    EXPECT_EQ(o["billing_address"]["street"], "Chestnut Street 92");
    EXPECT_TRUE(o["billing_address"]["street2"].is_null());  // "" is no value
    EXPECT_EQ(o["shipping_address"]["company"], "Acme");
    ASSERT_EQ(o["lines"].size(), 2u);
    EXPECT_EQ(o["lines"][0]["unit_price"], "12.50");
    EXPECT_EQ(o["lines"][0]["discount"], "2.50");
    EXPECT_EQ(o["lines"][0]["quantity"], 2);
    EXPECT_EQ(o["lines"][0]["taxes"][0], (json{{"name", "VAT"}, {"rate", "0.21"}, {"amount", "4.73"}}));
    EXPECT_TRUE(o["lines"][1]["sku"].is_null());
    EXPECT_EQ(o["lines"][1]["meta"][1], (json{{"key", "Persons"}, {"value", "2"}}));
    EXPECT_EQ(o["shipping"][0]["price"], "4.95");
    EXPECT_EQ(o["shipping"][0]["discount"], "1.00");
    EXPECT_EQ(o["totals"]["total"], "82.00");
}

TEST(OrdersShopify, GraphqlNodeGivesTheSameEventAndNumbers) {
    auto rest = normalize("shopify", fixture("shopify_webhook_orders_create.json"));
    auto gql = normalize("shopify", fixture("shopify_graphql_order.json"));
    ASSERT_TRUE(rest.ok() && gql.ok());
    EXPECT_EQ(gql->event_key, rest->event_key);  // a webhook and a poll of one update dedupe
    EXPECT_EQ(gql->order["lines"][0]["id"], rest->order["lines"][0]["id"]);
    EXPECT_EQ(gql->order["lines"][0]["taxes"], rest->order["lines"][0]["taxes"]);
    EXPECT_EQ(gql->order["lines"][1]["meta"], rest->order["lines"][1]["meta"]);
    EXPECT_EQ(gql->order["billing_address"], rest->order["billing_address"]);
    EXPECT_EQ(gql->order["financial_status"], "paid");
    EXPECT_EQ(gql->order["lines"][0]["unit_price"], "12.5");  // GraphQL Decimal text as sent
}

TEST(OrdersShopify, CancelledAndUpdatedTopicsComeFromTheOrder) {
    auto raw = fixture("shopify_webhook_orders_create.json");
    raw["updated_at"] = "2026-11-30T14:05:00-05:00";
    EXPECT_EQ(normalize("shopify", raw)->topic, "order_updated");
    raw["cancelled_at"] = "2026-11-30T14:05:00-05:00";
    auto r = normalize("shopify", raw);
    EXPECT_EQ(r->topic, "order_cancelled");
    EXPECT_EQ(r->order["status"], "cancelled");
    EXPECT_EQ(r->event_key, "450789469@2026-11-30T19:05:00Z/cancelled");
    raw["updated_at"] = raw["created_at"];  // cancelled within the second it was placed: still its own event
    EXPECT_EQ(normalize("shopify", raw)->event_key, "450789469@2026-11-30T19:02:05Z/cancelled");
}

TEST(OrdersWooCommerce, RestOrderNormalizes) {
    auto r = normalize("woocommerce", fixture("woocommerce_order.json"));
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(r->event_key, "727@2026-11-30T19:02:07Z");
    EXPECT_EQ(r->name, "#727");
    EXPECT_EQ(r->topic, "order_updated");
    const auto& o = r->order;
    EXPECT_EQ(o["financial_status"], "paid");
    EXPECT_EQ(o["email"], "ada@example.com");
    EXPECT_EQ(o["shipping_address"]["country_code"], "BE");
    EXPECT_TRUE(o["shipping_address"]["phone"].is_null());
    const auto& line = o["lines"][0];
    EXPECT_EQ(line["unit_price"], "10.00");
    EXPECT_EQ(line["discount"], "3.00");
    EXPECT_EQ(line["taxes"], json::parse(R"([{"name":"VAT","rate":"0.21","amount":"5.67"}])"));  // empty Eco skipped
    EXPECT_EQ(line["meta"], json::parse(R"([{"key":"Colour","value":"Blue"}])"));  // "_" keys are Woo's own
    EXPECT_EQ(o["shipping"][0]["taxes"][0]["amount"], "1.04");
    EXPECT_EQ(o["totals"]["subtotal"], "30.00");
    EXPECT_EQ(o["totals"]["total"], "39.66");
}

TEST(OrdersWooCommerce, UnitPriceIsExactDecimalDivision) {
    auto raw = fixture("woocommerce_order.json");
    raw["line_items"][0]["subtotal"] = "10.00";
    EXPECT_EQ(normalize("woocommerce", raw)->order["lines"][0]["unit_price"], "3.333333");
    raw["line_items"][0]["subtotal"] = "0.30";
    EXPECT_EQ(normalize("woocommerce", raw)->order["lines"][0]["unit_price"], "0.10");
    raw["status"] = "cancelled";
    EXPECT_EQ(normalize("woocommerce", raw)->topic, "order_cancelled");
}

TEST(OrdersMedusa, AdminOrderNormalizes) {
    auto r = normalize("medusa", fixture("medusa_admin_order.json"));
    ASSERT_TRUE(r.ok()) << r.error().describe();
    EXPECT_EQ(r->shop_order_id, "order_01JDX5G3T2K8ZK3V8W0D4Q1M2N");
    EXPECT_EQ(r->name, "#12");
    EXPECT_EQ(r->event_key, "order_01JDX5G3T2K8ZK3V8W0D4Q1M2N@2026-11-30T19:02:06Z");
    const auto& o = r->order;
    EXPECT_EQ(o["currency"], "EUR");
    EXPECT_EQ(o["financial_status"], "authorized");
    EXPECT_EQ(o["shipping_address"]["country_code"], "DE");
    EXPECT_TRUE(o["billing_address"].is_null());
    EXPECT_EQ(o["lines"][0]["sku"], "TSHIRT-S");
    EXPECT_EQ(o["lines"][0]["name"], "T-Shirt");
    EXPECT_EQ(o["lines"][0]["unit_price"], "20");
    EXPECT_EQ(o["lines"][0]["taxes"][0], (json{{"name", "MwSt"}, {"rate", "0.19"}, {"amount", "7.6"}}));
    EXPECT_EQ(o["shipping"][0]["price"], "4.95");
    EXPECT_EQ(o["totals"]["total"], "52.55");
}

TEST(OrdersMalformed, NamesTheField) {
    auto shop = fixture("shopify_webhook_orders_create.json");
    shop["line_items"][1]["quantity"] = 1.5;
    EXPECT_NE(error_of("shopify", shop).find("line_items[1].quantity"), std::string::npos);
    shop = fixture("shopify_webhook_orders_create.json");
    shop["line_items"][0]["price"] = "12,50";
    EXPECT_NE(error_of("shopify", shop).find("line_items[0].price: not a decimal"), std::string::npos);
    shop.erase("updated_at");
    shop["line_items"][0]["price"] = "1";
    EXPECT_NE(error_of("shopify", shop).find("updated_at: missing"), std::string::npos);
    auto woo = fixture("woocommerce_order.json");
    woo["line_items"][0]["taxes"][0]["id"] = 9;
    EXPECT_NE(error_of("woocommerce", woo).find("tax rate 9 is not in tax_lines"), std::string::npos);
    woo = fixture("woocommerce_order.json");
    woo["date_modified_gmt"] = "soon";
    EXPECT_NE(error_of("woocommerce", woo).find("date_modified_gmt: not an ISO 8601 time"), std::string::npos);
    auto med = fixture("medusa_admin_order.json");
    med["items"] = json::object();
    EXPECT_NE(error_of("medusa", med).find("items: not a list"), std::string::npos);
    EXPECT_NE(error_of("medusa", json::array()).find("not a JSON object"), std::string::npos);
    EXPECT_EQ(normalize("ebay", json::object()).error().code, ErrorCode::config);
}

TEST(OrdersPayload, RawBodyIsKeptByteForByte) {
    auto r = normalize("medusa", fixture("medusa_admin_order.json"));
    const std::string body = R"({"id":"order_1","total":0.1000000000000000055511151231257827})";
    const auto text = stockrelay::orders::inbox_payload(*r, body);
    EXPECT_NE(text.find(R"("raw": {"id":"order_1","total":0.1000000000000000055511151231257827})"), std::string::npos);
    EXPECT_EQ(json::parse(text)["order"]["name"], "#12");
}

#include "stockrelay/signature.hpp"

TEST(WebhookSignature, MatchesShopifyConstruction) {
    // echo -n '{"id":1}' | openssl dgst -sha256 -hmac secret -binary | base64
    const std::string body = R"({"id":1})";
    const auto sig = stockrelay::signature::hmac_sha256_base64(body, "secret");
    EXPECT_EQ(sig, "A971iWIMgT8Zj9A9eWfikrFj7wQ16/Qwcc4OlRl2PLc=");
    EXPECT_TRUE(stockrelay::signature::verify(body, "secret", sig));
    EXPECT_FALSE(stockrelay::signature::verify(body + " ", "secret", sig));
    EXPECT_FALSE(stockrelay::signature::verify(body, "other", sig));
    EXPECT_FALSE(stockrelay::signature::verify(body, "", stockrelay::signature::hmac_sha256_base64(body, "")));
    EXPECT_FALSE(stockrelay::signature::verify(body, "secret", sig.substr(0, 43)));
}
