// Private helpers of the order normalizers: exact decimal money and a JSON
// reader that names the offending field when a shop's payload is malformed.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace stockrelay::orders::detail {

using nlohmann::json;
__extension__ typedef __int128 int128;  // money mantissas; -Wpedantic knows it is a GNU extension

// Thrown inside a normalizer only; normalize() turns it into ErrorCode::rejected.
struct Malformed : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// A decimal as mantissa * 10^-scale. Shops send money as strings ("12.50")
// or JSON numbers (Woo's line price, Medusa's amounts); numbers are taken by
// their shortest round-trip text, exact for any literal of <= 15 significant
// digits, and all arithmetic is on integers.
struct Decimal {
    int128 mantissa = 0;
    int scale = 0;

    static std::optional<Decimal> parse(std::string_view text);
    std::string str() const;
    Decimal operator+(const Decimal& o) const;
    Decimal operator-(const Decimal& o) const;
    Decimal shifted(int places) const;  // / 10^places (21 -> 0.21 for places = 2)
    // / n, exact when the quotient has at most `max_scale` decimals, else
    // rounded half away from zero to `max_scale` decimals.
    Decimal divided(long long n, int max_scale = 6) const;
    bool is_zero() const { return mantissa == 0; }
};

// `path` names the field in messages: "line_items[2].price".
Decimal money(const json& v, const std::string& path);
Decimal money_or_zero(const json& obj, const char* key, const std::string& path);
std::string money_str(const json& v, const std::string& path);

const json& member(const json& obj, const char* key, const std::string& path);  // must exist, not null
const json* optional_member(const json& obj, const char* key);                  // null/absent -> nullptr
std::string text(const json& obj, const char* key, const std::string& path);    // required string or integer
json opt_text(const json& obj, const char* key);                                // string, or JSON null
std::string id_text(const json& v, const std::string& path);                    // string or integer id
long long quantity(const json& v, const std::string& path);                     // integer >= 0
const json& array_member(const json& obj, const char* key, const std::string& path);  // absent/null -> []
std::string utc(const json& obj, const char* key, const std::string& path);     // required timestamp
std::string join_name(const json& first, const json& last);

}  // namespace stockrelay::orders::detail
