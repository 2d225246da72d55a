// Where one batch's wall time goes, phase by phase (issue 17, "measure
// first"): each batch's phases feed a Prometheus histogram
// (stockrelay_batch_phase_seconds{phase}) and per-worker running totals that
// `drain --once` logs at the end of each channel.
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <string>

namespace stockrelay::sidecar {

enum class Phase {
    claim,    // lease recovery + claim (BEGIN..COMMIT), or nothing when the rows came with the previous ack
    resolve,  // SKU cache read, cache warm-up, ownership check, sales guard arming
    push,     // the channel's HTTP calls (throttle waits included)
    decide,   // verdicts, row ages, catalogue wait, channel health
    ack,      // the ack statements (successor check, row updates, SKU cache, sales record)
    next,     // the next batch's claim folded into the ack transaction
    commit,   // COMMIT of the ack transaction
    metrics,  // Prometheus figures and the batch's log line
};
constexpr std::size_t kPhaseCount = 8;
const char* to_string(Phase p) noexcept;

// Laps of one batch: lap(p) charges the time since the previous lap to p.
class PhaseClock {
public:
    PhaseClock() { reset(); }
    void reset();
    void lap(Phase p);
    double seconds(Phase p) const { return seconds_[static_cast<std::size_t>(p)]; }
    double total() const;

private:
    std::chrono::steady_clock::time_point last_;
    std::array<double, kPhaseCount> seconds_{};
};

// Sums over many batches, for a one-line profile.
struct PhaseTotals {
    std::array<double, kPhaseCount> seconds{};
    std::int64_t batches = 0;
    std::int64_t rows = 0;
    std::int64_t claimed_ahead = 0;  // batches whose rows came with the previous batch's ack
    void add(const PhaseClock& c, std::int64_t batch_rows, bool was_claimed_ahead);
    // "batches=N rows=R claimed_with_ack=F wall=W s; per batch: claim=x ms (p %) ..."
    std::string summary() const;
};

}  // namespace stockrelay::sidecar
