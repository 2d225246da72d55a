// Orders in: the poll skips stored orders by an event key read from three
// fields; it must be the key normalize() gives, or the poll stores twice.
#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "stockrelay/orders.hpp"

using nlohmann::json;
using stockrelay::orders::event_identity;
using stockrelay::orders::normalize;
using stockrelay::orders::utc_second_plus;

namespace {

json fixture(const std::string& name) {
    std::ifstream in(std::string(STOCKRELAY_FIXTURES_DIR) + "/orders/" + name);
    EXPECT_TRUE(in.good()) << name;
    std::stringstream s;
    s << in.rdbuf();
    return json::parse(s.str());
}

void expect_same_key(const std::string& shop, const json& raw) {
    const auto full = normalize(shop, raw);
    ASSERT_TRUE(full.ok()) << full.error().message;
    const auto id = event_identity(shop, raw);
    ASSERT_TRUE(id.has_value()) << shop;
    EXPECT_EQ(id->event_key, full->event_key) << shop;
    EXPECT_EQ(id->shop_updated_at, full->shop_updated_at) << shop;
    EXPECT_EQ(id->shop_order_id, full->shop_order_id) << shop;
}

}  // namespace

TEST(OrdersIdentity, AgreesWithNormalizeForEveryShopShape) {
    struct Case { const char* shop; const char* file; };
    for (const auto& c : {Case{"shopify", "shopify_graphql_order.json"}, Case{"shopify", "shopify_webhook_orders_create.json"},
                          Case{"woocommerce", "woocommerce_order.json"}, Case{"medusa", "medusa_admin_order.json"}}) {
        auto raw = fixture(c.file);
        expect_same_key(c.shop, raw);
    }
}

TEST(OrdersIdentity, AgreesForCancelledOrders) {
    auto shopify = fixture("shopify_graphql_order.json");
    shopify["cancelledAt"] = shopify["updatedAt"];
    expect_same_key("shopify", shopify);
    auto woo = fixture("woocommerce_order.json");
    woo["status"] = "cancelled";
    expect_same_key("woocommerce", woo);
    auto medusa = fixture("medusa_admin_order.json");
    medusa["status"] = "canceled";
    expect_same_key("medusa", medusa);
}

TEST(OrdersIdentity, UnreadableFieldsGiveNoKeySoTheOrderIsNormalizedAndExplained) {
    EXPECT_FALSE(event_identity("shopify", json{{"id", "gid://shopify/Order/1"}, {"updatedAt", "yesterday"}}));
    EXPECT_FALSE(event_identity("woocommerce", json{{"id", 5}}));
    EXPECT_FALSE(event_identity("medusa", json::array()));
    EXPECT_FALSE(event_identity("etsy", json{{"id", 5}}));
}

TEST(OrdersTime, ShiftsBySecondsAcrossDays) {
    EXPECT_EQ(utc_second_plus("2026-12-01T00:00:00Z", -1), "2026-11-30T23:59:59Z");
    EXPECT_EQ(utc_second_plus("2026-11-30T19:02:06.5+01:00", 2), "2026-11-30T18:02:08Z");
    EXPECT_FALSE(utc_second_plus("", -1));
}
