#include "database_unit.hpp"

#include <poll.h>

#include <algorithm>

#include <fmt/format.h>

#include "catalog_runner.hpp"
#include "database_scope.hpp"
#include "heartbeat.hpp"
#include "inflight.hpp"
#include "liveness.hpp"
#include "logging.hpp"
#include "metrics.hpp"
#include "order_poller.hpp"
#include "queries.hpp"
#include "reconcile.hpp"
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

ReconcileOptions reconcile_options(const UnitOptions& options) {
    ReconcileOptions o;
    o.dsn = options.worker.dsn;
    o.worker_id = options.worker.worker_id;
    o.lease = std::max(options.worker.lease * 4, std::chrono::seconds{60});
    o.poll_interval = options.worker.poll_interval;
    o.channel = options.channel;
    return o;
}

HeartbeatOptions heartbeat_options(const UnitOptions& options) {
    HeartbeatOptions h;
    h.dsn = options.worker.dsn;
    h.every = options.heartbeat_every;
    h.stall_limit = options.stall_limit;
    h.listen = options.listen;
    h.database = options.name;
    h.watchdog = options.name.empty();
    return h;
}

// A thread of this unit: every line it logs and every series it records names the database.
template <typename F>
std::thread unit_thread(const std::string& name, F f) {
    return std::thread([name, f = std::move(f)]() mutable {
        const DatabaseScope scope(name);
        f();
    });
}

}  // namespace

struct DatabaseUnit::Running {
    std::string fingerprint;
    std::unique_ptr<ChannelLanes> lanes;  // inflight.hpp: one worker per batch in flight
};

// The threads that run once the database holds our contract version.
struct DatabaseUnit::Parts {
    std::atomic<bool> stop{false};
    std::unique_ptr<OrderPoller> poller;
    std::unique_ptr<Heartbeat> heartbeat;
    std::thread listener, reconciler, catalog, orders, beat;
};

DatabaseUnit::DatabaseUnit(UnitOptions options) : options_(std::move(options)) {}

DatabaseUnit::~DatabaseUnit() {
    request_stop();
    join();
}

void DatabaseUnit::start() {
    thread_ = unit_thread(options_.name, [this] { supervise(); });
}

void DatabaseUnit::request_stop() {
    stop_ = true;
    wake_.notify();
}

void DatabaseUnit::join() {
    if (thread_.joinable()) thread_.join();
}

void DatabaseUnit::start_parts() {
    if (parts_) return;
    parts_ = std::make_unique<Parts>();
    auto& p = *parts_;
    const auto& dsn = options_.worker.dsn;
    p.listener = unit_thread(options_.name, [this, &p] { listen_loop(options_.worker.dsn, wake_, p.stop); });
    p.reconciler = unit_thread(options_.name, [this, &p] { ReconcileRunner(reconcile_options(options_), wake_).run(p.stop); });
    // Catalogue rows and dry runs (catalog_runner.hpp), on their own thread and connection.
    p.catalog = unit_thread(options_.name, [this, &p] {
        CatalogRunner(catalog_options(options_.worker, options_.channel), wake_).run(p.stop);
    });
    // Orders in: the poller on its own thread and connection.
    p.poller = std::make_unique<OrderPoller>(dsn, options_.channel, p.stop);
    p.orders = unit_thread(options_.name, [&p] { p.poller->run(); });
    p.heartbeat = std::make_unique<Heartbeat>(heartbeat_options(options_));
    p.beat = unit_thread(options_.name, [this, &p] { p.heartbeat->run(wake_, p.stop); });
}

void DatabaseUnit::stop_parts() {
    if (!parts_) return;
    auto& p = *parts_;
    p.stop = true;
    wake_.notify();
    for (auto* t : {&p.orders, &p.listener, &p.reconciler, &p.catalog, &p.beat})
        if (t->joinable()) t->join();
    p.heartbeat->finish();  // after the workers: stopped_at means every batch in hand was acked
    parts_.reset();
}

void DatabaseUnit::stop_workers() {
    for (auto& [id, r] : workers_) r->lanes->request_stop();
    for (auto& [id, r] : workers_) r->lanes->join();
    workers_.clear();
}

bool DatabaseUnit::check_schema(pg::Connection& conn) {
    const auto version = queries::schema_version(conn);
    if (version == schema::kVersion) {
        if (wrong_version_logged_) log::info("the database's outbox schema version is {} again; serving it", *version);
        wrong_version_logged_.reset();
        return true;
    }
    const auto found = version ? std::to_string(*version) : std::string("none");
    if (options_.exit_on_schema_change) {
        log::error("the database's outbox schema version changed to {} under this stockrelayd, which "
                   "understands {}; stopping (upgrade stockrelayd)", found, schema::kVersion);
        if (options_.on_schema_exit) options_.on_schema_exit();
        stop_ = true;
        return false;
    }
    if (wrong_version_logged_ != found)
        log::error("the database's outbox schema version is {}, this stockrelayd understands {}; not serving it "
                   "(the other databases carry on); checking again with backoff", found, schema::kVersion);
    wrong_version_logged_ = found;
    stop_workers();
    stop_parts();
    return false;
}

void DatabaseUnit::reload_channels(pg::Connection& conn) {
    const auto rows = queries::load_channels(conn, true, options_.channel);
    std::map<std::int64_t, const queries::ChannelRow*> wanted;
    for (const auto& row : rows) wanted[row.id] = &row;
    for (auto it = workers_.begin(); it != workers_.end();) {
        auto w = wanted.find(it->first);
        if (w == wanted.end() || w->second->json != it->second->fingerprint) {
            log::info("channel {}: {}; stopping its worker", it->first,
                      w == wanted.end() ? "disabled or removed" : "settings changed");
            it->second->lanes->request_stop();
            it->second->lanes->join();
            it = workers_.erase(it);
        } else {
            ++it;
        }
    }
    for (const auto& row : rows) {
        if (workers_.count(row.id)) continue;
        const logging::ChannelScope scope(fmt::format("channel {} ({})", row.id, row.name));
        auto b = broken_.find(row.id);
        const bool logged = b != broken_.end() && b->second == row.json;
        auto config = channels::Config::from_json(nlohmann::json::parse(row.json));
        if (config) logging::add_secrets(config->secrets());
        // ---- [in-flight] (issue 17): several lanes per channel, inflight.hpp
        auto lanes = config ? ChannelLanes::create(*config, batches_in_flight(nlohmann::json::parse(row.json), row.type),
                                                   options_.worker, wake_,
                                                   [&](auto guard) { return make_fenced_channel(*config, guard); })
                            : Result<std::unique_ptr<ChannelLanes>>(config.error());
        if (!lanes) {
            if (!logged)
                log::error("channel {} ({}): cannot start: {}; its rows stay queued until the channel is fixed",
                           row.id, row.name, lanes.error().describe());
            broken_[row.id] = row.json;
            continue;
        }
        broken_.erase(row.id);
        auto r = std::make_unique<Running>();
        r->fingerprint = row.json;
        r->lanes = std::move(*lanes);
        r->lanes->start([this](std::function<void()> f) { return unit_thread(options_.name, std::move(f)); });
        // ---- end [in-flight]
        workers_.emplace(row.id, std::move(r));
    }
    if (rows.empty() && workers_.empty())
        log::debug("no enabled channels{}", options_.channel ? " matching --channel" : "");
}

void DatabaseUnit::supervise() {
    const liveness::LoopScope loop("supervisor");
    metrics::declare_daemon_series();
    std::unique_ptr<pg::Connection> conn;
    int failures = 0;
    std::mt19937_64 rng(std::random_device{}());
    const BackoffPolicy reconnect{milliseconds{500}, milliseconds{30'000}};
    // Another contract version (several databases only): re-checked from one
    // reload interval (at most 5 s) up to every 5 minutes.
    const BackoffPolicy wrong_schema{std::min(options_.reload_interval, milliseconds{5'000}), milliseconds{300'000}};
    auto last_reload = steady_clock::now() - std::chrono::hours{1};
    while (!stop_) {
        const auto seen = wake_.generation();
        auto wait = options_.reload_interval;
        try {
            if (!conn) conn = std::make_unique<pg::Connection>(options_.worker.dsn);
            if (check_schema(*conn)) {
                if (!ready_ && options_.on_ready) options_.on_ready();
                ready_ = true;
                start_parts();
                reload_channels(*conn);
                failures = 0;
            } else {
                wait = backoff_delay(wrong_schema, ++failures, rng);
            }
            last_reload = steady_clock::now();
        } catch (const pg::Error& e) {
            conn.reset();
            ++failures;
            metrics::db_reconnect("supervisor");
            log::warn("supervisor: PostgreSQL unavailable: {}", e.what());
            wait = backoff_delay(reconnect, failures, rng);
        }
        if (stop_) break;
        // Wake on NOTIFY too (a new channel's first rows), at most once a second.
        wake_.wait_until(seen, steady_clock::now() + wait, stop_);
        const auto since = steady_clock::now() - last_reload;
        if (!stop_ && since < milliseconds{1000})
            wake_.sleep_for(std::chrono::duration_cast<milliseconds>(milliseconds{1000} - since), stop_);
    }
    stop_workers();
    stop_parts();
}

}  // namespace stockrelay::sidecar
