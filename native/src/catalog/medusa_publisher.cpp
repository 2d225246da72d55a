// The Medusa 2.x catalogue publisher: store context, product lookup by
// mapping or SKU (adoption), create / update / archive, prices, previews.
#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include <fmt/format.h>

#include "stockrelay/catalog/medusa.hpp"
#include "stockrelay/catalog/woo_publisher.hpp"
#include "stockrelay/catalog/shopify.hpp"
#include "stockrelay/http/http.hpp"

namespace stockrelay::catalog {
namespace {

using json = nlohmann::json;
namespace md = medusa;

std::string url_encode(const std::string& s) {
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
        else out += fmt::format("%{:02X}", c);
    }
    return out;
}

// Medusa's words for a refused write, made specific.
Error reword(Error e) {
    if (e.code != ErrorCode::rejected && e.code != ErrorCode::permanent && e.code != ErrorCode::not_found) return e;
    // Medusa refuses a value with 400 invalid_data: the row's fault, not the shop's.
    if (e.code == ErrorCode::permanent && (e.http_status == 400 || e.http_status == 422)) e.code = ErrorCode::rejected;
    const auto& m = e.message;
    if (m.find("variant with sku") != std::string::npos && m.find("already exists") != std::string::npos)
        e.code = ErrorCode::duplicate_sku;
    else if (m.find("with handle") != std::string::npos && m.find("already exists") != std::string::npos)
        e.message += " (another Medusa product has this handle: rename one of them, or change the handle in Odoo)";
    return e;
}

class MedusaPublisher final : public Publisher {
public:
    MedusaPublisher(channels::Channel& channel, const channels::Config& config) : ch_(channel), config_(config) {}

    int http_calls() const override { return calls_; }

    PublishOutcome publish(const Document& doc, const Mapping& mapping) override {
        PublishOutcome out;
        const int before = calls_;
        if (auto same = unchanged_outcome(doc, mapping)) return *same;
        run(out, [&] { return publish_inner(doc, mapping, out); });
        out.http_calls = calls_ - before;
        return out;
    }

    PublishOutcome publish_prices(const PriceDocument& prices, const Mapping& mapping) override {
        PublishOutcome out;
        const int before = calls_;
        out.action = "prices";
        run(out, [&]() -> std::optional<Error> {
            const auto* p = mapping.product();
            if (!p) return make_error(ErrorCode::not_found, "the product is not published on this channel yet");
            auto shop = get_product(p->remote_id, out);
            if (!shop) return shop.error();
            return set_prices(prices, mapping, *shop, out);
        });
        out.http_calls = calls_ - before;
        return out;
    }

    // Fresh products (no mapping, nothing with their SKUs in the shop) go in one
    // POST /admin/products/batch; everything else, and every item of a batch
    // Medusa refuses, goes through publish() one by one.
    std::vector<PublishOutcome> publish_batch(const std::vector<PublishItem>& items) override {
        std::vector<PublishOutcome> outs(items.size());
        std::vector<std::size_t> fresh, alone;
        for (std::size_t i = 0; i < items.size(); ++i)
            (items[i].mapping->product() || !items[i].doc->active ? alone : fresh).push_back(i);
        if (fresh.size() < 2) alone.insert(alone.end(), fresh.begin(), fresh.end()), fresh.clear();
        else create_batch(items, fresh, alone, outs);
        for (auto i : alone) {
            const int shared = outs[i].http_calls;  // a batch lookup counted on this item
            outs[i] = publish(*items[i].doc, *items[i].mapping);
            outs[i].http_calls += shared;
        }
        return outs;
    }

    // One GET for the shop products of every item, then one variants/batch per
    // product whose prices changed.
    std::vector<PublishOutcome> publish_prices_batch(const std::vector<PriceItem>& items) override {
        std::vector<PublishOutcome> outs(items.size());
        std::vector<std::string> ids;
        for (const auto& it : items)
            if (const auto* p = it.mapping->product()) ids.push_back(p->remote_id);
        if (ids.size() < 2) {
            for (std::size_t i = 0; i < items.size(); ++i) outs[i] = publish_prices(*items[i].prices, *items[i].mapping);
            return outs;
        }
        const int before = calls_;
        auto shops = list_products(ids, outs[0]);
        outs[0].http_calls = calls_ - before;
        for (std::size_t i = 0; i < items.size(); ++i) {
            const int start = calls_;
            outs[i].action = "prices";
            run(outs[i], [&]() -> std::optional<Error> {
                if (!shops) return shops.error();
                const auto* p = items[i].mapping->product();
                if (!p) return make_error(ErrorCode::not_found, "the product is not published on this channel yet");
                const auto it = shops->find(p->remote_id);
                return set_prices(*items[i].prices, *items[i].mapping, it == shops->end() ? json() : it->second, outs[i]);
            });
            outs[i].http_calls += calls_ - start;
        }
        return outs;
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
        auto st = store();
        if (!st) return conflict(st.error());
        if (auto err = md::check_store(doc, *st); err && doc.active) return conflict(*err);
        auto found = find_product(doc, mapping, scratch);
        if (!found) return conflict(found.error());
        if (found->product.is_null()) {
            e.status = doc.active ? "created" : "unchanged";  // archived and never published: nothing to do
            return e;
        }
        const auto plan = md::diff(doc, found->product, mapping);
        e.status = plan.empty() ? "unchanged" : "updated";
        e.fields = plan.fields;
        return e;
    }

private:
    struct Found {
        json product;  // null: not in the shop
        bool adopted = false;
    };

    template <typename F>
    void run(PublishOutcome& out, F&& f) {
        guard_row(out, "Medusa", f, reword);
    }

    Result<json> call(const std::string& method, const std::string& rel, const json& body, PublishOutcome& out) {
        ++calls_;
        return rest_json(ch_, "Medusa", method, rel, body, out);
    }

    Result<md::StoreContext> store() {
        if (store_) return *store_;
        PublishOutcome scratch;
        auto s = call("GET", "/admin/stores?fields=id,default_sales_channel_id,supported_currencies.currency_code",
                      nullptr, scratch);
        if (!s) return s.error();
        md::StoreContext ctx;
        const auto& stores = s->value("stores", json::array());
        if (stores.empty()) return make_error(ErrorCode::config, "the Medusa backend has no store");
        for (const auto& c : stores[0].value("supported_currencies", json::array()))
            ctx.currencies.push_back(md::lower_currency(c.value("currency_code", "")));
        ctx.sales_channel_id = config_.settings.value("medusa_sales_channel_id", "");
        if (ctx.sales_channel_id.empty() && stores[0].contains("default_sales_channel_id") &&
            stores[0]["default_sales_channel_id"].is_string())
            ctx.sales_channel_id = stores[0]["default_sales_channel_id"].get<std::string>();
        ctx.shipping_profile_id = config_.settings.value("medusa_shipping_profile_id", "");
        if (ctx.shipping_profile_id.empty()) {
            auto p = call("GET", "/admin/shipping-profiles?fields=id,type", nullptr, scratch);
            if (!p) return p.error();
            for (const auto& x : p->value("shipping_profiles", json::array()))
                if (x.value("type", "") == "default" || ctx.shipping_profile_id.empty())
                    ctx.shipping_profile_id = x.value("id", "");
        }
        store_ = ctx;
        return ctx;
    }

    // The product, or null when Medusa has no product with that id.
    Result<json> get_product(const std::string& id, PublishOutcome& out) {
        auto r = call("GET", fmt::format("/admin/products/{}?fields={}", id, md::product_fields()), nullptr, out);
        if (!r && r.error().code == ErrorCode::not_found) return json();
        if (!r) return r.error();
        return r->value("product", json());
    }

    // The prices of one shop product (null: gone) set as `prices` says.
    std::optional<Error> set_prices(const PriceDocument& prices, const Mapping& mapping, const json& shop,
                                    PublishOutcome& out) {
        auto st = store();
        if (!st) return st.error();
        const auto cur = md::lower_currency(prices.currency);
        if (std::find(st->currencies.begin(), st->currencies.end(), cur) == st->currencies.end())
            return make_error(ErrorCode::rejected,
                              fmt::format("the prices are in {}, which the Medusa store does not have: add it to "
                                          "the store's currencies in Medusa, or give the channel a pricelist in a "
                                          "store currency",
                                          prices.currency));
        if (shop.is_null()) return make_error(ErrorCode::not_found, "the Medusa product is gone; publish it again");
        auto body = md::price_update(prices, shop, mapping);
        if (!body) return body.error();
        if (body->is_null()) return std::nullopt;
        auto r = call("POST", fmt::format("/admin/products/{}/variants/batch", shop.value("id", "")), *body, out);
        return r ? std::nullopt : std::optional<Error>(r.error());
    }

    // Shop products by id, in one call (those Medusa no longer has are absent).
    Result<std::map<std::string, json>> list_products(const std::vector<std::string>& ids, PublishOutcome& out) {
        std::string q;
        for (const auto& id : ids) q += "&id%5B%5D=" + url_encode(id);
        auto r = call("GET", fmt::format("/admin/products?fields={}&limit={}{}", md::product_fields(), ids.size(), q),
                      nullptr, out);
        if (!r) return r.error();
        return md::by_id(r->value("products", json::array()));
    }

    // The fresh items' SKUs already in the shop move to `alone` (adoption);
    // the rest are created in one call. A refused batch: each item alone.
    void create_batch(const std::vector<PublishItem>& items, std::vector<std::size_t> fresh,
                      std::vector<std::size_t>& alone, std::vector<PublishOutcome>& outs) {
        auto& lead = outs[fresh.front()];  // carries the batch's shared calls
        const int before = calls_;
        auto fail_all = [&](const Error& e) {
            for (auto i : fresh) outs[i].error = reword(e);
        };
        auto st = store();
        if (!st) return fail_all(st.error());
        std::vector<std::size_t> ok;
        for (auto i : fresh)
            if (auto err = md::check_store(*items[i].doc, *st)) outs[i].error = reword(*err);
            else ok.push_back(i);
        fresh = taken_skus_apart(items, ok, alone, lead, outs);
        if (fresh.empty()) return void(lead.http_calls = calls_ - before);
        std::vector<const Document*> docs;
        for (auto i : fresh) docs.push_back(items[i].doc);
        PublishOutcome batch;
        auto r = call("POST", fmt::format("/admin/products/batch?fields={}", md::product_fields()),
                      md::batch_create_body(docs, *st), batch);
        lead.http_calls = calls_ - before;
        if (!r && md::retry_items_alone(r.error())) return alone.insert(alone.end(), fresh.begin(), fresh.end()), void();
        if (!r) return fail_all(r.error());
        const auto created = md::by_external_id(r->value("created", json::array()));
        for (auto i : fresh) land_created(*items[i].doc, created, batch.http_status, outs[i]);
    }

    // Moves the items whose SKUs Medusa already has to `alone`; returns the rest.
    std::vector<std::size_t> taken_skus_apart(const std::vector<PublishItem>& items, const std::vector<std::size_t>& ok,
                                              std::vector<std::size_t>& alone, PublishOutcome& lead,
                                              std::vector<PublishOutcome>& outs) {
        std::vector<const Document*> docs;
        for (auto i : ok) docs.push_back(items[i].doc);
        if (docs.empty()) return {};
        std::size_t n = 0;
        const auto q = md::sku_query(docs, n);
        auto r = call("GET", fmt::format("/admin/product-variants?fields=id,sku&limit={}{}", n + 10, q), nullptr, lead);
        if (!r && !md::retry_items_alone(r.error())) {  // the shop is down or refuses: one wait, not one per item
            for (auto i : ok) outs[i].error = reword(r.error());
            return {};
        }
        if (!r) {  // let each item meet the error itself
            alone.insert(alone.end(), ok.begin(), ok.end());
            return {};
        }
        std::set<std::string> taken;
        for (const auto& v : r->value("variants", json::array())) taken.insert(v.value("sku", ""));
        std::vector<std::size_t> rest;
        for (auto i : ok) {
            bool hit = false;
            for (const auto& v : items[i].doc->variants) hit = hit || taken.count(v.sku) > 0;
            (hit ? alone : rest).push_back(i);
        }
        return rest;
    }

    void land_created(const Document& doc, const std::map<std::string, json>& created, int status, PublishOutcome& out) {
        const int before = calls_;
        const auto request = http::excerpt(
            "POST /admin/products/batch (create, this product) " + md::create_body(doc, *store_).dump(), 2000);
        out.http_status = status;
        const auto it = created.find(doc.external_id);
        if (it == created.end()) {
            out.error = make_error(ErrorCode::transient, "Medusa's batch answer does not list this product", status);
            return;
        }
        out.action = "created";
        out.map = md::map_entries(doc, it->second, false);
        rank_options(doc, it->second, out);
        out.request_excerpt = request;  // the row's own product, not the ranks call
        out.response_excerpt = http::excerpt(it->second.dump(), 2000);
        out.http_status = status;
        out.http_calls += calls_ - before;
    }

    // By the mapping; else by the variants' SKUs (a product made by hand: adopted).
    Result<Found> find_product(const Document& doc, const Mapping& mapping, PublishOutcome& out) {
        if (const auto* p = mapping.product()) {
            auto prod = get_product(p->remote_id, out);
            if (!prod) return prod.error();
            if (!prod->is_null()) return Found{*prod, p->adopted};
        }
        std::string q;
        for (const auto& v : doc.variants) q += "&sku%5B%5D=" + url_encode(v.sku);
        auto r = call("GET", fmt::format("/admin/product-variants?fields=id,sku,product_id&limit={}{}",
                                         doc.variants.size() + 10, q),
                      nullptr, out);
        if (!r) return r.error();
        std::set<std::string> products;
        for (const auto& v : r->value("variants", json::array())) products.insert(v.value("product_id", ""));
        if (products.empty()) return Found{};
        if (products.size() > 1)
            return make_error(ErrorCode::duplicate_sku,
                              fmt::format("the document's SKUs belong to {} different Medusa products; one Odoo "
                                          "product can adopt only one: merge or rename them in Medusa",
                                          products.size()));
        auto prod = get_product(*products.begin(), out);
        if (!prod) return prod.error();
        return Found{*prod, true};
    }

    // The option values in Odoo's order (one call per option of more than one value).
    std::optional<Error> rank_options(const Document& doc, const json& created, PublishOutcome& out) {
        for (const auto& o : doc.options) {
            if (o.values.size() < 2) continue;
            for (const auto& so : created.value("options", json::array()))
                if (so.value("title", "") == o.name)
                    // Not fatal: the product is in the shop; only the order of its values is off.
                    (void)call("POST", fmt::format("/admin/product-options/{}?fields=id", so.value("id", "")),
                               md::option_ranks(o), out);
        }
        return std::nullopt;
    }

    std::optional<Error> publish_inner(const Document& doc, const Mapping& mapping, PublishOutcome& out) {
        auto st = store();
        if (!st) return st.error();
        if (doc.active)
            if (auto err = md::check_store(doc, *st)) return err;
        auto found = find_product(doc, mapping, out);
        if (!found) return found.error();
        out.adopted = found->adopted;
        json shop = found->product;
        if (shop.is_null()) {
            if (!doc.active) {  // never published, archived in Odoo: nothing to do
                out.action = "unchanged";
                return std::nullopt;
            }
            auto r = call("POST", fmt::format("/admin/products?fields={}", md::product_fields()),
                          md::create_body(doc, *st), out);
            if (!r) return r.error();
            out.action = "created";
            const json created = r->value("product", json::object());
            out.map = md::map_entries(doc, created, false);
            return rank_options(doc, created, out);
        }
        const auto id = shop.value("id", "");
        const auto plan = md::diff(doc, shop, mapping);
        out.action = plan.empty() ? "unchanged" : (doc.active ? "updated" : "archived");
        if (!plan.product.is_null())
            if (auto r = call("POST", fmt::format("/admin/products/{}?fields=id", id), plan.product, out); !r)
                return r.error();
        if (!plan.options.is_null())
            if (auto r = call("POST", fmt::format("/admin/products/{}/options/batch?fields=id", id), plan.options, out);
                !r)
                return r.error();
        if (!plan.variants.is_null()) {
            if (auto r = call("POST", fmt::format("/admin/products/{}/variants/batch", id), plan.variants, out); !r)
                return r.error();
        }
        if (plan.variants.contains("create")) {  // the new variants' ids
            auto again = get_product(id, out);
            if (!again) return again.error();
            shop = *again;
        }
        out.map = md::map_entries(doc, shop, out.adopted);
        for (const auto& x : plan.removed)
            if (!x.empty()) out.unmap.push_back(x);
        return std::nullopt;
    }

    channels::Channel& ch_;
    const channels::Config config_;
    std::optional<md::StoreContext> store_;
    int calls_ = 0;
};

}  // namespace

const MapEntry* Mapping::product() const {
    for (const auto& e : entries)
        if (e.object == "product") return &e;
    return nullptr;
}

const MapEntry* Mapping::variant(const std::string& external_id) const {
    for (const auto& e : entries)
        if (e.object == "variant" && e.external_id == external_id) return &e;
    return nullptr;
}

Result<std::unique_ptr<Publisher>> make_publisher(channels::Channel& channel, const channels::Config& config) {
    if (channel.type() == "medusa") return std::unique_ptr<Publisher>(std::make_unique<MedusaPublisher>(channel, config));
    if (channel.type() == "woocommerce") return make_woo_publisher(channel, config);
    if (channel.type() == "shopify") return make_shopify_publisher(channel, config);
    return make_error(ErrorCode::config,
                      fmt::format("catalogue publishing is not available for {} channels yet (Medusa, Shopify and "
                                  "WooCommerce in this version): turn off \"Publish products\" on this channel",
                                  channel.type()));
}

json preview_result(const std::vector<PreviewEntry>& entries) {
    json out = {{"created", json::array()}, {"updated", json::array()}, {"unchanged", json::array()},
                {"conflicts", json::array()}};
    for (const auto& e : entries) {
        json x = {{"external_id", e.external_id}, {"name", e.name}};
        if (e.status == "updated") x["fields"] = e.fields;
        if (e.status == "conflicts") {
            x["code"] = e.code;
            x["message"] = e.message;
        }
        out[e.status].push_back(x);
    }
    return out;
}

}  // namespace stockrelay::catalog
