// The ack decision: what state a row ends in after a push attempt.
#include <gtest/gtest.h>

#include "ack.hpp"

using namespace stockrelay;
using namespace stockrelay::sidecar;
using std::chrono::milliseconds;

namespace {

AckDecision run(std::optional<Error> error, int attempts = 1, int max_attempts = 10, bool drop_cache = false) {
    std::mt19937_64 rng(42);
    AckInput in;
    in.error = std::move(error);
    in.attempts = attempts;
    in.max_attempts = max_attempts;
    in.drop_cache = drop_cache;
    return decide(in, BackoffPolicy{}, rng);
}

}  // namespace

TEST(SidecarAck, SuccessIsDone) {
    auto d = run(std::nullopt);
    EXPECT_EQ(d.verdict, Verdict::done);
    EXPECT_TRUE(d.error_code.empty());
    EXPECT_EQ(final_state(d.verdict, false), "done");
    // A newer pending row does not undo a success: it is simply pushed next.
    EXPECT_EQ(final_state(d.verdict, true), "done");
}

TEST(SidecarAck, TransientRetriesWithGrowingBackoff) {
    auto first = run(make_error(ErrorCode::transient, "HTTP 503", 503), 1);
    EXPECT_EQ(first.verdict, Verdict::retry);
    EXPECT_FALSE(first.refund_attempt);
    EXPECT_GE(first.delay, milliseconds{250});
    EXPECT_LE(first.delay, milliseconds{500});
    auto later = run(make_error(ErrorCode::transient, "HTTP 503", 503), 6);
    EXPECT_GE(later.delay, milliseconds{8000});
    EXPECT_EQ(first.error_code, "transient");
    EXPECT_NE(first.message.find("HTTP 503"), std::string::npos);
}

TEST(SidecarAck, TransientFailsOnlyPastMaxAttemptsAndTheRetryWindow) {
    std::mt19937_64 rng(42);
    AckInput in;
    in.error = make_error(ErrorCode::transient, "timeout");
    in.attempts = 3;
    in.max_attempts = 3;
    in.retry_window = std::chrono::hours{24};
    in.age = std::chrono::hours{2};
    // Out of attempts but inside the window: keeps retrying with backoff.
    auto inside = decide(in, BackoffPolicy{}, rng);
    EXPECT_EQ(inside.verdict, Verdict::retry);
    EXPECT_FALSE(inside.refund_attempt);
    in.age = std::chrono::hours{25};
    auto d = decide(in, BackoffPolicy{}, rng);
    EXPECT_EQ(d.verdict, Verdict::fail);
    EXPECT_EQ(d.error_code, "transient");
    EXPECT_NE(d.message.find("gave up after 3 attempts over 25.0 h: timeout"), std::string::npos) << d.message;
    // Past the window but with attempts left: still retries.
    in.attempts = 2;
    EXPECT_EQ(decide(in, BackoffPolicy{}, rng).verdict, Verdict::retry);
}

TEST(SidecarAck, ThrottledRetriesHonourRetryAfterAndDoNotCount) {
    Error e = make_error(ErrorCode::throttled, "THROTTLED");
    e.retry_after = milliseconds{7000};
    auto d = run(e, 10, 10);  // even at max_attempts
    EXPECT_EQ(d.verdict, Verdict::retry);
    EXPECT_TRUE(d.refund_attempt);
    EXPECT_GE(d.delay, milliseconds{7000});
}

TEST(SidecarAck, StaleCacheRetriesOtherNotFoundFails) {
    EXPECT_EQ(run(make_error(ErrorCode::not_found, "no such item"), 1, 10, true).verdict, Verdict::retry);
    EXPECT_EQ(run(make_error(ErrorCode::not_found, "no such item"), 1, 10, false).verdict, Verdict::fail);
}

TEST(SidecarAck, PermanentErrorsFailWithTheirCode) {
    for (auto code : {ErrorCode::sku_not_found, ErrorCode::duplicate_sku, ErrorCode::invalid_quantity,
                      ErrorCode::rejected, ErrorCode::permanent}) {
        auto d = run(make_error(code, "why"));
        EXPECT_EQ(d.verdict, Verdict::fail) << to_string(code);
        EXPECT_EQ(d.error_code, to_string(code));
        EXPECT_EQ(d.message, "why");
        EXPECT_EQ(final_state(d.verdict, true), "failed");
    }
}

TEST(SidecarAck, AuthAndConfigHoldTheRowWithoutSpendingAnAttempt) {
    for (auto code : {ErrorCode::auth, ErrorCode::config}) {
        auto d = run(make_error(code, "Invalid API key or access token", 401), 10, 10);
        EXPECT_EQ(d.verdict, Verdict::release);
        EXPECT_TRUE(d.refund_attempt);
        EXPECT_TRUE(d.pause_channel);
        EXPECT_EQ(d.error_code, to_string(code));
        EXPECT_EQ(final_state(d.verdict, false), "pending");
        EXPECT_NE(d.message.find("held while the shop refuses this channel: Invalid API key"), std::string::npos)
            << d.message;
    }
}

TEST(SidecarAck, HoldKeepsTheReasonOnce) {
    auto d = run(make_error(ErrorCode::transient, "HTTP 503", 503), 4, 3);
    hold(d, "held while the shop is unreachable");
    hold(d, "held while the shop is unreachable");
    EXPECT_EQ(d.verdict, Verdict::release);
    EXPECT_TRUE(d.refund_attempt);
    EXPECT_EQ(d.delay, milliseconds{0});
    EXPECT_EQ(d.message, "held while the shop is unreachable: HTTP 503 (HTTP 503)");
}

TEST(SidecarAck, ANewerPendingRowSupersedesARetry) {
    EXPECT_EQ(final_state(Verdict::retry, false), "pending");
    EXPECT_EQ(final_state(Verdict::retry, true), "superseded");
    EXPECT_EQ(final_state(Verdict::release, false), "pending");
    EXPECT_EQ(final_state(Verdict::release, true), "superseded");
}
