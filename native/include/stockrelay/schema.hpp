// The outbox contract (native/sql/stock_relay_schema.sql), embedded at build time.
#pragma once

#include <string_view>

namespace stockrelay::schema {

inline constexpr int kVersion = 6;
// The full DDL; idempotent, safe to apply repeatedly.
std::string_view sql() noexcept;

}  // namespace stockrelay::schema
