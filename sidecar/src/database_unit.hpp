// One database's share of `stockrelayd run`: its LISTEN thread, reconcile
// runner, order poller, heartbeat row (stock_relay_daemon) and one worker per
// enabled channel, all on their own connections, woken by its own NOTIFYs. The
// single-database daemon runs one unit; a daemon serving several databases
// (database_set.hpp) runs one per database, so a database that is down,
// dropped, at another contract version or full of bad rows only ever holds
// back its own threads.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "worker.hpp"

namespace stockrelay::sidecar {

struct UnitOptions {
    std::string name;       // the database's name; empty in the single-database daemon (no prefixes, no labels)
    WorkerOptions worker;   // worker.dsn: this database's DSN
    std::optional<std::int64_t> channel;
    std::chrono::milliseconds reload_interval{30'000};
    std::chrono::milliseconds heartbeat_every{5'000};
    std::chrono::milliseconds stall_limit{120'000};
    std::optional<std::string> listen;  // the address recorded in the heartbeat row
    // The contract version changed under the unit. Single database: the daemon
    // stops (exit 4, as before). Several: this database is reported and
    // re-checked with backoff while the others carry on.
    bool exit_on_schema_change = true;
    std::function<void()> on_schema_exit;  // called once when exit_on_schema_change fires
    std::function<void()> on_ready;        // called once when the contract version first checks out
};

class DatabaseUnit {
public:
    explicit DatabaseUnit(UnitOptions options);
    ~DatabaseUnit();
    DatabaseUnit(const DatabaseUnit&) = delete;
    DatabaseUnit& operator=(const DatabaseUnit&) = delete;

    void start();         // the unit's supervisor thread
    void request_stop();  // returns at once; join() waits
    void join();          // the batches in hand are acked, then the heartbeat records the clean exit
    const std::string& name() const { return options_.name; }

private:
    struct Parts;
    void supervise();
    bool check_schema(pg::Connection& conn);  // false: not our contract version (handled)
    void start_parts();
    void stop_parts();
    void reload_channels(pg::Connection& conn);
    void stop_workers();

    UnitOptions options_;
    Wakeup wake_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
    std::unique_ptr<Parts> parts_;
    struct Running;
    std::map<std::int64_t, std::unique_ptr<Running>> workers_;
    std::map<std::int64_t, std::string> broken_;  // channel id -> fingerprint whose error was logged
    std::optional<std::string> wrong_version_logged_;  // the wrong version last reported (logged once)
    bool ready_ = false;
};

}  // namespace stockrelay::sidecar
