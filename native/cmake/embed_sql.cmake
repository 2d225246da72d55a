# Turns the contract SQL into a C++ source (one raw string literal).
file(READ ${INPUT} SQL)
file(WRITE ${OUTPUT}.tmp "// Generated from native/sql/stock_relay_schema.sql. Do not edit.\n"
  "#include \"stockrelay/schema.hpp\"\n\n"
  "namespace stockrelay::schema {\n"
  "namespace { constexpr char kSql[] = R\"stockrelay_sql(${SQL})stockrelay_sql\"; }\n"
  "std::string_view sql() noexcept { return {kSql, sizeof(kSql) - 1}; }\n"
  "}  // namespace stockrelay::schema\n")
file(RENAME ${OUTPUT}.tmp ${OUTPUT})
