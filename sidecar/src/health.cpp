#include "health.hpp"

namespace stockrelay::sidecar {

std::string_view to_string(ChannelState s) noexcept {
    switch (s) {
        case ChannelState::flowing: return "flowing";
        case ChannelState::down: return "down";
        case ChannelState::refused: return "refused";
    }
    return "flowing";
}

std::optional<ChannelState> channel_state_from(std::string_view text) noexcept {
    if (text == "flowing") return ChannelState::flowing;
    if (text == "down") return ChannelState::down;
    if (text == "refused") return ChannelState::refused;
    return std::nullopt;
}

ChannelState state_for(const Error& e) noexcept {
    return e.code == ErrorCode::auth || e.code == ErrorCode::config ? ChannelState::refused : ChannelState::down;
}

ChannelHealth::ChannelHealth(HealthPolicy policy, std::uint64_t seed) : policy_(policy), rng_(seed) {}

bool ChannelHealth::on_success(clock::time_point now) {
    const bool was_blocked = blocked();
    state_ = ChannelState::flowing;
    reason_.clear();
    error_code_.clear();
    failed_probes_ = 0;
    next_probe_ = now;
    return was_blocked;
}

bool ChannelHealth::on_failure(const Error& e, clock::time_point now) {
    const auto next = state_for(e);
    const bool changed = next != state_;
    state_ = next;
    reason_ = e.describe();
    error_code_ = std::string(to_string(e.code));
    ++failed_probes_;
    const auto& policy = state_ == ChannelState::refused ? policy_.refused : policy_.down;
    next_probe_ = now + backoff_delay(policy, failed_probes_, rng_);
    return changed;
}

void ChannelHealth::resume_blocked(ChannelState s, std::string reason, clock::time_point now) {
    state_ = s;
    reason_ = std::move(reason);
    failed_probes_ = 0;
    next_probe_ = now;
}

}  // namespace stockrelay::sidecar
