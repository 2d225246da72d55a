#include "catalog_runner.hpp"

#include <fmt/format.h>

#include "ack.hpp"
#include "catalog_rows.hpp"
#include "liveness.hpp"
#include "logging.hpp"
#include "metrics.hpp"
#include "metrics_catalog.hpp"
#include "stockrelay/log.hpp"

namespace stockrelay::sidecar {

namespace cq = catalog_queries;
using json = nlohmann::json;
using std::chrono::milliseconds;
using std::chrono::steady_clock;

struct CatalogRunner::Shop {
    std::string fingerprint;
    channels::Config config;
    std::unique_ptr<channels::Channel> channel;
    std::unique_ptr<stockrelay::catalog::Publisher> publisher;
    std::optional<Error> broken;
};

CatalogStats& CatalogStats::operator+=(const CatalogStats& o) {
    rows += o.rows;
    ok += o.ok;
    failed += o.failed;
    retried += o.retried;
    unchanged += o.unchanged;
    http_calls += o.http_calls;
    previews += o.previews;
    return *this;
}

CatalogRunner::CatalogRunner(CatalogOptions options, Wakeup& wake)
    : options_(std::move(options)), wake_(wake), rng_(std::random_device{}()) {}

CatalogRunner::~CatalogRunner() = default;

CatalogRunner::Shop* CatalogRunner::shop_for(const queries::ChannelRow& row) {
    auto& slot = shops_[row.id];
    if (slot && slot->fingerprint == row.json) return slot->broken ? nullptr : slot.get();
    slot = std::make_unique<Shop>();
    slot->fingerprint = row.json;
    auto config = channels::Config::from_json(json::parse(row.json));
    if (config) logging::add_secrets(config->secrets());
    auto channel = config ? channels::make_channel(*config) : Result<std::unique_ptr<channels::Channel>>(config.error());
    if (channel) {
        slot->config = *config;
        slot->channel = std::move(*channel);
        auto pub = stockrelay::catalog::make_publisher(*slot->channel, slot->config);
        if (pub) slot->publisher = std::move(*pub);
        else slot->broken = pub.error();
    } else {
        slot->broken = channel.error();
    }
    if (slot->broken) {
        log::error("channel {} ({}): cannot publish the catalogue: {}; its catalogue rows stay queued", row.id,
                   row.name, logging::redact(slot->broken->describe()));
        return nullptr;
    }
    return slot.get();
}

CatalogStats CatalogRunner::process(pg::Connection& conn, Shop& shop, const std::vector<cq::CatalogRow>& rows,
                                    const std::atomic<bool>& stop) {
    CatalogStats stats;
    bool paused = false;  // the shop refused the channel: the rest goes back untouched
    const auto t0 = steady_clock::now();
    const int calls_before = shop.publisher->http_calls();
    auto fates = stop ? std::vector<RowFate>(rows.size()) : publish_rows(conn, *shop.publisher, shop.config.id, rows);
    const auto t1 = steady_clock::now();
    for (std::size_t i = 0; i < rows.size(); ++i) {
        const auto& row = rows[i];
        RowFate& fate = fates[i];
        if (stop || (paused && (fate.error || fate.postpone))) {  // what landed in the shop is still written
            fate = RowFate{};
            fate.postpone = true;
            fate.why = paused ? "held while the shop refuses this channel" : "not sent: shutting down";
        }
        AckDecision d;
        if (fate.postpone) {
            d.verdict = Verdict::release;
            d.refund_attempt = true;
            d.delay = paused || stop ? milliseconds{0} : options_.wait_for_product;
            d.message = fate.why;
        } else {
            AckInput in;
            in.error = fate.error;
            in.attempts = row.attempts;
            in.max_attempts = shop.config.max_attempts;
            if (row.attempts >= shop.config.max_attempts)
                if (auto a = queries::row_ages(conn, {row.id}); a.count(row.id)) in.age = a[row.id];
            in.retry_window = std::chrono::duration_cast<milliseconds>(
                std::chrono::duration<double, std::ratio<3600>>(shop.config.retry_window_hours));
            d = decide(in, options_.backoff, rng_);
            paused = d.pause_channel;
        }
        queries::AckRow a;
        a.id = row.id;
        a.delay = d.delay;
        a.refund_attempt = d.refund_attempt;
        a.http_status = fate.outcome.http_status;
        if (d.verdict != Verdict::done) {
            if (!d.error_code.empty()) a.error_code = d.error_code;
            a.last_error = d.message;
        } else if (fate.outcome.adopted) {
            a.last_error = "adopted: matched to a product made by hand in the shop with the same SKU";
        }
        if (!fate.outcome.request_excerpt.empty()) a.request_excerpt = fate.outcome.request_excerpt;
        if (!fate.outcome.response_excerpt.empty()) a.response_excerpt = fate.outcome.response_excerpt;
        pg::Transaction tx(conn);
        const bool newer = d.verdict != Verdict::done && d.verdict != Verdict::fail &&
                           queries::rows_with_pending_successor(conn, {row.id}).count(row.id) > 0;
        a.state = std::string(final_state(d.verdict, newer));
        if (a.state == "superseded") a.last_error = "superseded by a newer value for the same key";
        const auto written = queries::write_acks(conn, options_.worker_id, {a});
        if (written == 1 && a.state == "done")
            cq::write_mapping(conn, shop.config.id, fate.outcome.map, fate.outcome.unmap);
        tx.commit();

        ++stats.rows;
        stats.http_calls += fate.outcome.http_calls;
        metrics::catalog_calls(shop.config.id, fate.outcome.http_calls);
        if (a.state == "done") metrics::catalog_published(shop.config.id, fate.outcome.action, fate.outcome.adopted);
        else if (a.error_code) metrics::catalog_failed(shop.config.id, *a.error_code);
        if (a.state == "done") ++stats.ok;
        else if (a.state == "failed") ++stats.failed;
        else ++stats.retried;
        if (fate.outcome.unchanged) ++stats.unchanged;
        if (a.state == "done")
            log::info("channel {} ({}): {} row {} (template {}): {}{} in {} call(s)", shop.config.id, shop.config.name,
                      row.kind, row.id, row.template_id, fate.outcome.action, fate.outcome.adopted ? " (adopted)" : "",
                      fate.outcome.http_calls);
        else
            log::warn("channel {} ({}): {} row {} (template {}) {}: {}", shop.config.id, shop.config.name, row.kind,
                      row.id, row.template_id, a.state, logging::redact(a.last_error.value_or("")));
        // The rest of the batch keeps its lease through a long publish.
        std::vector<std::int64_t> rest;
        for (std::size_t k = i + 1; k < rows.size(); ++k) rest.push_back(rows[k].id);
        queries::extend_lease(conn, rest, options_.worker_id, options_.lease);
    }
    const auto ms = [](auto d) { return std::chrono::duration_cast<milliseconds>(d).count(); };
    log::info("channel {} ({}): catalogue batch of {} row(s): shop {} ms in {} call(s), database {} ms",
              shop.config.id, shop.config.name, rows.size(), ms(t1 - t0), shop.publisher->http_calls() - calls_before,
              ms(steady_clock::now() - t1));
    return stats;
}

CatalogStats CatalogRunner::drain_channel(pg::Connection& conn, Shop& shop, const std::optional<std::string>& due_before,
                                          const std::atomic<bool>& stop, bool one_batch) {
    const logging::ChannelScope scope(fmt::format("channel {} ({})", shop.config.id, shop.config.name));
    CatalogStats total;
    while (!stop) {
        const auto rows = cq::claim(conn, shop.config.id, options_.worker_id, options_.lease, options_.batch, due_before);
        if (rows.empty()) break;
        const auto s = process(conn, shop, rows, stop);
        total += s;
        if (one_batch || s.ok + s.failed == 0) break;  // all waiting: a refused shop, or rows waiting on each other
    }
    return total;
}

CatalogStats CatalogRunner::drain(pg::Connection& conn, const std::optional<std::string>& due_before,
                                  const std::atomic<bool>& stop, bool one_batch) {
    CatalogStats total;
    for (const auto& row : cq::catalog_channels(conn, options_.channel)) {
        if (stop) break;
        Shop* shop = shop_for(row);
        if (!shop) continue;
        const auto s = drain_channel(conn, *shop, due_before, stop, one_batch);
        total += s;
        if (!stop) healer_.after_pass(conn, shop->config.id, s.ok - s.unchanged);
    }
    total.previews += answer_previews(conn);
    return total;
}

Result<json> CatalogRunner::preview(pg::Connection& conn, std::int64_t channel_id, const std::vector<json>& documents) {
    const auto rows = queries::load_channels(conn, false, channel_id);
    if (rows.empty()) return make_error(ErrorCode::config, fmt::format("no channel {}", channel_id));
    Shop* shop = shop_for(rows.front());
    if (!shop) return *shops_[channel_id]->broken;
    std::vector<stockrelay::catalog::PreviewEntry> entries;
    for (const auto& d : documents) {
        auto doc = stockrelay::catalog::parse_document(d);
        if (!doc) {
            stockrelay::catalog::PreviewEntry e;
            e.status = "conflicts";
            e.external_id = d.is_object() ? d.value("external_id", json("")).dump() : "";
            if (d.is_object() && d.contains("external_id") && d["external_id"].is_string())
                e.external_id = d["external_id"].get<std::string>();
            e.name = d.is_object() && d.contains("name") && d["name"].is_string() ? d["name"].get<std::string>() : "";
            e.code = std::string(to_string(doc.error().code));
            e.message = doc.error().message;
            entries.push_back(e);
            continue;
        }
        entries.push_back(shop->publisher->preview(*doc, cq::load_mapping(conn, channel_id, doc->template_id)));
    }
    return stockrelay::catalog::preview_result(entries);
}

int CatalogRunner::answer_previews(pg::Connection& conn) {
    std::vector<std::int64_t> channels;
    if (options_.channel) channels.push_back(*options_.channel);
    int n = 0;
    while (auto req = cq::claim_preview(conn, channels)) {
        ++n;
        auto docs = json::parse(req->documents, nullptr, false);
        std::vector<json> list;
        if (docs.is_array())
            for (auto& d : docs) list.push_back(d);
        const auto t0 = steady_clock::now();
        auto result = preview(conn, req->channel_id, list);
        metrics::catalog_preview(req->channel_id, static_cast<bool>(result),
                                 std::chrono::duration<double>(steady_clock::now() - t0).count());
        if (result) {
            cq::finish_preview(conn, req->id, result->dump());
            log::info("channel {}: dry run {} answered ({} document(s))", req->channel_id, req->id, list.size());
        } else {
            cq::fail_preview(conn, req->id, result.error().describe());
            log::warn("channel {}: dry run {} failed: {}", req->channel_id, req->id,
                      logging::redact(result.error().describe()));
        }
    }
    return n;
}

void CatalogRunner::run(const std::atomic<bool>& stop) {
    liveness::LoopScope loop("catalogue");
    std::unique_ptr<pg::Connection> conn;
    int failures = 0;
    const BackoffPolicy reconnect{milliseconds{500}, milliseconds{30'000}};
    while (!stop) {
        const auto seen = wake_.generation();
        auto wait = options_.poll_interval;
        try {
            if (!conn) conn = std::make_unique<pg::Connection>(options_.dsn);
            loop.beat();
            const auto s = drain(*conn, std::nullopt, stop, true);
            failures = 0;
            if (s.ok + s.failed > 0) wait = milliseconds{0};  // more may be due: next batch at once
            else if (s.retried > 0) wait = std::min(wait, options_.wait_for_product);
        } catch (const pg::Error& e) {
            ++failures;
            if (e.connection_lost()) conn.reset();
            log::warn("catalogue: database error: {}", e.what());
            wait = backoff_delay(reconnect, failures, rng_);
        } catch (const std::exception& e) {
            ++failures;
            log::error("catalogue: unexpected error: {}", e.what());
            wait = backoff_delay(reconnect, failures, rng_);
        }
        wake_.wait_until(seen, steady_clock::now() + wait, stop);
    }
}

}  // namespace stockrelay::sidecar

namespace stockrelay::sidecar {
CatalogOptions catalog_options(const WorkerOptions& worker, std::optional<std::int64_t> channel) {
    CatalogOptions o;
    o.dsn = worker.dsn;
    o.worker_id = worker.worker_id;
    o.lease = std::max(worker.lease * 2, std::chrono::seconds{60});
    o.poll_interval = worker.poll_interval;
    o.backoff = worker.backoff;
    o.channel = channel;
    return o;
}
}  // namespace stockrelay::sidecar
