#include "daemon.hpp"

#include <poll.h>
#include <pthread.h>
#include <signal.h>

#include <algorithm>
#include <map>
#include <thread>

#include <fmt/format.h>

#include "catalog_runner.hpp"
#include "exit_codes.hpp"
#include "heartbeat.hpp"
#include "liveness.hpp"
#include "logging.hpp"
#include "metrics.hpp"
#include "order_poller.hpp"
#include "queries.hpp"
#include "reconcile.hpp"
#include "sd_notify.hpp"
#include "stockrelay/log.hpp"
#include "stockrelay/schema.hpp"

namespace stockrelay::sidecar {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// LISTEN stock_relay (outbox rows) and stock_relay_reconcile (reconcile
// requests) on a dedicated connection; every notification (and every
// reconnect, since notifications may have been missed) wakes all workers.
void listen_loop(const std::string& dsn, Wakeup& wake, const std::atomic<bool>& stop) {
    liveness::LoopScope loop("listener");
    std::unique_ptr<pg::Connection> conn;
    int failures = 0;
    std::mt19937_64 rng(std::random_device{}());
    const BackoffPolicy reconnect{milliseconds{500}, milliseconds{30'000}};
    while (!stop) {
        loop.beat();
        try {
            if (!conn) {
                conn = std::make_unique<pg::Connection>(dsn);
                conn->exec("LISTEN stock_relay");
                conn->exec("LISTEN stock_relay_reconcile");
                conn->exec("LISTEN stock_relay_catalog_preview");  // catalog_runner.hpp: dry runs
                if (failures > 0) {
                    log::info("listener: reconnected to PostgreSQL; waking workers to drain");
                    wake.notify();
                }
                failures = 0;
            }
            pollfd pfd{conn->socket(), POLLIN, 0};
            const int n = ::poll(&pfd, 1, 250);
            if (n > 0) {
                conn->consume_input();
                if (conn->take_notifications() > 0) wake.notify();
            } else if (n < 0 && errno != EINTR) {
                throw pg::Error("poll on the LISTEN connection failed", "08006", true);
            }
        } catch (const pg::Error& e) {
            conn.reset();
            ++failures;
            metrics::db_reconnect("listener");
            log::warn("listener: PostgreSQL unavailable, reconnecting: {}", e.what());
            wake.notify();  // workers find out about the outage themselves
            wake.sleep_for(backoff_delay(reconnect, failures, rng), stop);
        }
    }
}

struct Running {
    std::string fingerprint;
    std::unique_ptr<ChannelWorker> worker;
    std::thread thread;
};

void stop_worker(Running& r) {
    r.worker->request_stop();
    if (r.thread.joinable()) r.thread.join();
}

ReconcileOptions reconcile_options(const DaemonOptions& options) {
    ReconcileOptions o;
    o.dsn = options.worker.dsn;
    o.worker_id = options.worker.worker_id;
    o.lease = std::max(options.worker.lease * 4, std::chrono::seconds{60});
    o.poll_interval = options.worker.poll_interval;
    o.channel = options.channel;
    return o;
}

// The operator listener; a bind failure stops the daemon only when the
// operator named the address (the loopback default may be taken by a second
// daemon on the host, which must still relay).
std::unique_ptr<OpsServer> start_ops(const DaemonOptions& options, std::atomic<bool>& stop, int& exit_code) {
    if (!options.ops) return nullptr;
    auto ops = std::make_unique<OpsServer>(options.worker.dsn, *options.ops);
    if (auto started = ops->start(); !started) {
        if (options.ops_required) {
            log::error("{}", started.error().message);
            exit_code = exit_usage;
            stop = true;
        } else {
            log::warn("listener: {}; running without them (set --metrics-listen)", started.error().message);
        }
        return nullptr;
    }
    return ops;
}

HeartbeatOptions heartbeat_options(const DaemonOptions& options, const OpsServer* ops) {
    HeartbeatOptions h;
    h.dsn = options.worker.dsn;
    h.every = options.heartbeat_every;
    h.stall_limit = options.stall_limit;
    if (ops) h.listen = fmt::format("{}:{}", options.ops->listen.host, ops->port());
    else if (options.listen) h.listen = fmt::format("{}:{}", options.listen->host, options.listen->port);
    return h;
}

}  // namespace

int run_daemon(const DaemonOptions& options) {
    // Signals are taken by one thread with sigtimedwait; every other thread
    // inherits the blocked mask, so a SIGTERM never interrupts a batch.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGTERM);
    sigaddset(&signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    std::atomic<bool> stop{false};
    Wakeup wake;
    int exit_code = exit_ok;

    std::thread signal_thread([&] {
        const timespec tick{0, 200'000'000};
        while (!stop) {
            const int sig = sigtimedwait(&signals, nullptr, &tick);
            if (sig == SIGTERM || sig == SIGINT) {
                log::info("received {}; finishing the batches in hand", sig == SIGTERM ? "SIGTERM" : "SIGINT");
                stop = true;
                wake.notify();
            }
        }
    });
    std::thread listener([&] { listen_loop(options.worker.dsn, wake, stop); });
    std::thread reconciler([&] { ReconcileRunner(reconcile_options(options), wake).run(stop); });
    // Catalogue rows and dry runs (catalog_runner.hpp), on their own thread and connection.
    std::thread catalog_thread([&] { CatalogRunner(catalog_options(options.worker, options.channel), wake).run(stop); });
    // Orders in: the poller on its own thread and connection; the webhook
    // listener only when asked for (a bind failure stops the daemon: the
    // operator asked for a listener and the shops would get nothing).
    OrderPoller order_poller(options.worker.dsn, options.channel, stop);
    std::thread orders_thread([&] { order_poller.run(); });
    std::unique_ptr<WebhookServer> webhooks;
    if (options.listen) {
        webhooks = std::make_unique<WebhookServer>(options.worker.dsn, *options.listen);
        if (auto started = webhooks->start(); !started) {
            log::error("{}", started.error().message);
            exit_code = exit_usage;
            stop = true;
        }
    }

    metrics::declare_daemon_series();
    auto ops = start_ops(options, stop, exit_code);
    Heartbeat heartbeat(heartbeat_options(options, ops.get()));
    std::thread heartbeat_thread([&] { heartbeat.run(wake, stop); });

    const liveness::LoopScope loop("supervisor");
    bool ready_sent = false;
    std::map<std::int64_t, Running> workers;
    std::map<std::int64_t, std::string> broken;  // channel id -> fingerprint whose error was logged
    std::unique_ptr<pg::Connection> conn;
    int failures = 0;
    std::mt19937_64 rng(std::random_device{}());
    const BackoffPolicy reconnect{milliseconds{500}, milliseconds{30'000}};
    auto last_reload = steady_clock::now() - std::chrono::hours{1};

    log::info("stockrelayd running as worker '{}' (lease {} s, poll {} ms)", options.worker.worker_id,
              options.worker.lease.count(), options.worker.poll_interval.count());
    while (!stop) {
        const auto seen = wake.generation();
        auto wait = options.reload_interval;
        try {
            if (!conn) conn = std::make_unique<pg::Connection>(options.worker.dsn);
            const auto version = queries::schema_version(*conn);
            if (version != schema::kVersion) {
                log::error("the database's outbox schema version changed to {} under this stockrelayd, which "
                           "understands {}; stopping (upgrade stockrelayd)",
                           version ? std::to_string(*version) : "none", schema::kVersion);
                exit_code = exit_schema;
                stop = true;
                break;
            }
            if (!ready_sent) sd::ready();
            ready_sent = true;
            const auto rows = queries::load_channels(*conn, true, options.channel);
            failures = 0;
            last_reload = steady_clock::now();
            std::map<std::int64_t, const queries::ChannelRow*> wanted;
            for (const auto& row : rows) wanted[row.id] = &row;
            for (auto it = workers.begin(); it != workers.end();) {
                auto w = wanted.find(it->first);
                if (w == wanted.end() || w->second->json != it->second.fingerprint) {
                    log::info("channel {}: {}; stopping its worker", it->first,
                              w == wanted.end() ? "disabled or removed" : "settings changed");
                    stop_worker(it->second);
                    it = workers.erase(it);
                } else {
                    ++it;
                }
            }
            for (const auto& row : rows) {
                if (workers.count(row.id)) continue;
                const logging::ChannelScope scope(fmt::format("channel {} ({})", row.id, row.name));
                auto b = broken.find(row.id);
                const bool logged = b != broken.end() && b->second == row.json;
                auto config = channels::Config::from_json(nlohmann::json::parse(row.json));
                if (config) logging::add_secrets(config->secrets());
                auto guard = std::make_shared<LeaseGuard>();
                auto channel = config ? make_fenced_channel(*config, guard)
                                      : Result<std::unique_ptr<channels::Channel>>(config.error());
                if (!channel) {
                    if (!logged)
                        log::error("channel {} ({}): cannot start: {}; its rows stay queued until the channel is fixed",
                                   row.id, row.name, channel.error().describe());
                    broken[row.id] = row.json;
                    continue;
                }
                broken.erase(row.id);
                Running r;
                r.fingerprint = row.json;
                auto worker_options = options.worker;
                worker_options.guard = guard;
                r.worker = std::make_unique<ChannelWorker>(*config, std::move(*channel), worker_options, wake);
                r.thread = std::thread([w = r.worker.get()] { w->run(); });
                workers.emplace(row.id, std::move(r));
            }
            if (rows.empty() && workers.empty())
                log::debug("no enabled channels{}", options.channel ? " matching --channel" : "");
        } catch (const pg::Error& e) {
            conn.reset();
            ++failures;
            metrics::db_reconnect("supervisor");
            log::warn("supervisor: PostgreSQL unavailable: {}", e.what());
            wait = backoff_delay(reconnect, failures, rng);
        }
        // Wake on NOTIFY too (a new channel's first rows), at most once a second.
        wake.wait_until(seen, steady_clock::now() + wait, stop);
        const auto since = steady_clock::now() - last_reload;
        if (!stop && since < milliseconds{1000})
            wake.sleep_for(std::chrono::duration_cast<milliseconds>(milliseconds{1000} - since), stop);
    }

    sd::stopping();
    if (webhooks) webhooks->stop();
    orders_thread.join();
    for (auto& [id, r] : workers) r.worker->request_stop();
    for (auto& [id, r] : workers) stop_worker(r);
    listener.join();
    reconciler.join();
    catalog_thread.join();
    heartbeat_thread.join();
    heartbeat.finish();  // after the workers: stopped_at means every batch in hand was acked
    if (ops) ops->stop();
    signal_thread.join();
    log::info("stockrelayd stopped");
    return exit_code;
}

}  // namespace stockrelay::sidecar
