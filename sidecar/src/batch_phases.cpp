#include "batch_phases.hpp"

#include <numeric>

#include <fmt/format.h>

namespace stockrelay::sidecar {

const char* to_string(Phase p) noexcept {
    switch (p) {
        case Phase::claim: return "claim";
        case Phase::resolve: return "resolve";
        case Phase::push: return "push";
        case Phase::decide: return "decide";
        case Phase::ack: return "ack";
        case Phase::next: return "next_claim";
        case Phase::commit: return "commit";
        case Phase::metrics: return "metrics";
    }
    return "?";
}

void PhaseClock::reset() {
    last_ = std::chrono::steady_clock::now();
    seconds_.fill(0.0);
}

void PhaseClock::lap(Phase p) {
    const auto now = std::chrono::steady_clock::now();
    seconds_[static_cast<std::size_t>(p)] += std::chrono::duration<double>(now - last_).count();
    last_ = now;
}

double PhaseClock::total() const { return std::accumulate(seconds_.begin(), seconds_.end(), 0.0); }

void PhaseTotals::add(const PhaseClock& c, std::int64_t batch_rows, bool was_claimed_ahead) {
    for (std::size_t i = 0; i < kPhaseCount; ++i) seconds[i] += c.seconds(static_cast<Phase>(i));
    ++batches;
    rows += batch_rows;
    claimed_ahead += was_claimed_ahead ? 1 : 0;
}

std::string PhaseTotals::summary() const {
    const double wall = std::accumulate(seconds.begin(), seconds.end(), 0.0);
    std::string out = fmt::format("batches={} rows={} claimed_with_ack={} wall={:.3f} s; per batch:", batches, rows,
                                  claimed_ahead, wall);
    for (std::size_t i = 0; i < kPhaseCount; ++i) {
        const double ms = batches ? seconds[i] * 1000.0 / static_cast<double>(batches) : 0.0;
        out += fmt::format(" {}={:.2f} ms ({:.0f} %)", to_string(static_cast<Phase>(i)), ms,
                           wall > 0 ? 100.0 * seconds[i] / wall : 0.0);
    }
    return out;
}

}  // namespace stockrelay::sidecar
