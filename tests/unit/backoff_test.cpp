#include <gtest/gtest.h>

#include "stockrelay/backoff.hpp"

using namespace stockrelay;
using std::chrono::milliseconds;

TEST(Backoff, GrowsExponentiallyWithinJitterBounds) {
    std::mt19937_64 rng(42);
    BackoffPolicy p{milliseconds{100}, milliseconds{100000}};
    for (int attempt = 1; attempt <= 8; ++attempt) {
        const auto ceiling = 100LL << (attempt - 1);
        for (int i = 0; i < 50; ++i) {
            auto d = backoff_delay(p, attempt, rng).count();
            EXPECT_GE(d, ceiling / 2) << "attempt " << attempt;
            EXPECT_LE(d, ceiling) << "attempt " << attempt;
        }
    }
}

TEST(Backoff, IsCapped) {
    std::mt19937_64 rng(1);
    BackoffPolicy p{milliseconds{500}, milliseconds{10000}};
    for (int i = 0; i < 100; ++i) EXPECT_LE(backoff_delay(p, 40, rng).count(), 10000);
}

TEST(Backoff, HonoursServerHint) {
    std::mt19937_64 rng(7);
    BackoffPolicy p{milliseconds{100}, milliseconds{1000}};
    EXPECT_GE(backoff_delay(p, 1, rng, milliseconds{30000}).count(), 30000);
}

TEST(Backoff, JitterSpreadsRetries) {
    std::mt19937_64 rng(3);
    BackoffPolicy p{milliseconds{1000}, milliseconds{60000}};
    std::set<long long> seen;
    for (int i = 0; i < 20; ++i) seen.insert(backoff_delay(p, 4, rng).count());
    EXPECT_GT(seen.size(), 10u);
}
