// The WooCommerce catalogue requests and the document/shop diff, without a network.
// Shop JSON has the shape WooCommerce 7.9 answers to GET products/<id> and
// GET products/<id>/variations (shared/specs/woocommerce*).
#include <gtest/gtest.h>

#include "stockrelay/catalog/woo.hpp"

namespace cat = stockrelay::catalog;
namespace wc = stockrelay::catalog::woo;
using json = nlohmann::json;

namespace {

cat::Document doc(const json& patch = json::object()) {
    json d = json::parse(R"({
      "format": 1, "external_id": "odoo:t42", "template_id": 42, "name": "T-Shirt", "description": "Soft",
      "handle": "t-shirt", "active": true, "currency": "EUR",
      "options": [{"name": "Color", "values": ["Red", "Blue"]}],
      "variants": [
        {"external_id": "odoo:p7", "product_id": 7, "sku": "TS-R", "barcode": "4006381333931", "weight": 0.2,
         "options": ["Red"], "price": "12.50"},
        {"external_id": "odoo:p8", "product_id": 8, "sku": "TS-B", "options": ["Blue"], "price": "13.00"}]})");
    d.merge_patch(patch);
    auto r = cat::parse_document(d);
    EXPECT_TRUE(r.ok()) << r.error().message;
    return *r;
}

wc::StoreContext store() { return {"EUR", "kg", wc::kDefaultBarcodeKey}; }

json variation(int id, const std::string& sku, const std::string& color, const std::string& price,
               const std::string& ext, const std::string& barcode = "", const std::string& weight = "") {
    json m = json::array({{{"id", id * 10}, {"key", wc::kExternalIdKey}, {"value", ext}}});
    if (!barcode.empty()) m.push_back({{"id", id * 10 + 1}, {"key", wc::kDefaultBarcodeKey}, {"value", barcode}});
    return {{"id", id}, {"sku", sku}, {"regular_price", price}, {"weight", weight}, {"manage_stock", true},
            {"status", "publish"}, {"attributes", json::array({{{"id", 0}, {"name", "Color"}, {"option", color}}})},
            {"meta_data", m}};
}

wc::ShopProduct shop() {
    wc::ShopProduct s;
    s.product = {{"id", 100}, {"name", "T-Shirt"}, {"description", "Soft"}, {"slug", "t-shirt"}, {"type", "variable"},
                 {"status", "publish"},
                 {"attributes", json::array({{{"id", 0}, {"name", "Color"}, {"position", 0}, {"visible", true},
                                              {"variation", true}, {"options", {"Red", "Blue"}}}})},
                 {"meta_data", json::array({{{"id", 1}, {"key", wc::kExternalIdKey}, {"value", "odoo:t42"}}})}};
    s.variations = json::array({variation(101, "TS-R", "Red", "12.50", "odoo:p7", "4006381333931", "0.2"),
                                variation(102, "TS-B", "Blue", "13.00", "odoo:p8")});
    return s;
}

cat::Mapping mapping() {
    cat::Mapping m;
    m.entries.push_back({"odoo:t42", "product", 42, std::nullopt, "100", "", "t-shirt", "sha256:old", false});
    m.entries.push_back({"odoo:p7", "variant", 42, 7, "101", "100", "", "", false});
    m.entries.push_back({"odoo:p8", "variant", 42, 8, "102", "100", "", "", false});
    return m;
}

}  // namespace

TEST(CatalogWoo, VariableProductBodyHasCustomAttributesInOdooOrderAndTheExternalId) {
    const auto b = wc::product_body(doc(), store());
    EXPECT_EQ(b["type"], "variable");
    EXPECT_EQ(b["status"], "publish");
    EXPECT_EQ(b["slug"], "t-shirt");
    EXPECT_EQ(b["attributes"], json::parse(R"([{"name": "Color", "position": 0, "visible": true, "variation": true,
                                                 "options": ["Red", "Blue"]}])"));
    EXPECT_EQ(b["meta_data"], json::parse(R"([{"key": "_stockrelay_external_id", "value": "odoo:t42"}])"));
    EXPECT_FALSE(b.contains("sku"));  // the variations carry the SKUs
}

TEST(CatalogWoo, VariationBodyCarriesSkuPriceWeightStockAttributesAndBarcodeMeta) {
    const auto d = doc();
    const auto b = wc::variation_body(d, d.variants[0], store());
    EXPECT_EQ(b, json::parse(R"({"sku": "TS-R", "regular_price": "12.50", "weight": "0.2", "manage_stock": true,
        "status": "publish", "attributes": [{"name": "Color", "option": "Red"}],
        "meta_data": [{"key": "_stockrelay_external_id", "value": "odoo:p7"},
                      {"key": "_stockrelay_barcode", "value": "4006381333931"}]})"));
}

TEST(CatalogWoo, WeightIsConvertedToTheStoreUnit) {
    auto st = store();
    st.weight_unit = "g";
    const auto d = doc();
    EXPECT_EQ(wc::variation_body(d, d.variants[0], st)["weight"], "200");
}

TEST(CatalogWoo, DocumentWithoutOptionsIsASimpleProductWithTheVariantsFields) {
    const auto d = doc(json::parse(R"({"options": [], "variants": [
        {"external_id": "odoo:p9", "product_id": 9, "sku": "MUG", "options": [], "price": "4.00"}]})"));
    const auto b = wc::product_body(d, store());
    EXPECT_EQ(b["type"], "simple");
    EXPECT_EQ(b["sku"], "MUG");
    EXPECT_EQ(b["regular_price"], "4.00");
    EXPECT_EQ(b["manage_stock"], true);
    EXPECT_FALSE(b.contains("attributes"));
}

TEST(CatalogWoo, UnchangedShopProductPlansNothing) {
    const auto plan = wc::diff(doc(), shop(), mapping(), store());
    EXPECT_TRUE(plan.empty()) << plan.fields.dump();
}

TEST(CatalogWoo, OnlyChangedFieldsAreSent) {
    auto d = doc();
    d.variants[0].price = "14.90";
    const auto p2 = wc::diff(d, shop(), mapping(), store());
    EXPECT_TRUE(p2.product.is_null());
    EXPECT_EQ(p2.variations, json::parse(R"({"update": [{"id": 101, "regular_price": "14.90"}]})"));
    EXPECT_EQ(p2.fields["variations[TS-R].regular_price"], json::parse(R"({"shop": "12.50", "odoo": "14.90"})"));
}

TEST(CatalogWoo, NewVariantIsCreatedWithTheNewOptionValueOnTheProduct) {
    auto d = doc();
    d.options[0].values.push_back("Green");
    auto v = d.variants[1];
    v.external_id = "odoo:p9";
    v.sku = "TS-G";
    v.options = {"Green"};
    d.variants.push_back(v);
    const auto plan = wc::diff(d, shop(), mapping(), store());
    EXPECT_EQ(plan.product["attributes"][0]["options"], json::parse(R"(["Red", "Blue", "Green"])"));
    EXPECT_EQ(plan.variations["create"].size(), 1u);
    EXPECT_EQ(plan.variations["create"][0]["sku"], "TS-G");
    EXPECT_EQ(plan.created_skus, std::vector<std::string>{"TS-G"});
    EXPECT_FALSE(plan.variations.contains("update"));
}

TEST(CatalogWoo, RemovedVariantIsDeletedInactiveOneIsDisabledHandMadeOneStays) {
    auto s = shop();
    s.variations.push_back({{"id", 103}, {"sku", "HAND"}, {"meta_data", json::array()}});  // made in the shop
    auto d = doc();
    d.variants[1].active = false;  // archived in Odoo: disabled
    auto gone = d;
    gone.variants.pop_back();      // left the document: deleted
    const auto off = wc::diff(d, s, mapping(), store());
    EXPECT_EQ(off.variations, json::parse(R"({"update": [{"id": 102, "status": "private"}]})"));
    const auto del = wc::diff(gone, s, mapping(), store());
    EXPECT_EQ(del.variations, json::parse(R"({"delete": [102]})"));
    EXPECT_EQ(del.removed, std::vector<std::string>{"odoo:p8"});
}

TEST(CatalogWoo, ArchivedDocumentOnlyTurnsTheProductToDraft) {
    const auto plan = wc::diff(doc(json::parse(R"({"active": false})")), shop(), mapping(), store());
    EXPECT_EQ(plan.product, json::parse(R"({"id": 100, "status": "draft"})"));
    EXPECT_TRUE(plan.variations.is_null());
}

TEST(CatalogWoo, AdoptedProductGetsTheExternalIdsByMetaUpdate) {
    auto s = shop();
    s.product["meta_data"] = json::array();
    s.variations[1]["meta_data"] = json::array();
    const auto plan = wc::diff(doc(), s, cat::Mapping{}, store());
    EXPECT_EQ(plan.product["meta_data"], json::parse(R"([{"key": "_stockrelay_external_id", "value": "odoo:t42"}])"));
    EXPECT_EQ(plan.variations["update"][0],
              json::parse(R"({"id": 102, "meta_data": [{"key": "_stockrelay_external_id", "value": "odoo:p8"}]})"));
}

TEST(CatalogWoo, PriceDocumentIsOneVariationsBatchFromTheMapping) {
    cat::PriceDocument p;
    p.external_id = "odoo:t42";
    p.currency = "EUR";
    p.variants = {{"odoo:p7", 7, "TS-R", std::string("14.90")}, {"odoo:p8", 8, "TS-B", std::nullopt}};
    auto up = wc::price_update(p, mapping());
    ASSERT_TRUE(up.ok()) << up.error().message;
    EXPECT_EQ(up->path, "products/100/variations/batch");
    EXPECT_EQ(up->body, json::parse(R"({"update": [{"id": 101, "regular_price": "14.90"}]})"));
    p.variants.push_back({"odoo:p99", 99, "NEW", std::string("1.00")});
    auto missing = wc::price_update(p, mapping());
    ASSERT_FALSE(missing.ok());
    EXPECT_EQ(missing.error().code, stockrelay::ErrorCode::not_found);
}

TEST(CatalogWoo, StoreCurrencyMismatchIsASpecificRowError) {
    auto st = store();
    st.currency = "USD";
    auto e = wc::check_store(doc(), st);
    ASSERT_TRUE(e);
    EXPECT_EQ(e->code, stockrelay::ErrorCode::rejected);
    EXPECT_NE(e->message.find("in EUR, but the WooCommerce store sells in USD"), std::string::npos) << e->message;
}

TEST(CatalogWoo, BatchItemErrorsAreNamedDuplicateSkuOrRejected) {
    const auto dup = wc::item_error(json::parse(R"({"id": 0, "error": {"code": "product_invalid_sku",
        "message": "Invalid or duplicated SKU.", "data": {"status": 400, "resource_id": 12}}})"), "variant TS-G");
    ASSERT_TRUE(dup);
    EXPECT_EQ(dup->code, stockrelay::ErrorCode::duplicate_sku);
    EXPECT_NE(dup->message.find("variant TS-G"), std::string::npos);
    const auto img = wc::item_error(json::parse(R"({"id": 0, "error": {"code": "woocommerce_product_image_upload_error",
        "message": "Error getting remote image", "data": {"status": 400}}})"), "product T");
    ASSERT_TRUE(img);
    EXPECT_EQ(img->code, stockrelay::ErrorCode::rejected);
    EXPECT_FALSE(wc::item_error(json::parse(R"({"id": 5, "sku": "X"})"), "x"));
}

TEST(CatalogWoo, MapRowsNameVariationsAndTheirParent) {
    const auto rows = wc::map_entries(doc(), shop(), cat::Mapping{}, true);
    ASSERT_EQ(rows.size(), 3u);
    EXPECT_EQ(rows[0].remote_id, "100");
    EXPECT_EQ(rows[1].remote_id, "101");
    EXPECT_EQ(rows[1].parent_remote_id, "100");
    EXPECT_TRUE(rows[2].adopted);
}
