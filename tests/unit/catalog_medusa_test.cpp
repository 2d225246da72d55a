// The Medusa catalogue requests and the document/shop diff, without a network.
// Shop JSON here has the shape a real Medusa 2.21 answers to
// GET /admin/products/:id?fields=<product_fields()> (observed).
#include <gtest/gtest.h>

#include "stockrelay/catalog/medusa.hpp"

namespace cat = stockrelay::catalog;
namespace md = stockrelay::catalog::medusa;
using json = nlohmann::json;

namespace {

cat::Document doc(const json& patch = json::object()) {
    json d = json::parse(R"({
      "format": 1, "external_id": "odoo:t42", "template_id": 42, "name": "T-Shirt", "description": "Soft",
      "handle": "t-shirt", "active": true, "currency": "EUR",
      "options": [{"name": "Color", "values": ["Red", "Blue"]}],
      "variants": [
        {"external_id": "odoo:p7", "product_id": 7, "sku": "TS-R", "barcode": "123", "weight": 0.2,
         "options": ["Red"], "price": "12.50"},
        {"external_id": "odoo:p8", "product_id": 8, "sku": "TS-B", "options": ["Blue"], "price": "13.00"}]})");
    d.merge_patch(patch);
    auto r = cat::parse_document(d);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return *r;
}

json shop_variant(const std::string& id, const std::string& sku, const std::string& color, double amount,
                  const std::string& ext) {
    return {{"id", id}, {"sku", sku}, {"title", color}, {"barcode", sku == "TS-R" ? json("123") : json()},
            {"weight", sku == "TS-R" ? json(0.2) : json()}, {"metadata", {{"external_id", ext}}},
            {"options", json::array({{{"value", color}, {"option", {{"title", "Color"}}}}})},
            {"prices", json::array({{{"id", "price_" + sku}, {"currency_code", "eur"}, {"amount", amount}},
                                    {{"id", "price_usd_" + sku}, {"currency_code", "usd"}, {"amount", 99}}})}};
}

json shop_product() {
    return {{"id", "prod_1"}, {"title", "T-Shirt"}, {"description", "Soft"}, {"handle", "t-shirt"},
            {"status", "published"}, {"external_id", "odoo:t42"}, {"metadata", {{"external_id", "odoo:t42"}}},
            {"options", json::array({{{"id", "opt_1"}, {"title", "Color"},
                                      {"values", json::array({{{"value", "Red"}}, {{"value", "Blue"}}})}}})},
            {"variants", json::array({shop_variant("var_r", "TS-R", "Red", 12.5, "odoo:p7"),
                                      shop_variant("var_b", "TS-B", "Blue", 13, "odoo:p8")})}};
}

md::StoreContext store() { return {{"eur", "usd"}, "sc_1", "sp_1"}; }

}  // namespace

TEST(CatalogMedusa, CreateBodyCarriesOptionsInOdooOrderVariantsPricesAndExternalIds) {
    const auto b = md::create_body(doc(), store());
    EXPECT_EQ(b["title"], "T-Shirt");
    EXPECT_EQ(b["status"], "published");
    EXPECT_EQ(b["handle"], "t-shirt");
    EXPECT_EQ(b["external_id"], "odoo:t42");
    EXPECT_EQ(b["metadata"]["external_id"], "odoo:t42");
    EXPECT_EQ(b["sales_channels"], json::parse(R"([{"id": "sc_1"}])"));
    EXPECT_EQ(b["shipping_profile_id"], "sp_1");
    EXPECT_EQ(b["options"][0]["values"], json::parse(R"(["Red", "Blue"])"));
    EXPECT_EQ(b["options"][0]["ranks"], json::parse(R"({"Red": 0, "Blue": 1})"));
    const auto& v = b["variants"][0];
    EXPECT_EQ(v["sku"], "TS-R");
    EXPECT_EQ(v["barcode"], "123");
    EXPECT_EQ(v["weight"], 0.2);
    EXPECT_EQ(v["manage_inventory"], true);
    EXPECT_EQ(v["options"], json::parse(R"({"Color": "Red"})"));
    EXPECT_EQ(v["prices"], json::parse(R"([{"currency_code": "eur", "amount": 12.5}])"));
    EXPECT_EQ(v["metadata"]["external_id"], "odoo:p7");
    EXPECT_FALSE(b["variants"][1].contains("barcode"));
}

TEST(CatalogMedusa, ADocumentWithoutOptionsGetsMedusasDefaultOption) {
    json raw = json::parse(R"({"format": 1, "external_id": "x", "template_id": 1, "name": "Mug", "currency": "EUR",
        "variants": [{"external_id": "v", "product_id": 1, "sku": "MUG", "price": "5"}]})");
    auto mug = cat::parse_document(raw);
    ASSERT_TRUE(mug.ok()) << mug.error().message;
    const auto b = md::create_body(*mug, store());
    EXPECT_EQ(b["options"][0]["title"], "Default option");
    EXPECT_EQ(b["variants"][0]["options"], json::parse(R"({"Default option": "Default option value"})"));
    EXPECT_EQ(b["variants"][0]["title"], "Mug");
}

TEST(CatalogMedusa, StoreCheckNamesAMissingCurrencyAndAMissingPrice) {
    md::StoreContext usd_only{{"usd"}, "", ""};
    auto e = md::check_store(doc(), usd_only);
    ASSERT_TRUE(e.has_value());
    EXPECT_NE(e->message.find("in EUR, which the Medusa store does not have (it has: usd)"), std::string::npos);
    auto no_price = doc(json::parse(R"({"variants": [{"external_id": "odoo:p7", "product_id": 7, "sku": "TS-R",
        "options": ["Red"], "price": null}]})"));
    e = md::check_store(no_price, store());
    ASSERT_TRUE(e.has_value());
    EXPECT_NE(e->message.find("variant TS-R has no price in EUR"), std::string::npos);
    EXPECT_FALSE(md::check_store(doc(), store()).has_value());
}

TEST(CatalogMedusa, AnUnchangedProductDiffsToNothing) {
    const auto plan = md::diff(doc(), shop_product(), {});
    EXPECT_TRUE(plan.empty()) << plan.fields.dump();
    EXPECT_TRUE(plan.fields.empty());
}

TEST(CatalogMedusa, APriceChangeSendsOnlyThatVariantsPricesKeepingOtherCurrencies) {
    auto d = doc(json::parse(R"({"variants": [
        {"external_id": "odoo:p7", "product_id": 7, "sku": "TS-R", "barcode": "123", "weight": 0.2,
         "options": ["Red"], "price": "14.00"},
        {"external_id": "odoo:p8", "product_id": 8, "sku": "TS-B", "options": ["Blue"], "price": "13.00"}]})"));
    const auto plan = md::diff(d, shop_product(), {});
    EXPECT_TRUE(plan.product.is_null());
    EXPECT_TRUE(plan.options.is_null());
    ASSERT_FALSE(plan.variants.is_null());
    EXPECT_FALSE(plan.variants.contains("create"));
    ASSERT_EQ(plan.variants["update"].size(), 1u);
    const auto& up = plan.variants["update"][0];
    EXPECT_EQ(up["id"], "var_r");
    EXPECT_EQ(up.size(), 2u) << up.dump();  // id and prices only
    EXPECT_EQ(up["prices"], json::parse(R"([{"id": "price_TS-R", "currency_code": "eur", "amount": 14.0},
                                            {"id": "price_usd_TS-R", "currency_code": "usd", "amount": 99}])"));
    EXPECT_EQ(plan.fields["variants[TS-R].price"]["odoo"], "14.00");
}

TEST(CatalogMedusa, ANewVariantAddsItsOptionValueAndIsCreated) {
    json d = json::parse(R"({
      "format": 1, "external_id": "odoo:t42", "template_id": 42, "name": "T-Shirt", "description": "Soft",
      "active": true, "currency": "EUR", "options": [{"name": "Color", "values": ["Red", "Blue", "Green"]}],
      "variants": [
        {"external_id": "odoo:p7", "product_id": 7, "sku": "TS-R", "barcode": "123", "weight": 0.2, "options": ["Red"], "price": "12.50"},
        {"external_id": "odoo:p8", "product_id": 8, "sku": "TS-B", "options": ["Blue"], "price": "13.00"},
        {"external_id": "odoo:p9", "product_id": 9, "sku": "TS-G", "options": ["Green"], "price": "11"}]})");
    const auto plan = md::diff(*cat::parse_document(d), shop_product(), {});
    EXPECT_EQ(plan.options, json::parse(R"({"update": [{"product_option_id": "opt_1", "add": [{"value": "Green"}]}]})"));
    ASSERT_EQ(plan.variants["create"].size(), 1u);
    EXPECT_EQ(plan.variants["create"][0]["sku"], "TS-G");
    EXPECT_FALSE(plan.variants.contains("update"));
    EXPECT_TRUE(plan.product.is_null());
}

TEST(CatalogMedusa, AVariantGoneFromOdooIsDeletedButAHandMadeOneStays) {
    auto shop = shop_product();
    shop["variants"].push_back(shop_variant("var_hand", "HAND-1", "Red", 1, ""));
    auto d = doc(json::parse(R"({"variants": [{"external_id": "odoo:p7", "product_id": 7, "sku": "TS-R",
        "barcode": "123", "weight": 0.2, "options": ["Red"], "price": "12.50"}]})"));
    cat::Mapping m;
    m.entries.push_back({"odoo:p8", "variant", 42, 8, "var_b", "prod_1", "", "", false});
    const auto plan = md::diff(d, shop, m);
    EXPECT_EQ(plan.variants, json::parse(R"({"delete": ["var_b"]})"));
    EXPECT_EQ(plan.removed, std::vector<std::string>{"odoo:p8"});
}

TEST(CatalogMedusa, ArchivingSetsDraftAndTouchesNoVariant) {
    auto d = doc(json::parse(R"({"active": false})"));
    const auto plan = md::diff(d, shop_product(), {});
    EXPECT_EQ(plan.product, json::parse(R"({"status": "draft"})"));
    EXPECT_TRUE(plan.variants.is_null());
    EXPECT_EQ(plan.fields["status"], json::parse(R"({"shop": "published", "odoo": "draft"})"));
}

TEST(CatalogMedusa, AnAdoptedHandMadeProductGetsItsExternalIdsAndOnlyChangedFields) {
    auto shop = shop_product();
    shop["external_id"] = nullptr;
    shop["metadata"] = {{"color_note", "kept"}};
    shop["title"] = "Tee (hand made)";
    for (auto& v : shop["variants"]) v["metadata"] = nullptr;
    const auto plan = md::diff(doc(), shop, {});
    EXPECT_EQ(plan.product["title"], "T-Shirt");
    EXPECT_EQ(plan.product["external_id"], "odoo:t42");
    EXPECT_EQ(plan.product["metadata"], json::parse(R"({"color_note": "kept", "external_id": "odoo:t42"})"));
    EXPECT_FALSE(plan.product.contains("description"));
    ASSERT_EQ(plan.variants["update"].size(), 2u);
    EXPECT_EQ(plan.variants["update"][0], json::parse(R"({"id": "var_r", "metadata": {"external_id": "odoo:p7"}})"));
    const auto entries = md::map_entries(doc(), shop, true);
    ASSERT_EQ(entries.size(), 3u);
    EXPECT_TRUE(entries[0].adopted);
    EXPECT_EQ(entries[1].remote_id, "var_r");
    EXPECT_EQ(entries[1].parent_remote_id, "prod_1");
}

TEST(CatalogMedusa, PriceUpdateSkipsUnchangedPricesAndFailsOnAnUnknownVariant) {
    auto p = cat::parse_prices(json::parse(R"({"format": 1, "external_id": "odoo:t42", "template_id": 42,
        "currency": "EUR", "variants": [{"external_id": "odoo:p7", "product_id": 7, "sku": "TS-R", "price": "12.50"},
                                        {"external_id": "odoo:p8", "product_id": 8, "sku": "TS-B", "price": "15"}]})"));
    ASSERT_TRUE(p.ok());
    auto body = md::price_update(*p, shop_product(), {});
    ASSERT_TRUE(body.ok());
    ASSERT_EQ((*body)["update"].size(), 1u);
    EXPECT_EQ((*body)["update"][0]["id"], "var_b");
    auto unknown = cat::parse_prices(json::parse(R"({"format": 1, "external_id": "odoo:t42", "template_id": 42,
        "currency": "EUR", "variants": [{"external_id": "odoo:p99", "product_id": 99, "sku": "NOPE", "price": "1"}]})"));
    auto r = md::price_update(*unknown, shop_product(), {});
    ASSERT_FALSE(r.ok());
    EXPECT_NE(r.error().message.find("NOPE"), std::string::npos);
}
