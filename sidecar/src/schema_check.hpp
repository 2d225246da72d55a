// The start-up refusal when the database speaks another outbox contract version.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>

#include "pg.hpp"

namespace stockrelay::sidecar {

// What to tell the operator; empty when `found` is the version we understand.
std::string schema_mismatch_message(std::optional<int> found, int understood);

class SchemaMismatch : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Throws SchemaMismatch unless the database holds our contract version.
void require_schema(pg::Connection& conn);

}  // namespace stockrelay::sidecar
