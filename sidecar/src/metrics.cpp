#include "metrics.hpp"

#include <map>

#include <prometheus/counter.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>
#include <prometheus/text_serializer.h>

#include "database_scope.hpp"
#include "version.hpp"
#include "worker.hpp"

namespace stockrelay::sidecar::metrics {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildHistogram;
using prometheus::Histogram;

// Enqueue-to-ack lag: from a second to a day.
const Histogram::BucketBoundaries kLagBuckets{0.5, 1, 2, 5, 10, 30, 60, 120, 300, 900, 3600, 14400, 86400};
// One batch's push (every HTTP call, rate-limit waits included).
const Histogram::BucketBoundaries kPushBuckets{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120};
// One phase of one batch (batch_phases.hpp): from 100 µs (a folded claim) to a slow shop.
const Histogram::BucketBoundaries kPhaseBuckets{0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                0.05, 0.1, 0.25, 1, 5};

struct Figures {
    std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
    prometheus::Family<prometheus::Counter>& items =
        BuildCounter().Name("stockrelay_items_total")
            .Help("Outbox rows handled after a push, by outcome (done, failed, retried, released) and error code")
            .Register(*registry);
    prometheus::Family<prometheus::Counter>& batches =
        BuildCounter().Name("stockrelay_push_batches_total")
            .Help("Batches pushed to a shop, by outcome: ok (every item landed), partial, failed (none landed)")
            .Register(*registry);
    prometheus::Family<prometheus::Counter>& shop_requests =
        BuildCounter().Name("stockrelay_shop_requests_total").Help("HTTP calls made to the shop by pushes")
            .Register(*registry);
    prometheus::Family<Histogram>& push_seconds =
        BuildHistogram().Name("stockrelay_shop_push_seconds")
            .Help("Duration of one batch's push to the shop (all its HTTP calls and rate-limit waits)")
            .Register(*registry);
    prometheus::Family<Histogram>& phase_seconds =
        BuildHistogram().Name("stockrelay_batch_phase_seconds")
            .Help("Wall time of one batch by phase: claim, resolve, push, decide, ack, next_claim, commit, metrics")
            .Register(*registry);
    prometheus::Family<Histogram>& lag_seconds =
        BuildHistogram().Name("stockrelay_enqueue_to_ack_seconds")
            .Help("Commit-to-shop lag: from the row's enqueue in Odoo to its ack as done")
            .Register(*registry);
    prometheus::Family<prometheus::Counter>& throttle =
        BuildCounter().Name("stockrelay_throttle_wait_seconds_total").Help("Time spent waiting on shop rate limits")
            .Register(*registry);
    prometheus::Family<prometheus::Counter>& recoveries =
        BuildCounter().Name("stockrelay_lease_recoveries_total")
            .Help("Rows taken back after another worker's lease expired").Register(*registry);
    prometheus::Family<prometheus::Counter>& reconnects =
        BuildCounter().Name("stockrelay_db_reconnects_total").Help("PostgreSQL connections lost and retried, by loop")
            .Register(*registry);
    prometheus::Family<prometheus::Counter>& webhooks =
        BuildCounter().Name("stockrelay_webhook_requests_total").Help("Shop webhook requests answered, by HTTP status")
            .Register(*registry);
};

Figures& figures() {
    static Figures f;
    return f;
}

std::string id(std::int64_t channel) { return std::to_string(channel); }

// The series' labels plus, in a daemon serving several databases, the
// calling thread's `database` (one value per served database: bounded).
std::map<std::string, std::string> L(std::map<std::string, std::string> labels) {
    if (!current_database().empty()) labels.emplace("database", current_database());
    return labels;
}

const char* outcome_of(Verdict v) {
    switch (v) {
        case Verdict::done: return "done";
        case Verdict::fail: return "failed";
        case Verdict::retry: return "retried";
        case Verdict::release: return "released";
    }
    return "unknown";
}

void observe_lag(pg::Connection& conn, std::int64_t channel, const std::vector<std::int64_t>& done) {
    if (done.empty()) return;
    try {
        const auto r = conn.exec(
            "SELECT EXTRACT(EPOCH FROM (now() AT TIME ZONE 'UTC') - enqueued_at) FROM stock_relay_outbox "
            " WHERE id = ANY($1::bigint[])",
            pg::Params().add(pg::int_array(done)));
        auto& h = figures().lag_seconds.Add(L({{"channel", id(channel)}}), kLagBuckets);
        for (int i = 0; i < r.rows(); ++i) h.Observe(std::max(0.0, r.f64(i, 0)));
    } catch (const pg::Error&) {
        // A figure is not worth a batch: a lost connection shows at the next query.
    }
}

}  // namespace

void declare_daemon_series() {
    for (const char* loop : {"listener", "supervisor"}) figures().reconnects.Add(L({{"loop", loop}, {"channel", ""}}));
}

void lease_recovered(std::int64_t channel, std::int64_t rows) {
    auto& c = figures().recoveries.Add(L({{"channel", id(channel)}}));
    if (rows > 0) c.Increment(static_cast<double>(rows));
}

void db_reconnect(const std::string& loop, std::int64_t channel) {
    figures().reconnects.Add(L({{"loop", loop}, {"channel", channel ? id(channel) : ""}})).Increment();
}

void webhook_request(int status) { figures().webhooks.Add(L({{"status", std::to_string(status)}})).Increment(); }

void record_batch(pg::Connection& conn, std::int64_t channel, const std::vector<PendingAck>& acks,
                  const channels::PushReport& report, std::int64_t push_ms) {
    auto& f = figures();
    const auto ch = id(channel);
    std::vector<std::int64_t> done;
    for (const auto& a : acks) {
        f.items.Add(L({{"channel", ch}, {"outcome", outcome_of(a.decision.verdict)},
                       {"error_code", a.decision.verdict == Verdict::done ? "" : a.decision.error_code}}))
            .Increment();
        if (a.decision.verdict == Verdict::done) done.push_back(a.row_id);
    }
    if (!report.items.empty()) {
        std::size_t landed = 0;
        for (const auto& o : report.items) landed += o.error ? 0 : 1;
        const char* outcome = landed == report.items.size() ? "ok" : landed > 0 ? "partial" : "failed";
        f.batches.Add(L({{"channel", ch}, {"outcome", outcome}})).Increment();
        f.push_seconds.Add(L({{"channel", ch}}), kPushBuckets).Observe(static_cast<double>(push_ms) / 1000.0);
    }
    f.shop_requests.Add(L({{"channel", ch}})).Increment(report.http_calls);
    f.throttle.Add(L({{"channel", ch}})).Increment(static_cast<double>(report.throttled_for.count()) / 1000.0);
    observe_lag(conn, channel, done);
}

prometheus::Registry& registry() { return *figures().registry; }
void batch_phases(std::int64_t channel, const PhaseClock& clock) {
    auto& f = figures();
    for (std::size_t i = 0; i < kPhaseCount; ++i) {
        const auto p = static_cast<Phase>(i);
        f.phase_seconds.Add(L({{"channel", id(channel)}, {"phase", to_string(p)}}), kPhaseBuckets)
            .Observe(clock.seconds(p));
    }
}

std::string exposition(const std::vector<prometheus::MetricFamily>& extra) {
    auto families = figures().registry->Collect();
    families.insert(families.end(), extra.begin(), extra.end());
    return prometheus::TextSerializer().Serialize(families);
}

}  // namespace stockrelay::sidecar::metrics
