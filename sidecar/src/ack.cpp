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
        // Permanent for this row: it fails at once with the reason. The
        // channel pauses (the next rows would meet the same refusal), and
        // when the channel's settings change the worker re-queues every row
        // that failed this way, so fixing the channel in Odoo is all it takes.
        d.verdict = Verdict::fail;
        d.pause_channel = true;
        d.delay = std::max(e.retry_after, std::chrono::milliseconds{30'000});
        return d;
    }
    if (e.code == ErrorCode::throttled) {
        d.verdict = Verdict::retry;
        d.refund_attempt = true;
        d.delay = backoff_delay(policy, 1, rng, e.retry_after);
        return d;
    }
    if (is_retryable(e.code) || stale_cache) {
        if (in.attempts >= in.max_attempts) {
            d.verdict = Verdict::fail;
            d.message = fmt::format("gave up after {} attempts: {}", in.attempts, d.message);
            return d;
        }
        d.verdict = Verdict::retry;
        d.delay = backoff_delay(policy, in.attempts, rng, e.retry_after);
        return d;
    }
    d.verdict = Verdict::fail;
    return d;
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
