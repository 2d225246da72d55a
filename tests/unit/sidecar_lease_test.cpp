// Worker ids that name a process instance (and tell when it is gone), and the
// lease guard that fences a push's shop calls and waits.
#include <gtest/gtest.h>

#include <unistd.h>

#include <thread>

#include <fmt/format.h>

#include "lease.hpp"
#include "worker_id.hpp"

using namespace stockrelay::sidecar;
using namespace std::chrono_literals;

TEST(SidecarWorkerId, NamesThisProcessInstanceAndRoundTrips) {
    const auto self = this_instance();
    ASSERT_TRUE(self.has_value()) << "/proc should describe this process";
    EXPECT_EQ(self->pid, static_cast<long>(getpid()));
    const auto parsed = Instance::parse(self->id());
    ASSERT_TRUE(parsed.has_value()) << self->id();
    EXPECT_EQ(parsed->id(), self->id());
    EXPECT_EQ(default_worker_id(), self->id());
}

TEST(SidecarWorkerId, AnotherProcessStartedAsTheSamePidIsADifferentInstance) {
    // Containers all run as pid 1: the start time and pid namespace tell them apart.
    auto a = *this_instance();
    auto b = a;
    b.start += 1;
    EXPECT_NE(a.id(), b.id());
    b = a;
    b.pidns = "4026531999";
    EXPECT_NE(a.id(), b.id());
}

TEST(SidecarWorkerId, OnlyAProcessOfThisHostThatNoLongerExistsIsGone) {
    const auto self = *this_instance();
    EXPECT_FALSE(instance_gone(self.id())) << "this process is alive";
    auto reused = self;
    reused.start += 12345;  // our pid, another start time: the leaser died and the pid was reused
    EXPECT_TRUE(instance_gone(reused.id()));
    auto vanished = self;
    vanished.pid = 4194304 + 7;  // above the kernel's pid_max: no such process
    EXPECT_TRUE(instance_gone(vanished.id()));
    auto elsewhere = vanished;
    elsewhere.host = self.host + "-other";
    EXPECT_FALSE(instance_gone(elsewhere.id())) << "another host's processes cannot be checked from here";
    auto other_container = vanished;
    other_container.pidns = "1";
    EXPECT_FALSE(instance_gone(other_container.id())) << "another pid namespace cannot be checked from here";
    auto other_boot = vanished;
    other_boot.boot = "00000000";
    EXPECT_FALSE(instance_gone(other_boot.id()));
    EXPECT_FALSE(instance_gone("relay-a")) << "an operator's --worker-id is left to its lease";
    EXPECT_FALSE(instance_gone(fmt::format("{}:{}", self.host, 4194304 + 7))) << "the old host:pid format";
}

TEST(SidecarLeaseGuard, UnarmedLetsEverythingThrough) {
    LeaseGuard g;
    EXPECT_FALSE(g.refuse_call(15s));
    EXPECT_FALSE(g.refuse_wait(1h));
}

TEST(SidecarLeaseGuard, BoundsEveryWaitWellBelowTheLease) {
    LeaseGuard g;
    g.arm(30s, LeaseGuard::Clock::now());
    EXPECT_FALSE(g.refuse_wait(7s));
    const auto why = g.refuse_wait(8s);
    ASSERT_TRUE(why);
    EXPECT_NE(why->find("longer than a push may wait"), std::string::npos) << *why;
    EXPECT_FALSE(g.refuse_call(15s));
}

TEST(SidecarLeaseGuard, AFailedHeartbeatStopsTheNextCallAndWait) {
    LeaseGuard g;
    g.arm(30s, LeaseGuard::Clock::now());
    g.lost("heartbeat failed: server closed the connection");
    const auto why = g.refuse_call(15s);
    ASSERT_TRUE(why);
    EXPECT_NE(why->find("heartbeat failed"), std::string::npos) << *why;
    EXPECT_TRUE(g.refuse_wait(1ms));
    g.disarm();
    EXPECT_FALSE(g.refuse_call(15s)) << "the next push starts afresh";
}

TEST(SidecarLeaseGuard, ACallThatCouldOutlastAnUnconfirmedLeaseIsRefused) {
    LeaseGuard g;
    // Claimed 20 s ago under a 30 s lease and never renewed: 10 s left.
    g.arm(30s, LeaseGuard::Clock::now() - 20s);
    EXPECT_TRUE(g.refuse_call(15s));
    EXPECT_FALSE(g.refuse_call(5s));
    g.renewed(LeaseGuard::Clock::now());
    EXPECT_FALSE(g.refuse_call(15s)) << "a confirmed heartbeat gives the lease back";
}

TEST(SidecarLeaseGuard, HeartbeatBeatsSeveralTimesPerLease) {
    EXPECT_EQ(LeaseGuard::heartbeat_every(30s), 5s);
    EXPECT_EQ(LeaseGuard::heartbeat_every(1s), 200ms);
}

namespace {
struct CountingClient : stockrelay::http::Client {
    int* calls;
    explicit CountingClient(int* c) : calls(c) {}
    stockrelay::Result<stockrelay::http::Response> send(const stockrelay::http::Request&) override {
        ++*calls;
        stockrelay::http::Response r;
        r.status = 200;
        return r;
    }
};
}  // namespace

TEST(SidecarLeaseGuard, TheFencedClientNeverReachesTheShopOnceTheLeaseIsLost) {
    int calls = 0;
    auto guard = std::make_shared<LeaseGuard>();
    auto client = fenced_client(std::make_unique<CountingClient>(&calls), guard);
    stockrelay::http::Request req;
    req.timeout = 5s;
    guard->arm(30s, LeaseGuard::Clock::now());
    ASSERT_TRUE(client->send(req));
    guard->lost("heartbeat failed: connection reset");
    const auto refused = client->send(req);
    ASSERT_FALSE(refused);
    EXPECT_EQ(refused.error().code, stockrelay::ErrorCode::transient);
    EXPECT_NE(refused.error().message.find("not sent"), std::string::npos) << refused.error().message;
    EXPECT_EQ(calls, 1);
}
