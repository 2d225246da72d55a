// Which database the calling thread works for, when one stockrelayd serves
// several (database_set.hpp). Every thread of a database's unit opens a
// DatabaseScope first; the log lines it writes then name the database, its
// Prometheus series carry a `database` label and its loops are watched per
// database (liveness.hpp). Empty (the single-database daemon of before): no
// prefix, no label, nothing changes.
#pragma once

#include <string>

namespace stockrelay::sidecar {

// The calling thread's database; empty outside any scope.
const std::string& current_database();

class DatabaseScope {
public:
    explicit DatabaseScope(std::string name);
    ~DatabaseScope();
    DatabaseScope(const DatabaseScope&) = delete;
    DatabaseScope& operator=(const DatabaseScope&) = delete;

private:
    std::string previous_;
};

}  // namespace stockrelay::sidecar
