// Are the daemon's loops turning? Each long-lived loop registers itself
// (LoopScope on its thread); while it waits on purpose (Wakeup's sleeps, an
// IdleScope) it counts as idle, otherwise as busy since it last woke or
// beat. A loop busy for longer than the stall limit is wedged: the heartbeat
// row, the systemd watchdog and /healthz stop vouching for the daemon.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace stockrelay::sidecar::liveness {

using clock = std::chrono::steady_clock;

// Registers the calling thread's loop under `name` until destroyed.
class LoopScope {
public:
    explicit LoopScope(std::string name);
    ~LoopScope();
    LoopScope(const LoopScope&) = delete;
    LoopScope& operator=(const LoopScope&) = delete;
    // The loop turned (for loops that never sleep through Wakeup).
    void beat();

private:
    int id_;
};

// While alive, the calling thread's loop (if any) waits on purpose.
class IdleScope {
public:
    IdleScope();
    ~IdleScope();
    IdleScope(const IdleScope&) = delete;
    IdleScope& operator=(const IdleScope&) = delete;
};

struct Stall {
    std::string loop;
    std::chrono::milliseconds busy_for;
};

// Loops busy for longer than `limit` at `now`.
std::vector<Stall> stalled(std::chrono::milliseconds limit, clock::time_point now = clock::now());
// The same, among the loops registered by `database`'s threads only
// (database_scope.hpp; "" is the single-database daemon's).
std::vector<Stall> stalled_in(const std::string& database, std::chrono::milliseconds limit,
                              clock::time_point now = clock::now());
// Names of the registered loops (for /healthz).
std::vector<std::string> loops();

}  // namespace stockrelay::sidecar::liveness
