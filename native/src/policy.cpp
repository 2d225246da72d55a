#include "stockrelay/policy.hpp"

#include <charconv>

#include <fmt/format.h>

namespace stockrelay::policy {

Result<std::int64_t> validate_quantity(std::string_view text) {
    auto bad = [&](std::string_view why) {
        return make_error(ErrorCode::invalid_quantity, fmt::format("quantity '{}' {}", text, why));
    };
    if (text.empty()) return bad("is empty");
    std::string_view t = text;
    bool negative = t.front() == '-';
    if (negative) t.remove_prefix(1);
    auto dot = t.find('.');
    std::string_view whole = t.substr(0, dot);
    if (dot != std::string_view::npos) {
        for (char c : t.substr(dot + 1))
            if (c != '0') return bad("is fractional; shops only take whole units");
    }
    std::int64_t v = 0;
    auto [ptr, ec] = std::from_chars(whole.data(), whole.data() + whole.size(), v);
    if (ec == std::errc::result_out_of_range) return bad("is out of range");
    if (ec != std::errc() || ptr != whole.data() + whole.size()) return bad("is not a number");
    if (negative && v != 0) return bad("is negative");
    if (v > kMaxQuantity) return bad(fmt::format("exceeds the maximum of {}", kMaxQuantity));
    return v;
}

}  // namespace stockrelay::policy
