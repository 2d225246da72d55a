#include "database_scope.hpp"

#include <utility>

namespace stockrelay::sidecar {
namespace {
thread_local std::string t_database;
}

const std::string& current_database() { return t_database; }

DatabaseScope::DatabaseScope(std::string name) : previous_(std::exchange(t_database, std::move(name))) {}

DatabaseScope::~DatabaseScope() { t_database = std::move(previous_); }

}  // namespace stockrelay::sidecar
