// A channel's circuit breaker. The worker tells it how pushes and probes went;
// it says whether row traffic may flow and when to probe the shop next.
//
//   flowing ──all items of a batch failed transiently and a probe failed──▶ down
//   flowing ──the shop refused the credentials/settings (401/403, TLS)─────▶ refused
//   down/refused ──a probe (the channel's connection test) answered──────────▶ flowing
//
// While down or refused no rows are claimed: held rows spend no attempts and
// nothing is dead-lettered; probes back off exponentially up to a cap.
#pragma once

#include <chrono>
#include <optional>
#include <random>
#include <string>
#include <string_view>

#include "stockrelay/backoff.hpp"
#include "stockrelay/error.hpp"

namespace stockrelay::sidecar {

enum class ChannelState { flowing, down, refused };
std::string_view to_string(ChannelState s) noexcept;
std::optional<ChannelState> channel_state_from(std::string_view text) noexcept;

// down: transport errors, 5xx, timeouts, garbage; refused: auth/config.
ChannelState state_for(const Error& e) noexcept;

struct HealthPolicy {
    BackoffPolicy down{std::chrono::milliseconds{1000}, std::chrono::milliseconds{60'000}};
    BackoffPolicy refused{std::chrono::milliseconds{2000}, std::chrono::milliseconds{300'000}};
};

class ChannelHealth {
public:
    using clock = std::chrono::steady_clock;

    explicit ChannelHealth(HealthPolicy policy = {}, std::uint64_t seed = std::random_device{}());

    ChannelState state() const noexcept { return state_; }
    bool blocked() const noexcept { return state_ != ChannelState::flowing; }
    const std::string& reason() const noexcept { return reason_; }
    const std::string& error_code() const noexcept { return error_code_; }
    clock::time_point next_probe() const noexcept { return next_probe_; }
    int failed_probes() const noexcept { return failed_probes_; }

    // The shop answered (a batch with a success, or a probe). Returns true
    // when this ends an outage or refusal.
    bool on_success(clock::time_point now);
    // The channel as a whole failed with `e` (a probe, or a refusal seen in
    // a batch). Returns true when the state changed (flowing -> down, down ->
    // refused, ...); either way the next probe is scheduled with backoff.
    bool on_failure(const Error& e, clock::time_point now);
    // Starts blocked (the state a previous run left in the contract): probe at once.
    void resume_blocked(ChannelState s, std::string reason, clock::time_point now);

private:
    HealthPolicy policy_;
    std::mt19937_64 rng_;
    ChannelState state_ = ChannelState::flowing;
    std::string reason_;
    std::string error_code_;
    int failed_probes_ = 0;
    clock::time_point next_probe_{};
};

}  // namespace stockrelay::sidecar
