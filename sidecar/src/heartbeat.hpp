// The daemon's heartbeat in the contract (v4 [heartbeat], table
// stock_relay_daemon): a row per run, inserted at start with host, pid,
// version and listener; last_seen refreshed every few seconds only while no
// loop is stuck (liveness.hpp), so Odoo's "daemon last seen" stops moving when
// a drain loop wedges; stopped_at set on a clean exit; rows older than 7 days
// deleted. The same tick sends systemd's WATCHDOG=1. A database outage only
// delays the writes; it never stops the daemon.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "pg.hpp"
#include "worker.hpp"

namespace stockrelay::sidecar {

struct HeartbeatOptions {
    std::string dsn;
    std::optional<std::string> listen;               // the operator listener's address, or none
    std::chrono::milliseconds every{5'000};
    std::chrono::milliseconds stall_limit{120'000};  // see liveness.hpp
    // One of several databases (database_scope.hpp): only this database's
    // loops hold its heartbeat back; empty: every loop of the daemon.
    std::string database;
    bool watchdog = true;  // also send systemd's WATCHDOG=1 (the multi-database daemon sends it once, itself)
};

class Heartbeat {
public:
    explicit Heartbeat(HeartbeatOptions options);
    // Ticks until `stop`.
    void run(Wakeup& wake, const std::atomic<bool>& stop);
    // Records the clean exit (stopped_at); call once the batches in hand are acked.
    void finish();

private:
    void tick();
    void insert(pg::Connection& conn);
    HeartbeatOptions options_;
    std::unique_ptr<pg::Connection> conn_;
    std::optional<std::int64_t> row_;
    std::chrono::steady_clock::time_point next_purge_{};
    bool stall_logged_ = false;
    bool db_logged_ = false;
};

}  // namespace stockrelay::sidecar
