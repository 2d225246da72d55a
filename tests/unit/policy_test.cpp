#include <gtest/gtest.h>

#include "stockrelay/policy.hpp"

using namespace stockrelay;
using stockrelay::policy::Params;

TEST(Policy, SellableIsOnHandMinusReserved) {
    EXPECT_EQ(policy::sellable(10, 3, {}).value(), 7);
}

TEST(Policy, NeverNegative) {
    EXPECT_EQ(policy::sellable(2, 5, {}).value(), 0);
    EXPECT_EQ(policy::sellable(-4, 0, {}).value(), 0);
}

TEST(Policy, FloorsFractionalUnits) {
    EXPECT_EQ(policy::sellable(7.9, 0, {}).value(), 7);
}

TEST(Policy, FloatNoiseDoesNotLoseAUnit) {
    EXPECT_EQ(policy::sellable(0.1 + 0.2 + 2.7, 0, {}).value(), 3);
}

TEST(Policy, SafetyBufferIsWithheld) {
    EXPECT_EQ(policy::sellable(10, 2, Params{3, std::nullopt}).value(), 5);
    EXPECT_EQ(policy::sellable(10, 2, Params{9, std::nullopt}).value(), 0);
    EXPECT_EQ(policy::sellable(10, 0, Params{0.5, std::nullopt}).value(), 9);
}

TEST(Policy, CapLimitsPublishedQuantity) {
    EXPECT_EQ(policy::sellable(500, 0, Params{0, 100}).value(), 100);
    EXPECT_EQ(policy::sellable(50, 0, Params{0, 100}).value(), 50);
}

TEST(Policy, RejectsNonsenseInputs) {
    EXPECT_EQ(policy::sellable(1.0 / 0.0, 0, {}).error().code, ErrorCode::invalid_quantity);
    EXPECT_EQ(policy::sellable(1, 0, Params{-1, std::nullopt}).error().code, ErrorCode::invalid_quantity);
    EXPECT_EQ(policy::sellable(1, 0, Params{0, -5}).error().code, ErrorCode::invalid_quantity);
}

TEST(Policy, ValidateQuantityAcceptsWholeNumbers) {
    EXPECT_EQ(policy::validate_quantity("0").value(), 0);
    EXPECT_EQ(policy::validate_quantity("42").value(), 42);
    EXPECT_EQ(policy::validate_quantity("42.000").value(), 42);
    EXPECT_EQ(policy::validate_quantity("-0").value(), 0);
}

TEST(Policy, ValidateQuantityExplainsWhatIsWrong) {
    auto frac = policy::validate_quantity("2.5");
    ASSERT_FALSE(frac);
    EXPECT_EQ(frac.error().code, ErrorCode::invalid_quantity);
    EXPECT_NE(frac.error().message.find("fractional"), std::string::npos);
    EXPECT_NE(policy::validate_quantity("-3").error().message.find("negative"), std::string::npos);
    EXPECT_NE(policy::validate_quantity("abc").error().message.find("not a number"), std::string::npos);
    EXPECT_NE(policy::validate_quantity("2000000000").error().message.find("maximum"), std::string::npos);
    EXPECT_NE(policy::validate_quantity("99999999999999999999999").error().message.find("out of range"), std::string::npos);
}
