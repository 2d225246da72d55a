// Sales-aware pushes on Shopify: the value set last travels as the compare
// value of each line (changeFromQuantity from 2026-01, compareQuantity before).
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "stockrelay/channels/shopify.hpp"

using namespace stockrelay::channels::shopify;
using nlohmann::json;

namespace {

ApiVersion ver(const char* v) { return ApiVersion::parse(v).value(); }

std::vector<SetLine> lines(std::optional<std::int64_t> a, std::optional<std::int64_t> b) {
    return {{"gid://shopify/InventoryItem/11", "gid://shopify/Location/1", 5, 101, 7, a},
            {"gid://shopify/InventoryItem/12", "gid://shopify/Location/1", 0, 102, 3, b}};
}

}  // namespace

TEST(ShopifyCompare, UpTo2025_10EveryLineCarriesCompareQuantityWhenAllHaveOne) {
    json vars = set_quantities_variables(ver("2025-10"), lines(8, 2), "");
    EXPECT_FALSE(vars["input"].contains("ignoreCompareQuantity"));
    EXPECT_EQ(vars["input"]["quantities"][0]["compareQuantity"], 8);
    EXPECT_EQ(vars["input"]["quantities"][1]["compareQuantity"], 2);
}

TEST(ShopifyCompare, UpTo2025_10ALineNeverSetMakesTheCallIgnoreCompare) {
    json vars = set_quantities_variables(ver("2025-10"), lines(8, std::nullopt), "");
    EXPECT_EQ(vars["input"]["ignoreCompareQuantity"], true);
    EXPECT_FALSE(vars["input"]["quantities"][0].contains("compareQuantity"));
}

TEST(ShopifyCompare, From2026_01ChangeFromQuantityIsTheLastValueOrNull) {
    for (auto v : {"2026-01", "2026-04", "2026-10"}) {
        json vars = set_quantities_variables(ver(v), lines(8, std::nullopt), "k");
        EXPECT_EQ(vars["input"]["quantities"][0]["changeFromQuantity"], 8) << v;
        EXPECT_TRUE(vars["input"]["quantities"][1]["changeFromQuantity"].is_null()) << v;
        EXPECT_FALSE(vars["input"]["quantities"][0].contains("compareQuantity")) << v;
        EXPECT_FALSE(vars["input"].contains("ignoreCompareQuantity")) << v;
    }
}

TEST(ShopifyCompare, TheCompareValueIsPartOfTheIdempotencyKey) {
    EXPECT_NE(idempotency_key(lines(8, 2)), idempotency_key(lines(7, 2)));
    EXPECT_EQ(idempotency_key(lines(std::nullopt, std::nullopt)),
              idempotency_key({{"gid://shopify/InventoryItem/11", "gid://shopify/Location/1", 5, 101, 7},
                               {"gid://shopify/InventoryItem/12", "gid://shopify/Location/1", 0, 102, 3}}));
}

TEST(ShopifyCompare, TheLevelQueryReadsOneItemAtOneLocation) {
    const std::string doc(level_document());
    EXPECT_NE(doc.find("inventoryItem(id: $item)"), std::string::npos);
    EXPECT_NE(doc.find("inventoryLevel(locationId: $location)"), std::string::npos);
    EXPECT_NE(doc.find("quantities(names: [\"available\"])"), std::string::npos);
}
