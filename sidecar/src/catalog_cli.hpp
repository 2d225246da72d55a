// The catalogue parts of the CLI: `stockrelayd catalog` (publish the due
// catalogue rows once, or a dry run) and the catalogue step of `drain --once`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <CLI/CLI.hpp>

#include "pg.hpp"
#include "worker.hpp"

namespace stockrelay::sidecar {

struct CatalogCli {
    bool dry_run = false;
    bool json = false;
    std::optional<std::int64_t> template_id;
    std::optional<std::int64_t> preview_id;
};

// Declares `catalog` and its options on `app`.
CLI::App* add_catalog_command(CLI::App& app, CatalogCli& args);

// --dry-run: what publishing the newest documents of the outbox (or the
// documents of preview row --preview) would change in the shop, read only;
// without it: publishes the due catalogue rows once. Returns an exit code.
int cmd_catalog(pg::Connection& conn, const WorkerOptions& worker, std::optional<std::int64_t> channel,
                const CatalogCli& args);

// The catalogue step of `drain --once`: prints "catalogue rows=... " and returns.
void drain_catalog(pg::Connection& conn, const WorkerOptions& worker, std::optional<std::int64_t> channel,
                   const std::string& due_before);

}  // namespace stockrelay::sidecar
