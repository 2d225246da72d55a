// The sellable-quantity policy: the one formula both the addon and the
// sidecar agree on.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "stockrelay/error.hpp"

namespace stockrelay::policy {

struct Params {
    double safety_buffer = 0;            // units withheld from the shop
    std::optional<std::int64_t> cap;     // publish at most this many
};

// floor(max(0, on_hand - reserved) - buffer), clamped to [0, cap].
// Fails with invalid_quantity on NaN/inf inputs or a negative buffer/cap.
Result<std::int64_t> sellable(double on_hand, double reserved, const Params& params);

// A quantity read from an outbox row must be a non-negative integer that the
// shops accept (<= 1e9); anything else is a producer bug reported on the row.
Result<std::int64_t> validate_quantity(std::string_view text);

inline constexpr std::int64_t kMaxQuantity = 1'000'000'000;

}  // namespace stockrelay::policy
