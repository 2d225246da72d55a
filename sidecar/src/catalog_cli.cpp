#include "catalog_cli.hpp"

#include <iostream>

#include <fmt/format.h>

#include "catalog_queries.hpp"
#include "catalog_runner.hpp"
#include "exit_codes.hpp"
#include "logging.hpp"

namespace stockrelay::sidecar {
namespace {

using json = nlohmann::json;

std::string text_report(const json& r) {
    std::string out;
    for (const char* k : {"created", "updated", "unchanged", "conflicts"}) {
        const auto& list = r.value(k, json::array());
        out += fmt::format("{}: {}\n", k, list.size());
        for (const auto& e : list) {
            out += fmt::format("  {} ({})", e.value("name", ""), e.value("external_id", ""));
            if (e.contains("code")) out += fmt::format(": {}: {}", e.value("code", ""), e.value("message", ""));
            out += "\n";
            const json fields = e.value("fields", json::object());
            for (const auto& [field, change] : fields.items())
                out += fmt::format("    {}: {} -> {}\n", field, change.value("shop", json()).dump(),
                                   change.value("odoo", json()).dump());
        }
    }
    return out;
}

void print_stats(const CatalogStats& s) {
    std::cout << fmt::format("catalogue rows={} done={} failed={} retried={} unchanged={} calls={} previews={}\n", s.rows,
                             s.ok, s.failed, s.retried, s.unchanged, s.http_calls, s.previews);
}

}  // namespace

CLI::App* add_catalog_command(CLI::App& app, CatalogCli& args) {
    auto* c = app.add_subcommand("catalog", "publish the due catalogue rows once, or (--dry-run) show what publishing "
                                            "would change in the shop");
    c->add_flag("--dry-run", args.dry_run, "read the shop and print what would change; change nothing (needs --channel)");
    c->add_option("--template", args.template_id, "--dry-run: only this Odoo product.template id");
    c->add_option("--preview", args.preview_id, "--dry-run: the documents of this stock_relay_catalog_preview row");
    c->add_flag("--json", args.json, "--dry-run: the answer as JSON (the shape of stock_relay_catalog_preview.result)");
    return c;
}

int cmd_catalog(pg::Connection& conn, const WorkerOptions& worker, std::optional<std::int64_t> channel,
                const CatalogCli& args) {
    Wakeup wake;
    CatalogRunner runner(catalog_options(worker, channel), wake);
    if (!args.dry_run) {
        std::atomic<bool> stop{false};
        print_stats(runner.drain(conn, std::nullopt, stop));
        return exit_ok;
    }
    std::vector<json> docs;
    std::int64_t ch = channel.value_or(0);
    if (args.preview_id) {
        auto p = catalog_queries::load_preview(conn, *args.preview_id);
        if (!p) {
            std::cerr << "stockrelayd: no catalogue preview " << *args.preview_id << "\n";
            return exit_usage;
        }
        ch = p->channel_id;
        for (auto& d : json::parse(p->documents, nullptr, false)) docs.push_back(d);
    } else {
        if (!channel) {
            std::cerr << "stockrelayd: catalog --dry-run needs --channel N (or --preview ID)\n";
            return exit_usage;
        }
        for (const auto& t : catalog_queries::newest_documents(conn, ch, args.template_id))
            docs.push_back(json::parse(t, nullptr, false));
    }
    auto result = runner.preview(conn, ch, docs);
    if (!result) {
        std::cerr << "stockrelayd: " << logging::redact(result.error().describe()) << "\n";
        return exit_check_failed;  // the channel cannot be built or its shop refused
    }
    std::cout << (args.json ? result->dump(2) + "\n" : text_report(*result));
    return exit_ok;
}

void drain_catalog(pg::Connection& conn, const WorkerOptions& worker, std::optional<std::int64_t> channel,
                   const std::string& due_before) {
    Wakeup wake;
    CatalogRunner runner(catalog_options(worker, channel), wake);
    std::atomic<bool> stop{false};
    const auto s = runner.drain(conn, due_before, stop);
    if (s.rows + s.previews > 0) print_stats(s);  // stock-only deployments see today's output
}

}  // namespace stockrelay::sidecar
