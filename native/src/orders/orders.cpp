// normalize(): dispatch to the shop's normalizer, then derive the event
// identity (topic, event key) the same way for every shop.
#include "stockrelay/orders.hpp"

#include <cstdio>

#include <fmt/format.h>

#include "normalizers.hpp"
#include "support.hpp"

namespace stockrelay::orders {
namespace {

// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
long long days_from_civil(long long y, unsigned m, unsigned d) {
    y -= m <= 2;
    const long long era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = static_cast<unsigned>(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + static_cast<long long>(doe) - 719468;
}

std::string format_utc(long long t) {
    long long days = t >= 0 ? t / 86400 : (t - 86399) / 86400;
    long long secs = t - days * 86400;
    // civil_from_days
    days += 719468;
    const long long era = (days >= 0 ? days : days - 146096) / 146097;
    const unsigned doe = static_cast<unsigned>(days - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    const unsigned d = doy - (153 * mp + 2) / 5 + 1;
    const unsigned m = mp < 10 ? mp + 3 : mp - 9;
    const long long y = static_cast<long long>(yoe) + era * 400 + (m <= 2);
    return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", y, m, d, secs / 3600, secs % 3600 / 60, secs % 60);
}

bool digits(std::string_view s, std::size_t pos, std::size_t n, int& out) {
    if (pos + n > s.size()) return false;
    out = 0;
    for (std::size_t i = pos; i < pos + n; ++i) {
        if (s[i] < '0' || s[i] > '9') return false;
        out = out * 10 + (s[i] - '0');
    }
    return true;
}

// Seconds since the epoch of an ISO 8601 time (see to_utc_second).
std::optional<long long> epoch_second(std::string_view s) {
    int y, mo, d, h, mi, se;
    if (!digits(s, 0, 4, y) || s.size() < 19 || s[4] != '-' || !digits(s, 5, 2, mo) || s[7] != '-' ||
        !digits(s, 8, 2, d) || (s[10] != 'T' && s[10] != ' ') || !digits(s, 11, 2, h) || s[13] != ':' ||
        !digits(s, 14, 2, mi) || s[16] != ':' || !digits(s, 17, 2, se))
        return std::nullopt;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60) return std::nullopt;
    std::size_t pos = 19;
    if (pos < s.size() && s[pos] == '.') {
        ++pos;
        const std::size_t start = pos;
        while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') ++pos;
        if (pos == start) return std::nullopt;
    }
    long long offset = 0;  // no designator: already UTC (Woo's *_gmt fields)
    if (pos < s.size()) {
        const char c = s[pos];
        int oh = 0, om = 0;
        if (c == 'Z' && pos + 1 == s.size()) {
        } else if ((c == '+' || c == '-') && digits(s, pos + 1, 2, oh) &&
                   ((s.size() == pos + 6 && s[pos + 3] == ':' && digits(s, pos + 4, 2, om)) ||
                    (s.size() == pos + 5 && digits(s, pos + 3, 2, om)) || s.size() == pos + 3)) {
            offset = (c == '+' ? 1 : -1) * (oh * 3600LL + om * 60LL);
        } else {
            return std::nullopt;
        }
    }
    return days_from_civil(y, mo, d) * 86400 + h * 3600LL + mi * 60LL + se - offset;
}

}  // namespace

std::optional<std::string> to_utc_second(std::string_view s) {
    const auto t = epoch_second(s);
    return t ? std::optional<std::string>(format_utc(*t)) : std::nullopt;
}

std::optional<std::string> utc_second_plus(std::string_view iso, long long seconds) {
    const auto t = epoch_second(iso);
    return t ? std::optional<std::string>(format_utc(*t + seconds)) : std::nullopt;
}

std::string_view topic_for(bool cancelled, const std::string& created_at, const std::string& updated_at) {
    if (cancelled) return "order_cancelled";
    return created_at == updated_at ? "order_created" : "order_updated";
}

Result<OrderEvent> normalize(std::string_view shop_type, const nlohmann::json& raw) {
    detail::Draft draft;
    try {
        if (!raw.is_object()) throw detail::Malformed("the order is not a JSON object");
        if (shop_type == "shopify") draft = detail::normalize_shopify(raw);
        else if (shop_type == "woocommerce") draft = detail::normalize_woocommerce(raw);
        else if (shop_type == "medusa") draft = detail::normalize_medusa(raw);
        else return make_error(ErrorCode::config, fmt::format("no order normalizer for channel type '{}'", shop_type));
    } catch (const detail::Malformed& e) {
        return make_error(ErrorCode::rejected, fmt::format("malformed {} order: {}", shop_type, e.what()));
    } catch (const nlohmann::json::exception& e) {  // a type the helpers did not anticipate
        return make_error(ErrorCode::rejected, fmt::format("malformed {} order: {}", shop_type, e.what()));
    }
    OrderEvent ev;
    auto& o = draft.order;
    ev.shop_order_id = o["id"].get<std::string>();
    ev.name = o["name"].get<std::string>();
    ev.shop_updated_at = o["updated_at"].get<std::string>();
    ev.topic = std::string(topic_for(draft.cancelled, o["created_at"].get<std::string>(), ev.shop_updated_at));
    // Shops keep update times to the second: a cancellation in the same second
    // as the creation would otherwise share its key and be dropped as a duplicate.
    ev.event_key = ev.shop_order_id + "@" + ev.shop_updated_at + (draft.cancelled ? "/cancelled" : "");
    ev.order = std::move(o);
    return ev;
}

std::string inbox_payload(const OrderEvent& event, std::string_view raw_body) {
    std::string out = R"({"order": )";
    out += event.order.dump();
    out += R"(, "raw": )";
    out += raw_body;
    out += "}";
    return out;
}

}  // namespace stockrelay::orders
