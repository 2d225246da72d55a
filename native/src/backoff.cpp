#include "stockrelay/backoff.hpp"

#include <algorithm>

namespace stockrelay {

std::chrono::milliseconds backoff_delay(const BackoffPolicy& policy, int attempt, std::mt19937_64& rng,
                                        std::chrono::milliseconds hint) {
    using std::chrono::milliseconds;
    const int exp = std::clamp(attempt - 1, 0, 30);
    const long double ceiling_ld = static_cast<long double>(policy.base.count()) * static_cast<long double>(1ULL << exp);
    const auto ceiling = static_cast<std::int64_t>(std::min<long double>(ceiling_ld, static_cast<long double>(policy.cap.count())));
    // Full jitter over the upper half keeps retries spread but still growing.
    std::uniform_int_distribution<std::int64_t> dist(ceiling / 2, std::max<std::int64_t>(ceiling, 1));
    return std::max(milliseconds{dist(rng)}, hint);
}

}  // namespace stockrelay
