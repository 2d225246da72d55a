// The Shopify catalogue requests, limits and diff, without a network. Shop JSON
// here has the shape of shopify::product_query()'s answer.
#include <gtest/gtest.h>

#include "stockrelay/catalog/shopify.hpp"

namespace cat = stockrelay::catalog;
namespace sh = stockrelay::catalog::shopify;
using json = nlohmann::json;
using stockrelay::ErrorCode;

namespace {

cat::Document doc(const json& patch = json::object()) {
    json d = json::parse(R"({
      "format": 1, "external_id": "odoo:t42", "template_id": 42, "name": "T-Shirt", "description": "Soft",
      "handle": "t-shirt", "active": true, "currency": "EUR",
      "options": [{"name": "Color", "values": ["Red", "Blue"]}],
      "variants": [
        {"external_id": "odoo:p7", "product_id": 7, "sku": "TS-R", "barcode": "123", "weight": 200, "weight_unit": "g",
         "options": ["Red"], "price": "12.50"},
        {"external_id": "odoo:p8", "product_id": 8, "sku": "TS-B", "options": ["Blue"], "price": "13.00"}]})");
    d.merge_patch(patch);
    auto r = cat::parse_document(d);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return *r;
}

json shop_variant(const std::string& id, const std::string& sku, const std::string& color, const std::string& price,
                  const std::string& ext) {
    return {{"id", id}, {"sku", sku}, {"barcode", nullptr}, {"price", price},
            {"selectedOptions", json::array({{{"name", "Color"}, {"value", color}}})},
            {"metafield", ext.empty() ? json() : json{{"value", ext}}},
            {"inventoryItem", {{"tracked", true}, {"measurement", {{"weight", {{"value", 0}, {"unit", "KILOGRAMS"}}}}}}}};
}

json shop_product() {
    return {{"id", "gid://shopify/Product/1"}, {"handle", "t-shirt"}, {"title", "T-Shirt"}, {"descriptionHtml", "Soft"},
            {"status", "ACTIVE"}, {"metafield", {{"value", "odoo:t42"}}},
            {"options", json::array({{{"name", "Color"}, {"position", 1},
                                      {"optionValues", json::array({{{"name", "Red"}}, {{"name", "Blue"}}})}}})},
            {"variants", {{"nodes", json::array({shop_variant("gid://shopify/ProductVariant/11", "TS-R", "Red", "12.50", "odoo:p7"),
                                                 shop_variant("gid://shopify/ProductVariant/12", "TS-B", "Blue", "13.00", "odoo:p8")})}}}};
}

}  // namespace

TEST(CatalogShopify, ProductSetInputCarriesOptionsInOdooOrderVariantsAndIdentity) {
    const auto in = sh::product_set_input(doc(), nullptr, cat::Mapping{}, "DRAFT");
    EXPECT_FALSE(in.contains("id"));
    EXPECT_EQ(in["status"], "ACTIVE");
    EXPECT_EQ(in["handle"], "t-shirt");
    EXPECT_EQ(in["metafields"][0], (json{{"namespace", "stockrelay"}, {"key", "external_id"},
                                         {"type", "single_line_text_field"}, {"value", "odoo:t42"}}));
    EXPECT_EQ(in["productOptions"][0]["values"], json::parse(R"([{"name":"Red"},{"name":"Blue"}])"));
    const auto& red = in["variants"][0];
    EXPECT_EQ(red["sku"], "TS-R");
    EXPECT_EQ(red["price"], "12.50");
    EXPECT_EQ(red["barcode"], "123");
    EXPECT_EQ(red["optionValues"], json::parse(R"([{"optionName":"Color","name":"Red"}])"));
    EXPECT_EQ(red["inventoryItem"]["tracked"], true);
    EXPECT_EQ(red["inventoryItem"]["measurement"]["weight"], json::parse(R"({"value":200.0,"unit":"GRAMS"})"));
    EXPECT_EQ(red["metafields"][0]["value"], "odoo:p7");
    EXPECT_FALSE(in["variants"][1].contains("barcode"));
}

TEST(CatalogShopify, UpdateKeepsTheShopsVariantIdsAndArchivesAsDraftOrArchived) {
    auto d = doc({{"active", false}});
    auto in = sh::product_set_input(d, shop_product(), cat::Mapping{}, "DRAFT");
    EXPECT_EQ(in["id"], "gid://shopify/Product/1");
    EXPECT_EQ(in["status"], "DRAFT");
    EXPECT_FALSE(in.contains("variants"));  // archiving leaves the variants as they are
    EXPECT_FALSE(in.contains("productOptions"));
    EXPECT_EQ(sh::product_set_input(doc(), shop_product(), cat::Mapping{}, "DRAFT")["variants"][0]["id"],
              "gid://shopify/ProductVariant/11");
    EXPECT_EQ(sh::product_set_input(d, shop_product(), cat::Mapping{}, sh::archived_status({{"shopify_archived_status", "ARCHIVED"}}))["status"],
              "ARCHIVED");
    EXPECT_EQ(sh::archived_status(json::object()), "DRAFT");
}

TEST(CatalogShopify, NoOptionsGivesShopifysDefaultOption) {
    auto d = doc({{"options", json::array()},
                  {"variants", json::parse(R"([{"external_id":"odoo:p7","product_id":7,"sku":"X","options":[],"price":"1"}])")}});
    auto in = sh::product_set_input(d, nullptr, cat::Mapping{}, "DRAFT");
    EXPECT_EQ(in["productOptions"], json::parse(R"([{"name":"Title","position":1,"values":[{"name":"Default Title"}]}])"));
    EXPECT_EQ(in["variants"][0]["optionValues"], json::parse(R"([{"optionName":"Title","name":"Default Title"}])"));
}

TEST(CatalogShopify, LimitsAreCheckedBeforeSending) {
    EXPECT_FALSE(sh::check_limits(doc()));
    json four = json::array();
    for (auto n : {"A", "B", "C", "D"}) four.push_back({{"name", n}, {"values", {"x"}}});
    auto d4 = doc({{"options", four},
                   {"variants", json::parse(R"([{"external_id":"e","product_id":1,"sku":"S","options":["x","x","x","x"],"price":"1"}])")}});
    auto e = sh::check_limits(d4);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code, ErrorCode::rejected);
    EXPECT_NE(e->message.find("4 options (A, B, C, D); Shopify allows at most 3"), std::string::npos) << e->message;

    auto many = doc();
    many.variants.resize(sh::kMaxVariants + 1, many.variants[0]);
    e = sh::check_limits(many);
    ASSERT_TRUE(e);
    EXPECT_NE(e->message.find("2049 variants; Shopify allows at most 2048"), std::string::npos) << e->message;
    many.variants[0].active = false;  // archived variants are not sent
    EXPECT_FALSE(sh::check_limits(many));

    auto long_handle = doc({{"handle", std::string(256, 'h')}});
    ASSERT_TRUE(sh::check_limits(long_handle));
    EXPECT_NE(sh::check_limits(long_handle)->message.find("the handle is 256 characters long"), std::string::npos);
    auto long_value = doc();
    long_value.options[0].values[1] = std::string(300, 'v');
    ASSERT_TRUE(sh::check_limits(long_value));
    EXPECT_NE(sh::check_limits(long_value)->message.find("of option Color is 300 characters long"), std::string::npos);
}

TEST(CatalogShopify, CurrencyAndMissingPricesAreSpecific) {
    EXPECT_FALSE(sh::check_currency("EUR", "EUR"));
    auto e = sh::check_currency("USD", "EUR");
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code, ErrorCode::rejected);
    EXPECT_NE(e->message.find("in USD, but the Shopify shop's currency is EUR"), std::string::npos);
    auto d = doc();
    d.variants[1].price.reset();
    ASSERT_TRUE(sh::check_prices(d));
    EXPECT_NE(sh::check_prices(d)->message.find("variant TS-B has no price in EUR"), std::string::npos);
}

TEST(CatalogShopify, UserErrorsNameTheField) {
    auto e = sh::user_errors(json::parse(R"([{"code":"HANDLE_NOT_UNIQUE","field":["input","handle"],
        "message":"Handle 't-shirt' already in use. Please provide a new handle."}])"), doc());
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code, ErrorCode::rejected);
    EXPECT_NE(e->message.find("input.handle: Handle 't-shirt' already in use"), std::string::npos) << e->message;
    EXPECT_NE(e->message.find("change the handle in Odoo"), std::string::npos);
    e = sh::user_errors(json::parse(R"([{"code":"INVALID_VARIANT","field":["input","variants","1","price"],"message":"bad"},
        {"code":"X","field":null,"message":"y"}])"), doc());
    ASSERT_TRUE(e);
    EXPECT_NE(e->message.find("input.variants.1.price: bad (INVALID_VARIANT) and 1 more"), std::string::npos) << e->message;
    EXPECT_FALSE(sh::user_errors(json::array(), doc()));
}

TEST(CatalogShopify, DiffIsEmptyWhenTheShopHasTheDocumentAndNamesChangedFields) {
    auto d = doc();
    d.variants[0].weight.reset();
    d.variants[0].barcode.reset();
    EXPECT_EQ(sh::diff(d, shop_product(), cat::Mapping{}, "DRAFT"), json::object());
    d.variants[0].price = "14.90";
    d.name = "Tee";
    d.variants.push_back(d.variants[1]);
    d.variants[2].sku = "TS-G";
    d.variants[2].external_id = "odoo:p9";
    const auto f = sh::diff(d, shop_product(), cat::Mapping{}, "DRAFT");
    EXPECT_EQ(f["variants[TS-R].price"], (json{{"shop", "12.50"}, {"odoo", "14.90"}}));
    EXPECT_EQ(f["title"], (json{{"shop", "T-Shirt"}, {"odoo", "Tee"}}));
    EXPECT_EQ(f["variants[TS-G]"], (json{{"shop", nullptr}, {"odoo", "new variant"}}));
    EXPECT_EQ(f.size(), 3u) << f.dump();
}

TEST(CatalogShopify, PricesGoByTheMappedVariantIds) {
    cat::Mapping m;
    cat::MapEntry v;
    v.external_id = "odoo:p7";
    v.object = "variant";
    v.remote_id = "gid://shopify/ProductVariant/11";
    m.entries.push_back(v);
    cat::PriceDocument p;
    p.currency = "EUR";
    p.variants.push_back({"odoo:p7", 7, "TS-R", std::string("9.99")});
    auto r = sh::price_update(p, m);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r, json::parse(R"([{"id":"gid://shopify/ProductVariant/11","price":"9.99"}])"));
    p.variants.push_back({"odoo:p8", 8, "TS-B", std::string("1")});
    r = sh::price_update(p, m);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error().code, ErrorCode::not_found);
}

TEST(CatalogShopify, SkuSearchQuotesEverySku) {
    auto d = doc();
    d.variants[1].sku = "A \"B\"";
    EXPECT_EQ(sh::sku_search(d), R"(sku:"TS-R" OR sku:"A \"B\"")");
    d.variants.resize(sh::kSkusPerSearch + 2, d.variants[0]);
    d.variants.back().sku = "LAST";
    EXPECT_EQ(sh::sku_search(d, sh::kSkusPerSearch), R"(sku:"TS-R" OR sku:"LAST")");
}

TEST(CatalogShopify, MapEntriesFromTheShopProduct) {
    const auto e = sh::map_entries(doc(), shop_product(), true);
    ASSERT_EQ(e.size(), 3u);
    EXPECT_EQ(e[0].object, "product");
    EXPECT_EQ(e[0].remote_id, "gid://shopify/Product/1");
    EXPECT_EQ(e[0].handle, "t-shirt");
    EXPECT_TRUE(e[0].adopted);
    EXPECT_EQ(e[2].remote_id, "gid://shopify/ProductVariant/12");
    EXPECT_EQ(e[2].parent_remote_id, "gid://shopify/Product/1");
}

TEST(CatalogShopify, IdentityOfExistingObjectsGoesThroughMetafieldsSetNotTheProductSetList) {
    auto shop = shop_product();
    shop["metafield"] = nullptr;                              // adopted: made by hand
    shop["variants"]["nodes"][1]["metafield"] = nullptr;
    const auto in = sh::product_set_input(doc(), shop, cat::Mapping{}, "DRAFT");
    EXPECT_FALSE(in.contains("metafields"));                  // would delete the product's other metafields
    EXPECT_FALSE(in["variants"][0].contains("metafields"));
    const auto fixes = sh::identity_fixes(doc(), shop, cat::Mapping{});
    ASSERT_EQ(fixes.size(), 2u) << fixes.dump();
    EXPECT_EQ(fixes[0], (json{{"ownerId", "gid://shopify/Product/1"}, {"namespace", "stockrelay"}, {"key", "external_id"},
                              {"type", "single_line_text_field"}, {"value", "odoo:t42"}}));
    EXPECT_EQ(fixes[1]["ownerId"], "gid://shopify/ProductVariant/12");
    EXPECT_EQ(sh::identity_fixes(doc(), shop_product(), cat::Mapping{}), json::array());
}

TEST(CatalogShopify, VariantsLeavingTheDocumentAreUnmapped) {
    cat::Mapping m;
    for (auto id : {"odoo:p7", "odoo:p8", "odoo:p9"}) {
        cat::MapEntry e;
        e.external_id = id;
        e.object = "variant";
        m.entries.push_back(e);
    }
    auto d = doc();
    d.variants[1].active = false;
    EXPECT_EQ(sh::unmapped(d, m), (std::vector<std::string>{"odoo:p8", "odoo:p9"}));
}

TEST(CatalogShopify, VariantsMadeByHandInTheShopProductAreNotDeleted) {
    auto shop = shop_product();
    EXPECT_FALSE(sh::check_foreign_variants(doc(), shop, cat::Mapping{}));
    shop["variants"]["nodes"].push_back(shop_variant("gid://shopify/ProductVariant/13", "HAND-1", "Green", "1", ""));
    auto e = sh::check_foreign_variants(doc(), shop, cat::Mapping{});
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code, ErrorCode::rejected);
    EXPECT_NE(e->message.find("1 variant(s) Odoo does not know (HAND-1)"), std::string::npos) << e->message;
    // One Odoo published earlier (its identity metafield) goes as Odoo removed it.
    shop["variants"]["nodes"][2]["metafield"] = {{"value", "odoo:p99"}};
    EXPECT_FALSE(sh::check_foreign_variants(doc(), shop, cat::Mapping{}));
}
