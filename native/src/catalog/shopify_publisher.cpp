// The Shopify catalogue publisher: one productSet per product (options,
// variants, prices, identity metafields), products found by the map or by
// their SKUs (a product made by hand is adopted), prices through
// productVariantsBulkUpdate, previews. Built on Channel::graphql_call, which
// waits on the query-cost bucket and words throttling and 5xx as transient.
#include <algorithm>
#include <set>

#include <fmt/format.h>

#include "stockrelay/catalog/shopify.hpp"
#include "stockrelay/http/http.hpp"

namespace stockrelay::catalog {
namespace {

using json = nlohmann::json;
namespace sh = shopify;

// Variants per read: a variant node with its options, metafield and weight costs
// ~6 points, and a query may cost at most 1,000 (250 a page would be refused).
constexpr std::size_t kPage = 100;

std::size_t page_for(const Document& doc) {
    return std::clamp<std::size_t>(doc.variants.size(), 1, kPage);
}

class ShopifyPublisher final : public Publisher {
public:
    ShopifyPublisher(channels::Channel& channel, const channels::Config& config)
        : ch_(channel), archived_(sh::archived_status(config.settings)) {}

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
            const auto* p = mapping.product();
            if (!p) return make_error(ErrorCode::not_found, "the product is not published on this channel yet");
            auto cur = shop_currency(out);
            if (!cur) return cur.error();
            if (auto e = sh::check_currency(prices.currency, *cur)) return e;
            auto variants = sh::price_update(prices, mapping);
            if (!variants) return variants.error();
            if (variants->empty()) return std::nullopt;
            auto r = call(sh::prices_mutation(), {{"productId", p->remote_id}, {"variants", *variants}}, out);
            if (!r) return r.error();
            const auto errs = r->value("productVariantsBulkUpdate", json::object()).value("userErrors", json::array());
            if (!errs.empty())
                return make_error(ErrorCode::rejected, fmt::format("Shopify refused the prices: {}", errs[0].dump()));
            return std::nullopt;
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
            if (auto err = checks(doc, scratch)) return conflict(*err);
            auto found = find_product(doc, mapping, scratch);
            if (!found) return conflict(found.error());
            if (found->product.is_null()) {
                e.status = doc.active ? "created" : "unchanged";
                return e;
            }
            if (auto err = sh::check_foreign_variants(doc, found->product, mapping); err && doc.active)
                return conflict(*err);
            e.fields = sh::diff(doc, found->product, mapping, archived_);
            e.status = e.fields.empty() ? "unchanged" : "updated";
        } catch (const std::exception& ex) {
            return conflict(make_error(ErrorCode::transient, fmt::format("unexpected answer from Shopify: {}", ex.what())));
        }
        return e;
    }

private:
    struct Found {
        json product;  // null: not in the shop
        bool adopted = false;
    };

    template <typename F>
    void run(PublishOutcome& out, F&& f) {
        guard_row(out, "Shopify", f);
    }

    Result<json> call(const std::string& document, const json& variables, PublishOutcome& out) {
        ++calls_;
        const bool write = document.rfind("mutation", 0) == 0;
        if (write) out.request_excerpt = http::excerpt(variables.dump(), 2000);
        const auto start = document.find(' ') + 1;  // "query Name(...": the operation's name labels its cost
        const auto op = document.substr(start, document.find_first_of("( {", start) - start);
        auto r = ch_.graphql_call(op, document, variables);
        if (!r) {
            out.http_status = r.error().http_status;
            out.response_excerpt = http::excerpt(r.error().message, 2000);
            return r.error();
        }
        out.http_status = 200;
        if (write) out.response_excerpt = http::excerpt(r->dump(), 2000);
        if (!r->is_object()) return make_error(ErrorCode::transient, "Shopify answered without data");
        return r;
    }

    Result<std::string> shop_currency(PublishOutcome& out) {
        if (currency_) return *currency_;
        auto r = call(sh::shop_query(), json::object(), out);
        if (!r) return r.error();
        currency_ = r->value("shop", json::object()).value("currencyCode", "");
        return *currency_;
    }

    // What can be told before the product is looked up: limits, prices, currency.
    std::optional<Error> checks(const Document& doc, PublishOutcome& out) {
        if (auto e = sh::check_limits(doc)) return e;
        if (!doc.active) return std::nullopt;
        if (auto e = sh::check_prices(doc)) return e;
        auto cur = shop_currency(out);
        if (!cur) return cur.error();
        return sh::check_currency(doc.currency, *cur);
    }

    // The product with all its variants (pages of 250), or null when Shopify has none with that id.
    Result<json> get_product(const std::string& id, std::size_t page, PublishOutcome& out) {
        auto r = call(sh::product_query(page), {{"id", id}}, out);
        if (!r) return r.error();
        json prod = r->value("product", json());
        if (!prod.is_object()) return json();
        auto info = prod["variants"].value("pageInfo", json::object());
        while (info.value("hasNextPage", false)) {
            const auto doc = fmt::format(
                "query StockrelayProductVariants($id: ID!, $after: String) {{ product(id: $id) {{ variants(first: "
                "{}, after: $after) {{ pageInfo {{ hasNextPage endCursor }} nodes {{ id sku barcode price "
                "selectedOptions {{ name value }} metafield(namespace: \"{}\", key: \"{}\") {{ value }} "
                "inventoryItem {{ tracked measurement {{ weight {{ value unit }} }} }} }} }} }} }}",
                kPage, sh::kNamespace, sh::kKey);
            auto more = call(doc, {{"id", id}, {"after", info.value("endCursor", "")}}, out);
            if (!more) return more.error();
            const auto& conn = (*more)["product"]["variants"];
            for (const auto& n : conn.value("nodes", json::array())) prod["variants"]["nodes"].push_back(n);
            info = conn.value("pageInfo", json::object());
        }
        return prod;
    }

    // By the map; else by the variants' SKUs (a product made by hand: adopted).
    Result<Found> find_product(const Document& doc, const Mapping& mapping, PublishOutcome& out) {
        if (const auto* p = mapping.product()) {
            auto prod = get_product(p->remote_id, page_for(doc), out);
            if (!prod) return prod.error();
            if (!prod->is_null()) return Found{*prod, p->adopted};
        }
        std::set<std::string> products;
        for (std::size_t i = 0; i < doc.variants.size(); i += sh::kSkusPerSearch) {
            // A SKU may be on a few variants: some room past the chunk's size.
            auto r = call(sh::variants_by_sku_query(), {{"q", sh::sku_search(doc, i)}, {"first", sh::kSkusPerSearch + 10}},
                          out);
            if (!r) return r.error();
            for (const auto& v : r->value("productVariants", json::object()).value("nodes", json::array()))
                if (v.contains("product") && v["product"].is_object()) products.insert(v["product"].value("id", ""));
        }
        if (products.empty()) return Found{};
        if (products.size() > 1)
            return make_error(ErrorCode::duplicate_sku,
                              fmt::format("the document's SKUs belong to {} different Shopify products; one Odoo "
                                          "product can adopt only one: merge or rename them in Shopify",
                                          products.size()));
        auto prod = get_product(*products.begin(), page_for(doc), out);
        if (!prod) return prod.error();
        const auto& mf = prod->value("metafield", json());
        const bool ours = mf.is_object() && mf.value("value", "") == doc.external_id;
        return Found{*prod, !ours};
    }

    std::optional<Error> publish_inner(const Document& doc, const Mapping& mapping, PublishOutcome& out) {
        if (auto e = checks(doc, out)) return e;
        auto found = find_product(doc, mapping, out);
        if (!found) return found.error();
        out.adopted = found->adopted;
        const json& shop = found->product;
        if (shop.is_null() && !doc.active) {  // never published, archived in Odoo: nothing to do
            out.action = "unchanged";
            return std::nullopt;
        }
        if (!shop.is_null() && doc.active)  // archiving sends no variant list
            if (auto e = sh::check_foreign_variants(doc, shop, mapping)) return e;
        if (!shop.is_null() && sh::diff(doc, shop, mapping, archived_).empty()) {
            out.action = "unchanged";
            out.map = sh::map_entries(doc, shop, out.adopted);
            return std::nullopt;
        }
        const auto page = page_for(doc);
        json vars = {{"input", sh::product_set_input(doc, shop, mapping, archived_)}, {"synchronous", true}};
        auto r = call(sh::product_set_mutation(page), vars, out);
        if (!r) return r.error();
        const auto& payload = r->value("productSet", json::object());
        if (auto e = sh::user_errors(payload.value("userErrors", json::array()), doc)) return e;
        json product = payload.value("product", json());
        if (!product.is_object()) return make_error(ErrorCode::transient, "productSet answered without a product");
        if (doc.variants.size() > kPage) {  // the answer holds the first page only
            auto full = get_product(product.value("id", ""), kPage, out);
            if (!full) return full.error();
            product = *full;
        }
        out.action = shop.is_null() ? "created" : (doc.active ? "updated" : "archived");
        out.map = sh::map_entries(doc, product, out.adopted);
        if (doc.active) out.unmap = sh::unmapped(doc, mapping);
        return set_identity(sh::identity_fixes(doc, shop, mapping), out);
    }

    std::optional<Error> set_identity(const json& fixes, PublishOutcome& out) {
        for (std::size_t i = 0; i < fixes.size(); i += sh::kMetafieldsPerCall) {
            json chunk = json::array();
            for (std::size_t k = i; k < std::min(fixes.size(), i + sh::kMetafieldsPerCall); ++k) chunk.push_back(fixes[k]);
            auto r = call(sh::metafields_mutation(), {{"metafields", chunk}}, out);
            if (!r) return r.error();
            const auto errs = r->value("metafieldsSet", json::object()).value("userErrors", json::array());
            if (!errs.empty())
                return make_error(ErrorCode::rejected,
                                  fmt::format("Shopify refused the stockrelay.external_id metafield: {}", errs[0].dump()));
        }
        return std::nullopt;
    }

    channels::Channel& ch_;
    const std::string archived_;
    std::optional<std::string> currency_;
    int calls_ = 0;
};

}  // namespace

std::unique_ptr<Publisher> make_shopify_publisher(channels::Channel& channel, const channels::Config& config) {
    return std::make_unique<ShopifyPublisher>(channel, config);
}

}  // namespace stockrelay::catalog
