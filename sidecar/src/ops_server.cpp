#include "ops_server.hpp"

#include <httplib.h>

#include <fmt/format.h>

#include "liveness.hpp"
#include "logging.hpp"
#include "metrics.hpp"
#include "database_figures.hpp"
#include "metrics_sql.hpp"
#include "stockrelay/log.hpp"
#include "stockrelay/schema.hpp"
#include "version.hpp"

namespace stockrelay::sidecar {
namespace {

void text(httplib::Response& res, int status, const std::string& body) {
    res.status = status;
    res.set_content(body, "text/plain; charset=utf-8");
}

std::string not_ready_reason(const metrics::DbSnapshot& s) {
    if (!s.reachable) return "database unreachable: " + logging::redact(s.error);
    if (s.schema_version != schema::kVersion)
        return fmt::format("database contract version {} (this stockrelayd understands {})",
                           s.schema_version ? std::to_string(*s.schema_version) : "none", schema::kVersion);
    if (!s.error.empty()) return "database query failed: " + logging::redact(s.error);
    for (const auto& c : s.channels)
        if (c.enabled && c.state == "flowing") return "";
    return s.channels.empty() ? "no channels configured" : "no enabled channel is flowing (refused, down or disabled)";
}

prometheus::MetricFamily build_info() {
    prometheus::MetricFamily f;
    f.name = "stockrelay_build_info";
    f.help = "This stockrelayd's version and contract version (value 1)";
    f.type = prometheus::MetricType::Gauge;
    prometheus::ClientMetric m;
    m.label = {{"version", std::string(version())}, {"schema_version", std::to_string(schema::kVersion)}};
    m.gauge.value = 1;
    f.metric.push_back(std::move(m));
    return f;
}

// Serving several databases: 200 when every one is ready, else 503 naming
// each database that is not and why.
void readyz_several(httplib::Response& res, const std::vector<std::pair<std::string, metrics::DbSnapshot>>& snaps) {
    if (snaps.empty()) return text(res, 503, "not ready: no database to serve (none listed, or none matches)\n");
    std::string body;
    int not_ready = 0;
    for (const auto& [name, snap] : snaps) {
        const auto why = not_ready_reason(snap);
        if (!why.empty()) ++not_ready;
        body += fmt::format("database {}: {}\n", name, why.empty() ? "ready" : "not ready: " + why);
    }
    if (not_ready == 0) return text(res, 200, fmt::format("ready: {} database(s)\n", snaps.size()) + body);
    text(res, 503, fmt::format("not ready: {} of {} database(s)\n", not_ready, snaps.size()) + body);
}

}  // namespace

struct OpsServer::Impl {
    OpsOptions options;
    std::shared_ptr<metrics::DatabaseFigures> dbs;
    bool several;
    httplib::Server server;

    Impl(std::shared_ptr<metrics::DatabaseFigures> d, OpsOptions o, bool several_dbs)
        : options(std::move(o)), dbs(std::move(d)), several(several_dbs) {}

    void healthz(httplib::Response& res) {
        const auto stuck = liveness::stalled(options.stall_limit);
        if (stuck.empty()) return text(res, 200, fmt::format("ok: {} loop(s) turning\n", liveness::loops().size()));
        std::string body = "stuck:";
        for (const auto& s : stuck) body += fmt::format(" {} (busy {} s)", s.loop, s.busy_for.count() / 1000);
        text(res, 503, body + "\n");
    }

    void readyz(httplib::Response& res) {
        const auto snaps = dbs->snapshots();
        if (several) return readyz_several(res, snaps);
        const auto why = snaps.empty() ? std::string("no database") : not_ready_reason(snaps.front().second);
        text(res, why.empty() ? 200 : 503, why.empty() ? "ready\n" : "not ready: " + why + "\n");
    }

    void metrics_page(httplib::Response& res) {
        auto families = metrics::merged_families(dbs->snapshots());
        families.push_back(build_info());
        res.set_content(metrics::exposition(families), "text/plain; version=0.0.4; charset=utf-8");
    }
};

OpsServer::OpsServer(std::shared_ptr<metrics::DatabaseFigures> databases, OpsOptions options, bool several)
    : impl_(std::make_unique<Impl>(std::move(databases), std::move(options), several)) {}

OpsServer::~OpsServer() { stop(); }

Status OpsServer::start() {
    auto& s = impl_->server;
    const auto& o = impl_->options.listen;
    s.new_task_queue = [] { return new httplib::ThreadPool(2); };
    s.set_read_timeout(std::chrono::seconds{5});
    s.set_write_timeout(std::chrono::seconds{5});
    s.Get("/healthz", [this](const httplib::Request&, httplib::Response& res) { impl_->healthz(res); });
    s.Get("/readyz", [this](const httplib::Request&, httplib::Response& res) { impl_->readyz(res); });
    s.Get("/metrics", [this](const httplib::Request&, httplib::Response& res) { impl_->metrics_page(res); });
    port_ = o.port == 0 ? s.bind_to_any_port(o.host) : (s.bind_to_port(o.host, o.port) ? o.port : -1);
    if (port_ <= 0)
        return make_error(ErrorCode::config,
                          fmt::format("cannot listen on {}:{} for /metrics (in use, or not an address here)", o.host,
                                      o.port));
    thread_ = std::thread([this] { impl_->server.listen_after_bind(); });
    log::info("listener: serving /healthz, /readyz and /metrics on http://{}:{}", o.host, port_);
    return Ok{};
}

void OpsServer::stop() {
    if (!impl_) return;
    impl_->server.stop();
    if (thread_.joinable()) thread_.join();
}

}  // namespace stockrelay::sidecar
