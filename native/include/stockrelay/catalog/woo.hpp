// The pure part of the WooCommerce (REST v3, 7.9) catalogue publisher:
// request bodies for products/batch and products/<id>/variations/batch and
// the diff between a document and what the shop has, kept apart from HTTP so
// unit tests pin them. Shop JSON is what GET products/<id> and
// GET products/<id>/variations answer.
//
// A document with options becomes a `variable` product (custom attributes,
// `variation: true`, values in Odoo's order) with one variation per variant;
// without options, a `simple` product carrying the variant's SKU and price.
// Identity: meta_data `_stockrelay_external_id` on product and variations.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "stockrelay/catalog/document.hpp"
#include "stockrelay/catalog/publisher.hpp"
#include "stockrelay/error.hpp"

namespace stockrelay::catalog::woo {

inline constexpr const char* kExternalIdKey = "_stockrelay_external_id";
inline constexpr const char* kDefaultBarcodeKey = "_stockrelay_barcode";

struct StoreContext {
    std::string currency;                        // settings/general woocommerce_currency, upper case
    std::string weight_unit = "kg";              // settings/products woocommerce_weight_unit
    std::string barcode_key = kDefaultBarcodeKey;  // channel setting woo_barcode_meta_key
};

// The shop's side of one product: the product and its variations (empty for a simple product).
struct ShopProduct {
    nlohmann::json product;                                  // null: not in the shop
    nlohmann::json variations = nlohmann::json::array();
};

// Errors of the document against this store: prices in another currency than
// the store's; an active variant without a price.
std::optional<Error> check_store(const Document& doc, const StoreContext& store);

// The variant a document without options publishes as a simple product (the
// first active one, else the first).
const Variant& simple_variant(const Document& doc);

// One item of products/batch "create".
nlohmann::json product_body(const Document& doc, const StoreContext& store);
// One item of products/<id>/variations/batch "create".
nlohmann::json variation_body(const Document& doc, const Variant& v, const StoreContext& store);

// What an update sends: each part null when nothing changed there.
struct Plan {
    nlohmann::json product = nullptr;     // one products/batch "update" item (with its id)
    nlohmann::json variations = nullptr;  // products/<id>/variations/batch body
    nlohmann::json fields = nlohmann::json::object();  // previews: {"<field>": {"shop", "odoo"}}
    std::vector<std::string> created_skus;  // the order of variations.create (to name per-item errors)
    std::vector<std::string> updated_skus;  // the order of variations.update
    std::vector<std::string> removed;       // external ids of variations deleted in the shop
    bool empty() const { return product.is_null() && variations.is_null(); }
};
Plan diff(const Document& doc, const ShopProduct& shop, const Mapping& mapping, const StoreContext& store);

// The body of the one batch call a price document costs, from the mapping
// alone: products/<parent>/variations/batch, or products/batch for a simple
// product. `path` is the batch's path (relative to wc/v3).
struct PriceUpdate {
    std::string path;
    nlohmann::json body;
    std::vector<std::string> skus;  // the order of body.update
};
Result<PriceUpdate> price_update(const PriceDocument& prices, const Mapping& mapping);

// The error of one batch answer item ({"id":..,"error":{code,message,data}}),
// naming `what` (e.g. "variant TS-R"); nullopt when the item landed.
std::optional<Error> item_error(const nlohmann::json& item, const std::string& what);

// The map rows for a template from the shop's product and variations.
std::vector<MapEntry> map_entries(const Document& doc, const ShopProduct& shop, const Mapping& mapping, bool adopted);

}  // namespace stockrelay::catalog::woo
