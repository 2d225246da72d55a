#include "metrics_catalog.hpp"

#include <prometheus/counter.h>
#include <prometheus/histogram.h>

#include <map>

#include "database_scope.hpp"
#include "metrics.hpp"

namespace stockrelay::sidecar::metrics {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildHistogram;
using prometheus::Histogram;

const Histogram::BucketBoundaries kPreviewBuckets{0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300};

struct CatalogFigures {
    prometheus::Family<prometheus::Counter>& published =
        BuildCounter().Name("stockrelay_catalog_rows_published_total")
            .Help("Catalogue rows published, by channel and action (created, updated, unchanged, archived, prices, "
                  "adopted)")
            .Register(registry());
    prometheus::Family<prometheus::Counter>& failed =
        BuildCounter().Name("stockrelay_catalog_rows_failed_total")
            .Help("Catalogue rows that failed or are retried, by channel and error code").Register(registry());
    prometheus::Family<prometheus::Counter>& calls =
        BuildCounter().Name("stockrelay_catalog_shop_requests_total")
            .Help("HTTP calls made to the shop by catalogue publishing").Register(registry());
    prometheus::Family<Histogram>& previews =
        BuildHistogram().Name("stockrelay_catalog_dry_run_seconds")
            .Help("Dry runs answered, by outcome (ok, failed), and how long each took").Register(registry());
};

CatalogFigures& figures() {
    static CatalogFigures f;
    return f;
}

std::map<std::string, std::string> L(std::map<std::string, std::string> labels) {
    if (!current_database().empty()) labels.emplace("database", current_database());
    return labels;
}

}  // namespace

void catalog_published(std::int64_t channel, const std::string& action, bool adopted) {
    const auto ch = std::to_string(channel);
    figures().published.Add(L({{"channel", ch}, {"action", action.empty() ? "unchanged" : action}})).Increment();
    if (adopted) figures().published.Add(L({{"channel", ch}, {"action", "adopted"}})).Increment();
}

void catalog_failed(std::int64_t channel, const std::string& error_code) {
    figures().failed.Add(L({{"channel", std::to_string(channel)}, {"error_code", error_code}})).Increment();
}

void catalog_calls(std::int64_t channel, int calls) {
    auto& c = figures().calls.Add(L({{"channel", std::to_string(channel)}}));
    if (calls > 0) c.Increment(calls);
}

void catalog_backlog_families(pg::Connection& conn, std::vector<prometheus::MetricFamily>& out) {
    const auto r = conn.exec(
        "SELECT c.id, k.kind, count(o.id) FROM stock_relay_channel c "
        " CROSS JOIN (VALUES ('product'), ('price')) k(kind) "
        "  LEFT JOIN stock_relay_outbox o ON o.channel_id = c.id AND o.kind = k.kind "
        "        AND o.state IN ('pending', 'in_flight') "
        " WHERE c.catalog_enabled GROUP BY c.id, k.kind ORDER BY c.id, k.kind");
    prometheus::MetricFamily f;
    f.name = "stockrelay_catalog_backlog_rows";
    f.help = "Catalogue rows (product, price) pending or in flight, by channel";
    f.type = prometheus::MetricType::Gauge;
    for (int i = 0; i < r.rows(); ++i) {
        prometheus::ClientMetric m;
        m.label = {{"channel", r.str(i, 0)}, {"kind", r.str(i, 1)}};
        m.gauge.value = static_cast<double>(r.i64(i, 2));
        f.metric.push_back(std::move(m));
    }
    out.push_back(std::move(f));
}

void catalog_preview(std::int64_t channel, bool ok, double seconds) {
    figures().previews.Add(L({{"channel", std::to_string(channel)}, {"outcome", ok ? "ok" : "failed"}}), kPreviewBuckets)
        .Observe(seconds);
}

}  // namespace stockrelay::sidecar::metrics
