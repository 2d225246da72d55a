#include "stockrelay/policy.hpp"

#include <charconv>
#include <cmath>

#include <fmt/format.h>

namespace stockrelay::policy {

Result<std::int64_t> sellable(double on_hand, double reserved, const Params& params) {
    if (!std::isfinite(on_hand) || !std::isfinite(reserved) || !std::isfinite(params.safety_buffer))
        return make_error(ErrorCode::invalid_quantity, "quantities must be finite numbers");
    if (params.safety_buffer < 0)
        return make_error(ErrorCode::invalid_quantity,
                          fmt::format("safety buffer must not be negative (got {})", params.safety_buffer));
    if (params.cap && *params.cap < 0)
        return make_error(ErrorCode::invalid_quantity, fmt::format("cap must not be negative (got {})", *params.cap));
    // Quantities in Odoo are floats: 2.9999999 means 3. Round away float noise
    // before flooring so a buffer-free 3.0 never becomes 2.
    double free = std::max(0.0, on_hand - reserved) - params.safety_buffer;
    double rounded = std::round(free * 1e6) / 1e6;
    double q = std::floor(rounded);
    if (q < 0) q = 0;
    if (q > static_cast<double>(kMaxQuantity)) q = static_cast<double>(kMaxQuantity);
    auto out = static_cast<std::int64_t>(q);
    if (params.cap && out > *params.cap) out = *params.cap;
    return out;
}

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
