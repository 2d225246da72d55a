#include "reconcile.hpp"

#include <libpq-fe.h>

#include <algorithm>
#include <memory>

#include <fmt/format.h>

#include "logging.hpp"
#include "queries.hpp"
#include "stockrelay/log.hpp"

namespace stockrelay::sidecar {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

bool retryable(ErrorCode c) {
    return c == ErrorCode::transient || c == ErrorCode::throttled || c == ErrorCode::not_found;
}

// The channel of the run, built from its row (enabled or not: the request asked for it).
Result<std::unique_ptr<channels::Channel>> channel_for(pg::Connection& conn, std::int64_t channel_id) {
    const auto rows = queries::load_channels(conn, false, channel_id);
    if (rows.empty()) return make_error(ErrorCode::config, fmt::format("channel {} does not exist", channel_id));
    auto config = channels::Config::from_json(nlohmann::json::parse(rows.front().json));
    if (!config) return std::move(config).error();
    logging::add_secrets(config->secrets());
    return channels::make_channel(*config);
}

// The DSN of the postgres maintenance database on the same server.
std::string maintenance_dsn(const std::string& dsn) {
    char* err = nullptr;
    PQconninfoOption* opts = PQconninfoParse(dsn.c_str(), &err);
    if (!opts) {
        if (err) PQfreemem(err);
        return {};
    }
    std::string out;
    for (auto* o = opts; o->keyword; ++o) {
        if (!o->val || std::string_view(o->keyword) == "dbname") continue;
        std::string v;
        for (const char* c = o->val; *c; ++c) {
            if (*c == '\'' || *c == '\\') v += '\\';
            v += *c;
        }
        out += fmt::format("{}='{}' ", o->keyword, v);
    }
    PQconninfoFree(opts);
    return out + "dbname='postgres'";
}

}  // namespace

void notify_odoo_crons(const std::string& dsn, const std::string& database) {
    try {
        pg::Connection maint(maintenance_dsn(dsn), std::chrono::seconds{5});
        maint.exec("SELECT pg_notify('cron_trigger', $1)", pg::Params().add(database));
    } catch (const pg::Error& e) {
        log::warn("reconcile: could not wake Odoo's cron workers (NOTIFY cron_trigger on the postgres database): {}; "
                  "they pick the run up at their next poll",
                  logging::redact(e.what()));
    }
}

ReconcileRunner::ReconcileRunner(ReconcileOptions options, Wakeup& wake)
    : options_(std::move(options)), wake_(wake), rng_(std::random_device{}()) {}

RunOutcome ReconcileRunner::run_once(pg::Connection& conn, const std::atomic<bool>& stop) {
    auto run = reconcile_queries::claim(conn, options_.worker_id, options_.lease, options_.channel);
    if (!run) return RunOutcome::nothing;
    const logging::ChannelScope scope(fmt::format("channel {} reconcile {}", run->channel_id, run->id));
    log::info("reconcile {} of channel {}: reading the shop{} (attempt {})", run->id, run->channel_id,
              run->cursor.is_null() ? "" : " from " + run->cursor.dump(), run->attempts);
    return read(conn, *run, stop);
}

RunOutcome ReconcileRunner::read(pg::Connection& conn, const reconcile_queries::Claimed& run,
                                 const std::atomic<bool>& stop) {
    const auto& wid = options_.worker_id;
    auto channel = channel_for(conn, run.channel_id);
    if (!channel) {
        log::error("reconcile {}: cannot read channel {}: {}", run.id, run.channel_id,
                   logging::redact(channel.error().describe()));
        reconcile_queries::fail(conn, run, wid, channel.error(), 0, 0);
        return RunOutcome::failed;
    }
    (*channel)->set_sleeper([&](milliseconds d) { return wake_.sleep_for(d, stop); });
    channels::ReadReport rep;
    int calls_stored = 0, cost_stored = 0;
    bool lost = false;
    const auto started = steady_clock::now();
    auto sink = [&](const std::vector<channels::InventoryRecord>& page, const nlohmann::json& cursor) {
        if (stop) return false;
        if (!reconcile_queries::store_page(conn, run, wid, options_.lease, page, cursor, rep.api_calls - calls_stored,
                                           rep.cost_points - cost_stored)) {
            lost = true;
            return false;
        }
        calls_stored = rep.api_calls;
        cost_stored = rep.cost_points;
        return true;
    };
    auto err = (*channel)->read_inventory({}, run.cursor, sink, rep);
    const int calls = rep.api_calls - calls_stored, cost = rep.cost_points - cost_stored;
    if (lost) {
        log::warn("reconcile {}: the run is no longer ours (lease lost or cancelled); stopped reading", run.id);
        return RunOutcome::lost;
    }
    if (!err) {
        auto t = reconcile_queries::complete(conn, run, wid, rep.method, calls, cost);
        if (!t) return RunOutcome::lost;
        const auto secs = std::chrono::duration<double>(steady_clock::now() - started).count();
        log::info("reconcile {}: read {} records ({} malformed) with {} API calls in {:.1f} s; SKU cache: {} confirmed, "
                  "{} moved, {} dropped",
                  run.id, t->items, t->malformed, rep.api_calls, secs, t->cache.confirmed, t->cache.moved,
                  t->cache.dropped);
        auto db = conn.exec("SELECT current_database()");
        notify_odoo_crons(options_.dsn, db.str(0, 0));
        return RunOutcome::read;
    }
    return settle_failure(conn, run, *err, calls, cost, stop);
}

// A read that ended in an error: shutdown leaves the run to the next daemon at
// once, a transient error retries from the cursor with backoff, anything else
// (or the last attempt) fails the run with the reason.
RunOutcome ReconcileRunner::settle_failure(pg::Connection& conn, const reconcile_queries::Claimed& run,
                                           const Error& err, int calls, int cost, const std::atomic<bool>& stop) {
    const auto& wid = options_.worker_id;
    const auto why = logging::redact(err.describe());
    if (stop) {
        reconcile_queries::postpone(conn, run, wid, err, milliseconds{0}, calls, cost);
        return RunOutcome::postponed;
    }
    if (retryable(err.code) && run.attempts < options_.max_attempts) {
        const auto delay = backoff_delay(options_.backoff, run.attempts, rng_, err.retry_after);
        log::warn("reconcile {}: {}; resuming from the last stored page in {} ms (attempt {} of {})", run.id, why,
                  delay.count(), run.attempts, options_.max_attempts);
        reconcile_queries::postpone(conn, run, wid, err, delay, calls, cost);
        return RunOutcome::postponed;
    }
    log::error("reconcile {}: failed: {}", run.id, why);
    Error shown = err;
    shown.message = why;
    reconcile_queries::fail(conn, run, wid, shown, calls, cost);
    return RunOutcome::failed;
}

void ReconcileRunner::run(const std::atomic<bool>& stop) {
    std::unique_ptr<pg::Connection> conn;
    int failures = 0;
    const BackoffPolicy reconnect{milliseconds{500}, milliseconds{30'000}};
    while (!stop) {
        const auto seen = wake_.generation();
        auto wait = options_.poll_interval;
        try {
            if (!conn) {
                conn = std::make_unique<pg::Connection>(options_.dsn);
                reconcile_queries::reclaim_dead_readers(*conn, options_.worker_id);
            }
            failures = 0;
            if (run_once(*conn, stop) != RunOutcome::nothing) continue;  // more may be due
            // Wake when a postponed run is due, not only at the next poll.
            if (auto due = reconcile_queries::next_due(*conn, options_.channel))
                wait = std::min(wait, std::max(*due, milliseconds{50}));
        } catch (const pg::Error& e) {
            conn.reset();
            ++failures;
            log::warn("reconcile: PostgreSQL unavailable: {}", logging::redact(e.what()));
            wait = backoff_delay(reconnect, failures, rng_);
        }
        wake_.wait_until(seen, steady_clock::now() + wait, stop);
    }
}

}  // namespace stockrelay::sidecar
