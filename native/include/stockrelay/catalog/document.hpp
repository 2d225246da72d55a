// Catalogue documents (contract v5 [catalogue]): the format-1 product
// document and price payload Odoo writes into stock_relay_outbox.payload,
// parsed and validated before any shop sees them, and their stable hash.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "stockrelay/error.hpp"

namespace stockrelay::catalog {

inline constexpr int kFormat = 1;

struct Option {
    std::string name;
    std::vector<std::string> values;  // Odoo's order
};

struct Variant {
    std::string external_id;
    std::int64_t product_id = 0;
    std::string sku;
    std::optional<std::string> barcode;
    std::optional<double> weight;
    std::string weight_unit = "kg";
    std::vector<std::string> options;  // one value per document option, same order
    std::optional<std::string> price;  // decimal string in the document's currency; nullopt: none
    bool active = true;
};

struct Document {
    std::string external_id;
    std::int64_t template_id = 0;
    std::string name;
    std::string description;
    std::string handle;
    bool active = true;
    std::string currency;  // upper case, as Odoo writes it
    std::vector<Option> options;
    std::vector<Variant> variants;
    std::vector<std::string> images;
    std::string hash;  // document_hash() of the payload
};

struct PriceVariant {
    std::string external_id;
    std::int64_t product_id = 0;
    std::string sku;
    std::optional<std::string> price;
};

struct PriceDocument {
    std::string external_id;
    std::int64_t template_id = 0;
    std::string currency;
    std::vector<PriceVariant> variants;
    std::string hash;
};

// Both fail with ErrorCode::rejected and a message naming the field (e.g.
// "variants[2].options: 1 value(s) for 2 option(s) (Color, Size)").
Result<Document> parse_document(const nlohmann::json& payload);
Result<PriceDocument> parse_prices(const nlohmann::json& payload);

// A decimal price string ("12.50"): digits, an optional fraction, no sign or
// exponent. Returns the amount, or nullopt when the text is not one.
std::optional<double> parse_price(const std::string& text);

// "sha256:<hex>" of the payload's canonical JSON (keys sorted, no spaces):
// the same document always hashes the same, whatever its key order.
std::string document_hash(const nlohmann::json& payload);

// The variant's title in a shop: its option values joined with " / ", or the
// product's name when the document has no options.
std::string variant_title(const Document& doc, const Variant& v);

}  // namespace stockrelay::catalog
