#include "schema_check.hpp"

#include <fmt/format.h>

#include "queries.hpp"
#include "stockrelay/schema.hpp"

namespace stockrelay::sidecar {

std::string schema_mismatch_message(std::optional<int> found, int understood) {
    if (!found)
        return fmt::format(
            "database has no stockrelay outbox schema (table stock_relay_schema_version is missing or empty); "
            "install the Odoo module stock_relay or run `stockrelayd init-schema` (version {})",
            understood);
    if (*found == understood) return {};
    if (*found > understood)
        return fmt::format("database has outbox schema version {}, this stockrelayd understands {}; upgrade stockrelayd "
                           "to a release that speaks version {}",
                           *found, understood, *found);
    return fmt::format("database has outbox schema version {}, this stockrelayd understands {}; upgrade the Odoo "
                       "module stock_relay (or run `stockrelayd init-schema`) so the database speaks version {}",
                       *found, understood, understood);
}

void require_schema(pg::Connection& conn) {
    const auto msg = schema_mismatch_message(queries::schema_version(conn), schema::kVersion);
    if (!msg.empty()) throw SchemaMismatch(msg);
}

}  // namespace stockrelay::sidecar
