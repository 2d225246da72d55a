// `stockrelayd run`: one DatabaseUnit (database_unit.hpp) per database served
// (one, or several: database_set.hpp), the webhook and operator listeners
// they share, and the signal handling.
#pragma once

#include <optional>

#include "database_set.hpp"
#include "ops_server.hpp"
#include "webhook_server.hpp"
#include "worker.hpp"

namespace stockrelay::sidecar {

struct DaemonOptions {
    WorkerOptions worker;                                 // worker.dsn: the single database's DSN
    DatabaseSource databases;                             // several() : one unit per database it resolves to
    std::optional<std::int64_t> channel;                  // only this channel
    std::chrono::milliseconds reload_interval{30'000};    // re-read the channel table (and the database list)
    std::optional<ListenOptions> listen;                  // the webhook listener; off when unset
    std::optional<OpsOptions> ops;                        // /healthz, /readyz, /metrics; off when unset
    bool ops_required = false;     // the operator named the address: failing to bind it stops the daemon
    std::chrono::milliseconds heartbeat_every{5'000};     // stock_relay_daemon.last_seen, systemd watchdog
    std::chrono::milliseconds stall_limit{120'000};       // a loop busy this long is stuck (liveness.hpp)
};

// Runs until SIGTERM/SIGINT (returns exit_ok) or, serving one database, until
// its contract version changes under it (returns exit_schema). Serving
// several, a database at another version is reported and re-checked instead.
int run_daemon(const DaemonOptions& options);

}  // namespace stockrelay::sidecar
