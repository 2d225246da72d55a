// The daemon's Prometheus figures (prometheus-cpp core; served by
// ops_server's /metrics). Counters and histograms are recorded here as rows
// flow; the figures that live in the database (rows by state, oldest pending,
// channel state, inbox, reconcile) are read by metrics_sql at scrape time.
//
// Labels stay bounded: a channel id, an outcome, an error code, an HTTP
// status; never a SKU, a location or a message.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include <prometheus/metric_family.h>
#include <prometheus/registry.h>

#include "batch_phases.hpp"
#include "pg.hpp"
#include "stockrelay/channels/channel.hpp"

namespace stockrelay::sidecar {
struct PendingAck;
}

namespace stockrelay::sidecar::metrics {

// Creates the daemon-wide series at zero (a counter that never moved is
// still served, so rules and dashboards find it from the first scrape).
void declare_daemon_series();
// Rows taken back from an expired lease when claiming.
void lease_recovered(std::int64_t channel, std::int64_t rows);
// A loop lost PostgreSQL and reconnects ("worker" with its channel,
// "listener", "supervisor").
void db_reconnect(const std::string& loop, std::int64_t channel = 0);
// A webhook request answered with `status`.
void webhook_request(int status);
// One pushed batch: items by outcome and error code, the push's duration,
// throttle waits, shop calls, and the enqueue-to-ack lag of the rows that
// landed (one primary-key query on `conn`; a failure there is ignored).
void record_batch(pg::Connection& conn, std::int64_t channel, const std::vector<PendingAck>& acks,
                  const channels::PushReport& report, std::int64_t push_ms);

// The registry every recorded series lives in (metrics_catalog.cpp adds its own).
prometheus::Registry& registry();
// One batch's wall time by phase (stockrelay_batch_phase_seconds{phase}).
void batch_phases(std::int64_t channel, const PhaseClock& clock);

// The Prometheus text exposition: the recorded figures plus `extra`
// (collected from the database at scrape time; may be empty).
std::string exposition(const std::vector<prometheus::MetricFamily>& extra);

}  // namespace stockrelay::sidecar::metrics
