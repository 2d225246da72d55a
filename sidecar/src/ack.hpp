// What happens to an outbox row after a push attempt: the pure part of the
// ack, kept apart from SQL so it can be unit tested.
#pragma once

#include <chrono>
#include <optional>
#include <random>
#include <string>

#include "stockrelay/backoff.hpp"
#include "stockrelay/error.hpp"

namespace stockrelay::sidecar {

enum class Verdict {
    done,     // applied in the shop
    retry,    // try again after `delay`
    fail,     // dead-letter: an operator must act
    release,  // not attempted (e.g. shutdown, duplicate key in batch): back to pending now
};

struct AckDecision {
    Verdict verdict = Verdict::done;
    std::chrono::milliseconds delay{0};
    bool refund_attempt = false;  // this attempt does not count against max_attempts
    bool pause_channel = false;   // the shop refused the channel itself (auth/config): the row is held
    std::string error_code;       // ErrorCode name; empty when done
    std::string message;          // specific reason; empty when done
};

struct AckInput {
    std::optional<Error> error;  // nullopt = applied
    bool drop_cache = false;     // the cached mapping proved stale
    int attempts = 1;            // including this one
    int max_attempts = 10;
    // How long the row has existed, and how long a transiently failing row
    // keeps retrying: it fails only past both max_attempts and the window.
    std::chrono::milliseconds age{0};
    std::chrono::milliseconds retry_window{std::chrono::hours{24}};
};

// Transient errors and stale cache entries retry with backoff until both
// max_attempts and the retry window are spent; throttling retries without
// counting; auth/config refusals concern the channel, not the row: the row is
// held (pending, attempt refunded) and the channel pauses; everything else fails.
AckDecision decide(const AckInput& in, const BackoffPolicy& policy, std::mt19937_64& rng);

// The state a row ends in. A row that would go back to pending while a newer
// pending row for the same key exists is superseded instead: the newer value wins.
// The row was not the problem: the channel as a whole is down or refused.
// It goes back to pending with its attempt refunded and the reason kept.
void hold(AckDecision& d, std::string_view why);

std::string_view final_state(Verdict verdict, bool newer_pending_exists) noexcept;

}  // namespace stockrelay::sidecar
