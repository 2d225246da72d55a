// Medusa v2 Admin API channel: secret API key (HTTP Basic) or email/password
// (JWT, refreshed before expiry), inventory items by SKU, stock locations
// validated before use, absolute stocked_quantity through the global
// location-levels batch endpoint (all-or-nothing: bad rows are isolated).
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <optional>
#include <string_view>

#include "stockrelay/channels/channel.hpp"

namespace stockrelay::channels::medusa {

inline constexpr std::size_t kMaxBatch = 1000;
inline constexpr std::size_t kDefaultBatch = 250;
inline constexpr std::size_t kSkusPerLookup = 250;  // every push reads its SKUs: few, large lookups
// A JWT is renewed when it has less than this left.
inline constexpr std::chrono::seconds kJwtRenewMargin{10 * 60};

using Clock = std::function<std::chrono::system_clock::time_point()>;

// The `exp` claim of a JWT (payload not verified: only used to renew early).
std::optional<std::chrono::system_clock::time_point> jwt_expiry(std::string_view jwt);

// make_channel for Medusa with an injectable clock (tests).
Result<std::unique_ptr<Channel>> make_channel(const Config& config, std::unique_ptr<http::Client> client,
                                              Clock clock);

}  // namespace stockrelay::channels::medusa
