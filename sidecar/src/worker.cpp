#include "worker.hpp"

#include <algorithm>
#include <numeric>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "catalog_wait.hpp"
#include "liveness.hpp"
#include "logging.hpp"
#include "metrics.hpp"
#include "queries.hpp"
#include "reclaim.hpp"
#include "stockrelay/log.hpp"
#include "stockrelay/policy.hpp"

namespace stockrelay::sidecar {
namespace {

// One shop item follows one Odoo product. The SKU cache remembers which
// product published a SKU on the channel; a row of another product carrying
// the same SKU fails with duplicate_sku while that product's newest row still
// uses it (pushing both would make the shop flip between two quantities).
// Without a valid owner, the product of the batch's oldest row becomes it.
void check_ownership(pg::Connection& conn, std::int64_t channel_id, const std::vector<queries::ClaimedRow>& rows,
                     const std::map<std::string, queries::CachedSku>& cache,
                     std::vector<std::optional<Error>>& pre_error) {
    std::set<std::int64_t> rivals;
    for (const auto& r : rows)
        if (auto c = cache.find(r.sku); c != cache.end() && c->second.owner && *c->second.owner != r.product_id)
            rivals.insert(*c->second.owner);
    const auto current = queries::current_skus(conn, channel_id, {rivals.begin(), rivals.end()});
    std::vector<std::size_t> order(rows.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](auto a, auto b) { return rows[a].version < rows[b].version; });
    std::map<std::string, std::int64_t> owner;
    for (auto i : order) {
        if (pre_error[i]) continue;
        const auto& r = rows[i];
        auto it = owner.find(r.sku);
        if (it == owner.end()) {
            std::int64_t o = r.product_id;
            if (auto c = cache.find(r.sku); c != cache.end() && c->second.owner) {
                const auto cur = current.find(*c->second.owner);
                if (*c->second.owner == r.product_id || (cur != current.end() && cur->second == r.sku))
                    o = *c->second.owner;
            }
            it = owner.emplace(r.sku, o).first;
        }
        if (it->second != r.product_id)
            pre_error[i] = make_error(ErrorCode::duplicate_sku,
                                      fmt::format("SKU '{}' is also the Internal Reference of Odoo product {} on this "
                                                  "channel; one shop item cannot follow two products: give each "
                                                  "product its own SKU, then Retry",
                                                  r.sku, it->second));
    }
}

// What a batch says about the shop as a whole: a refusal (auth, config,
// TLS), or every item failed transiently (the shop may be down: a probe
// decides), or neither (something landed, or the rows are the problem).
struct BatchSignal {
    std::optional<Error> refusal;
    bool all_transient = false;
};

BatchSignal batch_signal(const channels::PushReport& report) {
    bool any_transient = false;
    for (const auto& o : report.items) {
        if (!o.error) return {};
        if (o.error->code == ErrorCode::auth || o.error->code == ErrorCode::config) return {o.error, false};
        if (o.error->code == ErrorCode::transient) any_transient = true;
        else if (o.error->code != ErrorCode::throttled) return {};
    }
    return {std::nullopt, any_transient};
}

std::string_view hold_reason(ChannelState s) {
    return s == ChannelState::refused ? "held while the shop refuses this channel" : "held while the shop is unreachable";
}

}  // namespace


using std::chrono::milliseconds;
using std::chrono::steady_clock;

void Wakeup::notify() {
    {
        std::lock_guard lock(m_);
        ++generation_;
    }
    cv_.notify_all();
}

std::uint64_t Wakeup::generation() const {
    std::lock_guard lock(m_);
    return generation_;
}

void Wakeup::wait_until(std::uint64_t seen, steady_clock::time_point deadline, const std::atomic<bool>& stop) {
    const liveness::IdleScope idle;
    std::unique_lock lock(m_);
    cv_.wait_until(lock, deadline, [&] { return generation_ != seen || stop.load(); });
}

bool Wakeup::sleep_for(milliseconds d, const std::atomic<bool>& stop) {
    const liveness::IdleScope idle;
    const auto deadline = steady_clock::now() + d;
    std::unique_lock lock(m_);
    cv_.wait_until(lock, deadline, [&] { return stop.load(); });
    return !stop.load();
}

BatchStats& BatchStats::operator+=(const BatchStats& o) {
    rows += o.rows;
    ok += o.ok;
    failed += o.failed;
    retried += o.retried;
    superseded += o.superseded;
    not_acked += o.not_acked;
    blocked = blocked || o.blocked;
    return *this;
}

ChannelWorker::ChannelWorker(channels::Config config, std::unique_ptr<channels::Channel> channel,
                             WorkerOptions options, Wakeup& wake)
    : config_(std::move(config)), channel_(std::move(channel)), options_(std::move(options)), wake_(wake),
      rng_(std::random_device{}()),
      health_(options_.health ? options_.health : std::make_shared<SharedHealth>()) {
    // Rate-limit waits inside the channel end early on shutdown, and never
    // outlast the lease of the rows being pushed.
    channel_->set_sleeper([this](milliseconds d) {
        if (auto why = options_.guard ? options_.guard->refuse_wait(d) : std::nullopt) {
            log::warn("channel {} ({}): not waiting inside the push: {}; its rows are retried later", config_.id,
                      config_.name, *why);
            return false;
        }
        return wake_.sleep_for(d, stop_);
    });
}

void ChannelWorker::request_stop() {
    stop_ = true;
    wake_.notify();
    health_->interrupt();
}

std::vector<queries::ClaimedRow> ChannelWorker::claim_rows(pg::Connection& conn,
                                                          const std::optional<std::string>& due_before) {
    const auto batch = static_cast<int>(std::max<std::size_t>(channel_->batch_size(), 1));
    std::int64_t recovered = 0;
    auto rows = queries::claim(conn, config_.id, options_.worker_id, options_.lease, batch, due_before, &recovered);
    metrics::lease_recovered(config_.id, recovered);
    if (recovered > 0)
        log::warn("channel {} ({}): {} row(s) came back after an expired lease", config_.id, config_.name, recovered);
    return rows;
}

// The next batch's claim inside the ack's transaction (queries::claim_in_tx).
std::vector<queries::ClaimedRow> ChannelWorker::claim_rows_in(pg::Connection& conn,
                                                             const std::optional<std::string>& due_before) {
    const auto batch = static_cast<int>(std::max<std::size_t>(channel_->batch_size(), 1));
    std::int64_t recovered = 0;
    auto rows = queries::claim_in_tx(conn, config_.id, options_.worker_id, options_.lease, batch, due_before,
                                     &recovered);
    metrics::lease_recovered(config_.id, recovered);
    if (recovered > 0)
        log::warn("channel {} ({}): {} row(s) came back after an expired lease", config_.id, config_.name, recovered);
    return rows;
}

// Validates quantities, checks SKU ownership and picks one row per (sku,
// location); what is left becomes the channel's push items.
PreparedBatch ChannelWorker::prepare(pg::Connection& conn, const std::vector<queries::ClaimedRow>& rows) {
    PreparedBatch p;
    p.pre_error.resize(rows.size());
    p.released.assign(rows.size(), false);
    std::vector<std::int64_t> quantities(rows.size(), 0);
    for (std::size_t i = 0; i < rows.size(); ++i) {
        auto q = policy::validate_quantity(rows[i].quantity);
        if (q)
            quantities[i] = *q;
        else
            p.pre_error[i] = q.error();
    }
    std::vector<std::string> skus;
    for (const auto& r : rows) skus.push_back(r.sku);
    std::sort(skus.begin(), skus.end());
    skus.erase(std::unique(skus.begin(), skus.end()), skus.end());
    p.cache = queries::load_cache(conn, config_.id, skus, config_.sku_cache_max_age);
    std::vector<std::int64_t> ids;
    for (const auto& r : rows) ids.push_back(r.id);
    if (warmer_.maybe_warm(conn, *channel_, config_, skus, p.cache, WarmLease{ids, options_.worker_id, options_.lease}))
        p.cache = queries::load_cache(conn, config_.id, skus, config_.sku_cache_max_age);
    check_ownership(conn, config_.id, rows, p.cache, p.pre_error);

    // One item per (sku, location): the channel takes no duplicates, so the
    // older of two rows waits for the next batch. (Rows of one SKU come from
    // one product by now, whose key has one row in flight: this is a guard.)
    std::map<std::pair<std::string, std::string>, std::size_t> by_target;
    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (p.pre_error[i]) continue;
        auto [it, fresh] = by_target.emplace(std::make_pair(rows[i].sku, rows[i].location_key), i);
        if (!fresh) {
            const std::size_t other = it->second;
            if (rows[i].version > rows[other].version) {
                p.released[other] = true;
                it->second = i;
            } else {
                p.released[i] = true;
            }
        }
    }

    for (std::size_t i = 0; i < rows.size(); ++i) {
        if (p.pre_error[i] || p.released[i]) continue;
        channels::PushItem item;
        item.row_id = rows[i].id;
        item.sku = rows[i].sku;
        item.location_key = rows[i].location_key;
        item.quantity = quantities[i];
        item.version = rows[i].version;
        if (auto c = p.cache.find(item.sku); c != p.cache.end() && !c->second.expired) item.cached = c->second.resolution;
        p.items.push_back(std::move(item));
    }
    return p;
}

// The connection is idle while the channel talks HTTP; a heartbeat on it
// keeps the lease alive through slow shops and long throttle waits. A
// heartbeat that fails or finds rows taken over stops the push (the guard
// refuses further shop calls and waits). `claimed_at`: when the lease began.
channels::PushReport ChannelWorker::push_with_heartbeat(pg::Connection& conn,
                                                        const std::vector<queries::ClaimedRow>& rows,
                                                        const std::vector<channels::PushItem>& items,
                                                        steady_clock::time_point claimed_at) {
    if (items.empty()) return {};
    std::vector<std::int64_t> ids;
    for (const auto& r : rows) ids.push_back(r.id);
    std::mutex m;
    std::condition_variable cv;
    bool pushed = false;
    const auto& guard = options_.guard;
    if (guard) guard->arm(options_.lease, claimed_at);
    std::thread heartbeat([&] {
        const auto every = LeaseGuard::heartbeat_every(options_.lease);
        std::unique_lock lock(m);
        while (!cv.wait_for(lock, every, [&] { return pushed; })) {
            try {
                const auto sent = steady_clock::now();
                const auto kept = queries::extend_lease(conn, ids, options_.worker_id, options_.lease);
                if (kept < static_cast<std::int64_t>(ids.size())) {
                    const auto why = fmt::format("another worker took over {} row(s)",
                                                 static_cast<std::int64_t>(ids.size()) - kept);
                    log::warn("channel {} ({}): lost the lease during a push: {}; stopping it", config_.id,
                              config_.name, why);
                    if (guard) guard->lost(why);
                    return;
                }
                if (guard) guard->renewed(sent);
            } catch (const std::exception& e) {
                log::warn("channel {} ({}): could not extend the lease: {}; stopping the push", config_.id,
                          config_.name, e.what());
                if (guard) guard->lost(fmt::format("heartbeat failed: {}", e.what()));
                return;  // the ack finds out what happened
            }
        }
    });
    auto finish = [&] {
        {
            std::lock_guard lock(m);
            pushed = true;
        }
        cv.notify_all();
        heartbeat.join();
        if (guard) guard->disarm();
    };
    channels::PushReport report;
    try {
        report = channel_->push(items);
    } catch (...) {
        finish();
        throw;
    }
    finish();
    return report;
}

// One outcome per row; a channel that forgot one gets a transient error
// rather than a silently lost row.
AckPlan ChannelWorker::decide_acks(const std::vector<queries::ClaimedRow>& rows, const PreparedBatch& p,
                                   const channels::PushReport& report,
                                   const std::map<std::int64_t, milliseconds>& ages) {
    std::map<std::int64_t, const channels::ItemOutcome*> outcome_of;
    for (const auto& o : report.items) outcome_of.emplace(o.row_id, &o);

    AckPlan plan;
    plan.acks.reserve(rows.size());
    for (std::size_t i = 0; i < rows.size(); ++i) {
        PendingAck a;
        a.row_id = rows[i].id;
        AckInput in;
        in.attempts = rows[i].attempts;
        in.max_attempts = config_.max_attempts;
        if (auto age = ages.find(rows[i].id); age != ages.end()) in.age = age->second;
        in.retry_window = std::chrono::duration_cast<milliseconds>(
            std::chrono::duration<double, std::ratio<3600>>(config_.retry_window_hours));
        if (p.released[i]) {
            a.decision.verdict = Verdict::release;
            a.decision.refund_attempt = true;
            a.decision.message = "not sent yet: a newer row for the same SKU and location was in this batch";
            plan.acks.push_back(std::move(a));
            continue;
        }
        if (p.pre_error[i]) {
            in.error = p.pre_error[i];
        } else if (auto it = outcome_of.find(rows[i].id); it != outcome_of.end()) {
            const auto& o = *it->second;
            in.error = o.error;
            in.drop_cache = o.drop_cache;
            a.http_status = o.http_status;
            a.request_excerpt = o.request_excerpt;
            a.response_excerpt = o.response_excerpt;
            if (o.drop_cache) plan.drops.insert(rows[i].sku);
            if (o.resolved) {
                auto& u = plan.upserts[rows[i].sku];
                u.resolution = *o.resolved;
                if (auto c = p.cache.find(rows[i].sku); c != p.cache.end()) u.owner = c->second.owner;
            }
        } else {
            in.error = make_error(ErrorCode::transient, "the channel returned no outcome for this row");
        }
        a.decision = decide(in, options_.backoff, rng_);
        if (a.decision.verdict == Verdict::done) {
            // Record the publishing product (a write only when it changes).
            const auto c = p.cache.find(rows[i].sku);
            if (auto u = plan.upserts.find(rows[i].sku); u != plan.upserts.end()) {
                u->second.owner = rows[i].product_id;
            } else if (c != p.cache.end() && c->second.owner != rows[i].product_id) {
                plan.upserts[rows[i].sku] = {c->second.resolution, rows[i].product_id};
            }
        }
        if (stop_ && a.decision.verdict == Verdict::retry && !a.decision.pause_channel) {
            // Cut short by shutdown (a rate-limit wait gave up): not the row's fault.
            a.decision.verdict = Verdict::release;
            a.decision.refund_attempt = true;
            a.decision.delay = milliseconds{0};
        }
        plan.acks.push_back(std::move(a));
    }
    // A fresh resolution beats a drop of the same SKU in the same batch.
    for (const auto& [sku, res] : plan.upserts) plan.drops.erase(sku);
    return plan;
}

// Counts the verdicts and logs the batch: one line, plus one per failed row
// and one example of a retry.
void ChannelWorker::summarize(const std::vector<queries::ClaimedRow>& rows, const std::vector<PendingAck>& acks,
                              const channels::PushReport& report, const BatchTimings& t, BatchStats& stats) {
    std::string first_retry;
    for (std::size_t i = 0; i < acks.size(); ++i) {
        const auto& a = acks[i];
        switch (a.decision.verdict) {
            case Verdict::done: ++stats.ok; break;
            case Verdict::fail:
                ++stats.failed;
                log::error("channel {} ({}): row {} sku '{}' location '{}' failed: {}: {}", config_.id, config_.name,
                           rows[i].id, rows[i].sku, rows[i].location_key, a.decision.error_code, a.decision.message);
                break;
            case Verdict::retry:
            case Verdict::release:
                ++stats.retried;
                if (first_retry.empty() && a.decision.verdict == Verdict::retry)
                    first_retry = fmt::format("row {} sku '{}': {}: {}", rows[i].id, rows[i].sku, a.decision.error_code,
                                              a.decision.message);
                break;
        }
    }
    const auto ms = std::chrono::duration_cast<milliseconds>(steady_clock::now() - t.started).count();
    log::info("channel {} ({}): batch rows={} ok={} failed={} retried={} ms={} claim_ms={} push_ms={} ack_ms={}{}",
              config_.id, config_.name, stats.rows, stats.ok, stats.failed, stats.retried, ms, t.claim_ms, t.push_ms,
              t.ack_ms,
              report.throttled_for.count() > 0 ? fmt::format(" throttled_ms={}", report.throttled_for.count()) : "");
    if (!first_retry.empty()) log::warn("channel {} ({}): will retry, e.g. {}", config_.id, config_.name, first_retry);
    if (stats.not_acked > 0)
        log::warn("channel {} ({}): {} row(s) were no longer leased by this worker at ack time; another worker owns them",
                  config_.id, config_.name, stats.not_acked);
}

// claim -> prepare -> push -> decide -> ack (+ the next claim) -> summarize.
BatchStats ChannelWorker::process_batch(std::unique_ptr<pg::Connection>& conn,
                                        const std::optional<std::string>& due_before) {
    if (!started_) start(*conn);
    const bool was_flowing = !health_->blocked();  // else (drain --once after an outage) the push finds out
    BatchTimings t;
    t.started = steady_clock::now();
    clock_.reset();
    const bool claimed_ahead = !next_rows_.empty();
    const auto claimed_at = claimed_ahead ? next_claimed_at_ : t.started;
    const auto rows = take_rows(*conn, due_before);
    t.claim_ms = std::chrono::duration_cast<milliseconds>(steady_clock::now() - t.started).count();
    clock_.lap(Phase::claim);
    BatchStats stats;
    if (rows.empty()) return stats;
    stats.rows = static_cast<int>(rows.size());
    if (was_flowing && health_->blocked()) return hold_unsent(conn, rows);  // another lane took the channel down

    auto prepared = prepare(*conn, rows);
    sales_.arm(*conn, config_.id, prepared.items);
    clock_.lap(Phase::resolve);
    const auto push_started = steady_clock::now();
    const auto report = push_with_heartbeat(*conn, rows, prepared.items, claimed_at);
    sales_.pushed(report);
    t.push_ms = std::chrono::duration_cast<milliseconds>(steady_clock::now() - push_started).count();
    clock_.lap(Phase::push);

    // The retry window matters only for rows out of attempts: ask their age then.
    std::vector<std::int64_t> spent;
    for (const auto& r : rows)
        if (r.attempts >= config_.max_attempts) spent.push_back(r.id);
    auto plan = decide_acks(rows, prepared, report, queries::row_ages(*conn, spent));
    wait_for_catalog(*conn, config_.id, rows, plan.acks);  // catalog_wait.hpp
    const auto verdict = judge_channel(report, plan);
    stats.blocked = health_->blocked();
    clock_.lap(Phase::decide);
    const auto ack_started = steady_clock::now();
    // Fold the next claim into the ack only behind a full batch (a backlog): a partial batch means live
    // trickle, where claiming after the commit picks up the values committed meanwhile (lower latency).
    std::optional<std::optional<std::string>> claim_next;
    const bool full = rows.size() >= std::max<std::size_t>(channel_->batch_size(), 1);
    if (options_.fold_next_claim && full && !stop_ && !stats.blocked) claim_next = due_before;
    const std::int64_t written = ack(conn, plan.acks, plan.upserts, plan.drops, claim_next);
    t.ack_ms = std::chrono::duration_cast<milliseconds>(steady_clock::now() - ack_started).count();
    stats.not_acked = static_cast<std::int64_t>(plan.acks.size()) - written;
    metrics::record_batch(*conn, config_.id, plan.acks, report, t.push_ms);
    // After the ack: the rows' fate never waits on the channel's bookkeeping.
    if (verdict.health.changed) record_state(*conn, verdict.health);
    else if (verdict.success && health_->take_replay()) replay_transient(*conn);

    summarize(rows, plan.acks, report, t, stats);
    clock_.lap(Phase::metrics);
    metrics::batch_phases(config_.id, clock_);
    phase_totals_.add(clock_, stats.rows, claimed_ahead);
    return stats;
}

std::vector<queries::ClaimedRow> ChannelWorker::take_rows(pg::Connection& conn,
                                                         const std::optional<std::string>& due_before) {
    if (next_rows_.empty()) return claim_rows(conn, due_before);
    return std::exchange(next_rows_, {});
}

std::int64_t ChannelWorker::release_rows(std::unique_ptr<pg::Connection>& conn,
                                         const std::vector<queries::ClaimedRow>& rows, const std::string& why) {
    std::vector<PendingAck> acks;
    for (const auto& r : rows) {
        PendingAck a;
        a.row_id = r.id;
        a.decision.verdict = Verdict::release;
        a.decision.refund_attempt = true;
        a.decision.message = why;
        acks.push_back(std::move(a));
    }
    return ack(conn, acks, {}, {});
}

// Rows claimed while another lane took the channel down: held, not pushed.
BatchStats ChannelWorker::hold_unsent(std::unique_ptr<pg::Connection>& conn,
                                      const std::vector<queries::ClaimedRow>& rows) {
    const auto s = health_->snapshot();
    BatchStats stats;
    stats.rows = stats.retried = static_cast<int>(rows.size());
    stats.blocked = true;
    stats.not_acked = stats.rows - release_rows(conn, rows, fmt::format("{}: not sent: {}", hold_reason(s.state),
                                                                         s.reason));
    return stats;
}

void ChannelWorker::release_claimed_ahead(std::unique_ptr<pg::Connection>& conn) {
    if (next_rows_.empty()) return;
    release_rows(conn, std::exchange(next_rows_, {}), "not sent: the worker stopped before pushing it");
}

// The channel as a whole failed this batch when the shop refused it (auth,
// config, TLS) or when nothing landed and every error was transient and a
// probe (the connection test) fails too; a probe that answers means the
// rows, not the shop, are the problem. Lanes share the breaker: while another
// lane probes this one waits for its verdict, and when another lane already
// took the channel down its rows are held without a probe of their own.
// Returns the state to hold the batch's rows in.
std::optional<ChannelState> ChannelWorker::channel_failure(const channels::PushReport& report, ChannelVerdict& v) {
    const auto signal = batch_signal(report);
    if (signal.refusal) {
        v.health = health_->on_refusal(*signal.refusal, steady_clock::now());
        return state_for(*signal.refusal);
    }
    if (!signal.all_transient) return std::nullopt;
    switch (health_->begin_confirm(stop_)) {
        case Confirm::flowing: return std::nullopt;
        case Confirm::blocked: return health_->snapshot().state;
        case Confirm::probe: break;
    }
    std::optional<Error> failure;
    v.health = probe_turn(failure);
    if (!failure) return std::nullopt;
    return state_for(*failure);
}

ChannelVerdict ChannelWorker::judge_channel(const channels::PushReport& report, AckPlan& plan) {
    ChannelVerdict v;
    const auto held = channel_failure(report, v);
    if (!held) {
        v.success = std::any_of(report.items.begin(), report.items.end(), [](auto& o) { return !o.error; });
        if (v.success) v.health = health_->on_success(steady_clock::now());
        return v;
    }
    const auto why = hold_reason(*held);
    for (auto& a : plan.acks) {
        const auto& code = a.decision.error_code;
        if (code == "transient" || code == "auth" || code == "config") hold(a.decision, why);
    }
    return v;
}

// Logs a change of the channel's state (once per change, by the lane whose
// report made it); while blocked it also logs each probe's outcome. Stores
// the channel's state as it is at the time of the write (writes of several
// lanes are serialized, so the last one stored is the current state).
void ChannelWorker::record_state(pg::Connection& conn, const HealthTransition& t) {
    const auto& s = t.after;
    const auto next_in = [](const HealthSnapshot& h) {
        return std::chrono::duration_cast<milliseconds>(h.next_probe - steady_clock::now());
    };
    if (t.changed && !s.blocked()) {
        const auto secs = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now() -
                                                                           s.blocked_since).count();
        log::info("channel {} ({}): the shop answers again after {} s; resuming, held rows included", config_.id,
                  config_.name, secs);
    } else if (t.changed) {
        log::error("channel {} ({}): {}: {}; holding its rows (no attempts spent) and probing with backoff",
                   config_.id, config_.name,
                   s.state == ChannelState::refused ? "the shop refuses this channel's credentials or settings"
                                                    : "the shop is unreachable",
                   s.reason);
    } else if (s.blocked()) {
        log::debug("channel {} ({}): probe {} failed: {}; next in {} ms", config_.id, config_.name, s.failed_probes,
                   s.reason, next_in(s).count());
    }
    bool flowing = false;
    health_->write_state([&](const HealthSnapshot& now) {
        flowing = !now.blocked();
        state_table([&] {
            queries::save_channel_state(conn, config_.id, to_string(now.state),
                                        flowing ? std::nullopt : std::optional<std::string>(now.reason),
                                        flowing ? std::nullopt : std::optional<std::string>(now.error_code),
                                        options_.worker_id, now.failed_probes, next_in(now));
        });
    });
    if (flowing && health_->take_replay()) replay_transient(conn);  // replayed once the state is stored
}

// The state table is bookkeeping: a role without its grant (an upgrade that
// did not re-run scripts/sidecar-role) must not stop the rows from flowing.
void ChannelWorker::state_table(const std::function<void()>& f) {
    try {
        f();
    } catch (const pg::Error& e) {
        if (e.connection_lost()) throw;
        if (!state_table_warned_)
            log::warn("channel {} ({}): cannot use stock_relay_channel_state ({}); the channel's state will not show "
                      "in Odoo or `status` (grant it: scripts/sidecar-role)", config_.id, config_.name, e.what());
        state_table_warned_ = true;
    }
}

// Rows that failed transiently (out of attempts and window, or under an
// older stockrelayd) get another chance once the channel works again.
void ChannelWorker::replay_transient(pg::Connection& conn) {
    if (const auto n = queries::retry_failed(conn, config_.id, std::nullopt, {"transient"}).requeued; n > 0)
        log::info("channel {} ({}): re-queued {} row(s) that had failed on transient errors", config_.id, config_.name,
                  n);
}

// Tests the connection while this lane holds the probe turn, and hands the
// verdict to the shared breaker (the turn is given back if the test throws).
HealthTransition ChannelWorker::probe_turn(std::optional<Error>& failure) {
    struct Turn {
        SharedHealth& health;
        bool done = false;
        ~Turn() {
            if (!done) health.abandon_probe();
        }
    } turn{*health_};
    auto answer = channel_->test_connection();
    if (!answer) failure = answer.error();
    turn.done = true;
    return health_->finish_probe(failure, steady_clock::now());
}

// A probe stores its outcome while the channel is blocked, and the change
// when it ends the outage (not when another lane's success already did).
void ChannelWorker::probe(std::unique_ptr<pg::Connection>& conn) {
    std::optional<Error> failure;
    const auto t = probe_turn(failure);
    if (t.changed || t.after.blocked()) record_state(*conn, t);
}

// While the channel is blocked no rows are claimed (rows this lane claimed
// with its last ack are held unsent): one lane probes when the probe is due,
// the others wait for its verdict (NOTIFY does not end an outage).
bool ChannelWorker::hold_while_blocked(std::unique_ptr<pg::Connection>& conn) {
    if (!health_->blocked()) return false;
    if (!next_rows_.empty()) hold_unsent(conn, std::exchange(next_rows_, {}));  // claimed with this lane's last ack
    const auto step = health_->next_step(steady_clock::now());  // a probe turn from here on: nothing may throw
    if (step.kind == LaneStep::flow) return false;
    if (step.kind == LaneStep::probe)
        probe(conn);
    else
        health_->wait(step, stop_);
    return true;
}

std::int64_t ChannelWorker::ack(std::unique_ptr<pg::Connection>& conn, const std::vector<PendingAck>& acks,
                                const std::map<std::string, queries::CachedSku>& upserts,
                                const std::set<std::string>& drops,
                                const std::optional<std::optional<std::string>>& claim_next) {
    // Keep trying while the lease lasts: a row acked late is still better than
    // a row pushed twice after its lease expires.
    const auto give_up = steady_clock::now() + options_.lease;
    int failures = 0;
    for (int race = 0;;) {
        try {
            if (!conn) conn = std::make_unique<pg::Connection>(options_.dsn);
            const auto began = steady_clock::now();  // now() of the transaction: the folded claim's lease start
            pg::Transaction tx(*conn);
            std::vector<std::int64_t> may_requeue;
            for (const auto& a : acks)
                if (a.decision.verdict == Verdict::retry || a.decision.verdict == Verdict::release)
                    may_requeue.push_back(a.row_id);
            const auto successors = queries::rows_with_pending_successor(*conn, may_requeue);
            std::vector<queries::AckRow> rows;
            rows.reserve(acks.size());
            for (const auto& a : acks) {
                queries::AckRow r;
                r.id = a.row_id;
                r.state = std::string(final_state(a.decision.verdict, successors.count(a.row_id) > 0));
                r.delay = a.decision.delay;
                r.refund_attempt = a.decision.refund_attempt;
                r.http_status = a.http_status;
                if (a.decision.verdict != Verdict::done) {
                    if (!a.decision.error_code.empty()) r.error_code = a.decision.error_code;
                    r.last_error = a.decision.message;
                }
                if (r.state == "superseded") r.last_error = "superseded by a newer value for the same key";
                r.request_excerpt = a.request_excerpt;
                r.response_excerpt = a.response_excerpt;
                rows.push_back(std::move(r));
            }
            const auto n = queries::write_acks(*conn, options_.worker_id, rows);
            queries::update_cache(*conn, config_.id, upserts, drops);
            std::vector<std::int64_t> done;
            for (const auto& r : rows)
                if (r.state == "done") done.push_back(r.id);
            sales_.record(*conn, config_.id, done);
            clock_.lap(Phase::ack);
            std::vector<queries::ClaimedRow> next;
            if (claim_next && race < 3) next = claim_rows_in(*conn, *claim_next);  // a race: claim on its own later
            clock_.lap(Phase::next);
            tx.commit();
            clock_.lap(Phase::commit);
            next_rows_ = std::move(next);
            next_claimed_at_ = began;
            return n;
        } catch (const pg::Error& e) {
            // A new pending row appeared (re-check successors), or another
            // replica claimed a key of the folded claim: the whole ack again.
            if (e.unique_violation() && ++race < 20) continue;
            if (e.connection_lost() && steady_clock::now() < give_up) {
                conn.reset();
                ++failures;
                log::warn("channel {} ({}): lost PostgreSQL while acking, retrying: {}", config_.id, config_.name,
                          e.what());
                std::this_thread::sleep_for(std::min(milliseconds{200 * failures}, milliseconds{2000}));
                continue;
            }
            throw;
        }
    }
}

// This worker starts with fresh settings: rows that failed because the shop
// refused the old ones (under an older stockrelayd) are replayed, and the
// state a previous run left in the contract is picked up (and probed at once).
// Once per channel: the first of its lanes does it, the others wait.
void ChannelWorker::start(pg::Connection& conn) {
    health_->start_once([&] {
        if (const auto n = queries::requeue_refused(conn, config_.id); n > 0)
            log::info("channel {} ({}): re-queued {} row(s) that failed on an earlier auth/config refusal",
                      config_.id, config_.name, n);
        std::optional<queries::ChannelStateRow> saved;
        state_table([&] { saved = queries::load_channel_state(conn, config_.id); });
        const auto s = saved ? channel_state_from(saved->state) : std::nullopt;
        if (s && *s != ChannelState::flowing)
            health_->resume_blocked(*s, saved->reason.value_or(""), steady_clock::now());
    });
    started_ = true;
}

// One turn of the loop: while the channel is blocked, probe when due;
// otherwise push a batch, or wait for NOTIFY, the poll interval or the next due row.
void ChannelWorker::run_once(std::unique_ptr<pg::Connection>& conn) {
    if (!started_) start(*conn);
    if (hold_while_blocked(conn)) return;
    const auto seen = wake_.generation();
    const auto stats = process_batch(conn);
    if (stats.rows > 0 || stats.blocked) return;
    auto wait = options_.poll_interval;
    if (auto due = queries::next_due(*conn, config_.id)) {
        // Due but not claimable: the key is in flight elsewhere; look again soon.
        wait = due->count() <= 0 ? std::min(wait, milliseconds{250})
                                 : std::clamp(*due, milliseconds{5}, options_.poll_interval);
    }
    wake_.wait_until(seen, steady_clock::now() + wait, stop_);
}

void ChannelWorker::run() {
    const logging::ChannelScope scope(fmt::format("channel {} ({})", config_.id, config_.name));
    const liveness::LoopScope loop(fmt::format("channel {} worker", config_.id));
    std::unique_ptr<pg::Connection> conn;
    int failures = 0;
    const BackoffPolicy reconnect{milliseconds{500}, milliseconds{30'000}};
    log::info("channel {} ({}, {}): worker started, batch size {}", config_.id, config_.name, config_.type,
              channel_->batch_size());
    auto next_reclaim = steady_clock::now();
    while (!stop_) {
        try {
            if (!conn) {
                conn = std::make_unique<pg::Connection>(options_.dsn);
                if (failures > 0) log::info("channel {} ({}): reconnected to PostgreSQL", config_.id, config_.name);
                failures = 0;
            }
            if (steady_clock::now() >= next_reclaim) {  // a dead predecessor's rows, without waiting out its lease
                reclaim_and_log(*conn, config_.id, config_.name, options_.worker_id);
                next_reclaim = steady_clock::now() + std::chrono::seconds{5};
            }
            run_once(conn);
        } catch (const pg::Error& e) {
            ++failures;
            if (e.connection_lost()) {
                conn.reset();
                metrics::db_reconnect("worker", config_.id);
                log::warn("channel {} ({}): PostgreSQL unavailable, reconnecting: {}", config_.id, config_.name, e.what());
            } else {
                log::error("channel {} ({}): database error: {}", config_.id, config_.name, e.what());
            }
            wake_.sleep_for(backoff_delay(reconnect, failures, rng_), stop_);
        } catch (const std::exception& e) {
            ++failures;
            log::error("channel {} ({}): unexpected error: {}", config_.id, config_.name, e.what());
            wake_.sleep_for(backoff_delay(reconnect, failures, rng_), stop_);
        }
    }
    try {
        if (conn) release_claimed_ahead(conn);
    } catch (const std::exception& e) {
        log::warn("channel {} ({}): could not release {} row(s) claimed ahead ({}); they return when their lease "
                  "expires", config_.id, config_.name, next_rows_.size(), e.what());
    }
        log::info("channel {} ({}): worker stopped", config_.id, config_.name);
}

}  // namespace stockrelay::sidecar
