// A thin RAII layer over libpq in the spirit of osm2pgsql's pgsql.hpp:
// owned PGconn/PGresult, parameterised queries only, errors as exceptions
// that carry the SQLSTATE and say whether the connection is gone.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <libpq-fe.h>

namespace stockrelay::sidecar::pg {

class Error : public std::runtime_error {
public:
    Error(std::string message, std::string sqlstate, bool connection_lost)
        : std::runtime_error(std::move(message)), sqlstate_(std::move(sqlstate)), connection_lost_(connection_lost) {}
    const std::string& sqlstate() const noexcept { return sqlstate_; }
    // The connection is unusable (server gone, network): reconnect and retry.
    bool connection_lost() const noexcept { return connection_lost_; }
    bool unique_violation() const noexcept { return sqlstate_ == "23505"; }
    bool serialization_failure() const noexcept { return sqlstate_ == "40001" || sqlstate_ == "40P01"; }

private:
    std::string sqlstate_;
    bool connection_lost_;
};

// Positional query parameters, all sent as text (NULL allowed).
class Params {
public:
    Params& add(std::string value) { values_.emplace_back(std::move(value)); return *this; }
    Params& add(std::string_view value) { values_.emplace_back(std::string(value)); return *this; }
    Params& add(const char* value) { values_.emplace_back(std::string(value)); return *this; }
    Params& add(std::int64_t value) { values_.emplace_back(std::to_string(value)); return *this; }
    Params& add(int value) { values_.emplace_back(std::to_string(value)); return *this; }
    Params& add_null() { values_.emplace_back(std::nullopt); return *this; }
    template <typename T>
    Params& add(const std::optional<T>& value) { return value ? add(*value) : add_null(); }

    const std::vector<std::optional<std::string>>& values() const noexcept { return values_; }

private:
    std::vector<std::optional<std::string>> values_;
};

// PostgreSQL array literals for unnest()-style bulk statements.
std::string int_array(const std::vector<std::int64_t>& values);
std::string text_array(const std::vector<std::optional<std::string>>& values);
std::string text_array(const std::vector<std::string>& values);
// Text values must be valid UTF-8 without NUL for PostgreSQL; bodies from
// shops are not always (garbage responses), so invalid bytes become U+FFFD.
std::string sanitize_text(std::string_view text);

class Result {
public:
    explicit Result(PGresult* r) : r_(r, &PQclear) {}
    int rows() const noexcept { return PQntuples(r_.get()); }
    int columns() const noexcept { return PQnfields(r_.get()); }
    bool is_null(int row, int col) const noexcept { return PQgetisnull(r_.get(), row, col) != 0; }
    std::string_view get(int row, int col) const noexcept {
        return {PQgetvalue(r_.get(), row, col), static_cast<std::size_t>(PQgetlength(r_.get(), row, col))};
    }
    std::string str(int row, int col) const { return std::string(get(row, col)); }
    std::int64_t i64(int row, int col) const;
    double f64(int row, int col) const;
    bool boolean(int row, int col) const { return get(row, col) == "t"; }
    std::optional<std::string> opt(int row, int col) const {
        if (is_null(row, col)) return std::nullopt;
        return str(row, col);
    }
    // Rows affected by INSERT/UPDATE/DELETE.
    std::int64_t affected() const;

private:
    std::unique_ptr<PGresult, decltype(&PQclear)> r_;
};

class Connection {
public:
    // `dsn` is a libpq connection string or URI. Throws Error (connection_lost) on failure.
    explicit Connection(const std::string& dsn, std::chrono::seconds connect_timeout = std::chrono::seconds{10});

    Result exec(std::string_view sql);  // no parameters; may hold several statements
    Result exec(const char* sql, const Params& params);

    void begin() { exec("BEGIN"); }
    void commit() { exec("COMMIT"); }
    void rollback() noexcept;

    // LISTEN support: the socket to poll, then consume input and drain notifications.
    int socket() const noexcept { return PQsocket(conn_.get()); }
    void consume_input();                // throws connection_lost when the server is gone
    int take_notifications();            // how many arrived since the last call
    bool alive() const noexcept { return PQstatus(conn_.get()) == CONNECTION_OK; }

private:
    Result check(PGresult* r, std::string_view what);
    std::unique_ptr<PGconn, decltype(&PQfinish)> conn_;
};

// Rolls back unless committed; for code paths that throw.
class Transaction {
public:
    explicit Transaction(Connection& c) : c_(c) { c_.begin(); }
    ~Transaction() { if (!done_) c_.rollback(); }
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;
    void commit() { done_ = true; c_.commit(); }

private:
    Connection& c_;
    bool done_ = false;
};

}  // namespace stockrelay::sidecar::pg
