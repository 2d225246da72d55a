// `stockrelayd run`: one worker thread per enabled channel, one LISTEN
// thread that wakes them, and a supervisor that follows the channel table.
#pragma once

#include <optional>

#include "webhook_server.hpp"
#include "worker.hpp"

namespace stockrelay::sidecar {

struct DaemonOptions {
    WorkerOptions worker;
    std::optional<std::int64_t> channel;                  // only this channel
    std::chrono::milliseconds reload_interval{30'000};    // re-read the channel table
    std::optional<ListenOptions> listen;                  // the webhook listener; off when unset
};

// Runs until SIGTERM/SIGINT (returns exit_ok) or until the database's
// contract version changes under it (returns exit_schema).
int run_daemon(const DaemonOptions& options);

}  // namespace stockrelay::sidecar
