#include "cli.hpp"

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "daemon.hpp"
#include "database_set.hpp"
#include "dsn.hpp"
#include "exit_codes.hpp"
#include "logging.hpp"
#include "queries.hpp"
#include "catalog_cli.hpp"
#include "catalog_queries.hpp"
#include "reconcile_cli.hpp"
#include "schema_check.hpp"
#include "stockrelay/log.hpp"
#include "stockrelay/schema.hpp"
#include "version.hpp"
#include "worker_id.hpp"

namespace stockrelay::sidecar {
namespace {

constexpr const char* kDefaultMetricsListen = "127.0.0.1:9847";

struct Globals {
    std::string dsn;                 // the database a command works on now
    std::vector<std::string> dsns;   // --dsn, once or more
    std::string databases;           // --databases a,b,c
    std::string database_pattern;    // --database-pattern REGEX
    std::string database;            // --database NAME: only this one of several
    std::string log_level = "info";
    std::string worker_id;
    int lease_seconds = 30;
    double poll_interval = 5.0;
    double reload_interval = 30.0;
    std::optional<std::int64_t> channel;
    std::string listen;
    std::size_t webhook_max_body = 4 * 1024 * 1024;
    std::string metrics_listen = kDefaultMetricsListen;
    double heartbeat_interval = 5.0;
    double stall_seconds = 0;  // 0: max(120 s, 4 leases)
    std::string log_format = "text";
};

WorkerOptions worker_options(const Globals& g) {
    WorkerOptions o;
    o.dsn = g.dsn;
    o.worker_id = g.worker_id.empty() ? default_worker_id() : g.worker_id;
    o.lease = std::chrono::seconds{g.lease_seconds};
    o.poll_interval = std::chrono::milliseconds{static_cast<std::int64_t>(g.poll_interval * 1000)};
    // A measuring switch (docs/BENCHMARKS.md): 0 claims each batch on its own, as before issue 17.
    if (const char* fold = std::getenv("STOCKRELAY_FOLD_CLAIM"); fold && std::string_view(fold) == "0")
        o.fold_next_claim = false;
    return o;
}

std::unique_ptr<pg::Connection> connect(const Globals& g, bool check_schema = true) {
    auto conn = std::make_unique<pg::Connection>(g.dsn);
    if (check_schema) require_schema(*conn);
    return conn;
}

std::string channel_label(std::int64_t id, const std::string& name, const std::string& type) {
    return fmt::format("channel {} \"{}\" ({})", id, name, type);
}

int cmd_init_schema(const Globals& g) {
    auto conn = connect(g, false);
    queries::apply_schema(*conn);
    std::cout << "applied the outbox schema, version " << schema::kVersion << "\n";
    return exit_ok;
}

int cmd_check(const Globals& g) {
    auto conn = connect(g);
    std::cout << "database: OK (outbox schema version " << schema::kVersion << ")\n";
    // An explicit --channel is checked even when disabled: the operator asked.
    const auto rows = queries::load_channels(*conn, !g.channel.has_value(), g.channel);
    if (rows.empty()) std::cout << (g.channel ? "no such channel\n" : "no enabled channels\n");
    bool any_failed = g.channel.has_value() && rows.empty();
    for (const auto& row : rows) {
        const auto label = channel_label(row.id, row.name, row.type);
        auto config = channels::Config::from_json(nlohmann::json::parse(row.json));
        if (!config) {
            std::cout << label << ": FAIL " << logging::redact(config.error().describe()) << "\n";
            any_failed = true;
            continue;
        }
        logging::add_secrets(config->secrets());
        auto channel = channels::make_channel(*config);
        if (!channel) {
            std::cout << label << ": FAIL " << logging::redact(channel.error().describe()) << "\n";
            any_failed = true;
            continue;
        }
        auto result = (*channel)->test_connection();
        if (result) {
            std::cout << label << ": OK " << logging::redact(*result) << "\n";
        } else {
            std::cout << label << ": FAIL " << logging::redact(result.error().describe()) << "\n";
            any_failed = true;
        }
    }
    std::cout.flush();
    return any_failed ? exit_check_failed : exit_ok;
}

std::string fmt_age(double seconds) {
    if (seconds < 120) return fmt::format("{:.1f}s", seconds);
    if (seconds < 7200) return fmt::format("{:.1f}min", seconds / 60);
    return fmt::format("{:.1f}h", seconds / 3600);
}

// The channel as a whole (contract table stock_relay_channel_state) and its
// failed rows by reason.
void add_health_json(const queries::ChannelStatus& s, nlohmann::json& c) {
    const auto& h = s.health;
    c["state"] = h ? h->state : "flowing";
    c["state_since"] = h && !h->since.empty() ? nlohmann::json(h->since) : nullptr;
    const bool blocked = h && h->state != "flowing";
    c["state_reason"] = blocked && h->reason ? nlohmann::json(logging::redact(*h->reason)) : nullptr;
    c["state_error_code"] = blocked && h->error_code ? nlohmann::json(*h->error_code) : nullptr;
    c["next_probe_at"] = blocked && h->next_probe_at ? nlohmann::json(*h->next_probe_at) : nullptr;
    c["failed_by_reason"] = s.failed_by_reason;
    c["last_failure_at"] = s.last_failure_at ? nlohmann::json(*s.last_failure_at) : nullptr;
}

std::string health_text(const queries::ChannelStatus& s) {
    std::string out;
    const auto& h = s.health;
    if (!h || h->state == "flowing") {
        out = "  state: flowing\n";
    } else {
        const auto what = h->state == "down"      ? "down since " + h->since
                          : h->state == "refused" ? "credentials/settings refused since " + h->since
                                                  : h->state;
        out = fmt::format("  state: {}{}\n", what, h->reason ? ": " + logging::redact(*h->reason) : "");
    }
    if (!s.failed_by_reason.empty()) {
        std::string parts;
        for (const auto& [reason, n] : s.failed_by_reason) parts += fmt::format("{}{}={}", parts.empty() ? "" : " ", reason, n);
        out += fmt::format("  failures by reason: {} (last at {})\n", parts, s.last_failure_at.value_or("?"));
    }
    return out;
}

nlohmann::json status_json(pg::Connection& conn, const Globals& g) {
    const auto rows = queries::status(conn, g.channel);
    const auto reconciles = last_reconciles(conn, g.channel);
    const auto catalog = catalog_queries::backlog(conn, g.channel);
    auto channels = nlohmann::json::array();
    for (const auto& s : rows) {
        nlohmann::json c = {{"id", s.id}, {"name", s.name}, {"type", s.type}, {"enabled", s.enabled},
                            {"counts", s.counts}};
        c["oldest_pending_age_seconds"] = s.oldest_pending_seconds ? nlohmann::json(*s.oldest_pending_seconds) : nullptr;
        c["last_success"] = s.last_success ? nlohmann::json(*s.last_success) : nullptr;
        c["last_failure"] = s.last_error ? nlohmann::json(logging::redact(*s.last_error)) : nullptr;
        add_health_json(s, c);
        if (auto b = catalog.find(s.id); b != catalog.end())
            c["catalog_backlog"] = {{"product", b->second.product}, {"price", b->second.price}, {"failed", b->second.failed}};
        auto rc = reconciles.find(s.id);
        c["last_reconcile"] = rc == reconciles.end() ? nlohmann::json() : reconcile_json(rc->second);
        channels.push_back(std::move(c));
    }
    return channels;
}

void status_text(pg::Connection& conn, const Globals& g) {
    const auto rows = queries::status(conn, g.channel);
    const auto reconciles = last_reconciles(conn, g.channel);
    const auto catalog = catalog_queries::backlog(conn, g.channel);
    if (rows.empty()) std::cout << "no channels\n";
    for (const auto& s : rows) {
        std::cout << fmt::format("channel {} \"{}\" ({}, {}): pending={} in_flight={} done={} failed={} superseded={}",
                                 s.id, s.name, s.type, s.enabled ? "enabled" : "disabled", s.counts.at("pending"),
                                 s.counts.at("in_flight"), s.counts.at("done"), s.counts.at("failed"),
                                 s.counts.at("superseded"));
        std::cout << " oldest_pending=" << (s.oldest_pending_seconds ? fmt_age(*s.oldest_pending_seconds) : "-");
        std::cout << " last_success=" << s.last_success.value_or("never") << "\n";
        std::cout << health_text(s);
        if (auto b = catalog.find(s.id); b != catalog.end())
            std::cout << fmt::format("  catalogue backlog: product rows={} price rows={} (pending or in flight), "
                                     "failed={}\n", b->second.product, b->second.price, b->second.failed);
        if (s.last_error) std::cout << "  last failure: " << logging::redact(*s.last_error) << "\n";
        if (auto rc = reconciles.find(s.id); rc != reconciles.end()) std::cout << reconcile_text(rc->second);
    }
}

int cmd_status(const Globals& g, bool json) {
    auto conn = connect(g);
    if (json) {
        nlohmann::json out = {{"schema_version", schema::kVersion}, {"channels", status_json(*conn, g)}};
        std::cout << out.dump(2) << "\n";
        return exit_ok;
    }
    status_text(*conn, g);
    return exit_ok;
}

int cmd_drain(const Globals& g) {
    auto conn = connect(g);
    const auto opts = worker_options(g);
    const auto due_before = queries::db_now(*conn);
    drain_catalog(*conn, opts, g.channel, due_before);  // products before the stock that may wait for them
    const auto rows = queries::load_channels(*conn, true, g.channel);
    Wakeup wake;
    BatchStats total;
    int channels_drained = 0;
    for (const auto& row : rows) {
        auto config = channels::Config::from_json(nlohmann::json::parse(row.json));
        if (config) logging::add_secrets(config->secrets());
        auto guard = std::make_shared<LeaseGuard>();
        auto channel = config ? make_fenced_channel(*config, guard) : Result<std::unique_ptr<channels::Channel>>(config.error());
        if (!channel) {
            const auto msg = logging::redact(channel.error().describe());
            log::error("channel {} ({}): cannot drain: {}", row.id, row.name, msg);
            std::cout << channel_label(row.id, row.name, row.type) << ": skipped: " << msg << "\n";
            continue;
        }
        const logging::ChannelScope scope(fmt::format("channel {} ({})", row.id, row.name));
        auto worker_options = opts;
        worker_options.guard = guard;
        ChannelWorker worker(*config, std::move(*channel), worker_options, wake);
        BatchStats stats;
        while (true) {
            const auto b = worker.process_batch(conn, due_before);
            if (b.rows == 0) break;
            stats += b;
            if (b.blocked) {  // the shop is down or refuses the channel: the rest would meet the same
                std::cout << channel_label(row.id, row.name, row.type) << ": stopped: the channel is "
                          << "down or refused; its rows stay pending\n";
                break;
            }
        }
        if (worker.phase_totals().batches > 0)
            log::info("channel {} ({}): drain phases: {}", row.id, row.name, worker.phase_totals().summary());
        ++channels_drained;
        std::cout << fmt::format("{}: rows={} done={} failed={} retried={}\n", channel_label(row.id, row.name, row.type),
                                 stats.rows, stats.ok, stats.failed, stats.retried);
        total += stats;
    }
    std::cout << fmt::format("drained rows={} done={} failed={} retried={} channels={}\n", total.rows, total.ok,
                             total.failed, total.retried, channels_drained);
    return exit_ok;
}

int cmd_retry(const Globals& g, std::optional<std::int64_t> row) {
    auto conn = connect(g);
    auto r = queries::retry_failed(*conn, g.channel, row);
    const auto docs = catalog_queries::retry_failed_documents(*conn, g.channel, row);  // catalogue rows (v5)
    r.requeued += docs.requeued;
    r.closed += docs.closed;
    std::cout << fmt::format("re-queued {} row(s); closed {} failed row(s)\n", r.requeued, r.closed);
    return exit_ok;
}

DatabaseSource source_of(const Globals& g) {
    DatabaseSource src;
    src.dsns = g.dsns;
    std::stringstream names(g.databases);
    for (std::string n; std::getline(names, n, ',');) src.names.push_back(n);
    src.pattern = g.database_pattern;
    return src;
}

struct UsageError : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The databases a one-shot command acts on: every one of the set, or the one --database names.
std::map<std::string, std::string> selected(const Globals& g) {
    auto all = DatabaseSet(source_of(g)).resolve({});
    if (g.database.empty()) return all;
    auto it = all.find(g.database);
    if (it == all.end()) throw UsageError(fmt::format("--database {}: not among the databases served", g.database));
    return {*it};
}

// Runs `one` on each selected database under a "database NAME:" heading; a
// database that fails is reported and the others still run. Returns the
// first failure's exit code.
int each_database(Globals g, const std::function<int(const Globals&)>& one) {
    int rc = exit_ok;
    for (const auto& [name, dsn] : selected(g)) {
        g.dsn = dsn;
        std::cout << "database " << name << ":\n" << std::flush;
        int r = exit_ok;
        try {
            r = one(g);
        } catch (const SchemaMismatch& e) {
            std::cout << "  error: " << e.what() << "\n";
            r = exit_schema;
        } catch (const pg::Error& e) {
            std::cout << "  error: database error: " << logging::redact(e.what()) << "\n";
            r = exit_database;
        }
        if (rc == exit_ok) rc = r;
    }
    std::cout.flush();
    return rc;
}

// `status --json` across databases: one object per database with its
// channels (as for one database), its totals and its error (null when read).
int status_json_several(Globals g) {
    nlohmann::json out = {{"schema_version", schema::kVersion}, {"databases", nlohmann::json::array()}};
    int rc = exit_ok;
    for (const auto& [name, dsn] : selected(g)) {
        g.dsn = dsn;
        nlohmann::json d = {{"database", name}, {"error", nullptr}, {"channels", nlohmann::json::array()}};
        std::map<std::string, std::int64_t> totals;
        try {
            d["channels"] = status_json(*connect(g), g);
            for (const auto& c : d["channels"])
                for (const auto& [state, n] : c["counts"].items()) totals[state] += n.get<std::int64_t>();
        } catch (const SchemaMismatch& e) {
            d["error"] = e.what();
            rc = rc ? rc : exit_schema;
        } catch (const pg::Error& e) {
            d["error"] = logging::redact(e.what());
            rc = rc ? rc : exit_database;
        }
        d["totals"] = totals;
        out["databases"].push_back(std::move(d));
    }
    std::cout << out.dump(2) << "\n";
    return rc;
}

// A command that changes one database (init-schema, retry, reconcile) needs exactly one.
Globals one_database(Globals g) {
    if (!source_of(g).several()) return g;
    const auto dbs = selected(g);
    if (dbs.size() != 1)
        throw UsageError("this command changes one database: name it with --database NAME");
    g.dsn = dbs.begin()->second;
    return g;
}

int cmd_run(const Globals& g) {
    if (!source_of(g).several()) {
        auto conn = connect(g);  // refuse early, with the clear message, on a wrong schema
    } else if (!g.database_pattern.empty()) {
        try {  // a pattern PostgreSQL cannot compile is the operator's to fix; a server down is retried
            DatabaseSet(source_of(g)).resolve({});
        } catch (const pg::Error& e) {
            if (e.sqlstate() == "2201B") throw UsageError("--database-pattern: " + std::string(e.what()));
        }
    }
    DaemonOptions o;
    o.worker = worker_options(g);
    o.databases = source_of(g);
    o.channel = g.channel;
    o.reload_interval = std::chrono::milliseconds{static_cast<std::int64_t>(g.reload_interval * 1000)};
    if (!g.listen.empty()) {
        auto listen = parse_listen(g.listen);
        if (!listen) {
            std::cerr << "stockrelayd: " << listen.error().message << "\n";
            return exit_usage;
        }
        listen->max_body = g.webhook_max_body;
        o.listen = *listen;
    }
    if (g.metrics_listen != "off") {
        auto listen = parse_listen(g.metrics_listen);
        if (!listen) {
            std::cerr << "stockrelayd: --metrics-listen: " << listen.error().message << "\n";
            return exit_usage;
        }
        o.ops = OpsOptions{};
        o.ops->listen = *listen;
        o.ops_required = g.metrics_listen != kDefaultMetricsListen;
    }
    o.heartbeat_every = std::chrono::milliseconds{static_cast<std::int64_t>(g.heartbeat_interval * 1000)};
    const double stall = g.stall_seconds > 0 ? g.stall_seconds : std::max(120.0, 4.0 * g.lease_seconds);
    o.stall_limit = std::chrono::milliseconds{static_cast<std::int64_t>(stall * 1000)};
    if (o.ops) o.ops->stall_limit = o.stall_limit;
    return run_daemon(o);
}

constexpr const char* kFooter = R"(Exit codes:
  0   success
  1   check: at least one channel failed
  2   bad command line, or no --dsn / STOCKRELAY_DSN
  3   PostgreSQL unreachable or a query failed
  4   the database's outbox schema version is not the one this stockrelayd understands
  5   reconcile --wait: the run failed (the reason is printed)
  6   reconcile --wait: the run did not finish within the given seconds
  70  internal error (a bug; please report it)

Configuration lives in the database (table stock_relay_channel, edited in Odoo).
The only required setting is the DSN.

Several databases from one daemon (each with its own connections, channels,
leases and heartbeat; one that is down or at another contract version does
not hold back the others; webhooks go to POST /webhooks/<database>/<channel id>):
  --dsn DSN1 --dsn DSN2 ...               each DSN one database
  --dsn BASE --databases a,b              BASE's server and credentials, these databases
  --dsn BASE --database-pattern '^shop_'  every matching database holding the contract,
                                          read again every --reload-interval)";

}  // namespace

int cli_main(int argc, char** argv) {
    Globals g;
    CLI::App app{fmt::format("stockrelayd {}: relays Odoo stock quantities from the PostgreSQL outbox to shops",
                             version())};
    app.footer(kFooter);
    app.fallthrough();
    app.require_subcommand(1, 1);
    app.set_version_flag("--version", std::string(version()));
    app.add_option("--dsn", g.dsns, "PostgreSQL connection string or URI (env STOCKRELAY_DSN); give it again for each "
                                    "further database one stockrelayd serves")
        ->envname("STOCKRELAY_DSN")
        ->allow_extra_args(false);
    app.add_option("--databases", g.databases, "serve these databases (comma-separated names) on --dsn's server, "
                                               "with --dsn's credentials (env STOCKRELAY_DATABASES)")
        ->envname("STOCKRELAY_DATABASES");
    app.add_option("--database-pattern", g.database_pattern,
                   "serve every database on --dsn's server whose name matches this regular expression (PostgreSQL "
                   "'~', e.g. '^shop_') and that holds the stockrelay contract; read again every --reload-interval "
                   "(env STOCKRELAY_DATABASE_PATTERN)")
        ->envname("STOCKRELAY_DATABASE_PATTERN");
    app.add_option("--database", g.database, "with several databases: status, check, drain, retry, reconcile and "
                                             "init-schema act on this one only");
    app.add_option("--log-level", g.log_level, "debug, info, warn or error (env STOCKRELAY_LOG_LEVEL)")
        ->envname("STOCKRELAY_LOG_LEVEL")
        ->check(CLI::IsMember({"debug", "info", "warn", "error"}));
    app.add_option("--worker-id", g.worker_id, "name recorded on leased rows (default hostname:pid:start.boot.pidns, which lets a restarted daemon take back a dead one's rows at once)");
    app.add_option("--lease-seconds", g.lease_seconds, "how long a claimed row stays ours before others may retry it")
        ->check(CLI::Range(1, 86400));
    app.add_option("--poll-interval", g.poll_interval, "seconds between fallback polls when no NOTIFY arrives")
        ->check(CLI::Range(0.05, 3600.0));
    app.add_option("--channel", g.channel, "only this channel id");
    app.add_option("--reload-interval", g.reload_interval, "run: seconds between re-reads of the channel table")
        ->check(CLI::Range(0.1, 3600.0));

    app.add_option("--listen", g.listen, "run: serve shop webhooks (POST /webhooks/<channel id>) on ADDR:PORT, e.g. "
                                         "127.0.0.1:8088 behind a TLS reverse proxy (env STOCKRELAY_LISTEN); off when unset")
        ->envname("STOCKRELAY_LISTEN");
    app.add_option("--webhook-max-body", g.webhook_max_body, "run: largest webhook body accepted, in bytes (larger: 413)")
        ->check(CLI::Range(std::size_t{1024}, std::size_t{64} * 1024 * 1024));
    app.add_option("--metrics-listen", g.metrics_listen,
                   "run: serve GET /healthz, /readyz and /metrics (Prometheus) on ADDR:PORT, or 'off' (env "
                   "STOCKRELAY_METRICS_LISTEN; default 127.0.0.1:9847, loopback only: if that port is taken the "
                   "daemon warns and runs without it)")
        ->envname("STOCKRELAY_METRICS_LISTEN");
    app.add_option("--heartbeat-interval", g.heartbeat_interval,
                   "run: seconds between heartbeats (stock_relay_daemon.last_seen, systemd watchdog)")
        ->check(CLI::Range(0.1, 60.0));
    app.add_option("--stall-seconds", g.stall_seconds,
                   "run: a loop busy this long without turning counts as stuck: /healthz answers 503 and the "
                   "heartbeat stops (default: 4 leases, at least 120)")
        ->check(CLI::Range(0.0, 86400.0));
    app.add_option("--log-format", g.log_format, "text, or json: one object per line (ts, level, msg, fields) "
                                                 "for log shippers (env STOCKRELAY_LOG_FORMAT)")
        ->envname("STOCKRELAY_LOG_FORMAT")
        ->check(CLI::IsMember({"text", "json"}));
    auto* run = app.add_subcommand("run", "drain the outbox continuously (one worker per enabled channel)");

    auto* drain = app.add_subcommand("drain", "drain every row due now, print a summary, exit");
    bool once = false;
    drain->add_flag("--once", once, "drain once and exit (the only mode)");
    auto* check = app.add_subcommand("check", "check the database and each enabled channel's connection");
    auto* status = app.add_subcommand("status", "rows per channel and state, oldest pending, last success");
    bool json = false;
    status->add_flag("--json", json, "machine-readable output");
    auto* init = app.add_subcommand("init-schema", "apply the outbox contract SQL (idempotent)");
    auto* retry = app.add_subcommand("retry", "re-queue failed rows (the same SQL as Odoo's Retry button)");
    bool failed = false;
    std::optional<std::int64_t> row;
    retry->add_flag("--failed", failed, "re-queue rows in state failed")->required();
    retry->add_option("--row", row, "only this outbox row id");
    auto* reconcile = app.add_subcommand("reconcile", "request a reconcile run: read the shop's whole inventory into "
                                                      "a snapshot that Odoo compares (needs `stockrelayd run`)");
    std::int64_t reconcile_channel = 0;
    bool heal = false;
    std::optional<double> wait;
    reconcile->add_option("--channel", reconcile_channel, "the channel id")->required();
    reconcile->add_flag("--heal", heal, "let Odoo push the drift it finds (trigger 'reconcile')");
    reconcile->add_option("--wait", wait, "wait up to this many seconds for the run and print its figures")
        ->check(CLI::Range(0.0, 86400.0));

    CatalogCli catalog_args;
    auto* catalog = add_catalog_command(app, catalog_args);

    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        const int code = app.exit(e);
        return code == 0 ? exit_ok : exit_usage;
    }

    log::Level level = log::Level::info;
    logging::parse_level(g.log_level, level);
    logging::setup(level, g.log_format == "json" ? logging::Format::json : logging::Format::text);
    if (const auto problem = source_problem(source_of(g)); !problem.empty()) {
        std::cerr << "stockrelayd: " << problem << "\n";
        return exit_usage;
    }
    for (const auto& dsn : g.dsns) logging::add_secrets(dsn_secrets(dsn));
    g.dsn = g.dsns.front();
    const bool several = source_of(g).several() || !g.database.empty();

    try {
        if (*run) return cmd_run(g);
        if (*drain) return several ? each_database(g, cmd_drain) : cmd_drain(g);
        if (*check) return several ? each_database(g, cmd_check) : cmd_check(g);
        if (*status && several && json) return status_json_several(g);
        if (*status) return several ? each_database(g, [json](const Globals& one) { return cmd_status(one, json); })
                                    : cmd_status(g, json);
        if (*init) return cmd_init_schema(one_database(g));
        if (*retry) return cmd_retry(one_database(g), row);
        if (*catalog) {
            const Globals one = one_database(g);
            return cmd_catalog(*connect(one), worker_options(one), g.channel, catalog_args);
        }
        if (*reconcile) return cmd_reconcile(*connect(one_database(g)), reconcile_channel, heal, wait);
        return exit_usage;
    } catch (const UsageError& e) {
        std::cerr << "stockrelayd: " << e.what() << "\n";
        return exit_usage;
    } catch (const SchemaMismatch& e) {
        std::cerr << "stockrelayd: " << e.what() << "\n";
        return exit_schema;
    } catch (const pg::Error& e) {
        std::cerr << "stockrelayd: database error: " << logging::redact(e.what()) << "\n";
        return exit_database;
    } catch (const std::exception& e) {
        std::cerr << "stockrelayd: internal error: " << logging::redact(e.what()) << "\n";
        return exit_internal;
    }
}

}  // namespace stockrelay::sidecar
