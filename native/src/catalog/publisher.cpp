// The Publisher's default batch entry points: one publish per item, for shops
// without batch endpoints (or until their publisher implements them).
#include "stockrelay/catalog/publisher.hpp"

namespace stockrelay::catalog {

std::vector<PublishOutcome> Publisher::publish_batch(const std::vector<PublishItem>& items) {
    std::vector<PublishOutcome> out;
    out.reserve(items.size());
    for (const auto& it : items) out.push_back(publish(*it.doc, *it.mapping));
    return out;
}

std::vector<PublishOutcome> Publisher::publish_prices_batch(const std::vector<PriceItem>& items) {
    std::vector<PublishOutcome> out;
    out.reserve(items.size());
    for (const auto& it : items) out.push_back(publish_prices(*it.prices, *it.mapping));
    return out;
}

}  // namespace stockrelay::catalog
