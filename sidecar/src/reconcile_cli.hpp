// The reconcile parts of the CLI: `stockrelayd reconcile` and the last run
// of each channel in `stockrelayd status`.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "pg.hpp"
#include "reconcile_queries.hpp"

namespace stockrelay::sidecar {

// Requests a reconcile run of `channel` (requested_by 'cli') and prints its
// id; with `wait_seconds`, waits for the run to be read, done or failed and
// prints its figures or its error. Returns an exit code.
int cmd_reconcile(pg::Connection& conn, std::int64_t channel, bool heal, std::optional<double> wait_seconds);

// channel id -> its newest run.
std::map<std::int64_t, reconcile_queries::RunRow> last_reconciles(pg::Connection& conn, std::optional<std::int64_t> only);
// "  last reconcile: ..." for `status`.
std::string reconcile_text(const reconcile_queries::RunRow& run);
nlohmann::json reconcile_json(const reconcile_queries::RunRow& run);

}  // namespace stockrelay::sidecar
