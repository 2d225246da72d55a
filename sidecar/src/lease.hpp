// Fencing: a worker pushes a claimed row only while it surely still holds the
// row's lease. The heartbeat reports every renewal and every failure here; the
// channel's HTTP client asks before each shop call, and the channel's sleeper
// before each wait (rate limits, Retry-After). So a worker whose lease ran
// out (PostgreSQL unreachable, a wait longer than the lease) stops before
// another worker can have claimed the row and landed a newer value, and never
// lands its older one afterwards.
#pragma once

#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "stockrelay/channels/channel.hpp"
#include "stockrelay/http/http.hpp"

namespace stockrelay::sidecar {

class LeaseGuard {
public:
    using Clock = std::chrono::steady_clock;

    // A push starts under a lease of `lease` taken no earlier than `since`.
    void arm(std::chrono::milliseconds lease, Clock::time_point since);
    // Between pushes: nothing to guard (CLI lookups, tests).
    void disarm();
    // The heartbeat that was sent at `sent_at` kept every row.
    void renewed(Clock::time_point sent_at);
    // The heartbeat failed or found rows taken over: the push stops.
    void lost(std::string why);

    // nullopt when a shop call that may last `call_timeout` can start; else why not.
    std::optional<std::string> refuse_call(std::chrono::milliseconds call_timeout) const;
    // nullopt when a wait of `d` inside the push can start; else why not.
    std::optional<std::string> refuse_wait(std::chrono::milliseconds d) const;

    // The longest wait one push may make: a quarter of the lease.
    static std::chrono::milliseconds max_wait(std::chrono::milliseconds lease) { return lease / 4; }
    // How often the heartbeat renews: several times per lease, so a failed
    // heartbeat leaves most of the lease to stop in.
    static std::chrono::milliseconds heartbeat_every(std::chrono::milliseconds lease);

private:
    mutable std::mutex m_;
    bool armed_ = false;
    std::chrono::milliseconds lease_{0};
    Clock::time_point valid_until_{};
    std::optional<std::string> lost_;
};

// Wraps the channel's HTTP client: every request first asks the guard, and a
// refused request fails as a transient error without reaching the shop.
std::unique_ptr<http::Client> fenced_client(std::unique_ptr<http::Client> inner, std::shared_ptr<LeaseGuard> guard);

// make_channel with its HTTP client fenced by `guard`.
Result<std::unique_ptr<channels::Channel>> make_fenced_channel(const channels::Config& config,
                                                               std::shared_ptr<LeaseGuard> guard);

}  // namespace stockrelay::sidecar
