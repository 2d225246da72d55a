// WooCommerce catalogue requests and the document/shop diff (pure; see woo.hpp).
#include <cmath>
#include <set>

#include <fmt/format.h>

#include "stockrelay/catalog/woo.hpp"

namespace stockrelay::catalog::woo {
namespace {

using json = nlohmann::json;

std::string str(const json& o, const char* key) {
    auto it = o.find(key);
    if (it == o.end()) return "";
    if (it->is_string()) return it->get<std::string>();
    if (it->is_number_integer()) return std::to_string(it->get<std::int64_t>());
    return "";
}

const json& arr(const json& o, const char* key) {
    static const json empty = json::array();
    auto it = o.find(key);
    return it != o.end() && it->is_array() ? *it : empty;
}

std::string meta(const json& o, const std::string& key) {
    for (const auto& m : arr(o, "meta_data"))
        if (m.is_object() && m.value("key", "") == key) return str(m, "value");
    return "";
}

// Kilograms per unit of WooCommerce's weight units.
double per_kg(const std::string& unit) {
    if (unit == "g") return 0.001;
    if (unit == "lbs" || unit == "lb") return 0.45359237;
    if (unit == "oz") return 0.028349523125;
    return 1.0;
}

// The variant's weight in the store's unit, as WooCommerce stores it (a decimal string).
std::string weight_text(const Variant& v, const StoreContext& store) {
    if (!v.weight) return "";
    const double w = *v.weight * per_kg(v.weight_unit) / per_kg(store.weight_unit);
    return fmt::format("{}", std::round(w * 1e6) / 1e6);
}

bool same_number(const std::string& a, const std::string& b) {
    if (a == b) return true;
    const auto x = parse_price(a), y = parse_price(b);
    return x && y && std::fabs(*x - *y) < 1e-9;
}

json attributes(const Document& doc) {
    json out = json::array();
    for (std::size_t i = 0; i < doc.options.size(); ++i)
        out.push_back({{"name", doc.options[i].name}, {"position", static_cast<int>(i)}, {"visible", true},
                       {"variation", true}, {"options", doc.options[i].values}});
    return out;
}

// [{name, options, variation}] of the shop's product, to compare with Odoo's.
json shop_attributes(const json& p) {
    json out = json::array();
    for (const auto& a : arr(p, "attributes"))
        out.push_back({{"name", str(a, "name")}, {"options", arr(a, "options")},
                       {"variation", a.contains("variation") && a["variation"].is_boolean() && a["variation"].get<bool>()}});
    return out;
}

json odoo_attributes(const Document& doc) {
    json out = json::array();
    for (const auto& o : doc.options) out.push_back({{"name", o.name}, {"options", o.values}, {"variation", true}});
    return out;
}

json variation_attributes(const Document& doc, const Variant& v) {
    json out = json::array();
    for (std::size_t i = 0; i < doc.options.size(); ++i)
        out.push_back({{"name", doc.options[i].name}, {"option", v.options[i]}});
    return out;
}

json shop_variation_attributes(const json& sv) {
    json out = json::array();
    for (const auto& a : arr(sv, "attributes")) out.push_back({{"name", str(a, "name")}, {"option", str(a, "option")}});
    return out;
}

json variant_meta(const Variant& v, const StoreContext& store) {
    json m = json::array({{{"key", kExternalIdKey}, {"value", v.external_id}}});
    if (v.barcode) m.push_back({{"key", store.barcode_key}, {"value", *v.barcode}});
    return m;
}

// The variant's own fields (a variation's, or a simple product's).
json variant_fields(const Variant& v, const StoreContext& store) {
    json b = {{"sku", v.sku}, {"manage_stock", true}};
    if (v.price) b["regular_price"] = *v.price;
    if (v.weight) b["weight"] = weight_text(v, store);
    return b;
}

// The fields of a shop variation (or simple product) that differ from the
// variant: {"field": value to send}; labels name them in previews.
// `external_id`: what kExternalIdKey holds (the variant's; a simple product's is the template's).
json variant_changes(const Document& doc, const Variant& v, const json& sv, const StoreContext& store,
                     const std::string& label, const std::string& external_id, bool variation, Plan& plan) {
    json up = json::object();
    auto change = [&](const std::string& field, const json& shop_value, const json& odoo_value) {
        up[field] = odoo_value;
        plan.fields[label + field] = {{"shop", shop_value}, {"odoo", odoo_value}};
    };
    if (str(sv, "sku") != v.sku) change("sku", str(sv, "sku"), v.sku);
    if (v.price && !same_number(str(sv, "regular_price"), *v.price))
        change("regular_price", str(sv, "regular_price"), *v.price);
    if (v.weight && !same_number(str(sv, "weight"), weight_text(v, store)))
        change("weight", str(sv, "weight"), weight_text(v, store));
    const auto ms = sv.find("manage_stock");  // a variation may answer "parent"
    if (ms == sv.end() || !ms->is_boolean() || !ms->get<bool>())
        change("manage_stock", ms == sv.end() ? json() : *ms, true);
    if (variation) {
        const auto status = v.active ? "publish" : "private";
        if (str(sv, "status") != status) change("status", str(sv, "status"), status);
        if (shop_variation_attributes(sv) != variation_attributes(doc, v))
            change("attributes", shop_variation_attributes(sv), variation_attributes(doc, v));
    }
    json m = json::array();
    if (meta(sv, kExternalIdKey) != external_id) {
        m.push_back({{"key", kExternalIdKey}, {"value", external_id}});
        plan.fields[label + "meta." + kExternalIdKey] = {{"shop", meta(sv, kExternalIdKey)}, {"odoo", external_id}};
    }
    const std::string barcode = v.barcode.value_or("");
    if (meta(sv, store.barcode_key) != barcode) {
        m.push_back({{"key", store.barcode_key}, {"value", barcode}});
        plan.fields[label + "barcode"] = {{"shop", meta(sv, store.barcode_key)}, {"odoo", barcode}};
    }
    if (!m.empty()) up["meta_data"] = m;
    return up;
}

// The shop variation a document variant is: mapped id, meta external id, SKU.
const json* match(const ShopProduct& shop, const Variant& v, const Mapping& mapping) {
    const auto* m = mapping.variant(v.external_id);
    for (const auto& sv : shop.variations)
        if (m && str(sv, "id") == m->remote_id) return &sv;
    for (const auto& sv : shop.variations)
        if (meta(sv, kExternalIdKey) == v.external_id) return &sv;
    for (const auto& sv : shop.variations)
        if (!v.sku.empty() && str(sv, "sku") == v.sku) return &sv;
    return nullptr;
}

void product_changes(const Document& doc, const ShopProduct& shop, const StoreContext& store, Plan& plan) {
    const json& p = shop.product;
    json up = json::object();
    auto change = [&](const std::string& field, const json& shop_value, const json& odoo_value) {
        up[field] = odoo_value;
        plan.fields[field] = {{"shop", shop_value}, {"odoo", odoo_value}};
    };
    const bool variable = !doc.options.empty();
    if (str(p, "name") != doc.name) change("name", str(p, "name"), doc.name);
    if (str(p, "description") != doc.description) change("description", str(p, "description"), doc.description);
    const auto status = doc.active ? "publish" : "draft";
    if (str(p, "status") != status) change("status", str(p, "status"), status);
    if (doc.active) {  // an archived product keeps the rest as it is
        const auto type = variable ? "variable" : "simple";
        if (str(p, "type") != type) change("type", str(p, "type"), type);
        if (variable && shop_attributes(p) != odoo_attributes(doc))
            change("attributes", shop_attributes(p), attributes(doc));
    }
    if (!variable && doc.active) {
        up.update(variant_changes(doc, simple_variant(doc), p, store, "", doc.external_id, false, plan));
    } else if (meta(p, kExternalIdKey) != doc.external_id) {
        up["meta_data"] = json::array({{{"key", kExternalIdKey}, {"value", doc.external_id}}});
        plan.fields[std::string("meta.") + kExternalIdKey] = {{"shop", meta(p, kExternalIdKey)}, {"odoo", doc.external_id}};
    }
    if (!up.empty()) {
        up["id"] = p.at("id");
        plan.product = up;
    }
}

void variation_changes(const Document& doc, const ShopProduct& shop, const Mapping& mapping,
                       const StoreContext& store, Plan& plan) {
    json create = json::array(), update = json::array(), remove = json::array();
    std::set<std::string> kept, ours;
    for (const auto& e : mapping.entries)
        if (e.object == "variant") ours.insert(e.remote_id);
    for (const auto& v : doc.variants) {
        const json* sv = match(shop, v, mapping);
        if (!sv) {
            if (!v.active) continue;  // archived in Odoo, never published
            create.push_back(variation_body(doc, v, store));
            plan.created_skus.push_back(v.sku);
            plan.fields[fmt::format("variations[{}]", v.sku)] = {{"shop", nullptr}, {"odoo", "new variation"}};
            continue;
        }
        kept.insert(str(*sv, "id"));
        ours.insert(str(*sv, "id"));
        auto up = variant_changes(doc, v, *sv, store, fmt::format("variations[{}].", v.sku), v.external_id, true, plan);
        if (up.empty()) continue;
        up["id"] = sv->at("id");
        update.push_back(up);
        plan.updated_skus.push_back(v.sku);
    }
    // Variations that were Odoo's and left the document go; those made by hand stay.
    for (const auto& sv : shop.variations) {
        const auto id = str(sv, "id");
        if (kept.count(id) || (!ours.count(id) && meta(sv, kExternalIdKey).empty())) continue;
        remove.push_back(sv.at("id"));
        plan.removed.push_back(meta(sv, kExternalIdKey));
        plan.fields[fmt::format("variations[{}]", str(sv, "sku"))] = {{"shop", str(sv, "sku")}, {"odoo", "removed"}};
    }
    json body = json::object();
    if (!create.empty()) body["create"] = create;
    if (!update.empty()) body["update"] = update;
    if (!remove.empty()) body["delete"] = remove;
    if (!body.empty()) plan.variations = body;
}

}  // namespace

std::optional<Error> check_store(const Document& doc, const StoreContext& store) {
    if (doc.currency != store.currency)
        return make_error(ErrorCode::rejected,
                          fmt::format("the document's prices are in {}, but the WooCommerce store sells in {} "
                                      "(WooCommerce > Settings > General > Currency): give the channel a pricelist "
                                      "in {}, or change the store's currency",
                                      doc.currency, store.currency.empty() ? "an unknown currency" : store.currency,
                                      store.currency));
    for (const auto& v : doc.variants)
        if (v.active && !v.price)
            return make_error(ErrorCode::rejected,
                              fmt::format("variant {} has no price in {} (the channel's currency): set one in the "
                                          "channel's pricelist, then Retry",
                                          v.sku, doc.currency));
    return std::nullopt;
}

const Variant& simple_variant(const Document& doc) {
    for (const auto& v : doc.variants)
        if (v.active) return v;
    return doc.variants.front();
}

json product_body(const Document& doc, const StoreContext& store) {
    json b = {{"name", doc.name},
              {"type", doc.options.empty() ? "simple" : "variable"},
              {"status", doc.active ? "publish" : "draft"},
              {"description", doc.description},
              {"meta_data", json::array({{{"key", kExternalIdKey}, {"value", doc.external_id}}})}};
    if (!doc.handle.empty()) b["slug"] = doc.handle;
    if (!doc.images.empty()) {
        b["images"] = json::array();
        for (const auto& u : doc.images) b["images"].push_back({{"src", u}});
    }
    if (!doc.options.empty()) {
        b["attributes"] = attributes(doc);
        return b;
    }
    const auto& v = simple_variant(doc);
    b.update(variant_fields(v, store));
    if (v.barcode) b["meta_data"].push_back({{"key", store.barcode_key}, {"value", *v.barcode}});
    return b;
}

json variation_body(const Document& doc, const Variant& v, const StoreContext& store) {
    json b = variant_fields(v, store);
    b["status"] = v.active ? "publish" : "private";
    b["attributes"] = variation_attributes(doc, v);
    b["meta_data"] = variant_meta(v, store);
    return b;
}

Plan diff(const Document& doc, const ShopProduct& shop, const Mapping& mapping, const StoreContext& store) {
    Plan plan;
    product_changes(doc, shop, store, plan);
    if (doc.active && !doc.options.empty()) variation_changes(doc, shop, mapping, store, plan);
    return plan;
}

Result<PriceUpdate> price_update(const PriceDocument& prices, const Mapping& mapping) {
    const auto* p = mapping.product();
    if (!p) return make_error(ErrorCode::not_found, "the product is not published on this channel yet");
    PriceUpdate out;
    json update = json::array();
    for (const auto& pv : prices.variants) {
        if (!pv.price) continue;
        const auto* m = mapping.variant(pv.external_id);
        if (!m)
            return make_error(ErrorCode::not_found,
                              fmt::format("variant {} ({}) is not in the WooCommerce product: publish the product "
                                          "again (Sync catalogue)",
                                          pv.sku, pv.external_id));
        const bool simple = m->remote_id == p->remote_id;
        out.path = simple ? "products/batch" : fmt::format("products/{}/variations/batch", p->remote_id);
        update.push_back({{"id", std::stoll(m->remote_id)}, {"regular_price", *pv.price}});
        out.skus.push_back(pv.sku);
    }
    if (!update.empty()) out.body = {{"update", update}};
    return out;
}

std::optional<Error> item_error(const json& item, const std::string& what) {
    if (!item.is_object() || !item.contains("error") || !item["error"].is_object()) return std::nullopt;
    const auto& e = item["error"];
    const auto code = str(e, "code");
    const auto message = str(e, "message");
    int status = 400;
    if (e.contains("data") && e["data"].is_object() && e["data"].contains("status") && e["data"]["status"].is_number())
        status = e["data"]["status"].get<int>();
    const bool sku = code == "product_invalid_sku" ||
                     (code == "woocommerce_rest_product_not_created" && message.find("SKU") != std::string::npos);
    if (sku)
        return make_error(ErrorCode::duplicate_sku,
                          fmt::format("{}: WooCommerce refused the SKU ({}: {}); another WooCommerce product or "
                                      "variation already has it: rename one of them",
                                      what, code, message),
                          status);
    return make_error(status >= 500 ? ErrorCode::transient : ErrorCode::rejected,
                      fmt::format("{}: WooCommerce refused it ({}: {})", what, code, message), status);
}

std::vector<MapEntry> map_entries(const Document& doc, const ShopProduct& shop, const Mapping& mapping, bool adopted) {
    std::vector<MapEntry> out;
    MapEntry p;
    p.external_id = doc.external_id;
    p.object = "product";
    p.template_id = doc.template_id;
    p.remote_id = str(shop.product, "id");
    p.handle = str(shop.product, "slug");
    p.document_hash = doc.hash;
    p.adopted = adopted;
    out.push_back(p);
    for (const auto& v : doc.variants) {
        std::string id;
        if (doc.options.empty()) {
            if (&v == &simple_variant(doc)) id = p.remote_id;  // a simple product is its own variant
        } else if (const json* sv = match(shop, v, mapping)) {
            id = str(*sv, "id");
        }
        if (id.empty()) continue;
        MapEntry e;
        e.external_id = v.external_id;
        e.object = "variant";
        e.template_id = doc.template_id;
        e.product_id = v.product_id;
        e.remote_id = id;
        e.parent_remote_id = p.remote_id;
        e.adopted = adopted;
        out.push_back(e);
    }
    return out;
}

}  // namespace stockrelay::catalog::woo
