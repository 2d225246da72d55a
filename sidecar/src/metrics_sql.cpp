#include "metrics_sql.hpp"

#include <map>

#include "metrics_catalog.hpp"
#include "queries.hpp"

namespace stockrelay::sidecar::metrics {
namespace {

using prometheus::ClientMetric;
using prometheus::MetricFamily;
using prometheus::MetricType;
using Labels = std::vector<ClientMetric::Label>;

constexpr const char* kStates[] = {"pending", "in_flight", "done", "failed", "superseded"};

struct GaugeFamily {
    MetricFamily f;
    GaugeFamily(const char* name, const char* help) {
        f.name = name;
        f.help = help;
        f.type = MetricType::Gauge;
    }
    void add(Labels labels, double value) {
        ClientMetric m;
        m.label = std::move(labels);
        m.gauge.value = value;
        f.metric.push_back(std::move(m));
    }
};

std::vector<ChannelFigures> read_channels(pg::Connection& conn) {
    const auto r = conn.exec(
        "SELECT c.id, c.name, c.channel_type, c.enabled, coalesce(min(s.state), 'flowing'), "
        "       count(o.id) FILTER (WHERE o.state = 'pending'), count(o.id) FILTER (WHERE o.state = 'in_flight'), "
        "       count(o.id) FILTER (WHERE o.state = 'done'), count(o.id) FILTER (WHERE o.state = 'failed'), "
        "       count(o.id) FILTER (WHERE o.state = 'superseded'), "
        "       EXTRACT(EPOCH FROM (now() AT TIME ZONE 'UTC') - min(o.enqueued_at) FILTER (WHERE o.state = 'pending')) "
        "  FROM stock_relay_channel c "
        "  LEFT JOIN stock_relay_outbox o ON o.channel_id = c.id "
        "  LEFT JOIN stock_relay_channel_state s ON s.channel_id = c.id "
        " GROUP BY c.id ORDER BY c.id");
    std::vector<ChannelFigures> out;
    for (int i = 0; i < r.rows(); ++i) {
        ChannelFigures c{r.i64(i, 0), r.str(i, 1), r.str(i, 2), r.boolean(i, 3), r.str(i, 4), {}, std::nullopt};
        for (int k = 0; k < 5; ++k) c.rows_by_state.emplace_back(kStates[k], r.i64(i, 5 + k));
        if (!r.is_null(i, 10)) c.oldest_pending_seconds = r.f64(i, 10);
        out.push_back(std::move(c));
    }
    return out;
}

void channel_families(const std::vector<ChannelFigures>& channels, std::vector<MetricFamily>& out) {
    GaugeFamily info("stockrelay_channel_info", "A configured channel (value 1), with its name and shop type");
    GaugeFamily enabled("stockrelay_channel_enabled", "1 when the channel is enabled in Odoo");
    GaugeFamily refused("stockrelay_channel_refused", "1 while the shop refuses the channel's credentials or settings");
    GaugeFamily down("stockrelay_channel_down", "1 while the shop is unreachable");
    GaugeFamily rows("stockrelay_outbox_rows", "Outbox rows by state");
    GaugeFamily oldest("stockrelay_outbox_oldest_pending_seconds", "Age of the oldest pending row (0: none pending)");
    for (const auto& c : channels) {
        const auto id = std::to_string(c.id);
        info.add({{"channel", id}, {"name", c.name}, {"type", c.type}}, 1);
        enabled.add({{"channel", id}}, c.enabled ? 1 : 0);
        refused.add({{"channel", id}}, c.state == "refused" ? 1 : 0);
        down.add({{"channel", id}}, c.state == "down" ? 1 : 0);
        for (const auto& [state, n] : c.rows_by_state)
            rows.add({{"channel", id}, {"state", state}}, static_cast<double>(n));
        oldest.add({{"channel", id}}, c.oldest_pending_seconds.value_or(0.0));
    }
    for (auto* g : {&info, &enabled, &refused, &down, &rows, &oldest}) out.push_back(std::move(g->f));
}

void inbox_families(pg::Connection& conn, std::vector<MetricFamily>& out) {
    GaugeFamily events("stockrelay_inbox_events", "Shop order events in the inbox, by state and how they came in");
    const auto r = conn.exec("SELECT channel_id, state, received_via, count(*) FROM stock_relay_inbox GROUP BY 1, 2, 3");
    for (int i = 0; i < r.rows(); ++i)
        events.add({{"channel", r.str(i, 0)}, {"state", r.str(i, 1)}, {"via", r.str(i, 2)}},
                   static_cast<double>(r.i64(i, 3)));
    out.push_back(std::move(events.f));
}

void reconcile_families(pg::Connection& conn, std::vector<MetricFamily>& out) {
    GaugeFamily runs("stockrelay_reconcile_runs", "Reconcile runs on record, by state");
    GaugeFamily items("stockrelay_reconcile_items_read", "Shop items read by the reconcile runs on record");
    const auto r = conn.exec(
        "SELECT channel_id, state, count(*), coalesce(sum(items_read), 0) FROM stock_relay_reconcile GROUP BY 1, 2");
    std::map<std::string, double> read_by_channel;
    for (int i = 0; i < r.rows(); ++i) {
        runs.add({{"channel", r.str(i, 0)}, {"state", r.str(i, 1)}}, static_cast<double>(r.i64(i, 2)));
        read_by_channel[r.str(i, 0)] += static_cast<double>(r.i64(i, 3));
    }
    for (const auto& [ch, n] : read_by_channel) items.add({{"channel", ch}}, n);
    out.push_back(std::move(runs.f));
    out.push_back(std::move(items.f));
}

}  // namespace

DbFigures::DbFigures(std::string dsn, std::chrono::milliseconds max_age) : dsn_(std::move(dsn)), max_age_(max_age) {}

DbSnapshot DbFigures::snapshot() {
    std::lock_guard lock(mutex_);
    const auto now = std::chrono::steady_clock::now();
    if (!cached_ || now - read_at_ >= max_age_) {
        cached_ = read();
        read_at_ = now;
    }
    return *cached_;
}

DbSnapshot DbFigures::read() {
    DbSnapshot s;
    GaugeFamily up("stockrelay_database_up", "1 when the last scrape could read the database");
    try {
        if (!conn_) conn_ = std::make_unique<pg::Connection>(dsn_, std::chrono::seconds{5});
        s.schema_version = queries::schema_version(*conn_);
        s.reachable = true;
        s.channels = read_channels(*conn_);
        channel_families(s.channels, s.families);
        inbox_families(*conn_, s.families);
        reconcile_families(*conn_, s.families);
        catalog_backlog_families(*conn_, s.families);
    } catch (const pg::Error& e) {
        if (e.connection_lost() || !s.reachable) conn_.reset();
        s.reachable = s.reachable && !e.connection_lost();
        s.error = e.what();
    }
    up.add({}, s.reachable && s.error.empty() ? 1 : 0);
    s.families.push_back(std::move(up.f));
    return s;
}

}  // namespace stockrelay::sidecar::metrics
