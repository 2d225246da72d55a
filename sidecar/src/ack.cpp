#include "ack.hpp"

#include <fmt/format.h>

namespace stockrelay::sidecar {

AckDecision decide(const AckInput& in, const BackoffPolicy& policy, std::mt19937_64& rng) {
    AckDecision d;
    if (!in.error) return d;
    const Error& e = *in.error;
    d.error_code = std::string(to_string(e.code));
    d.message = e.message;
    if (e.http_status > 0) d.message += fmt::format(" (HTTP {})", e.http_status);

    const bool stale_cache = e.code == ErrorCode::not_found && in.drop_cache;
    if (e.code == ErrorCode::auth || e.code == ErrorCode::config) {
        // Never the row's fault: it stays pending without spending an
        // attempt; the worker marks the channel refused and probes it until
        // the shop accepts again (a rotated token, a renewed certificate).
        hold(d, "held while the shop refuses this channel");
        d.pause_channel = true;
        return d;
    }
    if (e.code == ErrorCode::throttled) {
        d.verdict = Verdict::retry;
        d.refund_attempt = true;
        d.delay = backoff_delay(policy, 1, rng, e.retry_after);
        return d;
    }
    if (is_retryable(e.code) || stale_cache) {
        if (in.attempts >= in.max_attempts && in.age >= in.retry_window) {
            d.verdict = Verdict::fail;
            d.message = fmt::format("gave up after {} attempts over {:.1f} h: {}", in.attempts,
                                    std::chrono::duration<double, std::ratio<3600>>(in.age).count(), d.message);
            return d;
        }
        d.verdict = Verdict::retry;
        d.delay = backoff_delay(policy, in.attempts, rng, e.retry_after);
        return d;
    }
    d.verdict = Verdict::fail;
    return d;
}

void hold(AckDecision& d, std::string_view why) {
    d.verdict = Verdict::release;
    d.refund_attempt = true;
    d.delay = std::chrono::milliseconds{0};
    if (d.message.rfind("held ", 0) != 0) d.message = fmt::format("{}: {}", why, d.message);
}

std::string_view final_state(Verdict verdict, bool newer_pending_exists) noexcept {
    switch (verdict) {
        case Verdict::done: return "done";
        case Verdict::fail: return "failed";
        case Verdict::retry:
        case Verdict::release: return newer_pending_exists ? "superseded" : "pending";
    }
    return "failed";
}

}  // namespace stockrelay::sidecar
