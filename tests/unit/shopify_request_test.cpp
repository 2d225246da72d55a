// Shopify request building: versions, documents per version, variables,
// SKU search escaping, idempotency keys.
#include <gtest/gtest.h>

#include <regex>

#include "stockrelay/channels/shopify.hpp"

using namespace stockrelay;
using namespace stockrelay::channels::shopify;
using nlohmann::json;

namespace {

ApiVersion ver(std::string_view s) { return ApiVersion::parse(s).value(); }

std::string squash(std::string_view text) {
    std::string out;
    bool space = false;
    for (char c : text) {
        if (c == ' ' || c == '\n' || c == '\t') {
            space = true;
            continue;
        }
        if (space && !out.empty()) out += ' ';
        space = false;
        out += c;
    }
    return out;
}

// Verbatim from shared/specs/shopify-operations.graphql (validated there
// against the stored schemas: SetQty on all versions up to 2026-01,
// SetQtyIdem on 2026-01+).
constexpr std::string_view kSpecSetQty = R"(mutation SetQty($input: InventorySetQuantitiesInput!) {
  inventorySetQuantities(input: $input) {
    inventoryAdjustmentGroup { id reason referenceDocumentUri changes { name delta quantityAfterChange item { id } location { id } } }
    userErrors { code field message }
  }
})";
constexpr std::string_view kSpecSetQtyIdem = R"(mutation SetQtyIdem($input: InventorySetQuantitiesInput!, $key: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $key) {
    inventoryAdjustmentGroup { id }
    userErrors { code field message }
  }
})";
constexpr std::string_view kSpecActivate = R"(mutation Activate($itemId: ID!, $locationId: ID!, $available: Int) {
  inventoryActivate(inventoryItemId: $itemId, locationId: $locationId, available: $available) {
    inventoryLevel { id } userErrors { field message }
  }
})";
constexpr std::string_view kSpecLocations = R"(query Locations($after: String) {
  locations(first: 250, after: $after, includeInactive: false) {
    nodes { id name isActive fulfillsOnlineOrders }
    pageInfo { hasNextPage endCursor }
  }
})";

std::vector<SetLine> two_lines() {
    return {{"gid://shopify/InventoryItem/11", "gid://shopify/Location/1", 5, 101, 7},
            {"gid://shopify/InventoryItem/12", "gid://shopify/Location/1", 0, 102, 3}};
}

}  // namespace

TEST(ShopifyVersion, ParsesKnownVersionsAndDefaults) {
    EXPECT_EQ(ApiVersion::parse("").value().str(), "2026-10");
    EXPECT_EQ(ApiVersion::parse(" 2025-01 ").value().str(), "2025-01");
    for (auto v : supported_versions()) EXPECT_EQ(ApiVersion::parse(v).value().str(), v);
    EXPECT_LT(ver("2025-10"), ver("2026-01"));
}

TEST(ShopifyVersion, UnknownVersionIsAConfigErrorNamingTheSupportedOnes) {
    for (auto bad : {"2024-10", "2026-02", "unstable", "2025-1", "latest"}) {
        auto r = ApiVersion::parse(bad);
        ASSERT_FALSE(r) << bad;
        EXPECT_EQ(r.error().code, ErrorCode::config);
        EXPECT_NE(r.error().message.find(bad), std::string::npos);
        EXPECT_NE(r.error().message.find("2025-01, 2025-04, 2025-07, 2025-10, 2026-01, 2026-04, 2026-07, 2026-10"),
                  std::string::npos)
            << r.error().message;
    }
}

TEST(ShopifyVersion, FeatureFlagsFollowTheSchemas) {
    EXPECT_TRUE(ver("2025-10").needs_ignore_compare_quantity());
    EXPECT_FALSE(ver("2026-01").needs_ignore_compare_quantity());
    EXPECT_FALSE(ver("2026-01").requires_change_from_quantity());
    EXPECT_FALSE(ver("2025-10").opts_out_with_null_change_from());
    EXPECT_TRUE(ver("2026-01").opts_out_with_null_change_from());
    EXPECT_TRUE(ver("2026-04").requires_change_from_quantity());
    EXPECT_FALSE(ver("2026-01").requires_idempotent());
    EXPECT_TRUE(ver("2026-04").requires_idempotent());
    EXPECT_TRUE(ver("2026-07").needs_inventory_activate());
    EXPECT_FALSE(ver("2026-10").needs_inventory_activate());
}

TEST(ShopifyRequest, DocumentsAreTheSpecOnesPerVersion) {
    for (auto v : {"2025-01", "2025-10", "2026-01"}) {
        EXPECT_EQ(squash(set_quantities_document(ver(v))), squash(kSpecSetQty)) << v;
        EXPECT_EQ(squash(activate_document(ver(v))), squash(kSpecActivate)) << v;
    }
    for (auto v : {"2026-04", "2026-07", "2026-10"}) {
        EXPECT_EQ(squash(set_quantities_document(ver(v))), squash(kSpecSetQtyIdem)) << v;
        auto act = activate_document(ver(v));
        EXPECT_NE(act.find(") @idempotent(key: $key) {"), std::string::npos) << act;
        EXPECT_NE(act.find("$key: String!"), std::string::npos);
    }
    EXPECT_EQ(squash(locations_document()), squash(kSpecLocations));
    EXPECT_NE(resolve_document().find("productVariants(first: $first, after: $after, query: $q)"), std::string::npos);
    EXPECT_NE(lookup_document().find("productVariants(first: 2, query: $q)"), std::string::npos);
}

TEST(ShopifyRequest, VariablesUpTo2025_10IgnoreCompareQuantity) {
    for (auto v : {"2025-01", "2025-10"}) {
        json vars = set_quantities_variables(ver(v), two_lines(), "ignored");
        json expected = R"({"input": {"name": "available", "reason": "correction",
            "referenceDocumentUri": "gid://stockrelay/OutboxRow/101", "ignoreCompareQuantity": true,
            "quantities": [
              {"inventoryItemId": "gid://shopify/InventoryItem/11", "locationId": "gid://shopify/Location/1", "quantity": 5},
              {"inventoryItemId": "gid://shopify/InventoryItem/12", "locationId": "gid://shopify/Location/1", "quantity": 0}]}})"_json;
        EXPECT_EQ(vars, expected) << v << ": " << vars.dump();
    }
}

// 2026-01 still wants a compare unless the call opts out (COMPARE_QUANTITY_REQUIRED
// is in its error enum, ignoreCompareQuantity defaults to false); its schema
// names the explicit changeFromQuantity: null as the opt-out that replaces
// ignoreCompareQuantity. Sending neither would fail every row on a real shop.
TEST(ShopifyRequest, Variables2026_01OptOutOfTheCompareWithAnExplicitNullChangeFrom) {
    json vars = set_quantities_variables(ver("2026-01"), two_lines(), "ignored");
    EXPECT_FALSE(vars.contains("key"));
    EXPECT_FALSE(vars["input"].contains("ignoreCompareQuantity"));
    for (const auto& q : vars["input"]["quantities"]) {
        ASSERT_TRUE(q.contains("changeFromQuantity"));
        EXPECT_TRUE(q["changeFromQuantity"].is_null());
        EXPECT_FALSE(q.contains("compareQuantity"));
    }
    EXPECT_EQ(vars["input"]["quantities"].size(), 2u);
    EXPECT_NE(vars.dump().find("\"changeFromQuantity\":null"), std::string::npos);
}

TEST(ShopifyRequest, Variables2026_04AndLaterCarryNullChangeFromAndTheKey) {
    for (auto v : {"2026-04", "2026-07", "2026-10"}) {
        json vars = set_quantities_variables(ver(v), two_lines(), "k-1");
        EXPECT_EQ(vars["key"], "k-1") << v;
        EXPECT_FALSE(vars["input"].contains("ignoreCompareQuantity")) << v;
        for (const auto& q : vars["input"]["quantities"]) {
            ASSERT_TRUE(q.contains("changeFromQuantity")) << v;  // explicitly present...
            EXPECT_TRUE(q["changeFromQuantity"].is_null());      // ...and null: no CAS check
            EXPECT_FALSE(q.contains("compareQuantity"));
        }
        // The serialized body must carry the null, not drop it.
        EXPECT_NE(vars.dump().find("\"changeFromQuantity\":null"), std::string::npos);
    }
    json act = activate_variables(ver("2026-04"), two_lines()[0], "k-2");
    EXPECT_EQ(act, json({{"itemId", "gid://shopify/InventoryItem/11"}, {"locationId", "gid://shopify/Location/1"},
                         {"available", 5}, {"key", "k-2"}}));
    EXPECT_FALSE(activate_variables(ver("2025-10"), two_lines()[0], "k-2").contains("key"));
}

TEST(ShopifySearch, EscapesNastySkus) {
    EXPECT_EQ(sku_term("ABC-1"), "sku:'ABC-1'");
    EXPECT_EQ(sku_term("A B"), "sku:'A B'");
    EXPECT_EQ(sku_term("it's"), R"(sku:'it\'s')");
    EXPECT_EQ(sku_term(R"(back\slash)"), R"(sku:'back\\slash')");
    EXPECT_EQ(sku_term(R"(\')"), R"(sku:'\\\'')");
    EXPECT_EQ(sku_term("say \"hi\""), "sku:'say \"hi\"'");
    EXPECT_EQ(sku_term("Grüße-€-鞋"), "sku:'Grüße-€-鞋'");
    // An injection attempt stays inside the quoted value.
    EXPECT_EQ(sku_term("X' OR sku:'Y"), R"(sku:'X\' OR sku:\'Y')");
    EXPECT_EQ(sku_search_query({"A", "B C", "D'E"}), R"(sku:'A' OR sku:'B C' OR sku:'D\'E')");
    // JSON transport escapes what GraphQL variables need.
    json vars = {{"q", sku_term("q\"\\")}};
    EXPECT_EQ(vars.dump(), R"({"q":"sku:'q\"\\\\'"})");
}

TEST(ShopifySearch, ChunksBySkuCountAndLength) {
    std::vector<std::string> skus;
    for (int i = 0; i < 120; ++i) skus.push_back("SKU-" + std::to_string(i));
    auto chunks = chunk_skus(skus);
    ASSERT_EQ(chunks.size(), 3u);
    EXPECT_EQ(chunks[0].size(), 50u);
    EXPECT_EQ(chunks[2].size(), 20u);
    EXPECT_EQ(chunks[1].front(), "SKU-50");

    std::vector<std::string> longs(10, std::string(900, 'x'));
    auto by_len = chunk_skus(longs, 50, 4000);
    for (const auto& c : by_len) EXPECT_LE(sku_search_query(c).size(), 4000u);
    EXPECT_GT(by_len.size(), 2u);
    auto huge = chunk_skus({std::string(5000, 'y'), "z"}, 50, 4000);
    ASSERT_EQ(huge.size(), 2u);  // an over-long SKU still gets its own query
    EXPECT_TRUE(chunk_skus({}).empty());
}

TEST(ShopifySearch, LocationKeys) {
    EXPECT_EQ(location_gid("123"), "gid://shopify/Location/123");
    EXPECT_EQ(location_gid("gid://shopify/Location/9"), "gid://shopify/Location/9");
    EXPECT_EQ(reference_document_uri(42), "gid://stockrelay/OutboxRow/42");
}

TEST(ShopifyIdempotency, KeyIsUuidShapedStableAndPayloadSpecific) {
    static const std::regex uuid("^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
    auto lines = two_lines();
    const std::string k = idempotency_key(lines);
    EXPECT_TRUE(std::regex_match(k, uuid)) << k;
    EXPECT_EQ(k, idempotency_key(two_lines()));  // a retry of the same rows

    auto other_version = lines;
    other_version[1].version = 4;
    auto other_row = lines;
    other_row[0].row_id = 999;
    auto other_qty = lines;
    other_qty[0].quantity = 6;
    auto other_loc = lines;
    other_loc[0].location_id = "gid://shopify/Location/2";
    auto reordered = std::vector<SetLine>{lines[1], lines[0]};
    auto fewer = std::vector<SetLine>{lines[0]};
    // Boundaries between fields cannot be shifted to forge the same material.
    auto shifted = lines;
    shifted[0].inventory_item_id += "1";
    shifted[0].location_id = shifted[0].location_id.substr(1);
    std::set<std::string> keys{k};
    for (const auto& v : {other_version, other_row, other_qty, other_loc, reordered, fewer, shifted})
        EXPECT_TRUE(keys.insert(idempotency_key(v)).second);
    EXPECT_TRUE(keys.insert(idempotency_key(lines, 1)).second);
    EXPECT_TRUE(keys.insert(activate_idempotency_key(lines[0])).second);
    EXPECT_EQ(activate_idempotency_key(lines[0]), activate_idempotency_key(two_lines()[0]));
}
