#include "pg.hpp"

#include <charconv>
#include <cstdlib>

#include <fmt/format.h>

namespace stockrelay::sidecar::pg {
namespace {

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

void append_quoted(std::string& out, std::string_view v) {
    out += '"';
    for (char c : v) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    out += '"';
}

}  // namespace

std::string int_array(const std::vector<std::int64_t>& values) {
    std::string out = "{";
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i) out += ',';
        out += std::to_string(values[i]);
    }
    out += '}';
    return out;
}

std::string text_array(const std::vector<std::optional<std::string>>& values) {
    std::string out = "{";
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i) out += ',';
        if (values[i]) append_quoted(out, *values[i]);
        else out += "NULL";
    }
    out += '}';
    return out;
}

std::string text_array(const std::vector<std::string>& values) {
    std::string out = "{";
    for (std::size_t i = 0; i < values.size(); ++i) {
        if (i) out += ',';
        append_quoted(out, values[i]);
    }
    out += '}';
    return out;
}

std::string sanitize_text(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    std::size_t i = 0;
    const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
    while (i < s.size()) {
        const unsigned char c = byte(i);
        std::size_t len = 0;
        if (c == 0) { ++i; continue; }
        if (c < 0x80) len = 1;
        else if ((c & 0xE0) == 0xC0 && c >= 0xC2) len = 2;
        else if ((c & 0xF0) == 0xE0) len = 3;
        else if ((c & 0xF8) == 0xF0 && c <= 0xF4) len = 4;
        bool valid = len > 0 && i + len <= s.size();
        for (std::size_t k = 1; valid && k < len; ++k) valid = (byte(i + k) & 0xC0) == 0x80;
        if (valid && len == 3) {
            const unsigned char c1 = byte(i + 1);
            valid = !(c == 0xE0 && c1 < 0xA0) && !(c == 0xED && c1 >= 0xA0);  // overlong, surrogates
        }
        if (valid && len == 4) {
            const unsigned char c1 = byte(i + 1);
            valid = !(c == 0xF0 && c1 < 0x90) && !(c == 0xF4 && c1 >= 0x90);
        }
        if (valid) {
            out.append(s.substr(i, len));
            i += len;
        } else {
            out += "\xEF\xBF\xBD";
            ++i;
        }
    }
    return out;
}

std::int64_t Result::i64(int row, int col) const {
    auto v = get(row, col);
    std::int64_t out = 0;
    auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
    if (ec != std::errc()) throw Error(fmt::format("expected an integer, got '{}'", v), "", false);
    (void)p;
    return out;
}

double Result::f64(int row, int col) const {
    return std::strtod(PQgetvalue(r_.get(), row, col), nullptr);
}

std::int64_t Result::affected() const {
    const char* n = PQcmdTuples(r_.get());
    return (n && *n) ? std::strtoll(n, nullptr, 10) : 0;
}

Connection::Connection(const std::string& dsn, std::chrono::seconds connect_timeout) : conn_(nullptr, &PQfinish) {
    const std::string timeout = std::to_string(connect_timeout.count());
    // Later keywords override earlier ones; the DSN (expanded from dbname) wins
    // over our defaults, and fallback_application_name never overrides.
    // Keepalives and tcp_user_timeout turn a half-open socket (a peer that
    // vanished without a FIN) into an error within ~30 s instead of a worker
    // that hangs, with its lease running out, until the kernel gives up.
    const char* keys[] = {"connect_timeout", "keepalives", "keepalives_idle", "keepalives_interval",
                          "keepalives_count", "tcp_user_timeout", "dbname", "fallback_application_name", nullptr};
    const char* vals[] = {timeout.c_str(), "1", "10", "5", "3", "20000", dsn.c_str(), "stockrelayd", nullptr};
    conn_.reset(PQconnectdbParams(keys, vals, 1));
    if (!conn_ || PQstatus(conn_.get()) != CONNECTION_OK) {
        std::string msg = conn_ ? trim(PQerrorMessage(conn_.get())) : "out of memory";
        throw Error("cannot connect to PostgreSQL: " + msg, "08001", true);
    }
    // Times are handled as UTC throughout (timestamp columns hold UTC). No
    // statement may hang a worker (a lock held by a stuck session, a server
    // that stopped answering): 60 s unless the DSN or the role sets its own.
    exec("SET TIME ZONE 'UTC'");
    exec("SELECT set_config('statement_timeout', '60s', false) WHERE current_setting('statement_timeout') = '0'");
}

Result Connection::check(PGresult* raw, std::string_view what) {
    Result r(raw);
    const auto status = raw ? PQresultStatus(raw) : PGRES_FATAL_ERROR;
    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK || status == PGRES_EMPTY_QUERY) return r;
    std::string state;
    if (raw) {
        if (const char* s = PQresultErrorField(raw, PG_DIAG_SQLSTATE)) state = s;
    }
    const bool lost = PQstatus(conn_.get()) != CONNECTION_OK || state.rfind("08", 0) == 0 || state == "57P01" ||
                      state == "57P02" || state == "57P03";
    std::string msg = trim(raw ? PQresultErrorMessage(raw) : PQerrorMessage(conn_.get()));
    if (msg.empty()) msg = trim(PQerrorMessage(conn_.get()));
    throw Error(fmt::format("{}: {}", what, msg), state, lost);
}

Result Connection::exec(std::string_view sql) {
    const std::string s(sql);
    return check(PQexec(conn_.get(), s.c_str()), "query failed");
}

Result Connection::exec(const char* sql, const Params& params) {
    std::vector<const char*> values;
    values.reserve(params.values().size());
    for (const auto& v : params.values()) values.push_back(v ? v->c_str() : nullptr);
    return check(PQexecParams(conn_.get(), sql, static_cast<int>(values.size()), nullptr, values.data(), nullptr,
                              nullptr, 0),
                 "query failed");
}

void Connection::rollback() noexcept {
    if (PQstatus(conn_.get()) != CONNECTION_OK) return;
    PGresult* r = PQexec(conn_.get(), "ROLLBACK");
    PQclear(r);
}

void Connection::consume_input() {
    if (PQconsumeInput(conn_.get()) == 0 || PQstatus(conn_.get()) != CONNECTION_OK)
        throw Error("lost the PostgreSQL connection: " + trim(PQerrorMessage(conn_.get())), "08006", true);
}

int Connection::take_notifications() {
    int n = 0;
    while (PGnotify* note = PQnotifies(conn_.get())) {
        ++n;
        PQfreemem(note);
    }
    return n;
}

}  // namespace stockrelay::sidecar::pg
