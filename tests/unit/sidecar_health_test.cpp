// The channel circuit breaker: when row traffic stops and probes back off.
#include <gtest/gtest.h>

#include "health.hpp"

using namespace stockrelay;
using namespace stockrelay::sidecar;
using std::chrono::milliseconds;

namespace {

HealthPolicy fast() {
    HealthPolicy p;
    p.down = {milliseconds{1000}, milliseconds{8000}};
    p.refused = {milliseconds{2000}, milliseconds{300'000}};
    return p;
}

}  // namespace

TEST(SidecarHealth, AnOutageBlocksAndProbesBackOffUpToTheCap) {
    ChannelHealth h(fast(), 7);
    const auto t0 = ChannelHealth::clock::now();
    EXPECT_FALSE(h.blocked());
    EXPECT_TRUE(h.on_failure(make_error(ErrorCode::transient, "connection refused"), t0));
    EXPECT_EQ(h.state(), ChannelState::down);
    EXPECT_EQ(h.error_code(), "transient");
    EXPECT_NE(h.reason().find("connection refused"), std::string::npos);
    milliseconds last{0};
    for (int i = 0; i < 12; ++i) {
        // Further failed probes do not count as a change (logged once).
        EXPECT_FALSE(h.on_failure(make_error(ErrorCode::transient, "HTTP 503", 503), t0));
        const auto wait = std::chrono::duration_cast<milliseconds>(h.next_probe() - t0);
        EXPECT_LE(wait, milliseconds{8000});
        EXPECT_GE(wait, milliseconds{500});
        last = wait;
    }
    EXPECT_GE(last, milliseconds{4000});  // capped at 8 s, with jitter down to half
    EXPECT_TRUE(h.on_success(t0));
    EXPECT_FALSE(h.blocked());
    EXPECT_EQ(h.failed_probes(), 0);
    EXPECT_FALSE(h.on_success(t0));  // already flowing: no change to report
}

TEST(SidecarHealth, AuthAndConfigRefusalsAreRefusedOthersDown) {
    EXPECT_EQ(state_for(make_error(ErrorCode::auth, "401")), ChannelState::refused);
    EXPECT_EQ(state_for(make_error(ErrorCode::config, "TLS certificate verification failed")), ChannelState::refused);
    EXPECT_EQ(state_for(make_error(ErrorCode::transient, "timeout")), ChannelState::down);
    ChannelHealth h(fast(), 1);
    const auto t0 = ChannelHealth::clock::now();
    EXPECT_TRUE(h.on_failure(make_error(ErrorCode::auth, "refused the access token", 401), t0));
    EXPECT_EQ(h.state(), ChannelState::refused);
    // A refused shop that stops answering at all is now down: a change.
    EXPECT_TRUE(h.on_failure(make_error(ErrorCode::transient, "timeout"), t0));
    EXPECT_EQ(h.state(), ChannelState::down);
}

TEST(SidecarHealth, AStateLeftByAPreviousRunIsProbedAtOnce) {
    ChannelHealth h(fast(), 3);
    const auto t0 = ChannelHealth::clock::now();
    h.resume_blocked(ChannelState::refused, "auth: refused", t0);
    EXPECT_TRUE(h.blocked());
    EXPECT_EQ(h.next_probe(), t0);
    EXPECT_EQ(to_string(h.state()), "refused");
    EXPECT_EQ(channel_state_from("down"), ChannelState::down);
    EXPECT_FALSE(channel_state_from("bogus").has_value());
}
