#include "support.hpp"

#include <fmt/format.h>

#include "stockrelay/orders.hpp"

namespace stockrelay::orders::detail {
namespace {

int128 pow10(int n) {
    int128 p = 1;
    while (n-- > 0) p *= 10;
    return p;
}

std::pair<int128, int128> aligned(const Decimal& a, const Decimal& b, int& scale) {
    scale = std::max(a.scale, b.scale);
    return {a.mantissa * pow10(scale - a.scale), b.mantissa * pow10(scale - b.scale)};
}

const json& empty_array() {
    static const json a = json::array();
    return a;
}

}  // namespace

std::optional<Decimal> Decimal::parse(std::string_view t) {
    Decimal d;
    bool neg = false;
    if (!t.empty() && (t[0] == '-' || t[0] == '+')) {
        neg = t[0] == '-';
        t.remove_prefix(1);
    }
    bool digits = false, point = false;
    for (char c : t) {
        if (c == '.' && !point) {
            point = true;
        } else if (c >= '0' && c <= '9') {
            if (d.scale > 12 || d.mantissa > pow10(24)) return std::nullopt;  // not money
            d.mantissa = d.mantissa * 10 + (c - '0');
            if (point) ++d.scale;
            digits = true;
        } else {
            return std::nullopt;
        }
    }
    if (!digits) return std::nullopt;
    if (neg) d.mantissa = -d.mantissa;
    return d;
}

std::string Decimal::str() const {
    int128 m = mantissa < 0 ? -mantissa : mantissa;
    std::string digits;
    do {
        digits.insert(digits.begin(), static_cast<char>('0' + static_cast<int>(m % 10)));
        m /= 10;
    } while (m > 0);
    while (static_cast<int>(digits.size()) <= scale) digits.insert(digits.begin(), '0');
    if (scale > 0) digits.insert(digits.end() - scale, '.');
    return (mantissa < 0 ? "-" : "") + digits;
}

Decimal Decimal::operator+(const Decimal& o) const {
    Decimal r;
    auto [a, b] = aligned(*this, o, r.scale);
    r.mantissa = a + b;
    return r;
}

Decimal Decimal::operator-(const Decimal& o) const {
    Decimal r;
    auto [a, b] = aligned(*this, o, r.scale);
    r.mantissa = a - b;
    return r;
}

Decimal Decimal::shifted(int places) const { return Decimal{mantissa, scale + places}; }

Decimal Decimal::divided(long long n, int max_scale) const {
    Decimal r{mantissa, scale};
    if (n <= 0) return r;
    while (r.mantissa % n != 0 && r.scale < max_scale) {
        r.mantissa *= 10;
        ++r.scale;
    }
    const int128 q = r.mantissa / n, rem = r.mantissa % n;
    r.mantissa = q + (2 * (rem < 0 ? -rem : rem) >= n ? (r.mantissa < 0 ? -1 : 1) : 0);
    return r;
}

Decimal money(const json& v, const std::string& path) {
    std::optional<Decimal> d;
    if (v.is_string()) d = Decimal::parse(v.get_ref<const std::string&>());
    else if (v.is_number_integer()) d = Decimal::parse(v.dump());
    else if (v.is_number_float()) d = Decimal::parse(v.dump());  // shortest round-trip text; "1e-07" is refused
    if (!d) throw Malformed(fmt::format("{}: not a decimal amount ({})", path, v.dump().substr(0, 40)));
    return *d;
}

Decimal money_or_zero(const json& obj, const char* key, const std::string& path) {
    const json* v = optional_member(obj, key);
    return v ? money(*v, path + "." + key) : Decimal{};
}

std::string money_str(const json& v, const std::string& path) { return money(v, path).str(); }

const json& member(const json& obj, const char* key, const std::string& path) {
    if (!obj.is_object()) throw Malformed(fmt::format("{}: not an object", path.empty() ? "order" : path));
    auto it = obj.find(key);
    if (it == obj.end() || it->is_null())
        throw Malformed(fmt::format("{}{}{}: missing", path, path.empty() ? "" : ".", key));
    return *it;
}

const json* optional_member(const json& obj, const char* key) {
    if (!obj.is_object()) return nullptr;
    auto it = obj.find(key);
    return it == obj.end() || it->is_null() ? nullptr : &*it;
}

std::string id_text(const json& v, const std::string& path) {
    if (v.is_string() && !v.get_ref<const std::string&>().empty()) return v.get<std::string>();
    if (v.is_number_integer()) return v.dump();
    throw Malformed(fmt::format("{}: not an id ({})", path, v.dump().substr(0, 40)));
}

std::string text(const json& obj, const char* key, const std::string& path) {
    const auto& v = member(obj, key, path);
    if (v.is_string()) return v.get<std::string>();
    if (v.is_number_integer()) return v.dump();
    throw Malformed(fmt::format("{}{}{}: not a string", path, path.empty() ? "" : ".", key));
}

json opt_text(const json& obj, const char* key) {
    const json* v = optional_member(obj, key);
    if (!v) return nullptr;
    if (v->is_string()) return v->get_ref<const std::string&>().empty() ? json() : *v;
    if (v->is_number()) return v->dump();
    return nullptr;
}

long long quantity(const json& v, const std::string& path) {
    if (v.is_number_unsigned() || (v.is_number_integer() && v.get<long long>() >= 0)) return v.get<long long>();
    if (v.is_number_float()) {
        const double d = v.get<double>();
        if (d >= 0 && d < 1e9 && d == static_cast<double>(static_cast<long long>(d))) return static_cast<long long>(d);
    }
    throw Malformed(fmt::format("{}: not a whole quantity >= 0 ({})", path, v.dump().substr(0, 40)));
}

const json& array_member(const json& obj, const char* key, const std::string& path) {
    const json* v = optional_member(obj, key);
    if (!v) return empty_array();
    if (!v->is_array()) throw Malformed(fmt::format("{}{}{}: not a list", path, path.empty() ? "" : ".", key));
    return *v;
}

std::string utc(const json& obj, const char* key, const std::string& path) {
    const auto& v = member(obj, key, path);
    std::optional<std::string> t;
    if (v.is_string()) t = to_utc_second(v.get_ref<const std::string&>());
    if (!t) throw Malformed(fmt::format("{}{}{}: not an ISO 8601 time ({})", path, path.empty() ? "" : ".", key,
                                        v.dump().substr(0, 40)));
    return *t;
}

std::string join_name(const json& first, const json& last) {
    std::string out;
    for (const json* part : {&first, &last})
        if (part->is_string() && !part->get_ref<const std::string&>().empty())
            out += (out.empty() ? "" : " ") + part->get<std::string>();
    return out;
}

}  // namespace stockrelay::orders::detail
