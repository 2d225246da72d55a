// Batches in flight (inflight.hpp): the channel's setting, else the shop type's default.
#include <gtest/gtest.h>

#include "inflight.hpp"

namespace stockrelay::sidecar {
namespace {

TEST(BatchesInFlight, UnsetFollowsTheShopType) {
    const auto row = nlohmann::json::parse(R"({"id": 1, "batches_in_flight": null})");
    EXPECT_EQ(batches_in_flight(row, "shopify"), 1);  // the cost bucket is the limit
    // The measured best settings (docs/BENCHMARKS.md section 14).
    EXPECT_EQ(batches_in_flight(row, "woocommerce"), 4);
    EXPECT_EQ(batches_in_flight(row, "medusa"), 2);
    EXPECT_EQ(batches_in_flight(nlohmann::json::object(), "medusa"), default_batches_in_flight("medusa"));
}

TEST(BatchesInFlight, TheChannelsValueWinsWithinTheContractsBounds) {
    EXPECT_EQ(batches_in_flight(nlohmann::json{{"batches_in_flight", 3}}, "shopify"), 3);
    EXPECT_EQ(batches_in_flight(nlohmann::json{{"batches_in_flight", 1}}, "woocommerce"), 1);
    EXPECT_EQ(batches_in_flight(nlohmann::json{{"batches_in_flight", 99}}, "medusa"), kMaxBatchesInFlight);
    EXPECT_EQ(batches_in_flight(nlohmann::json{{"batches_in_flight", 0}}, "medusa"), 1);
}

}  // namespace
}  // namespace stockrelay::sidecar
