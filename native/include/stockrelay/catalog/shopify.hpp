// The pure part of the Shopify catalogue publisher: the productSet input,
// Shopify's limits checked before anything is sent, the productSet userErrors
// made specific, the document/shop diff of a preview, and the map rows; kept
// apart from HTTP so unit tests pin them. Shop product JSON is what
// product_query() answers (product_fields()).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "stockrelay/catalog/document.hpp"
#include "stockrelay/catalog/publisher.hpp"
#include "stockrelay/error.hpp"

namespace stockrelay::catalog::shopify {

// Shopify's limits (the pinned schemas' productSet description: "By default,
// stores have a limit of 2048 product variants for each product"; 3 options;
// 255 characters for an option name, an option value and a handle).
inline constexpr std::size_t kMaxOptions = 3;
inline constexpr std::size_t kMaxVariants = 2048;
inline constexpr std::size_t kMaxNameLength = 255;
inline constexpr std::size_t kMaxHandleLength = 255;
// The identity metafield on products and variants.
inline constexpr const char* kNamespace = "stockrelay";
inline constexpr const char* kKey = "external_id";
// A document without options: Shopify's own default option.
inline constexpr const char* kDefaultOption = "Title";
inline constexpr const char* kDefaultValue = "Default Title";

// The product's fields a publish reads; `variants` is a connection page.
std::string product_fields(std::size_t variants_page);
// Queries and mutations (operation names: StockrelayShop, StockrelayProduct,
// StockrelayVariantsBySku, StockrelayProductSet, StockrelayPrices).
std::string shop_query();
std::string product_query(std::size_t variants_page);
std::string variants_by_sku_query();
std::string product_set_mutation(std::size_t variants_page);
std::string prices_mutation();

// "sku:\"A\" OR sku:\"B\"" for productVariants(query:), over the variants
// [begin, begin + kSkusPerSearch) so a big product's search stays short.
inline constexpr std::size_t kSkusPerSearch = 50;
std::string sku_search(const Document& doc, std::size_t begin = 0);

// Shopify's limits and the shop's currency, before any call: rejected with
// the number, the limit and what to change in Odoo.
std::optional<Error> check_limits(const Document& doc);
std::optional<Error> check_currency(const std::string& doc_currency, const std::string& shop_currency);
std::optional<Error> check_prices(const Document& doc);

// archived → "DRAFT" unless the channel asks for "ARCHIVED".
std::string archived_status(const nlohmann::json& settings);

// ProductSetInput for `doc`. `shop`: the product Shopify has (null when
// creating): its variants matched by mapping, metafield, then SKU keep their ids.
nlohmann::json product_set_input(const Document& doc, const nlohmann::json& shop, const Mapping& mapping,
                                 const std::string& archived);

// metafieldsSet inputs ({ownerId, namespace, key, type, value}) for the
// existing objects of `shop` (taken before the productSet) that lack their
// identity metafield: productSet sets it only on what it creates, since its
// list field would delete an existing object's other metafields.
nlohmann::json identity_fixes(const Document& doc, const nlohmann::json& shop, const Mapping& mapping);
std::string metafields_mutation();  // StockrelayIdentity; at most 25 metafields a call
inline constexpr std::size_t kMetafieldsPerCall = 25;

// A shop product's variants that are not Odoo's (not mapped, not matched by
// SKU or identity metafield: made by hand): rejected, since productSet would
// delete them; the message names their SKUs.
std::optional<Error> check_foreign_variants(const Document& doc, const nlohmann::json& shop, const Mapping& mapping);

// External ids of mapped variants a productSet of `doc` removes from the shop.
std::vector<std::string> unmapped(const Document& doc, const Mapping& mapping);

// productSet's userErrors as one specific error naming the field, or nullopt.
std::optional<Error> user_errors(const nlohmann::json& errors, const Document& doc);

// {"<field>": {"shop": .., "odoo": ..}} of what a productSet would change.
nlohmann::json diff(const Document& doc, const nlohmann::json& shop, const Mapping& mapping,
                    const std::string& archived);

// productVariantsBulkUpdate variables for a price payload. Fails
// (ErrorCode::not_found) for a variant the map does not have.
Result<nlohmann::json> price_update(const PriceDocument& prices, const Mapping& mapping);

// The map rows for a template after a publish, from the shop's product.
std::vector<MapEntry> map_entries(const Document& doc, const nlohmann::json& shop, bool adopted);

}  // namespace stockrelay::catalog::shopify

namespace stockrelay::catalog {
// The Shopify publisher (make_publisher's "shopify" case); borrows `channel`.
std::unique_ptr<Publisher> make_shopify_publisher(channels::Channel& channel, const channels::Config& config);
}  // namespace stockrelay::catalog
