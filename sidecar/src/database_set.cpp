#include "database_set.hpp"

#include <libpq-fe.h>

#include <regex>

#include <fmt/format.h>

#include "inbox.hpp"
#include "pg.hpp"
#include "stockrelay/log.hpp"

namespace stockrelay::sidecar {

std::string source_problem(const DatabaseSource& s) {
    if (s.dsns.empty()) return "no database: pass --dsn or set STOCKRELAY_DSN";
    if (!s.names.empty() && !s.pattern.empty()) return "give --databases or --database-pattern, not both";
    if ((!s.names.empty() || !s.pattern.empty()) && s.dsns.size() > 1)
        return "--databases and --database-pattern take one --dsn (the server and credentials); got several";
    if (s.dsns.size() > 1) {
        std::set<std::string> seen;
        for (const auto& dsn : s.dsns)
            if (!seen.insert(database_of(dsn)).second)
                return fmt::format("two --dsn name the same database '{}'; each database once", database_of(dsn));
    }
    for (const auto& n : s.names)
        if (n.empty()) return "--databases: an empty name (a stray comma?)";
    return "";
}

std::string database_of(const std::string& dsn) {
    char* err = nullptr;
    PQconninfoOption* opts = PQconninfoParse(dsn.c_str(), &err);
    if (!opts) {
        if (err) PQfreemem(err);
        return dsn;  // not parseable: the connection will say why
    }
    std::string db, user;
    for (auto* o = opts; o->keyword; ++o) {
        if (!o->val) continue;
        if (std::string_view(o->keyword) == "dbname") db = o->val;
        if (std::string_view(o->keyword) == "user") user = o->val;
    }
    PQconninfoFree(opts);
    if (!db.empty()) return db;
    if (!user.empty()) return user;
    if (const char* env = std::getenv("PGDATABASE")) return env;
    return "postgres";
}

bool routable_name(const std::string& name) {
    static const std::regex odoo(R"([a-zA-Z0-9][a-zA-Z0-9_.-]{0,62})");
    return std::regex_match(name, odoo);
}

DatabaseSet::DatabaseSet(DatabaseSource source) : source_(std::move(source)) {}

std::map<std::string, std::string> DatabaseSet::resolve(const std::set<std::string>& serving) {
    std::map<std::string, std::string> out;
    if (!source_.pattern.empty()) return listed(serving);
    if (!source_.names.empty()) {
        for (const auto& n : source_.names) out[n] = inbox::with_dbname(source_.dsns.front(), n);
        return out;
    }
    for (const auto& dsn : source_.dsns) out[database_of(dsn)] = dsn;
    return out;
}

// The databases matching the pattern, from pg_database (cluster-wide: any
// database of the server lists them all).
std::map<std::string, std::string> DatabaseSet::listed(const std::set<std::string>& serving) {
    pg::Connection conn(source_.dsns.front(), std::chrono::seconds{5});
    const auto r = conn.exec(
        "SELECT datname FROM pg_database WHERE datallowconn AND NOT datistemplate AND datname ~ $1 ORDER BY 1",
        pg::Params().add(source_.pattern));
    std::map<std::string, std::string> out;
    std::set<std::string> now_skipped;
    for (int i = 0; i < r.rows(); ++i) {
        const auto name = r.str(i, 0);
        const auto dsn = inbox::with_dbname(source_.dsns.front(), name);
        if (serving.count(name) || holds_contract(name, dsn)) out[name] = dsn;
        else now_skipped.insert(name);
    }
    skipped_ = std::move(now_skipped);
    return out;
}

// A matching database without the contract (another Odoo without the addon,
// or one being created) is passed over and probed again at the next read.
bool DatabaseSet::holds_contract(const std::string& name, const std::string& dsn) {
    try {
        pg::Connection conn(dsn, std::chrono::seconds{5});
        if (conn.exec("SELECT to_regclass('stock_relay_schema_version') IS NOT NULL").boolean(0, 0)) return true;
        if (!skipped_.count(name))
            log::info("database {} matches --database-pattern but holds no stockrelay contract; passed over "
                      "(looked at again every --reload-interval)", name);
    } catch (const pg::Error& e) {
        if (!skipped_.count(name)) log::warn("database {} matches --database-pattern but cannot be read: {}", name, e.what());
    }
    return false;
}

}  // namespace stockrelay::sidecar
