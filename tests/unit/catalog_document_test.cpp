// The format-1 catalogue document: parsing, specific errors, stable hash.
#include <gtest/gtest.h>

#include "stockrelay/catalog/document.hpp"

namespace cat = stockrelay::catalog;
using json = nlohmann::json;

namespace {

json tshirt() {
    return json::parse(R"({
      "format": 1, "external_id": "odoo:product.template:42", "template_id": 42, "name": "T-Shirt",
      "description": "Soft", "handle": "t-shirt", "active": true, "currency": "EUR",
      "options": [{"name": "Color", "values": ["Red", "Blue"]}, {"name": "Size", "values": ["S", "M"]}],
      "variants": [
        {"external_id": "odoo:product.product:7", "product_id": 7, "sku": "TS-R-S", "barcode": "4006381333931",
         "weight": 0.2, "weight_unit": "kg", "options": ["Red", "S"], "price": "12.50", "active": true},
        {"external_id": "odoo:product.product:8", "product_id": 8, "sku": "TS-B-M", "barcode": null,
         "weight": null, "weight_unit": "kg", "options": ["Blue", "M"], "price": null, "active": true}],
      "images": [{"url": "https://example.com/t.png"}]})");
}

std::string error_of(const json& doc) {
    auto r = cat::parse_document(doc);
    EXPECT_FALSE(r.ok());
    return r.ok() ? "" : r.error().message;
}

}  // namespace

TEST(CatalogDocument, ParsesEveryFieldOfAFormat1Document) {
    auto r = cat::parse_document(tshirt());
    ASSERT_TRUE(r.ok()) << r.error().message;
    const auto& d = *r;
    EXPECT_EQ(d.external_id, "odoo:product.template:42");
    EXPECT_EQ(d.template_id, 42);
    EXPECT_EQ(d.currency, "EUR");
    ASSERT_EQ(d.options.size(), 2u);
    EXPECT_EQ(d.options[0].values, (std::vector<std::string>{"Red", "Blue"}));  // Odoo's order kept
    ASSERT_EQ(d.variants.size(), 2u);
    EXPECT_EQ(d.variants[0].barcode.value_or(""), "4006381333931");
    EXPECT_DOUBLE_EQ(d.variants[0].weight.value_or(-1), 0.2);
    EXPECT_EQ(d.variants[0].price.value_or(""), "12.50");
    EXPECT_FALSE(d.variants[1].price.has_value());
    EXPECT_FALSE(d.variants[1].barcode.has_value());
    EXPECT_EQ(d.images, (std::vector<std::string>{"https://example.com/t.png"}));
    EXPECT_EQ(cat::variant_title(d, d.variants[0]), "Red / S");
}

TEST(CatalogDocument, RejectsAnUnknownFormatNamingIt) {
    auto doc = tshirt();
    doc["format"] = 2;
    EXPECT_NE(error_of(doc).find("unknown document format 2"), std::string::npos);
    doc.erase("format");
    EXPECT_NE(error_of(doc).find("format is missing"), std::string::npos);
    EXPECT_EQ(cat::parse_document(tshirt()).ok(), true);
    EXPECT_EQ(cat::parse_document(json::array()).ok(), false);
}

TEST(CatalogDocument, RejectsAVariantWhoseOptionCountDoesNotMatch) {
    auto doc = tshirt();
    doc["variants"][1]["options"] = {"Blue"};
    const auto e = error_of(doc);
    EXPECT_NE(e.find("variants[1].options: 1 value(s) for 2 option(s) (Color, Size)"), std::string::npos) << e;
    EXPECT_NE(e.find("TS-B-M"), std::string::npos) << e;
}

TEST(CatalogDocument, RejectsAnOptionValueTheOptionDoesNotList) {
    auto doc = tshirt();
    doc["variants"][0]["options"] = {"Green", "S"};
    EXPECT_NE(error_of(doc).find("'Green' is not a value of option 'Color'"), std::string::npos);
}

TEST(CatalogDocument, RejectsADuplicateSkuInOneDocument) {
    auto doc = tshirt();
    doc["variants"][1]["sku"] = "TS-R-S";
    EXPECT_NE(error_of(doc).find("duplicate SKU 'TS-R-S'"), std::string::npos);
}

TEST(CatalogDocument, RejectsBadPriceStrings) {
    for (const json& bad : {json("12,50"), json("-1"), json("1e3"), json(12.5), json("12."), json("")}) {
        auto doc = tshirt();
        doc["variants"][0]["price"] = bad;
        EXPECT_NE(error_of(doc).find("variants[0].price must be a decimal string"), std::string::npos) << bad.dump();
    }
    EXPECT_EQ(cat::parse_price("12.50").value_or(-1), 12.5);
    EXPECT_EQ(cat::parse_price("0").value_or(-1), 0.0);
    EXPECT_FALSE(cat::parse_price(".5").has_value());
}

TEST(CatalogDocument, RejectsAMissingSkuAndABadCurrency) {
    auto doc = tshirt();
    doc["variants"][0]["sku"] = "";
    EXPECT_NE(error_of(doc).find("variants[0].sku is empty"), std::string::npos);
    doc = tshirt();
    doc["currency"] = "EURO";
    EXPECT_NE(error_of(doc).find("not an ISO 4217 code"), std::string::npos);
    doc = tshirt();
    doc["images"] = {{{"url", "file:///etc/passwd"}}};
    EXPECT_NE(error_of(doc).find("public http(s) URL"), std::string::npos);
}

TEST(CatalogDocument, HashIsStableAcrossKeyOrderAndChangesWithContent) {
    const auto a = cat::document_hash(tshirt());
    const auto reordered = json::parse(R"({"b": 1, "a": [1, 2]})");
    const auto same = json::parse(R"({"a": [1, 2], "b": 1})");
    EXPECT_EQ(cat::document_hash(reordered), cat::document_hash(same));
    EXPECT_EQ(a.rfind("sha256:", 0), 0u);
    EXPECT_EQ(a.size(), 7u + 64u);
    auto changed = tshirt();
    changed["variants"][0]["price"] = "12.51";
    EXPECT_NE(cat::document_hash(changed), a);
    EXPECT_EQ(cat::parse_document(tshirt())->hash, a);
}

TEST(CatalogDocument, ParsesAPricePayloadAndRejectsItsErrors) {
    auto p = json::parse(R"({"format": 1, "external_id": "x", "template_id": 42, "currency": "eur",
        "variants": [{"external_id": "v7", "product_id": 7, "sku": "TS-R-S", "price": "9.99"}]})");
    auto r = cat::parse_prices(p);
    ASSERT_TRUE(r.ok()) << r.error().message;
    EXPECT_EQ(r->currency, "EUR");
    EXPECT_EQ(r->variants[0].price.value_or(""), "9.99");
    p["variants"][0]["price"] = "abc";
    EXPECT_FALSE(cat::parse_prices(p).ok());
    p["variants"][0]["price"] = "1";
    p["variants"].push_back(p["variants"][0]);
    auto dup = cat::parse_prices(p);
    ASSERT_FALSE(dup.ok());
    EXPECT_NE(dup.error().message.find("duplicate SKU"), std::string::npos);
}
