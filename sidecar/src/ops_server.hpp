// The operator's HTTP listener (`--metrics-listen`, loopback by default):
//   GET /healthz  200 while every loop turns (liveness.hpp), else 503 naming the stuck loop
//   GET /readyz   200 when the database answers, its contract version is this daemon's and at
//                 least one enabled channel is flowing; else 503 with the reason (serving several
//                 databases: 200 when every one is ready; the body has a line per database)
//   GET /metrics  Prometheus text format (metrics.hpp + metrics_sql.hpp)
// Kept apart from the webhook listener so that exposing webhooks to the shops
// never exposes the figures.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <thread>

#include "stockrelay/error.hpp"
#include "webhook_server.hpp"

namespace stockrelay::sidecar::metrics {
class DatabaseFigures;
}

namespace stockrelay::sidecar {

struct OpsOptions {
    ListenOptions listen;                        // host, port (0: any free port)
    std::chrono::milliseconds stall_limit{120'000};  // a loop busy this long is stuck
    std::chrono::milliseconds db_max_age{2'000};     // database figures cached this long
};

class OpsServer {
public:
    // `databases`: the served databases' scrape-time figures (the daemon keeps the set current).
    OpsServer(std::shared_ptr<metrics::DatabaseFigures> databases, OpsOptions options, bool several = false);
    ~OpsServer();
    OpsServer(const OpsServer&) = delete;
    OpsServer& operator=(const OpsServer&) = delete;

    Status start();  // binds and serves on a thread; config error when the address cannot be bound
    void stop();
    int port() const noexcept { return port_; }

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::thread thread_;
    int port_ = 0;
};

}  // namespace stockrelay::sidecar
