#include <gtest/gtest.h>

#include "stockrelay/policy.hpp"

// The sellable policy is SQL now (tests/integration/test_sellable_policy.py).

using namespace stockrelay;

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
