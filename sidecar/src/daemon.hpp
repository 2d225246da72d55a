// `stockrelayd run`: one worker thread per enabled channel, one LISTEN
// thread that wakes them, and a supervisor that follows the channel table.
#pragma once

#include <optional>

#include "ops_server.hpp"
#include "webhook_server.hpp"
#include "worker.hpp"

namespace stockrelay::sidecar {

struct DaemonOptions {
    WorkerOptions worker;
    std::optional<std::int64_t> channel;                  // only this channel
    std::chrono::milliseconds reload_interval{30'000};    // re-read the channel table
    std::optional<ListenOptions> listen;                  // the webhook listener; off when unset
    std::optional<OpsOptions> ops;                        // /healthz, /readyz, /metrics; off when unset
    bool ops_required = false;     // the operator named the address: failing to bind it stops the daemon
    std::chrono::milliseconds heartbeat_every{5'000};     // stock_relay_daemon.last_seen, systemd watchdog
    std::chrono::milliseconds stall_limit{120'000};       // a loop busy this long is stuck (liveness.hpp)
};

// Runs until SIGTERM/SIGINT (returns exit_ok) or until the database's
// contract version changes under it (returns exit_schema).
int run_daemon(const DaemonOptions& options);

}  // namespace stockrelay::sidecar
