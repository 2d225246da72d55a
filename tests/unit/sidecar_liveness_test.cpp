// Liveness: a loop that waits on purpose is fine however long it waits; a
// loop busy past the stall limit is stuck (the heartbeat and /healthz stop
// vouching for the daemon), and it recovers when it turns again.
#include <gtest/gtest.h>

#include <thread>

#include "liveness.hpp"
#include "worker.hpp"

using namespace stockrelay::sidecar;
using std::chrono::milliseconds;

namespace {

bool stuck(const std::string& name, milliseconds limit, liveness::clock::time_point at) {
    for (const auto& s : liveness::stalled(limit, at))
        if (s.loop == name) return true;
    return false;
}

}  // namespace

TEST(Liveness, ABusyLoopPastTheLimitIsStuckAndATurnClearsIt) {
    liveness::LoopScope loop("drain A");
    const auto now = liveness::clock::now();
    EXPECT_FALSE(stuck("drain A", milliseconds{1000}, now));
    EXPECT_TRUE(stuck("drain A", milliseconds{1000}, now + milliseconds{1500}));
    loop.beat();
    EXPECT_FALSE(stuck("drain A", milliseconds{1000}, liveness::clock::now() + milliseconds{500}));
}

TEST(Liveness, AWaitingLoopIsNeverStuckAndIsBusyAgainFromItsWakeUp) {
    liveness::LoopScope loop("drain B");
    {
        const liveness::IdleScope idle;
        EXPECT_FALSE(stuck("drain B", milliseconds{10}, liveness::clock::now() + std::chrono::hours{1}));
    }
    const auto woke = liveness::clock::now();
    EXPECT_FALSE(stuck("drain B", milliseconds{1000}, woke + milliseconds{900}));
    EXPECT_TRUE(stuck("drain B", milliseconds{1000}, woke + milliseconds{1500}));
}

TEST(Liveness, WakeupSleepsCountAsWaitingAndOtherThreadsLoopsAreSeparate) {
    Wakeup wake;
    std::atomic<bool> stop{false};
    std::atomic<bool> sleeping{false};
    std::thread t([&] {
        liveness::LoopScope loop("sleeper");
        sleeping = true;
        wake.sleep_for(milliseconds{5000}, stop);
    });
    while (!sleeping) std::this_thread::yield();
    std::this_thread::sleep_for(milliseconds{50});
    EXPECT_FALSE(stuck("sleeper", milliseconds{1}, liveness::clock::now() + milliseconds{100}));
    stop = true;
    wake.notify();
    t.join();
    for (const auto& name : liveness::loops()) EXPECT_NE(name, "sleeper");  // unregistered with its thread
}

TEST(Liveness, AnUnregisteredThreadsIdleScopeChangesNothing) {
    const liveness::IdleScope idle;  // no loop on this thread: a no-op, no crash
    EXPECT_TRUE(liveness::stalled(milliseconds{0}, liveness::clock::now()).empty());
}
