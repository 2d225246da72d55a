// The WooCommerce catalogue publisher: store currency (read once), product
// lookup by mapping or SKU (adoption), create / update / archive through the
// batch endpoints, prices in one batch, previews.
#include <set>

#include <fmt/format.h>

#include "stockrelay/catalog/woo.hpp"
#include "stockrelay/catalog/woo_publisher.hpp"
#include "stockrelay/http/http.hpp"

namespace stockrelay::catalog {
namespace {

using json = nlohmann::json;
namespace wc = woo;

constexpr std::size_t kBatchLimit = 100;  // WooCommerce's woocommerce_rest_batch_items_limit

std::string id_of(const json& o) {
    auto it = o.find("id");
    if (it == o.end()) return "";
    if (it->is_number_integer()) return std::to_string(it->get<std::int64_t>());
    return it->is_string() ? it->get<std::string>() : "";
}

// A refused write is the row's fault (400), not the shop's.
Error reword(Error e) {
    if (e.code == ErrorCode::permanent && (e.http_status == 400 || e.http_status == 422)) e.code = ErrorCode::rejected;
    return e;
}

// A batch body cut into requests of at most kBatchLimit items, in create, update, delete order.
std::vector<json> chunks(const json& body) {
    std::vector<json> out;
    json cur = json::object();
    std::size_t n = 0;
    for (const char* op : {"create", "update", "delete"}) {
        if (!body.contains(op)) continue;
        for (const auto& item : body[op]) {
            if (n == kBatchLimit) {
                out.push_back(cur);
                cur = json::object();
                n = 0;
            }
            cur[op].push_back(item);
            ++n;
        }
    }
    if (n) out.push_back(cur);
    return out;
}

class WooPublisher final : public Publisher {
public:
    WooPublisher(channels::Channel& channel, const channels::Config& config) : ch_(channel), config_(config) {}

    int http_calls() const override { return calls_; }

    PublishOutcome publish(const Document& doc, const Mapping& mapping) override {
        PublishOutcome out;
        if (auto same = unchanged_outcome(doc, mapping)) return *same;
        const int before = calls_;
        run(out, [&] { return publish_inner(doc, mapping, out); });
        out.http_calls = calls_ - before;
        return out;
    }

    PublishOutcome publish_prices(const PriceDocument& prices, const Mapping& mapping) override {
        PublishOutcome out;
        const int before = calls_;
        out.action = "prices";
        run(out, [&]() -> std::optional<Error> {
            auto st = store();
            if (!st) return st.error();
            if (prices.currency != st->currency)
                return make_error(ErrorCode::rejected,
                                  fmt::format("the prices are in {}, but the WooCommerce store sells in {}: give the "
                                              "channel a pricelist in {}",
                                              prices.currency, st->currency, st->currency));
            auto up = wc::price_update(prices, mapping);
            if (!up) return up.error();
            if (up->body.is_null()) return std::nullopt;
            auto r = call("POST", up->path, up->body, out);
            if (!r) return r.error();
            return first_item_error(*r, "update", up->skus);
        });
        out.http_calls = calls_ - before;
        return out;
    }

    PreviewEntry preview(const Document& doc, const Mapping& mapping) override {
        PreviewEntry e;
        e.external_id = doc.external_id;
        e.name = doc.name;
        PublishOutcome scratch;
        auto conflict = [&](const Error& err) {
            e.status = "conflicts";
            e.code = std::string(to_string(err.code));
            e.message = err.message;
            return e;
        };
        try {
            auto st = store();
            if (!st) return conflict(st.error());
            if (auto err = wc::check_store(doc, *st); err && doc.active) return conflict(*err);
            auto found = find_product(doc, mapping, scratch);
            if (!found) return conflict(found.error());
            if (found->shop.product.is_null()) {
                e.status = doc.active ? "created" : "unchanged";
                return e;
            }
            const auto plan = wc::diff(doc, found->shop, mapping, *st);
            e.status = plan.empty() ? "unchanged" : "updated";
            e.fields = plan.fields;
        } catch (const std::exception& ex) {
            return conflict(make_error(ErrorCode::transient, fmt::format("unexpected answer from WooCommerce: {}", ex.what())));
        }
        return e;
    }

private:
    struct Found {
        wc::ShopProduct shop;
        bool adopted = false;
    };

    template <typename F>
    void run(PublishOutcome& out, F&& f) {
        guard_row(out, "WooCommerce", f, reword);
    }

    Result<json> call(const std::string& method, const std::string& rel, const json& body, PublishOutcome& out) {
        ++calls_;
        return rest_json(ch_, "WooCommerce", method, rel, body, out);
    }

    // The first refused item of a batch answer's `op` list; `names[i]` names item i.
    static std::optional<Error> first_item_error(const json& answer, const char* op, const std::vector<std::string>& names) {
        if (!answer.is_object() || !answer.contains(op)) return std::nullopt;
        const auto& items = answer[op];
        for (std::size_t i = 0; i < items.size(); ++i)
            if (auto e = wc::item_error(items[i], i < names.size() ? "variant " + names[i] : "an item")) return e;
        return std::nullopt;
    }

    Result<std::string> setting(const std::string& group, const std::string& id) {
        PublishOutcome scratch;
        auto r = call("GET", fmt::format("settings/{}/{}", group, id), nullptr, scratch);
        if (!r) return r.error();
        return r->is_object() && (*r)["value"].is_string() ? (*r)["value"].get<std::string>() : std::string();
    }

    Result<wc::StoreContext> store() {
        if (store_) return *store_;
        wc::StoreContext ctx;
        auto cur = setting("general", "woocommerce_currency");
        if (!cur) return cur.error();
        ctx.currency = *cur;
        auto unit = setting("products", "woocommerce_weight_unit");
        if (!unit) return unit.error();
        if (!unit->empty()) ctx.weight_unit = *unit;
        if (config_.settings.is_object())
            ctx.barcode_key = config_.settings.value("woo_barcode_meta_key", std::string(wc::kDefaultBarcodeKey));
        store_ = ctx;
        return ctx;
    }

    // The product and its variations; a null product when WooCommerce has none with that id.
    Result<wc::ShopProduct> get_shop(const std::string& id, PublishOutcome& out) {
        wc::ShopProduct shop;
        // context=edit: the raw fields (in "view" WooCommerce runs the description through wpautop).
        auto r = call("GET", "products/" + id + "?context=edit", nullptr, out);
        if (!r && (r.error().code == ErrorCode::not_found || r.error().http_status == 404)) return shop;
        if (!r) return r.error();
        shop.product = *r;
        if (r->value("type", "") != "variable") return shop;
        for (int page = 1; page <= 50; ++page) {
            auto v = call("GET", fmt::format("products/{}/variations?context=edit&per_page=100&page={}", id, page), nullptr, out);
            if (!v) return v.error();
            if (!v->is_array()) return make_error(ErrorCode::transient, "WooCommerce listed variations as no list");
            for (auto& x : *v) shop.variations.push_back(std::move(x));
            if (v->size() < 100) break;
        }
        return shop;
    }

    // By the mapping; else by the variants' SKUs (a product made by hand: adopted).
    Result<Found> find_product(const Document& doc, const Mapping& mapping, PublishOutcome& out) {
        if (const auto* p = mapping.product()) {
            auto shop = get_shop(p->remote_id, out);
            if (!shop) return shop.error();
            if (!shop->product.is_null()) return Found{*shop, p->adopted};
        }
        std::string skus;
        for (const auto& v : doc.variants) skus += (skus.empty() ? "" : ",") + v.sku;
        auto r = call("GET", fmt::format("products?sku={}&per_page=100&_fields=id,type,parent_id,sku", http::url_encode(skus)),
                      nullptr, out);
        if (!r) return r.error();
        std::set<std::string> owners;
        std::set<std::string> wanted;
        for (const auto& v : doc.variants) wanted.insert(v.sku);
        for (const auto& x : r->is_array() ? *r : json::array()) {
            if (!wanted.count(x.value("sku", ""))) continue;
            const bool variation = x.value("type", "") == "variation";
            owners.insert(variation ? std::to_string(x.value("parent_id", std::int64_t{0})) : id_of(x));
        }
        if (owners.empty()) return Found{};
        if (owners.size() > 1)
            return make_error(ErrorCode::duplicate_sku,
                              fmt::format("the document's SKUs belong to {} different WooCommerce products; one Odoo "
                                          "product can adopt only one: merge or rename them in WooCommerce",
                                          owners.size()));
        auto shop = get_shop(*owners.begin(), out);
        if (!shop) return shop.error();
        // Ours already (a publish that failed half way): not adopted.
        bool ours = false;
        for (const auto& m : shop->product.value("meta_data", json::array()))
            if (m.value("key", "") == wc::kExternalIdKey && m.value("value", json()) == doc.external_id) ours = true;
        return Found{*shop, !ours};
    }

    // Sends a variations batch; applies what landed to `shop`; returns the first refused item.
    std::optional<Error> send_variations(const wc::Plan& plan, wc::ShopProduct& shop, PublishOutcome& out) {
        const auto pid = id_of(shop.product);
        std::optional<Error> first;
        std::size_t created = 0, updated = 0;
        for (const auto& body : chunks(plan.variations)) {
            auto r = call("POST", fmt::format("products/{}/variations/batch", pid), body, out);
            if (!r) return r.error();
            for (const auto& item : r->value("create", json::array())) {
                const auto sku = created < plan.created_skus.size() ? plan.created_skus[created] : "";
                ++created;
                if (auto e = wc::item_error(item, "variant " + sku)) first = first ? first : e;
                else shop.variations.push_back(item);
            }
            for (const auto& item : r->value("update", json::array())) {
                const auto sku = updated < plan.updated_skus.size() ? plan.updated_skus[updated] : "";
                ++updated;
                if (auto e = wc::item_error(item, "variant " + sku)) { first = first ? first : e; continue; }
                for (auto& sv : shop.variations)
                    if (id_of(sv) == id_of(item)) sv = item;
            }
            for (const auto& item : r->value("delete", json::array())) {
                if (auto e = wc::item_error(item, "variation " + id_of(item))) { first = first ? first : e; continue; }
                json kept = json::array();
                for (auto& sv : shop.variations)
                    if (id_of(sv) != id_of(item)) kept.push_back(sv);
                shop.variations = kept;
            }
        }
        return first;
    }

    std::optional<Error> create(const Document& doc, const Mapping& mapping, const wc::StoreContext& st,
                                PublishOutcome& out) {
        auto r = call("POST", "products/batch", {{"create", json::array({wc::product_body(doc, st)})}}, out);
        if (!r) return r.error();
        const auto items = r->value("create", json::array());
        if (items.empty()) return make_error(ErrorCode::transient, "WooCommerce answered the product create with no item");
        if (auto e = wc::item_error(items[0], "product " + doc.name)) return e;
        out.action = "created";
        wc::ShopProduct shop{items[0], json::array()};
        std::optional<Error> err;
        if (!doc.options.empty()) {
            const auto plan = wc::diff(doc, shop, mapping, st);  // every active variant: a create
            if (!plan.variations.is_null()) err = send_variations(plan, shop, out);
        }
        out.map = wc::map_entries(doc, shop, mapping, false);
        return err;
    }

    std::optional<Error> publish_inner(const Document& doc, const Mapping& mapping, PublishOutcome& out) {
        auto st = store();
        if (!st) return st.error();
        if (doc.active)
            if (auto err = wc::check_store(doc, *st)) return err;
        auto found = find_product(doc, mapping, out);
        if (!found) return found.error();
        out.adopted = found->adopted;
        auto& shop = found->shop;
        if (shop.product.is_null()) {
            if (!doc.active) {  // never published, archived in Odoo: nothing to do
                out.action = "unchanged";
                return std::nullopt;
            }
            return create(doc, mapping, *st, out);
        }
        const auto plan = wc::diff(doc, shop, mapping, *st);
        out.action = plan.empty() ? "unchanged" : (doc.active ? "updated" : "archived");
        if (!plan.product.is_null()) {
            auto r = call("POST", "products/batch", {{"update", json::array({plan.product})}}, out);
            if (!r) return r.error();
            const auto items = r->value("update", json::array());
            if (!items.empty()) {
                if (auto e = wc::item_error(items[0], "product " + doc.name)) return e;
                shop.product = items[0];
            }
        }
        std::optional<Error> err;
        if (!plan.variations.is_null()) err = send_variations(plan, shop, out);
        out.map = wc::map_entries(doc, shop, mapping, out.adopted);
        for (const auto& x : plan.removed)
            if (!x.empty()) out.unmap.push_back(x);
        return err;
    }

    channels::Channel& ch_;
    const channels::Config config_;
    std::optional<wc::StoreContext> store_;
    int calls_ = 0;
};

}  // namespace

std::unique_ptr<Publisher> make_woo_publisher(channels::Channel& channel, const channels::Config& config) {
    return std::make_unique<WooPublisher>(channel, config);
}

}  // namespace stockrelay::catalog
