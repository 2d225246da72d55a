#include "heartbeat.hpp"

#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

#include "liveness.hpp"
#include "sd_notify.hpp"
#include "stockrelay/log.hpp"
#include "version.hpp"

namespace stockrelay::sidecar {
namespace {

std::string host_name() {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0) return "unknown";
    return buf;
}

}  // namespace

Heartbeat::Heartbeat(HeartbeatOptions options) : options_(std::move(options)) {}

void Heartbeat::insert(pg::Connection& conn) {
    const auto r = conn.exec(
        "INSERT INTO stock_relay_daemon (host, pid, version, listen) VALUES ($1, $2, $3, $4) RETURNING id",
        pg::Params().add(host_name()).add(static_cast<std::int64_t>(::getpid())).add(std::string(version()))
            .add(options_.listen));
    row_ = r.i64(0, 0);
}

void Heartbeat::tick() {
    const auto stuck = options_.database.empty() ? liveness::stalled(options_.stall_limit)
                                                 : liveness::stalled_in(options_.database, options_.stall_limit);
    if (!stuck.empty()) {
        if (!stall_logged_)
            log::error("heartbeat: loop '{}' has been busy for {} s without turning; withholding the heartbeat (and systemd's "
                       "watchdog) until it moves",
                       stuck.front().loop, stuck.front().busy_for.count() / 1000);
        stall_logged_ = true;
        return;
    }
    if (stall_logged_) log::info("heartbeat: every loop turns again; heartbeat resumed");
    stall_logged_ = false;
    if (options_.watchdog) sd::watchdog();
    try {
        if (!conn_) conn_ = std::make_unique<pg::Connection>(options_.dsn, std::chrono::seconds{5});
        if (!row_) insert(*conn_);
        conn_->exec("UPDATE stock_relay_daemon SET last_seen = (now() AT TIME ZONE 'UTC') WHERE id = $1",
                    pg::Params().add(*row_));
        if (std::chrono::steady_clock::now() >= next_purge_) {
            conn_->exec("DELETE FROM stock_relay_daemon WHERE last_seen < (now() AT TIME ZONE 'UTC') - interval '7 days'");
            next_purge_ = std::chrono::steady_clock::now() + std::chrono::hours{1};
        }
        db_logged_ = false;
    } catch (const pg::Error& e) {
        if (e.connection_lost()) conn_.reset();
        if (!db_logged_) log::warn("heartbeat: cannot write stock_relay_daemon: {}", e.what());
        db_logged_ = true;
    }
}

void Heartbeat::finish() {
    if (!row_) return;
    try {
        if (!conn_) conn_ = std::make_unique<pg::Connection>(options_.dsn, std::chrono::seconds{5});
        conn_->exec("UPDATE stock_relay_daemon SET stopped_at = (now() AT TIME ZONE 'UTC'), "
                    "       last_seen = (now() AT TIME ZONE 'UTC') WHERE id = $1",
                    pg::Params().add(*row_));
    } catch (const pg::Error& e) {
        log::warn("heartbeat: could not record the clean exit: {}", e.what());
    }
}

void Heartbeat::run(Wakeup& wake, const std::atomic<bool>& stop) {
    auto every = options_.every;
    if (auto wd = sd::watchdog_interval(); wd && options_.watchdog) every = std::min(every, *wd / 2);
    tick();
    while (wake.sleep_for(every, stop)) tick();
}

}  // namespace stockrelay::sidecar
