// Which databases one stockrelayd serves. Three ways to say it:
//   --dsn A --dsn B ...           each DSN is one database (named by its dbname)
//   --dsn BASE --databases a,b    BASE with its database replaced by each name
//   --dsn BASE --database-pattern REGEX
//                                 every database on BASE's server whose name
//                                 matches REGEX (PostgreSQL's `~`) and holds the
//                                 stockrelay contract, read again every
//                                 --reload-interval: a new database is picked
//                                 up and a dropped one released, no restart
// One --dsn alone is the single-database daemon of before.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "stockrelay/error.hpp"

namespace stockrelay::sidecar {

struct DatabaseSource {
    std::vector<std::string> dsns;
    std::vector<std::string> names;  // --databases
    std::string pattern;             // --database-pattern
    bool several() const { return dsns.size() > 1 || !names.empty() || !pattern.empty(); }
};

// A usage error (empty when the source makes sense): e.g. --databases with two --dsn.
std::string source_problem(const DatabaseSource& source);

// The database a DSN names (libpq's parser; its user when it names none).
std::string database_of(const std::string& dsn);

// Database names that can appear in a webhook URL path (Odoo's own rule).
bool routable_name(const std::string& name);

class DatabaseSet {
public:
    explicit DatabaseSet(DatabaseSource source);
    // name -> DSN of every database to serve now. `serving`: the ones served
    // already (not probed again for the contract). Throws pg::Error when the
    // pattern's listing cannot be read (the served databases carry on).
    std::map<std::string, std::string> resolve(const std::set<std::string>& serving);

private:
    std::map<std::string, std::string> listed(const std::set<std::string>& serving);
    bool holds_contract(const std::string& name, const std::string& dsn);

    DatabaseSource source_;
    std::set<std::string> skipped_;  // matched the pattern without the contract (logged once)
};

}  // namespace stockrelay::sidecar
