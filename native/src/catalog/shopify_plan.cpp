// Shopify catalogue requests, limits and the document/shop diff (pure; see shopify.hpp).
#include <algorithm>
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "stockrelay/catalog/shopify.hpp"

namespace stockrelay::catalog::shopify {
namespace {

using json = nlohmann::json;

std::string str(const json& o, const char* key) {
    auto it = o.find(key);
    return it != o.end() && it->is_string() ? it->get<std::string>() : "";
}

const json& arr(const json& o, const char* key) {
    static const json empty = json::array();
    auto it = o.find(key);
    return it != o.end() && it->is_array() ? *it : empty;
}

json nullable(const std::string& s) { return s.empty() ? json() : json(s); }

// The shop product's variants (a connection's nodes).
const json& shop_variants(const json& shop) {
    static const json empty = json::array();
    if (!shop.is_object() || !shop.contains("variants") || !shop["variants"].is_object()) return empty;
    return arr(shop["variants"], "nodes");
}

std::string metafield(const json& o) {
    auto it = o.find("metafield");
    return it != o.end() && it->is_object() ? str(*it, "value") : "";
}

json id_metafield(const std::string& external_id) {
    return json::array({{{"namespace", kNamespace}, {"key", kKey}, {"type", "single_line_text_field"},
                         {"value", external_id}}});
}

std::string weight_unit(const std::string& unit) {
    if (unit == "g") return "GRAMS";
    if (unit == "lb") return "POUNDS";
    if (unit == "oz") return "OUNCES";
    return "KILOGRAMS";
}

std::vector<Option> effective_options(const Document& doc) {
    if (!doc.options.empty()) return doc.options;
    return {Option{kDefaultOption, {kDefaultValue}}};
}

json option_values(const Document& doc, const Variant& v) {
    json out = json::array();
    if (doc.options.empty()) out.push_back({{"optionName", kDefaultOption}, {"name", kDefaultValue}});
    for (std::size_t i = 0; i < doc.options.size(); ++i)
        out.push_back({{"optionName", doc.options[i].name}, {"name", v.options[i]}});
    return out;
}

// The shop variant a document variant is: mapped id, identity metafield, SKU.
const json* match(const json& shop, const Variant& v, const Mapping& mapping) {
    const auto* m = mapping.variant(v.external_id);
    const auto& vars = shop_variants(shop);
    for (const auto& sv : vars)
        if (m && str(sv, "id") == m->remote_id) return &sv;
    for (const auto& sv : vars)
        if (metafield(sv) == v.external_id) return &sv;
    for (const auto& sv : vars)
        if (str(sv, "sku") == v.sku) return &sv;
    return nullptr;
}

// Identity metafields ride in productSet only on objects it creates: on an
// existing object productSet's `metafields` is a list field that would delete
// the object's other metafields (another app's); those get metafieldsSet.
json variant_input(const Document& doc, const Variant& v, const json* sv) {
    json inv = {{"tracked", true}};
    if (v.weight) inv["measurement"] = {{"weight", {{"value", *v.weight}, {"unit", weight_unit(v.weight_unit)}}}};
    json b = {{"sku", v.sku},
              {"optionValues", option_values(doc, v)},
              {"price", *v.price},
              {"inventoryItem", inv}};
    if (v.barcode) b["barcode"] = *v.barcode;
    if (sv) b["id"] = str(*sv, "id");
    else b["metafields"] = id_metafield(v.external_id);
    return b;
}

std::optional<Error> too_long(const std::string& what, const std::string& value, std::size_t limit) {
    if (value.size() <= limit) return std::nullopt;
    return make_error(ErrorCode::rejected,
                      fmt::format("{} is {} characters long; Shopify allows at most {}: shorten it in Odoo", what,
                                  value.size(), limit));
}

std::optional<Error> check_option_texts(const Document& doc) {
    for (const auto& o : doc.options) {
        if (auto e = too_long(fmt::format("option name \"{}\"", o.name.substr(0, 40)), o.name, kMaxNameLength)) return e;
        for (const auto& v : o.values)
            if (auto e = too_long(fmt::format("the value \"{}...\" of option {}", v.substr(0, 40), o.name), v,
                                  kMaxNameLength))
                return e;
    }
    return std::nullopt;
}

bool same_number(const json& shop, const std::string& odoo) {
    auto a = shop.is_string() ? parse_price(shop.get<std::string>()) : std::nullopt;
    auto b = parse_price(odoo);
    return a && b && std::fabs(*a - *b) < 1e-9;
}

void variant_diff(const Document& doc, const Variant& v, const json& sv, json& fields) {
    const auto label = fmt::format("variants[{}].", v.sku);
    auto change = [&](const std::string& field, const json& shop_value, const json& odoo_value) {
        if (shop_value != odoo_value) fields[label + field] = {{"shop", shop_value}, {"odoo", odoo_value}};
    };
    change("sku", nullable(str(sv, "sku")), v.sku);
    change("barcode", nullable(str(sv, "barcode")), v.barcode ? json(*v.barcode) : json());
    if (!same_number(sv.value("price", json()), *v.price)) change("price", sv.value("price", json()), *v.price);
    json shop_opts = json::object(), odoo_opts = json::object();
    for (const auto& so : arr(sv, "selectedOptions")) shop_opts[str(so, "name")] = str(so, "value");
    for (const auto& o : option_values(doc, v)) odoo_opts[o["optionName"].get<std::string>()] = o["name"];
    change("options", shop_opts, odoo_opts);
    change("metafield.external_id", nullable(metafield(sv)), v.external_id);
    json w;
    if (sv.contains("inventoryItem") && sv["inventoryItem"].is_object()) {
        const auto& item = sv["inventoryItem"];
        if (!item.value("tracked", false)) change("tracked", false, true);
        if (item.contains("measurement") && item["measurement"].is_object() &&
            item["measurement"].contains("weight") && item["measurement"]["weight"].is_object())
            w = item["measurement"]["weight"].value("value", json());
    }
    if (v.weight && !(w.is_number() && std::fabs(w.get<double>() - *v.weight) < 1e-9)) change("weight", w, *v.weight);
}

}  // namespace

std::string product_fields(std::size_t page) {
    return fmt::format(
        "id handle title descriptionHtml status metafield(namespace: \"{0}\", key: \"{1}\") {{ value }} "
        "options {{ name position optionValues {{ name }} }} "
        "variants(first: {2}) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ id sku barcode price "
        "selectedOptions {{ name value }} metafield(namespace: \"{0}\", key: \"{1}\") {{ value }} "
        "inventoryItem {{ tracked measurement {{ weight {{ value unit }} }} }} }} }}",
        kNamespace, kKey, page);
}

std::string shop_query() { return "query StockrelayShop { shop { currencyCode } }"; }

std::string product_query(std::size_t page) {
    return fmt::format("query StockrelayProduct($id: ID!) {{ product(id: $id) {{ {} }} }}", product_fields(page));
}

std::string variants_by_sku_query() {
    return "query StockrelayVariantsBySku($q: String!, $first: Int!) { productVariants(first: $first, query: $q) "
           "{ nodes { id sku product { id } } } }";
}

std::string product_set_mutation(std::size_t page) {
    return fmt::format(
        "mutation StockrelayProductSet($input: ProductSetInput!, $synchronous: Boolean!) {{ "
        "productSet(input: $input, synchronous: $synchronous) {{ product {{ id handle variants(first: {}) {{ "
        "nodes {{ id sku metafield(namespace: \"{}\", key: \"{}\") {{ value }} }} }} }} "
        "userErrors {{ code field message }} }} }}",
        page, kNamespace, kKey);
}

std::string prices_mutation() {
    return "mutation StockrelayPrices($productId: ID!, $variants: [ProductVariantsBulkInput!]!) { "
           "productVariantsBulkUpdate(productId: $productId, variants: $variants) { productVariants { id price } "
           "userErrors { code field message } } }";
}

std::string sku_search(const Document& doc, std::size_t begin) {
    std::string q;
    const auto end = std::min(doc.variants.size(), begin + kSkusPerSearch);
    for (std::size_t i = begin; i < end; ++i) {
        const auto& v = doc.variants[i];
        std::string esc;
        for (char c : v.sku) {
            if (c == '"' || c == '\\') esc += '\\';
            esc += c;
        }
        q += (q.empty() ? "" : " OR ") + fmt::format("sku:\"{}\"", esc);
    }
    return q;
}

std::optional<Error> check_limits(const Document& doc) {
    if (doc.options.size() > kMaxOptions) {
        std::string names;
        for (const auto& o : doc.options) names += (names.empty() ? "" : ", ") + o.name;
        return make_error(ErrorCode::rejected,
                          fmt::format("the product has {} options ({}); Shopify allows at most {}: remove an "
                                      "attribute from the product in Odoo, or split it into several products",
                                      doc.options.size(), names, kMaxOptions));
    }
    std::size_t active = 0;
    for (const auto& v : doc.variants) active += v.active ? 1 : 0;
    if (active > kMaxVariants)
        return make_error(ErrorCode::rejected,
                          fmt::format("the product has {} variants; Shopify allows at most {} per product: archive "
                                      "variants or split the product in Odoo",
                                      active, kMaxVariants));
    if (auto e = too_long("the handle", doc.handle, kMaxHandleLength)) return e;
    return check_option_texts(doc);
}

std::optional<Error> check_currency(const std::string& doc_currency, const std::string& shop_currency) {
    if (shop_currency.empty() || doc_currency == shop_currency) return std::nullopt;
    return make_error(ErrorCode::rejected,
                      fmt::format("the prices are in {}, but the Shopify shop's currency is {}: give the channel a "
                                  "pricelist in {} in Odoo (Shopify converts other currencies itself)",
                                  doc_currency, shop_currency, shop_currency));
}

std::optional<Error> check_prices(const Document& doc) {
    for (const auto& v : doc.variants)
        if (v.active && !v.price)
            return make_error(ErrorCode::rejected,
                              fmt::format("variant {} has no price in {} (the channel's currency): set one in the "
                                          "channel's pricelist, then Retry",
                                          v.sku, doc.currency));
    return std::nullopt;
}

std::string archived_status(const json& settings) {
    return settings.is_object() && settings.value("shopify_archived_status", "") == "ARCHIVED" ? "ARCHIVED" : "DRAFT";
}

json product_set_input(const Document& doc, const json& shop, const Mapping& mapping, const std::string& archived) {
    json options = json::array();
    int pos = 1;
    for (const auto& o : effective_options(doc)) {
        json values = json::array();
        for (const auto& v : o.values) values.push_back({{"name", v}});
        options.push_back({{"name", o.name}, {"position", pos++}, {"values", values}});
    }
    json variants = json::array();
    for (const auto& v : doc.variants)
        if (v.active) variants.push_back(variant_input(doc, v, shop.is_null() ? nullptr : match(shop, v, mapping)));
    json in = {{"title", doc.name}, {"descriptionHtml", doc.description}, {"status", doc.active ? "ACTIVE" : archived}};
    if (doc.active || shop.is_null()) {  // archiving an existing product leaves its variants as they are
        in["productOptions"] = options;
        in["variants"] = variants;
    }
    if (!doc.handle.empty()) in["handle"] = doc.handle;
    if (!shop.is_null()) in["id"] = str(shop, "id");
    else in["metafields"] = id_metafield(doc.external_id);
    return in;
}

json identity_fixes(const Document& doc, const json& shop, const Mapping& mapping) {
    json out = json::array();
    auto add = [&](const std::string& owner, const std::string& value) {
        out.push_back({{"ownerId", owner}, {"namespace", kNamespace}, {"key", kKey},
                       {"type", "single_line_text_field"}, {"value", value}});
    };
    if (shop.is_null()) return out;
    if (metafield(shop) != doc.external_id) add(str(shop, "id"), doc.external_id);
    for (const auto& v : doc.variants)
        if (const json* sv = v.active ? match(shop, v, mapping) : nullptr; sv && metafield(*sv) != v.external_id)
            add(str(*sv, "id"), v.external_id);
    return out;
}

std::optional<Error> check_foreign_variants(const Document& doc, const json& shop, const Mapping& mapping) {
    std::set<std::string> ours;
    for (const auto& e : mapping.entries)
        if (e.object == "variant") ours.insert(e.remote_id);
    for (const auto& v : doc.variants)
        if (const json* sv = match(shop, v, mapping)) ours.insert(str(*sv, "id"));
    std::string foreign;
    int n = 0;
    for (const auto& sv : shop_variants(shop)) {
        if (ours.count(str(sv, "id")) || metafield(sv).rfind(doc.external_id.substr(0, doc.external_id.find(':') + 1), 0) == 0)
            continue;
        if (++n <= 5) foreign += (foreign.empty() ? "" : ", ") + (str(sv, "sku").empty() ? str(sv, "id") : str(sv, "sku"));
    }
    if (!n) return std::nullopt;
    return make_error(ErrorCode::rejected,
                      fmt::format("the Shopify product {} has {} variant(s) Odoo does not know ({}{}); publishing "
                                  "would delete them (productSet sets the whole variant list): add them to the "
                                  "product in Odoo, or delete them in Shopify, then Retry",
                                  str(shop, "id"), n, foreign, n > 5 ? ", ..." : ""));
}

std::string metafields_mutation() {
    return "mutation StockrelayIdentity($metafields: [MetafieldsSetInput!]!) { metafieldsSet(metafields: "
           "$metafields) { metafields { id } userErrors { code field message } } }";
}

std::vector<std::string> unmapped(const Document& doc, const Mapping& mapping) {
    std::set<std::string> active;
    for (const auto& v : doc.variants)
        if (v.active) active.insert(v.external_id);
    std::vector<std::string> out;
    for (const auto& e : mapping.entries)
        if (e.object == "variant" && !active.count(e.external_id)) out.push_back(e.external_id);
    return out;
}

std::optional<Error> user_errors(const json& errors, const Document& doc) {
    if (!errors.is_array() || errors.empty()) return std::nullopt;
    const auto& e = errors[0];
    std::string field;
    for (const auto& f : arr(e, "field")) field += (field.empty() ? "" : ".") + (f.is_string() ? f.get<std::string>() : f.dump());
    const auto code = str(e, "code");
    std::string hint;
    if (code == "HANDLE_NOT_UNIQUE")
        hint = fmt::format(" (another Shopify product has the handle \"{}\": rename one of them, or change the "
                           "handle in Odoo)", doc.handle);
    else if (code == "OPTIONS_OVER_LIMIT" || code == "VARIANTS_OVER_LIMIT" || code == "OPTION_VALUES_OVER_LIMIT")
        hint = " (the shop's limits are lower than Shopify's defaults: reduce the product's attributes in Odoo)";
    auto err = make_error(ErrorCode::rejected, fmt::format("Shopify refused the product: {}: {} ({}){}",
                                                           field.empty() ? "input" : field, str(e, "message"),
                                                           code.empty() ? "no code" : code, hint));
    if (errors.size() > 1) err.message += fmt::format(" and {} more error(s)", errors.size() - 1);
    return err;
}

json diff(const Document& doc, const json& shop, const Mapping& mapping, const std::string& archived) {
    json fields = json::object();
    auto change = [&](const char* field, const json& shop_value, const json& odoo_value) {
        if (shop_value != odoo_value) fields[field] = {{"shop", shop_value}, {"odoo", odoo_value}};
    };
    change("title", nullable(str(shop, "title")), doc.name);
    change("descriptionHtml", nullable(str(shop, "descriptionHtml")), nullable(doc.description));
    change("status", nullable(str(shop, "status")), doc.active ? "ACTIVE" : archived);
    change("metafield.external_id", nullable(metafield(shop)), doc.external_id);
    if (!doc.active) return fields;
    json shop_opts = json::array(), odoo_opts = json::array();
    for (const auto& o : arr(shop, "options")) {
        json vals = json::array();
        for (const auto& v : arr(o, "optionValues")) vals.push_back(str(v, "name"));
        shop_opts.push_back({{"name", str(o, "name")}, {"values", vals}});
    }
    for (const auto& o : effective_options(doc)) odoo_opts.push_back({{"name", o.name}, {"values", o.values}});
    change("options", shop_opts, odoo_opts);
    std::set<std::string> kept;
    for (const auto& v : doc.variants) {
        if (!v.active) continue;
        const json* sv = match(shop, v, mapping);
        if (!sv) {
            fields[fmt::format("variants[{}]", v.sku)] = {{"shop", nullptr}, {"odoo", "new variant"}};
            continue;
        }
        kept.insert(str(*sv, "id"));
        variant_diff(doc, v, *sv, fields);
    }
    for (const auto& sv : shop_variants(shop))
        if (!kept.count(str(sv, "id")))
            fields[fmt::format("variants[{}]", str(sv, "sku"))] = {{"shop", str(sv, "sku")}, {"odoo", "removed"}};
    return fields;
}

Result<json> price_update(const PriceDocument& prices, const Mapping& mapping) {
    json variants = json::array();
    for (const auto& pv : prices.variants) {
        if (!pv.price) continue;
        const auto* m = mapping.variant(pv.external_id);
        if (!m)
            return make_error(ErrorCode::not_found,
                              fmt::format("variant {} ({}) is not in the Shopify product: publish the product again "
                                          "(Sync catalogue)",
                                          pv.sku, pv.external_id));
        variants.push_back({{"id", m->remote_id}, {"price", *pv.price}});
    }
    return variants;
}

std::vector<MapEntry> map_entries(const Document& doc, const json& shop, bool adopted) {
    std::vector<MapEntry> out;
    MapEntry p;
    p.external_id = doc.external_id;
    p.object = "product";
    p.template_id = doc.template_id;
    p.remote_id = str(shop, "id");
    p.handle = str(shop, "handle");
    p.document_hash = doc.hash;
    p.adopted = adopted;
    out.push_back(p);
    Mapping none;
    for (const auto& v : doc.variants) {
        if (!v.active) continue;
        const json* sv = match(shop, v, none);
        if (!sv) continue;
        MapEntry e;
        e.external_id = v.external_id;
        e.object = "variant";
        e.template_id = doc.template_id;
        e.product_id = v.product_id;
        e.remote_id = str(*sv, "id");
        e.parent_remote_id = p.remote_id;
        e.adopted = adopted;
        out.push_back(e);
    }
    return out;
}

}  // namespace stockrelay::catalog::shopify
