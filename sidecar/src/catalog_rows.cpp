#include "catalog_rows.hpp"

#include <map>

namespace stockrelay::sidecar {

namespace cq = catalog_queries;
namespace cat = stockrelay::catalog;
using json = nlohmann::json;

namespace {

// The parsed inputs of a batch: they must outlive the publisher's batch calls.
struct Inputs {
    std::vector<cat::Mapping> mappings;
    std::vector<std::optional<cat::Document>> docs;
    std::vector<std::optional<cat::PriceDocument>> prices;
};

// Parses product row i (a bad document fails the row).
void prepare_product(const cq::CatalogRow& row, std::size_t i, Inputs& in, RowFate& fate) {
    auto doc = cat::parse_document(json::parse(row.payload.empty() ? "null" : row.payload, nullptr, false));
    if (!doc) fate.error = doc.error();
    else in.docs[i] = std::move(*doc);
}

// Parses price row i; fails or postpones it when it cannot be published now.
// `landed`: the map rows of the templates whose product row of this batch landed.
void prepare_price(pg::Connection& conn, std::int64_t channel_id, const cq::CatalogRow& row, std::size_t i,
                   const std::map<std::int64_t, std::vector<cat::MapEntry>>& landed, Inputs& in, RowFate& fate) {
    auto prices = cat::parse_prices(json::parse(row.payload.empty() ? "null" : row.payload, nullptr, false));
    if (!prices) return void(fate.error = prices.error());
    if (auto it = landed.find(row.template_id); it != landed.end()) in.mappings[i].entries = it->second;
    if (in.mappings[i].product()) return void(in.prices[i] = std::move(*prices));
    if (cq::product_row_open(conn, channel_id, row.template_id)) {
        fate.postpone = true;
        fate.why = "waiting for this product's catalogue row: the prices follow once the product is in the shop";
    } else {
        fate.error = make_error(ErrorCode::not_found,
                                "the product is not published on this channel: publish it (Sync catalogue), then Retry");
    }
}

}  // namespace

std::vector<RowFate> publish_rows(pg::Connection& conn, cat::Publisher& pub, std::int64_t channel_id,
                                  const std::vector<cq::CatalogRow>& rows) {
    std::vector<RowFate> fates(rows.size());
    Inputs in{std::vector<cat::Mapping>(rows.size()), std::vector<std::optional<cat::Document>>(rows.size()),
              std::vector<std::optional<cat::PriceDocument>>(rows.size())};
    auto land = [&](const std::vector<cat::PublishOutcome>& outs, const std::vector<std::size_t>& at) {
        for (std::size_t k = 0; k < at.size() && k < outs.size(); ++k) {
            fates[at[k]].outcome = outs[k];
            fates[at[k]].error = outs[k].error;
        }
    };
    // Products first: a price row of the same batch follows its product row.
    std::vector<cat::PublishItem> products;
    std::vector<std::size_t> product_rows;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        in.mappings[i] = cq::load_mapping(conn, channel_id, rows[i].template_id);
        if (rows[i].kind != "product") continue;
        prepare_product(rows[i], i, in, fates[i]);
        if (in.docs[i]) products.push_back({&*in.docs[i], &in.mappings[i]}), product_rows.push_back(i);
    }
    if (!products.empty()) land(pub.publish_batch(products), product_rows);
    std::map<std::int64_t, std::vector<cat::MapEntry>> landed;
    for (auto i : product_rows)
        if (!fates[i].error && !fates[i].outcome.map.empty()) landed[rows[i].template_id] = fates[i].outcome.map;
    std::vector<cat::PriceItem> prices;
    std::vector<std::size_t> price_rows;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (rows[i].kind == "product") continue;
        prepare_price(conn, channel_id, rows[i], i, landed, in, fates[i]);
        if (in.prices[i]) prices.push_back({&*in.prices[i], &in.mappings[i]}), price_rows.push_back(i);
    }
    if (!prices.empty()) land(pub.publish_prices_batch(prices), price_rows);
    return fates;
}

}  // namespace stockrelay::sidecar
