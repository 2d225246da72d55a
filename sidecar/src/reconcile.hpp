// The reconcile runner of `stockrelayd run`: takes reconcile requests
// (contract table stock_relay_reconcile) and reads the channel's shop into
// stock_relay_snapshot, page by page, resumable from the run's cursor. It runs
// on its own thread and connection, one read at a time per daemon, so the
// channel workers' live pushes never wait for it. It never pushes anything.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <random>
#include <string>

#include "pg.hpp"
#include "reconcile_queries.hpp"
#include "stockrelay/backoff.hpp"
#include "worker.hpp"

namespace stockrelay::sidecar {

struct ReconcileOptions {
    std::string dsn;
    std::string worker_id;
    // Renewed with every stored page; a reader that dies leaves its run to
    // another daemon after this long.
    std::chrono::seconds lease{120};
    std::chrono::milliseconds poll_interval{5000};
    // Transient failures (timeouts, 5xx, throttling) retry from the cursor
    // with backoff; the run fails after this many attempts.
    int max_attempts = 5;
    BackoffPolicy backoff{std::chrono::milliseconds{2000}, std::chrono::milliseconds{5 * 60 * 1000}};
    std::optional<std::int64_t> channel;  // only this channel's requests
};

// The outcome of one claimed run, for logs and tests.
enum class RunOutcome { nothing, read, postponed, failed, lost };

class ReconcileRunner {
public:
    ReconcileRunner(ReconcileOptions options, Wakeup& wake);

    // Claims at most one due request and reads it to the end (or to its error).
    RunOutcome run_once(pg::Connection& conn, const std::atomic<bool>& stop);
    // Until `stop`: wakes on NOTIFY stock_relay_reconcile (through `wake`) and
    // polls; reconnects with backoff.
    void run(const std::atomic<bool>& stop);

private:
    RunOutcome read(pg::Connection& conn, const reconcile_queries::Claimed& run, const std::atomic<bool>& stop);
    RunOutcome settle_failure(pg::Connection& conn, const reconcile_queries::Claimed& run, const Error& err, int calls,
                              int cost, const std::atomic<bool>& stop);

    ReconcileOptions options_;
    Wakeup& wake_;
    std::mt19937_64 rng_;
};

// After a run is read: `NOTIFY cron_trigger, '<database>'` on the postgres
// maintenance database, where Odoo's cron workers listen. Failures are logged.
void notify_odoo_crons(const std::string& dsn, const std::string& database);

}  // namespace stockrelay::sidecar
