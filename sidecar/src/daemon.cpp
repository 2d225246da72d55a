#include "daemon.hpp"

#include <pthread.h>
#include <signal.h>

#include <map>
#include <thread>
#include <vector>

#include <fmt/format.h>

#include "database_figures.hpp"
#include "database_unit.hpp"
#include "exit_codes.hpp"
#include "liveness.hpp"
#include "sd_notify.hpp"
#include "stockrelay/log.hpp"

namespace stockrelay::sidecar {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

// The operator listener; a bind failure stops the daemon only when the
// operator named the address (the loopback default may be taken by a second
// daemon on the host, which must still relay).
std::unique_ptr<OpsServer> start_ops(const DaemonOptions& options, std::shared_ptr<metrics::DatabaseFigures> figures,
                                     std::atomic<bool>& stop, int& exit_code) {
    if (!options.ops) return nullptr;
    auto ops = std::make_unique<OpsServer>(std::move(figures), *options.ops, options.databases.several());
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

std::optional<std::string> listen_address(const DaemonOptions& options, const OpsServer* ops) {
    if (ops) return fmt::format("{}:{}", options.ops->listen.host, ops->port());
    if (options.listen) return fmt::format("{}:{}", options.listen->host, options.listen->port);
    return std::nullopt;
}

// Everything a unit shares with the daemon.
struct Shared {
    const DaemonOptions& options;
    std::atomic<bool>& stop;
    Wakeup& wake;
    int& exit_code;
    std::optional<std::string> listen;
};

UnitOptions unit_options(const Shared& s, const std::string& name, const std::string& dsn) {
    UnitOptions u;
    u.name = name;
    u.worker = s.options.worker;
    u.worker.dsn = dsn;
    u.channel = s.options.channel;
    u.reload_interval = s.options.reload_interval;
    u.heartbeat_every = s.options.heartbeat_every;
    u.stall_limit = s.options.stall_limit;
    u.listen = s.listen;
    u.exit_on_schema_change = name.empty();
    if (name.empty()) {
        u.on_ready = [] { sd::ready(); };
        u.on_schema_exit = [&s] {
            s.exit_code = exit_schema;
            s.stop = true;
            s.wake.notify();
        };
    }
    return u;
}

// Serving several databases: follows the set (database_set.hpp), one unit
// per database; sends systemd's watchdog itself (the units' heartbeats only
// write their rows). Returns when `stop` is set.
class Supervisor {
public:
    Supervisor(Shared shared, WebhookServer* webhooks, metrics::DatabaseFigures& figures)
        : s_(std::move(shared)), set_(s_.options.databases), webhooks_(webhooks), figures_(figures) {}

    void run() {
        const liveness::LoopScope loop("databases");
        sd::ready();
        auto next_read = steady_clock::now();
        int failures = 0;
        std::mt19937_64 rng(std::random_device{}());
        const BackoffPolicy backoff{milliseconds{1'000}, milliseconds{60'000}};
        while (!s_.stop) {
            if (steady_clock::now() >= next_read) {
                next_read = steady_clock::now() + s_.options.reload_interval;
                try {
                    follow(set_.resolve(serving()));
                    failures = 0;
                } catch (const pg::Error& e) {
                    log::warn("databases: cannot list the databases matching --database-pattern ({}); the ones "
                              "served carry on", e.what());
                    next_read = steady_clock::now() + backoff_delay(backoff, ++failures, rng);
                }
            }
            // Only the daemon's own loops gate the watchdog: a wedged loop of one
            // database withholds that database's heartbeat row, never a restart of all.
            if (liveness::stalled_in("", s_.options.stall_limit).empty()) sd::watchdog();
            s_.wake.sleep_for(std::min(milliseconds{1000}, s_.options.heartbeat_every), s_.stop);
        }
        sd::stopping();
        if (webhooks_) webhooks_->stop();
        for (auto& [name, unit] : units_) unit->request_stop();
        units_.clear();  // joins each: the batches in hand are acked
        for (auto& t : releasing_) t.join();
    }

private:
    std::set<std::string> serving() const {
        std::set<std::string> out;
        for (const auto& [name, dsn] : dsns_) out.insert(name);
        return out;
    }

    void follow(const std::map<std::string, std::string>& wanted) {
        for (auto it = units_.begin(); it != units_.end();) {
            auto w = wanted.find(it->first);
            if (w != wanted.end() && w->second == dsns_[it->first]) { ++it; continue; }
            log::info("databases: releasing database {} ({})", it->first,
                      w == wanted.end() ? "no longer listed or matched" : "its DSN changed");
            it->second->request_stop();
            // Joined on its own thread: a batch in hand at a slow shop must not hold up this loop (and the watchdog).
            releasing_.emplace_back([unit = std::move(it->second)]() mutable { unit.reset(); });
            dsns_.erase(it->first);
            it = units_.erase(it);
        }
        for (const auto& [name, dsn] : wanted) {
            if (units_.count(name)) continue;
            log::info("databases: serving database {}", name);
            if (webhooks_ && !routable_name(name))
                log::warn("database {}: its name cannot appear in a webhook URL; its webhooks cannot be routed", name);
            auto unit = std::make_unique<DatabaseUnit>(unit_options(s_, name, dsn));
            unit->start();
            units_.emplace(name, std::move(unit));
            dsns_[name] = dsn;
        }
        figures_.set(dsns_);
        if (webhooks_) webhooks_->set_databases(dsns_);
    }

    Shared s_;
    DatabaseSet set_;
    WebhookServer* webhooks_;
    metrics::DatabaseFigures& figures_;
    std::map<std::string, std::unique_ptr<DatabaseUnit>> units_;
    std::map<std::string, std::string> dsns_;
    std::vector<std::thread> releasing_;  // units being released (joined at shutdown)
};

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
    const bool several = options.databases.several();
    // Orders in: the webhook listener only when asked for (a bind failure
    // stops the daemon: the operator asked for a listener and the shops would get nothing).
    std::unique_ptr<WebhookServer> webhooks;
    if (options.listen) {
        webhooks = several ? std::make_unique<WebhookServer>(*options.listen)
                           : std::make_unique<WebhookServer>(options.worker.dsn, *options.listen);
        if (auto started = webhooks->start(); !started) {
            log::error("{}", started.error().message);
            exit_code = exit_usage;
            stop = true;
        }
    }
    auto figures = std::make_shared<metrics::DatabaseFigures>(options.ops ? options.ops->db_max_age : milliseconds{2000});
    if (!several) figures->set({{"", options.worker.dsn}});
    auto ops = start_ops(options, figures, stop, exit_code);
    Shared shared{options, stop, wake, exit_code, listen_address(options, ops.get())};

    log::info("stockrelayd running as worker '{}' (lease {} s, poll {} ms{})", options.worker.worker_id,
              options.worker.lease.count(), options.worker.poll_interval.count(),
              several ? ", several databases" : "");
    if (several) {
        Supervisor(shared, webhooks.get(), *figures).run();
    } else {
        DatabaseUnit unit(unit_options(shared, "", options.worker.dsn));
        unit.start();
        while (!stop) wake.sleep_for(milliseconds{60'000}, stop);
        sd::stopping();
        if (webhooks) webhooks->stop();
        unit.request_stop();
        unit.join();
    }
    if (ops) ops->stop();
    signal_thread.join();
    log::info("stockrelayd stopped");
    return exit_code;
}

}  // namespace stockrelay::sidecar
