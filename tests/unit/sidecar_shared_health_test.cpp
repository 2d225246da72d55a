// One circuit breaker shared by a channel's lanes (shared_health.hpp): one
// probe per backoff step, each transition reported to one lane.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>

#include "shared_health.hpp"

using namespace stockrelay;
using namespace stockrelay::sidecar;
using std::chrono::milliseconds;

namespace {

Error outage() { return make_error(ErrorCode::transient, "HTTP 503"); }

}  // namespace

TEST(SharedHealth, OneLaneProbesPerStepTheOthersWait) {
    SharedHealth h(HealthPolicy{}, 7);
    const auto t0 = SharedHealth::clock::now();
    EXPECT_EQ(h.next_step(t0).kind, LaneStep::flow);
    ASSERT_EQ(h.begin_confirm(std::atomic<bool>{false}), Confirm::probe);
    EXPECT_TRUE(h.finish_probe(outage(), t0).changed);
    const auto due = h.snapshot().next_probe;
    EXPECT_EQ(h.next_step(due - milliseconds{1}).kind, LaneStep::wait);
    int probes = 0;
    for (int lane = 0; lane < 4; ++lane) probes += h.next_step(due).kind == LaneStep::probe;
    EXPECT_EQ(probes, 1);
    // The failed probe is stored by its lane but changes nothing: no second "unreachable".
    const auto t = h.finish_probe(outage(), due);
    EXPECT_FALSE(t.changed);
    EXPECT_EQ(t.after.failed_probes, 2);
    EXPECT_EQ(h.next_step(due).kind, LaneStep::wait);
}

TEST(SharedHealth, AWaitingLaneWakesAtTheVerdict) {
    SharedHealth h(HealthPolicy{}, 7);
    const auto t0 = SharedHealth::clock::now();
    h.begin_confirm(std::atomic<bool>{false});
    h.finish_probe(outage(), t0);
    const auto prober = h.next_step(h.snapshot().next_probe);
    ASSERT_EQ(prober.kind, LaneStep::probe);
    const auto waiter = h.next_step(SharedHealth::clock::now());
    ASSERT_EQ(waiter.kind, LaneStep::wait);
    std::atomic<bool> stop{false};
    auto woke = std::async(std::launch::async, [&] {
        h.wait(LaneStep{LaneStep::wait, SharedHealth::clock::now() + std::chrono::seconds{30}, waiter.seen}, stop);
        return h.blocked();
    });
    std::this_thread::sleep_for(milliseconds{50});
    EXPECT_TRUE(h.finish_probe(std::nullopt, SharedHealth::clock::now()).changed);
    ASSERT_EQ(woke.wait_for(std::chrono::seconds{5}), std::future_status::ready);
    EXPECT_FALSE(woke.get());
}

TEST(SharedHealth, ABatchFailingWhileAnotherLaneProbesTakesItsVerdict) {
    for (const bool answers : {false, true}) {
        SharedHealth h(HealthPolicy{}, 7);
        std::atomic<bool> stop{false};
        ASSERT_EQ(h.begin_confirm(stop), Confirm::probe);
        auto other = std::async(std::launch::async, [&] { return h.begin_confirm(stop); });
        EXPECT_EQ(other.wait_for(milliseconds{50}), std::future_status::timeout);  // no second probe
        const auto t = h.finish_probe(answers ? std::nullopt : std::optional<Error>(outage()),
                                      SharedHealth::clock::now());
        EXPECT_EQ(t.changed, !answers);
        EXPECT_EQ(other.get(), answers ? Confirm::flowing : Confirm::blocked);
    }
}

TEST(SharedHealth, EachTransitionIsReportedToOneLane) {
    SharedHealth h(HealthPolicy{}, 7);
    const auto t0 = SharedHealth::clock::now();
    const auto refused = make_error(ErrorCode::auth, "HTTP 401");
    EXPECT_TRUE(h.on_refusal(refused, t0).changed);
    EXPECT_FALSE(h.on_refusal(refused, t0).changed);  // another lane's batch, same refusal
    EXPECT_EQ(h.snapshot().failed_probes, 1);         // not counted twice
    EXPECT_TRUE(h.take_replay());                     // the start's replay
    EXPECT_FALSE(h.take_replay());
    // A success in any lane ends it for all, once.
    EXPECT_TRUE(h.on_success(t0).changed);
    EXPECT_FALSE(h.on_success(t0).changed);
    EXPECT_EQ(h.next_step(t0).kind, LaneStep::flow);
    EXPECT_TRUE(h.take_replay());
    EXPECT_FALSE(h.take_replay());
}

TEST(SharedHealth, TheChannelStartsOnceForAllLanes) {
    SharedHealth h;
    int runs = 0;
    EXPECT_THROW(h.start_once([&] { ++runs; throw std::runtime_error("PostgreSQL went away"); }), std::runtime_error);
    for (int lane = 0; lane < 4; ++lane) h.start_once([&] { ++runs; });
    EXPECT_EQ(runs, 2);
}
