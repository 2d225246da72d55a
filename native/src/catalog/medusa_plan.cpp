// Medusa catalogue requests and the document/shop diff (pure; see medusa.hpp).
#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include <fmt/format.h>

#include "stockrelay/catalog/medusa.hpp"

namespace stockrelay::catalog::medusa {
namespace {

using json = nlohmann::json;

// Medusa wants at least one option: a document without options gets this one.
constexpr const char* kDefaultOption = "Default option";
constexpr const char* kDefaultValue = "Default option value";

std::string lower(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::string str(const json& o, const char* key) {
    auto it = o.find(key);
    return it != o.end() && it->is_string() ? it->get<std::string>() : "";
}

// The array member `key` of `o` by reference (an empty array when absent):
// pointers into it stay valid as long as `o` does.
const json& arr(const json& o, const char* key) {
    static const json empty = json::array();
    auto it = o.find(key);
    return it != o.end() && it->is_array() ? *it : empty;
}

json nullable(const std::string& s) { return s.empty() ? json() : json(s); }

std::vector<Option> effective_options(const Document& doc) {
    if (!doc.options.empty()) return doc.options;
    return {Option{kDefaultOption, {kDefaultValue}}};
}

json option_map(const Document& doc, const Variant& v) {
    json o = json::object();
    if (doc.options.empty()) o[kDefaultOption] = kDefaultValue;
    for (std::size_t i = 0; i < doc.options.size(); ++i) o[doc.options[i].name] = v.options[i];
    return o;
}

json ranks(const Option& o) {
    json r = json::object();
    for (std::size_t i = 0; i < o.values.size(); ++i) r[o.values[i]] = static_cast<int>(i);
    return r;
}

// {option title: value} of a shop variant.
json shop_options(const json& v) {
    json o = json::object();
    for (const auto& x : arr(v, "options"))
        if (x.is_object() && x.contains("option") && x["option"].is_object())
            o[str(x["option"], "title")] = str(x, "value");
    return o;
}

const json* shop_price(const json& v, const std::string& currency) {
    for (const auto& p : arr(v, "prices"))
        if (p.is_object() && lower(str(p, "currency_code")) == lower(currency)) return &p;
    return nullptr;
}

// The variant's prices with `currency` set to `amount`, the other currencies kept.
json prices_with(const json& v, const std::string& currency, double amount) {
    json out = json::array();
    bool set = false;
    for (const auto& p : arr(v, "prices")) {
        if (!p.is_object()) continue;
        json keep = {{"id", p.value("id", "")}, {"currency_code", str(p, "currency_code")}, {"amount", p.value("amount", 0.0)}};
        if (lower(str(p, "currency_code")) == lower(currency)) {
            keep["amount"] = amount;
            set = true;
        }
        out.push_back(keep);
    }
    if (!set) out.push_back({{"currency_code", lower(currency)}, {"amount", amount}});
    return out;
}

bool same_amount(const json* p, double amount) {
    return p && p->contains("amount") && (*p)["amount"].is_number() &&
           std::fabs((*p)["amount"].get<double>() - amount) < 1e-9;
}

// The shop variant a document variant is: mapped id, metadata.external_id, SKU.
const json* match(const json& shop, const Variant& v, const Mapping& mapping) {
    const auto* m = mapping.variant(v.external_id);
    const auto& vars = arr(shop, "variants");
    for (const auto& sv : vars)
        if (m && str(sv, "id") == m->remote_id) return &sv;
    for (const auto& sv : vars)
        if (sv.contains("metadata") && sv["metadata"].is_object() && str(sv["metadata"], "external_id") == v.external_id)
            return &sv;
    for (const auto& sv : vars)
        if (str(sv, "sku") == v.sku) return &sv;
    return nullptr;
}

void product_changes(const Document& doc, const json& shop, Plan& plan) {
    json body = json::object();
    auto change = [&](const char* field, const json& shop_value, const json& odoo_value) {
        if (shop_value == odoo_value) return;
        body[field] = odoo_value;
        plan.fields[field] = {{"shop", shop_value}, {"odoo", odoo_value}};
    };
    change("title", nullable(str(shop, "title")), doc.name);
    change("description", nullable(str(shop, "description")), nullable(doc.description));
    change("status", nullable(str(shop, "status")), doc.active ? "published" : "draft");
    change("external_id", nullable(str(shop, "external_id")), doc.external_id);
    json meta = shop.contains("metadata") && shop["metadata"].is_object() ? shop["metadata"] : json::object();
    if (str(meta, "external_id") != doc.external_id) {
        plan.fields["metadata.external_id"] = {{"shop", nullable(str(meta, "external_id"))}, {"odoo", doc.external_id}};
        meta["external_id"] = doc.external_id;
        body["metadata"] = meta;
    }
    if (!body.empty()) plan.product = body;
}

void option_changes(const Document& doc, const json& shop, Plan& plan) {
    json add = json::array(), update = json::array();
    for (const auto& o : effective_options(doc)) {
        const json* found = nullptr;
        for (const auto& so : arr(shop, "options"))
            if (str(so, "title") == o.name) found = &so;
        if (!found) {
            add.push_back({{"title", o.name}, {"values", o.values}, {"ranks", ranks(o)}});
            plan.fields["options." + o.name] = {{"shop", nullptr}, {"odoo", o.values}};
            continue;
        }
        std::set<std::string> have;
        for (const auto& v : found->value("values", json::array())) have.insert(str(v, "value"));
        json missing = json::array();
        for (const auto& v : o.values)
            if (!have.count(v)) missing.push_back({{"value", v}});
        if (missing.empty()) continue;
        update.push_back({{"product_option_id", str(*found, "id")}, {"add", missing}});
        plan.fields["options." + o.name] = {{"shop", json(std::vector<std::string>(have.begin(), have.end()))},
                                            {"odoo", o.values}};
    }
    json body = json::object();
    if (!add.empty()) body["add"] = add;
    if (!update.empty()) body["update"] = update;
    if (!body.empty()) plan.options = body;
}

// The fields of one matched variant that differ: {"field": value to send}.
json variant_update(const Document& doc, const Variant& v, const json& sv, Plan& plan) {
    json up = json::object();
    const auto label = fmt::format("variants[{}].", v.sku);
    auto change = [&](const char* field, const json& shop_value, const json& odoo_value) {
        if (shop_value == odoo_value) return;
        up[field] = odoo_value;
        plan.fields[label + field] = {{"shop", shop_value}, {"odoo", odoo_value}};
    };
    change("sku", nullable(str(sv, "sku")), v.sku);
    change("title", nullable(str(sv, "title")), variant_title(doc, v));
    change("barcode", nullable(str(sv, "barcode")), v.barcode ? json(*v.barcode) : json());
    const json shop_weight = sv.contains("weight") && sv["weight"].is_number() ? sv["weight"] : json();
    const json weight = v.weight ? json(*v.weight) : json();
    if (!(shop_weight.is_number() && weight.is_number() &&
          std::fabs(shop_weight.get<double>() - weight.get<double>()) < 1e-9))
        change("weight", shop_weight, weight);
    if (!doc.options.empty()) change("options", shop_options(sv), option_map(doc, v));  // else: the shop's own
    json meta = sv.contains("metadata") && sv["metadata"].is_object() ? sv["metadata"] : json::object();
    if (str(meta, "external_id") != v.external_id) {
        plan.fields[label + "metadata.external_id"] = {{"shop", nullable(str(meta, "external_id"))},
                                                       {"odoo", v.external_id}};
        meta["external_id"] = v.external_id;
        up["metadata"] = meta;
    }
    const double amount = *parse_price(*v.price);
    const json* p = shop_price(sv, doc.currency);
    if (!same_amount(p, amount)) {
        up["prices"] = prices_with(sv, doc.currency, amount);
        plan.fields[label + "price"] = {{"shop", p ? (*p)["amount"] : json()}, {"odoo", *v.price}};
    }
    if (!up.empty()) up["id"] = str(sv, "id");
    return up;
}

void variant_changes(const Document& doc, const json& shop, const Mapping& mapping, Plan& plan) {
    json create = json::array(), update = json::array(), remove = json::array();
    std::set<std::string> kept;
    for (const auto& v : doc.variants) {
        const json* sv = match(shop, v, mapping);
        if (!v.active) continue;
        if (!sv) {
            create.push_back(variant_body(doc, v));
            plan.fields[fmt::format("variants[{}]", v.sku)] = {{"shop", nullptr}, {"odoo", "new variant"}};
            continue;
        }
        kept.insert(str(*sv, "id"));
        if (auto up = variant_update(doc, v, *sv, plan); !up.empty()) update.push_back(up);
    }
    // Shop variants that were Odoo's and are no longer (archived or removed
    // there) go; variants made by hand in the shop stay.
    std::set<std::string> ours;
    for (const auto& e : mapping.entries)
        if (e.object == "variant") ours.insert(e.remote_id);
    for (const auto& v : doc.variants)
        if (const json* sv = match(shop, v, mapping)) ours.insert(str(*sv, "id"));
    for (const auto& sv : arr(shop, "variants")) {
        const auto id = str(sv, "id");
        if (kept.count(id) || !ours.count(id)) continue;
        remove.push_back(id);
        const json meta = sv.contains("metadata") && sv["metadata"].is_object() ? sv["metadata"] : json::object();
        plan.removed.push_back(str(meta, "external_id"));
        plan.fields[fmt::format("variants[{}]", str(sv, "sku"))] = {{"shop", str(sv, "sku")}, {"odoo", "removed"}};
    }
    json body = json::object();
    if (!create.empty()) body["create"] = create;
    if (!update.empty()) body["update"] = update;
    if (!remove.empty()) body["delete"] = remove;
    if (!body.empty()) plan.variants = body;
}

}  // namespace

std::string lower_currency(std::string code) { return lower(std::move(code)); }

std::string product_fields() {
    return "id,title,description,handle,status,external_id,metadata,*options,*options.values,*variants,"
           "*variants.options,*variants.prices";
}

std::optional<Error> check_store(const Document& doc, const StoreContext& store) {
    const auto cur = lower(doc.currency);
    if (std::find(store.currencies.begin(), store.currencies.end(), cur) == store.currencies.end()) {
        std::string have;
        for (const auto& c : store.currencies) have += (have.empty() ? "" : ", ") + c;
        return make_error(ErrorCode::rejected,
                          fmt::format("the document's prices are in {}, which the Medusa store does not have (it has: "
                                      "{}): add {} to the store's currencies in Medusa, or give the channel a "
                                      "pricelist in a store currency",
                                      doc.currency, have.empty() ? "none" : have, doc.currency));
    }
    for (const auto& v : doc.variants)
        if (v.active && !v.price)
            return make_error(ErrorCode::rejected,
                              fmt::format("variant {} has no price in {} (the channel's currency): set one in the "
                                          "channel's pricelist, then Retry",
                                          v.sku, doc.currency));
    return std::nullopt;
}

json option_ranks(const Option& option) { return {{"ranks", ranks(option)}}; }

json variant_body(const Document& doc, const Variant& v) {
    json b = {{"title", variant_title(doc, v)},
              {"sku", v.sku},
              {"manage_inventory", true},
              {"options", option_map(doc, v)},
              {"prices", json::array({{{"currency_code", lower(doc.currency)}, {"amount", *parse_price(*v.price)}}})},
              {"metadata", {{"external_id", v.external_id}}}};
    if (v.barcode) b["barcode"] = *v.barcode;
    if (v.weight) b["weight"] = *v.weight;
    return b;
}

json create_body(const Document& doc, const StoreContext& store) {
    json options = json::array();
    for (const auto& o : effective_options(doc))
        options.push_back({{"title", o.name}, {"values", o.values}, {"ranks", ranks(o)}});
    json variants = json::array();
    for (const auto& v : doc.variants)
        if (v.active) variants.push_back(variant_body(doc, v));
    json b = {{"title", doc.name},
              {"status", doc.active ? "published" : "draft"},
              {"external_id", doc.external_id},
              {"metadata", {{"external_id", doc.external_id}}},
              {"options", options},
              {"variants", variants}};
    if (!doc.description.empty()) b["description"] = doc.description;
    if (!doc.handle.empty()) b["handle"] = doc.handle;
    if (!store.sales_channel_id.empty()) b["sales_channels"] = json::array({{{"id", store.sales_channel_id}}});
    if (!store.shipping_profile_id.empty()) b["shipping_profile_id"] = store.shipping_profile_id;
    if (!doc.images.empty()) {
        b["images"] = json::array();
        for (const auto& u : doc.images) b["images"].push_back({{"url", u}});
    }
    return b;
}

Plan diff(const Document& doc, const json& shop, const Mapping& mapping) {
    Plan plan;
    product_changes(doc, shop, plan);
    if (doc.active) {  // an archived product keeps its variants as they are
        // Without options in Odoo, a product's shop options (e.g. an adopted
        // product's own) are left as they are.
        if (!doc.options.empty()) option_changes(doc, shop, plan);
        variant_changes(doc, shop, mapping, plan);
    }
    return plan;
}

Result<json> price_update(const PriceDocument& prices, const json& shop, const Mapping& mapping) {
    json update = json::array();
    for (const auto& pv : prices.variants) {
        if (!pv.price) continue;
        const auto* m = mapping.variant(pv.external_id);
        const json* sv = nullptr;
        for (const auto& x : arr(shop, "variants"))
            if ((m && str(x, "id") == m->remote_id) || (!pv.sku.empty() && str(x, "sku") == pv.sku)) sv = &x;
        if (!sv)
            return make_error(ErrorCode::not_found,
                              fmt::format("variant {} ({}) is not in the Medusa product: publish the product again "
                                          "(Sync catalogue)",
                                          pv.sku, pv.external_id));
        const double amount = *parse_price(*pv.price);
        if (same_amount(shop_price(*sv, prices.currency), amount)) continue;
        update.push_back({{"id", str(*sv, "id")}, {"prices", prices_with(*sv, prices.currency, amount)}});
    }
    if (update.empty()) return json();
    return json{{"update", update}};
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

}  // namespace stockrelay::catalog::medusa
