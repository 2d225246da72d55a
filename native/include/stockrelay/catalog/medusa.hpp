// The pure part of the Medusa 2.x catalogue publisher: request bodies and the
// diff between a document and the product the shop has, kept apart from HTTP
// so unit tests pin them. Shop product JSON is what
// GET /admin/products/:id?fields=<product_fields()> answers.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "stockrelay/catalog/document.hpp"
#include "stockrelay/catalog/publisher.hpp"
#include "stockrelay/error.hpp"

namespace stockrelay::catalog::medusa {

struct StoreContext {
    std::vector<std::string> currencies;  // lower case, as Medusa writes them
    std::string sales_channel_id;         // the channel setting, else the store's default
    std::string shipping_profile_id;      // the channel setting, else the default profile
};

// Lower case: Medusa's currency codes.
std::string lower_currency(std::string code);

// The product's fields a publish reads (one GET per product).
std::string product_fields();

// Errors of the document against this store: the currency is not one of the
// store's; an active variant has no price in it.
std::optional<Error> check_store(const Document& doc, const StoreContext& store);

// POST /admin/products.
nlohmann::json create_body(const Document& doc, const StoreContext& store);
// POST /admin/product-options/:id: the values' ranks in Odoo's order (Medusa
// 2.21 ignores "ranks" inside a product create: observed rank null).
nlohmann::json option_ranks(const Option& option);
// One variant of POST /admin/products (and of variants/batch "create").
nlohmann::json variant_body(const Document& doc, const Variant& v);

// What an update sends: each part empty (null) when nothing changed there.
struct Plan {
    nlohmann::json product = nullptr;   // POST /admin/products/:id
    nlohmann::json options = nullptr;   // POST /admin/products/:id/options/batch
    nlohmann::json variants = nullptr;  // POST /admin/products/:id/variants/batch
    nlohmann::json fields = nlohmann::json::object();  // for previews: {"<field>": {"shop", "odoo"}}
    std::vector<std::string> removed;   // external ids of variants deleted in the shop
    bool empty() const { return product.is_null() && options.is_null() && variants.is_null(); }
};
// `mapping`: the template's map rows (variants mapped earlier are matched by
// remote id, then by metadata.external_id, then by SKU).
Plan diff(const Document& doc, const nlohmann::json& shop, const Mapping& mapping);

// POST /admin/products/:id/variants/batch for a price payload; null when the
// shop already has every price. Fails (ErrorCode::not_found) for a variant
// the shop product does not have.
Result<nlohmann::json> price_update(const PriceDocument& prices, const nlohmann::json& shop, const Mapping& mapping);

// Batches (medusa_batch.cpp). POST /admin/products/batch {"create": [...]}:
// Medusa 2.21 creates all or none (one duplicate SKU refuses the whole batch
// with 400, nothing created) and answers "created" in no particular order.
nlohmann::json batch_create_body(const std::vector<const Document*>& docs, const StoreContext& store);
// The products of a list or batch answer by external_id (then by id).
std::map<std::string, nlohmann::json> by_external_id(const nlohmann::json& products);
std::map<std::string, nlohmann::json> by_id(const nlohmann::json& products);
// After a batch call failed with `e`: true when the items must be retried one
// by one (Medusa answered and refused the batch: one of them is bad), false
// when every item shares the error (no answer, throttled, credentials).
bool retry_items_alone(const Error& e);
// The query string `&sku%5B%5D=..` of every variant of `docs`, and their count.
std::string sku_query(const std::vector<const Document*>& docs, std::size_t& count);

// The map rows for a template after a publish, from the shop's product.
std::vector<MapEntry> map_entries(const Document& doc, const nlohmann::json& shop, bool adopted);

}  // namespace stockrelay::catalog::medusa
