// ONE circuit breaker per channel, shared by all its lanes (inflight.hpp).
// Lanes are threads; this wraps ChannelHealth (health.hpp) under a mutex and
// decides who does what while the shop is in trouble:
//
//   - while the channel is down or refused no lane claims rows;
//   - exactly one lane probes per backoff step (it holds the probe turn); the
//     others wait for its verdict and do not probe;
//   - a batch that fails as a whole while another lane already took the
//     channel down is held without a probe and without counting again;
//   - each transition is returned to exactly one lane (the one whose report
//     made it), which logs it and stores it in the contract;
//   - a success in any lane ends the outage for all of them.
//
// With one lane this behaves exactly like ChannelHealth on its own.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>

#include "health.hpp"

namespace stockrelay::sidecar {

// The breaker at one moment.
struct HealthSnapshot {
    ChannelState state = ChannelState::flowing;
    std::string reason;
    std::string error_code;
    int failed_probes = 0;
    ChannelHealth::clock::time_point next_probe{};
    std::chrono::system_clock::time_point blocked_since{};  // when the current outage/refusal began

    bool blocked() const noexcept { return state != ChannelState::flowing; }
};

// A report's effect: `changed` for exactly one lane per transition (it logs
// and stores it); `after` is the state right after the report.
struct HealthTransition {
    bool changed = false;
    HealthSnapshot after;
};

// What a lane should do before claiming rows.
struct LaneStep {
    enum Kind { flow, probe, wait } kind = flow;
    ChannelHealth::clock::time_point until{};  // wait: the latest time to look again
    std::uint64_t seen = 0;                     // wait: the verdict count it waits past
};

// What a lane whose batch failed as a whole (all transient) should do.
enum class Confirm {
    probe,    // it holds the probe turn: test the connection, then finish_probe()
    flowing,  // another lane's probe answered meanwhile: the rows are the problem
    blocked,  // another lane already took the channel down/refused: hold the rows
};

class SharedHealth {
public:
    using clock = ChannelHealth::clock;

    explicit SharedHealth(HealthPolicy policy = {}, std::uint64_t seed = std::random_device{}());

    HealthSnapshot snapshot() const;
    bool blocked() const;

    // Before a claim: flow, probe (this lane holds the probe turn), or wait.
    LaneStep next_step(clock::time_point now);
    // Waits until a verdict after `step.seen`, `step.until`, interrupt() or `stop`.
    void wait(const LaneStep& step, const std::atomic<bool>& stop);
    // A batch failed as a whole on transient errors: may this lane probe?
    // Waits (not probing) while another lane holds the probe turn.
    Confirm begin_confirm(const std::atomic<bool>& stop);

    // Verdicts. `changed` when THIS report changed the channel's state (the
    // caller logs it and stores it, once); probes are stored by their lane.
    HealthTransition finish_probe(const std::optional<Error>& failure, clock::time_point now);
    // The probe turn is given back without a verdict (the probe threw).
    void abandon_probe();
    HealthTransition on_success(clock::time_point now);  // `after` is empty unless changed
    // The shop refused a batch (auth/config): counted unless already in that state.
    HealthTransition on_refusal(const Error& e, clock::time_point now);

    // Runs `f` once for the channel (the first lane to start: the state a
    // previous run left); the others wait for it. A throw lets the next lane try.
    void start_once(const std::function<void()>& f);
    // Starts blocked in `s` (from the contract): probe at once.
    void resume_blocked(ChannelState s, std::string reason, clock::time_point now);
    // True once after each return to flowing (and at start): replay transient failures.
    bool take_replay();
    // Serializes writes of the channel's state; `f` gets the state at the time of the write.
    void write_state(const std::function<void(const HealthSnapshot&)>& f);
    // Wakes waiting lanes (shutdown).
    void interrupt();

private:
    HealthSnapshot snapshot_locked() const;
    void changed_locked();
    void verdict_locked();

    mutable std::mutex m_;
    std::condition_variable cv_;
    ChannelHealth health_;
    std::chrono::system_clock::time_point blocked_since_{};
    bool probing_ = false;          // a lane holds the probe turn
    std::uint64_t verdicts_ = 0;    // bumped at each verdict, abandoned probe and interrupt
    bool replay_pending_ = true;
    std::mutex start_m_;
    bool started_ = false;
    std::mutex write_m_;
};

}  // namespace stockrelay::sidecar
