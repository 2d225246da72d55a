// Retry delays: exponential with full jitter, bounded, honouring server hints.
#pragma once

#include <chrono>
#include <cstdint>
#include <random>

namespace stockrelay {

struct BackoffPolicy {
    std::chrono::milliseconds base{500};
    std::chrono::milliseconds cap{5 * 60 * 1000};
};

// Delay before retry number `attempt` (1 = first retry): uniform in
// [base*2^(attempt-1)/2, base*2^(attempt-1)], capped; never below `hint`.
std::chrono::milliseconds backoff_delay(const BackoffPolicy& policy, int attempt, std::mt19937_64& rng,
                                        std::chrono::milliseconds hint = std::chrono::milliseconds{0});

}  // namespace stockrelay
