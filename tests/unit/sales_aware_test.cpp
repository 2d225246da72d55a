// The sales-aware accounting: what value a push sets, given Odoo's number, the
// value set last, the shop's level now and the shop sales Odoo has not absorbed.
#include <gtest/gtest.h>

#include "stockrelay/sales_aware/accounting.hpp"
#include "stockrelay/sales_aware/orders.hpp"

using namespace stockrelay::sales_aware;

namespace {

Inputs base() {
    Inputs in;
    in.sellable = 10;
    in.last_set = 10;
    in.grace_seconds = 900;
    in.now = 100'000;
    return in;
}

}  // namespace

TEST(SalesAware, NothingSoldSetsOdoosNumber) {
    auto in = base();
    in.shop_level = 10;
    const auto out = decide(in);
    EXPECT_EQ(out.set, 10);
    EXPECT_TRUE(out.held.empty());
    EXPECT_TRUE(out.note.empty());
}

TEST(SalesAware, UnabsorbedOrdersAreSubtracted) {
    auto in = base();
    in.unabsorbed = 3;
    EXPECT_EQ(decide(in).set, 7);
}

TEST(SalesAware, UnexplainedDropIsHeldAsPresumedSale) {
    auto in = base();
    in.shop_level = 8;  // two units sold in the shop, no order yet
    const auto out = decide(in);
    EXPECT_EQ(out.set, 8);
    ASSERT_EQ(out.held.size(), 1u);
    EXPECT_EQ(out.held[0], (Hold{2, in.now}));
    EXPECT_EQ(out.presumed, 2);
    EXPECT_EQ(out.drift_drop, 0);
}

TEST(SalesAware, OrderArrivingExplainsTheHeldDropWithoutCountingTwice) {
    auto in = base();
    in.last_set = 8;
    in.shop_level = 8;
    in.held = {{2, in.now - 60}};
    in.new_orders = 2;   // the order behind the drop arrived ...
    in.unabsorbed = 2;   // ... and is not a sale order yet
    const auto out = decide(in);
    EXPECT_EQ(out.set, 8);
    EXPECT_TRUE(out.held.empty());
}

TEST(SalesAware, OrdersExplainOldestHoldsFirst) {
    auto in = base();
    in.last_set = 7;
    in.shop_level = 5;
    in.held = {{1, in.now - 500}, {2, in.now - 100}};
    in.new_orders = 2;
    const auto out = decide(in);
    // 1 (oldest) and 1 of the 2 are explained; 1 of the 2 and the new drop of 2 stay.
    ASSERT_EQ(out.held.size(), 2u);
    EXPECT_EQ(out.held[0], (Hold{1, in.now - 100}));
    EXPECT_EQ(out.held[1], (Hold{2, in.now}));
    EXPECT_EQ(out.set, 10 - 3);
}

TEST(SalesAware, HoldPastGracePeriodIsDriftAndOverwritten) {
    auto in = base();
    in.last_set = 8;
    in.shop_level = 8;
    in.held = {{2, in.now - 900}};
    const auto out = decide(in);
    EXPECT_EQ(out.set, 10);
    EXPECT_EQ(out.drift_drop, 2);
    EXPECT_TRUE(out.held.empty());
    EXPECT_NE(out.note.find("drift"), std::string::npos);
}

TEST(SalesAware, HoldJustInsideGracePeriodIsKept) {
    auto in = base();
    in.last_set = 8;
    in.shop_level = 8;
    in.held = {{2, in.now - 899}};
    EXPECT_EQ(decide(in).set, 8);
}

TEST(SalesAware, RiseIsDriftAtOnce) {
    auto in = base();
    in.shop_level = 14;
    const auto out = decide(in);
    EXPECT_EQ(out.set, 10);
    EXPECT_EQ(out.drift_rise, 4);
    EXPECT_TRUE(out.held.empty());
    EXPECT_NE(out.note.find("rose from 10"), std::string::npos);
}

TEST(SalesAware, NeverNegative) {
    auto in = base();
    in.sellable = 2;
    in.unabsorbed = 5;
    EXPECT_EQ(decide(in).set, 0);
}

TEST(SalesAware, UnknownLastSetCannotMeasureADrop) {
    auto in = base();
    in.last_set.reset();
    in.shop_level = 3;
    const auto out = decide(in);
    EXPECT_EQ(out.set, 10);
    EXPECT_TRUE(out.held.empty());
}

TEST(SalesAware, MoreOrdersThanDropsExplainNothingExtra) {
    auto in = base();
    in.shop_level = 10;
    in.new_orders = 3;  // sales from before a write that had no baseline
    in.unabsorbed = 3;
    const auto out = decide(in);
    EXPECT_EQ(out.set, 7);
    EXPECT_TRUE(out.held.empty());
}

TEST(SalesAwareOrders, ConfirmedBeforeTheNumberWasComputedIsAbsorbed) {
    const std::vector<OrderLine> lines = {
        {"1", "A", 2, false, std::nullopt, 10},  // not a sale order yet
        {"2", "A", 3, false, 500, 11},           // confirmed at 500
        {"3", "A", 4, true, std::nullopt, 12},   // cancelled
        {"4", "B", 5, false, std::nullopt, 13},  // another SKU
    };
    EXPECT_EQ(unabsorbed(lines, "A", 499), 2 + 3);  // Odoo's number predates the confirmation
    EXPECT_EQ(unabsorbed(lines, "A", 500), 2);      // same transaction: included
    EXPECT_EQ(unabsorbed(lines, "A", 600), 2);
    EXPECT_EQ(unabsorbed(lines, "B", 600), 5);
}

TEST(SalesAwareOrders, ReceivedBetweenMarks) {
    const std::vector<OrderLine> lines = {
        {"1", "A", 2, false, std::nullopt, 10},
        {"2", "A", 3, false, 500, 11},
        {"3", "A", 4, true, std::nullopt, 12},
    };
    EXPECT_EQ(received_between(lines, "A", 0, 100), 5);
    EXPECT_EQ(received_between(lines, "A", 10, 100), 3);
    EXPECT_EQ(received_between(lines, "A", 0, 10), 2);
    EXPECT_EQ(received_between(lines, "A", 11, 100), 0);
}
