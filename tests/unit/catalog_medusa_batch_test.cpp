// The pure part of Medusa batch publishing: which batch failures are retried
// item by item, and matching a batch answer back to its documents.
#include <gtest/gtest.h>

#include "stockrelay/catalog/medusa.hpp"

namespace md = stockrelay::catalog::medusa;
using stockrelay::ErrorCode;
using stockrelay::make_error;
using json = nlohmann::json;

TEST(MedusaBatch, ARefusedBatchIsRetriedItemByItemButAnUnreachableShopIsNot) {
    // Medusa answered 400 for one taken handle: each item alone, so only that one fails.
    EXPECT_TRUE(md::retry_items_alone(make_error(ErrorCode::permanent, "handle exists", 400)));
    EXPECT_TRUE(md::retry_items_alone(make_error(ErrorCode::transient, "boom", 500)));
    // No answer, throttled, credentials: every item shares the shop's state.
    EXPECT_FALSE(md::retry_items_alone(make_error(ErrorCode::transient, "no answer within 1500 ms", 0)));
    EXPECT_FALSE(md::retry_items_alone(make_error(ErrorCode::throttled, "slow down", 429)));
    EXPECT_FALSE(md::retry_items_alone(make_error(ErrorCode::auth, "unauthorized", 401)));
}

TEST(MedusaBatch, CreatedProductsAreFoundByExternalIdWhateverTheirOrder) {
    // Medusa 2.21 answered a 3-product batch in reverse order (observed).
    const json created = json::array({{{"id", "prod_c"}, {"external_id", "odoo-3"}},
                                      {{"id", "prod_b"}, {"external_id", "odoo-2"}},
                                      {{"id", "prod_a"}, {"external_id", "odoo-1"}},
                                      {{"id", "prod_x"}, {"external_id", nullptr}}});
    const auto by = md::by_external_id(created);
    ASSERT_EQ(by.size(), 3u);
    EXPECT_EQ(by.at("odoo-1")["id"], "prod_a");
    EXPECT_EQ(by.at("odoo-3")["id"], "prod_c");
    EXPECT_EQ(md::by_id(created).size(), 4u);
    EXPECT_TRUE(md::by_external_id(json::object()).empty());
}
