// One channel's drain loop: claim a batch, validate, push through the
// channel, ack every row. Each worker owns its PostgreSQL connection and its
// Channel, so a slow shop never blocks another.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "ack.hpp"
#include "health.hpp"
#include "shared_health.hpp"
#include "lease.hpp"
#include "warm_cache.hpp"
#include "pg.hpp"
#include "batch_phases.hpp"
#include "queries.hpp"
#include "sales_guard.hpp"
#include "stockrelay/backoff.hpp"
#include "stockrelay/channels/channel.hpp"

namespace stockrelay::sidecar {

struct WorkerOptions {
    std::string dsn;
    std::string worker_id;
    std::chrono::seconds lease{30};
    // Fences this worker's channel (its HTTP client asks it before each call);
    // null: no fencing (the channel was built without make_fenced_channel).
    std::shared_ptr<LeaseGuard> guard;
    // The channel's circuit breaker, shared by all its lanes (inflight.hpp);
    // null: this worker has one of its own.
    std::shared_ptr<SharedHealth> health;
    std::chrono::milliseconds poll_interval{5000};
    BackoffPolicy backoff;
    // The ack of a batch also claims the next one, in the same transaction
    // (issue 17); false only to measure the unfolded path (STOCKRELAY_FOLD_CLAIM=0).
    bool fold_next_claim = true;
};

// Wakes sleeping threads: NOTIFY arrivals, reconnects, shutdown.
class Wakeup {
public:
    void notify();
    std::uint64_t generation() const;
    // Returns when the generation moved past `seen`, `stop` is set, or at `deadline`.
    void wait_until(std::uint64_t seen, std::chrono::steady_clock::time_point deadline, const std::atomic<bool>& stop);
    // Sleeps `d` unless `stop` is set first; returns !stop.
    bool sleep_for(std::chrono::milliseconds d, const std::atomic<bool>& stop);

private:
    mutable std::mutex m_;
    std::condition_variable cv_;
    std::uint64_t generation_ = 0;
};

struct BatchStats {
    int rows = 0;
    int ok = 0;
    int failed = 0;
    int retried = 0;
    int superseded = 0;
    std::int64_t not_acked = 0;  // rows whose lease we had lost by ack time
    bool blocked = false;        // the channel as a whole is down or refused: no more batches until a probe answers

    BatchStats& operator+=(const BatchStats& o);
};

// A row's fate after the push, before it is written.
struct PendingAck {
    std::int64_t row_id = 0;
    AckDecision decision;
    int http_status = 0;
    std::string request_excerpt;
    std::string response_excerpt;
};

// The rows of a claimed batch, checked and turned into push items.
struct PreparedBatch {
    std::vector<std::optional<Error>> pre_error;  // per row: failed before any push
    std::vector<bool> released;                   // per row: not sent (a newer row for its target is in the batch)
    std::map<std::string, queries::CachedSku> cache;
    std::vector<channels::PushItem> items;
};

// What the ack writes: one decision per row plus the SKU cache changes.
struct AckPlan {
    std::vector<PendingAck> acks;
    std::map<std::string, queries::CachedSku> upserts;
    std::set<std::string> drops;
};

struct BatchTimings {
    std::chrono::steady_clock::time_point started;
    std::int64_t claim_ms = 0;
    std::int64_t push_ms = 0;
    std::int64_t ack_ms = 0;
};

// What a batch said about the channel as a whole.
struct ChannelVerdict {
    bool success = false;       // at least one item landed
    HealthTransition health;    // changed: this batch changed the channel's state (flowing <-> down/refused)
};

class ChannelWorker {
public:
    ChannelWorker(channels::Config config, std::unique_ptr<channels::Channel> channel, WorkerOptions options,
                  Wakeup& wake);

    // Claims, pushes and acks one batch. rows == 0: nothing was due.
    BatchStats process_batch(std::unique_ptr<pg::Connection>& conn, const std::optional<std::string>& due_before = {});

    // The `run` loop until request_stop(): reconnects with backoff, wakes on
    // NOTIFY, the poll interval and the next due row.
    void run();
    void request_stop();
    bool stop_requested() const { return stop_.load(); }

    const channels::Config& config() const { return config_; }
    // Wall time of the batches processed so far, by phase (batch_phases.hpp).
    const PhaseTotals& phase_totals() const { return phase_totals_; }

private:
    std::vector<queries::ClaimedRow> claim_rows(pg::Connection& conn, const std::optional<std::string>& due_before);
    std::vector<queries::ClaimedRow> claim_rows_in(pg::Connection& conn, const std::optional<std::string>& due_before);
    PreparedBatch prepare(pg::Connection& conn, const std::vector<queries::ClaimedRow>& rows);
    channels::PushReport push_with_heartbeat(pg::Connection& conn, const std::vector<queries::ClaimedRow>& rows,
                                             const std::vector<channels::PushItem>& items,
                                             std::chrono::steady_clock::time_point claimed_at);
    AckPlan decide_acks(const std::vector<queries::ClaimedRow>& rows, const PreparedBatch& p,
                        const channels::PushReport& report,
                        const std::map<std::int64_t, std::chrono::milliseconds>& ages);
    // Circuit breaker (shared_health.hpp): judges the batch, holds its rows
    // when the channel as a whole failed, probes, records state changes.
    std::optional<ChannelState> channel_failure(const channels::PushReport& report, ChannelVerdict& v);
    ChannelVerdict judge_channel(const channels::PushReport& report, AckPlan& plan);
    HealthTransition probe_turn(std::optional<Error>& failure);
    void probe(std::unique_ptr<pg::Connection>& conn);
    bool hold_while_blocked(std::unique_ptr<pg::Connection>& conn);
    void record_state(pg::Connection& conn, const HealthTransition& t);
    void replay_transient(pg::Connection& conn);
    void state_table(const std::function<void()>& f);
    void start(pg::Connection& conn);
    void run_once(std::unique_ptr<pg::Connection>& conn);
    void summarize(const std::vector<queries::ClaimedRow>& rows, const std::vector<PendingAck>& acks,
                   const channels::PushReport& report, const BatchTimings& t, BatchStats& stats);
    // Writes the batch's acks in one transaction. With `claim_next` (the
    // due_before of the next claim) the same transaction claims the next
    // batch into next_rows_ (one round trip and one commit fewer per batch).
    std::int64_t ack(std::unique_ptr<pg::Connection>& conn, const std::vector<PendingAck>& acks,
                     const std::map<std::string, queries::CachedSku>& cache_upserts,
                     const std::set<std::string>& cache_drops,
                     const std::optional<std::optional<std::string>>& claim_next = std::nullopt);
    // The rows claimed with the previous ack, or a claim of its own.
    std::vector<queries::ClaimedRow> take_rows(pg::Connection& conn, const std::optional<std::string>& due_before);
    // Rows claimed ahead but never pushed (shutdown) go back to pending at once.
    void release_claimed_ahead(std::unique_ptr<pg::Connection>& conn);
    BatchStats hold_unsent(std::unique_ptr<pg::Connection>& conn, const std::vector<queries::ClaimedRow>& rows);
    // Claimed rows that are not pushed go back to pending, attempts refunded.
    std::int64_t release_rows(std::unique_ptr<pg::Connection>& conn, const std::vector<queries::ClaimedRow>& rows,
                              const std::string& why);

    channels::Config config_;
    std::unique_ptr<channels::Channel> channel_;
    WorkerOptions options_;
    Wakeup& wake_;
    std::atomic<bool> stop_{false};
    std::mt19937_64 rng_;
    SalesGuard sales_;    // sales_guard.hpp: never put sold units back on sale
    CacheWarmer warmer_;  // warm_cache.hpp: one shop read instead of a lookup per 50 SKUs
    std::shared_ptr<SharedHealth> health_;  // shared with the channel's other lanes
    bool started_ = false;
    bool state_table_warned_ = false;
    std::vector<queries::ClaimedRow> next_rows_;  // claimed by the previous ack, not pushed yet
    std::chrono::steady_clock::time_point next_claimed_at_{};  // when their lease began (at the latest)
    PhaseClock clock_;                            // the current batch's phases
    PhaseTotals phase_totals_;
};

}  // namespace stockrelay::sidecar
