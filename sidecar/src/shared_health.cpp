#include "shared_health.hpp"

#include <utility>

#include "liveness.hpp"

namespace stockrelay::sidecar {

SharedHealth::SharedHealth(HealthPolicy policy, std::uint64_t seed) : health_(policy, seed) {}

HealthSnapshot SharedHealth::snapshot_locked() const {
    HealthSnapshot s;
    s.state = health_.state();
    s.reason = health_.reason();
    s.error_code = health_.error_code();
    s.failed_probes = health_.failed_probes();
    s.next_probe = health_.next_probe();
    s.blocked_since = blocked_since_;
    return s;
}

HealthSnapshot SharedHealth::snapshot() const {
    std::lock_guard lock(m_);
    return snapshot_locked();
}

bool SharedHealth::blocked() const {
    std::lock_guard lock(m_);
    return health_.blocked();
}

// The state just changed: an outage begins (or turns into a refusal), or ends.
void SharedHealth::changed_locked() {
    if (health_.blocked())
        blocked_since_ = std::chrono::system_clock::now();
    else
        replay_pending_ = true;  // replayed once the state is stored
}

// Wakes the lanes waiting for a verdict.
void SharedHealth::verdict_locked() {
    ++verdicts_;
    cv_.notify_all();
}

LaneStep SharedHealth::next_step(clock::time_point now) {
    std::lock_guard lock(m_);
    if (!health_.blocked()) return {};
    if (!probing_ && now >= health_.next_probe()) {
        probing_ = true;
        return {LaneStep::probe};
    }
    // Another lane is probing (its verdict wakes us) or the next probe is not due.
    const auto until = probing_ ? now + std::chrono::seconds{1} : health_.next_probe();
    return {LaneStep::wait, until, verdicts_};
}

void SharedHealth::wait(const LaneStep& step, const std::atomic<bool>& stop) {
    const liveness::IdleScope idle;
    std::unique_lock lock(m_);
    cv_.wait_until(lock, step.until, [&] { return verdicts_ != step.seen || stop.load(); });
}

Confirm SharedHealth::begin_confirm(const std::atomic<bool>& stop) {
    std::unique_lock lock(m_);
    const auto seen = verdicts_;
    if (probing_) {
        const liveness::IdleScope idle;  // the probing lane counts as busy, not this one
        cv_.wait(lock, [&] { return !probing_ || stop.load(); });
    }
    if (health_.blocked()) return Confirm::blocked;
    if (verdicts_ != seen || probing_) return Confirm::flowing;  // answered meanwhile, or shutting down
    probing_ = true;
    return Confirm::probe;
}

HealthTransition SharedHealth::finish_probe(const std::optional<Error>& failure, clock::time_point now) {
    std::lock_guard lock(m_);
    probing_ = false;
    const bool changed = failure ? health_.on_failure(*failure, now) : health_.on_success(now);
    if (changed) changed_locked();
    verdict_locked();
    return {changed, snapshot_locked()};
}

void SharedHealth::abandon_probe() {
    std::lock_guard lock(m_);
    probing_ = false;
    verdict_locked();
}

HealthTransition SharedHealth::on_success(clock::time_point now) {
    std::lock_guard lock(m_);
    if (!health_.on_success(now)) return {};
    changed_locked();
    verdict_locked();
    return {true, snapshot_locked()};
}

HealthTransition SharedHealth::on_refusal(const Error& e, clock::time_point now) {
    std::lock_guard lock(m_);
    if (health_.state() == state_for(e)) return {false, snapshot_locked()};  // another lane's batch saw it first
    health_.on_failure(e, now);
    changed_locked();
    verdict_locked();
    return {true, snapshot_locked()};
}

void SharedHealth::start_once(const std::function<void()>& f) {
    std::lock_guard lock(start_m_);
    if (started_) return;
    f();
    started_ = true;
}

void SharedHealth::resume_blocked(ChannelState s, std::string reason, clock::time_point now) {
    std::lock_guard lock(m_);
    health_.resume_blocked(s, std::move(reason), now);
    blocked_since_ = std::chrono::system_clock::now();
}

bool SharedHealth::take_replay() {
    std::lock_guard lock(m_);
    return std::exchange(replay_pending_, false);
}

void SharedHealth::write_state(const std::function<void(const HealthSnapshot&)>& f) {
    std::lock_guard lock(write_m_);
    f(snapshot());
}

void SharedHealth::interrupt() {
    std::lock_guard lock(m_);
    cv_.notify_all();
}

}  // namespace stockrelay::sidecar
