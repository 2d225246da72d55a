#include "dsn.hpp"

#include <cctype>

namespace stockrelay::sidecar {
namespace {

bool is_uri(std::string_view dsn) {
    return dsn.rfind("postgresql://", 0) == 0 || dsn.rfind("postgres://", 0) == 0;
}

bool iequals(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(a[i])) != std::tolower(static_cast<unsigned char>(b[i]))) return false;
    return true;
}

// Walks a URI, calling on_secret(begin, end) for each password span.
template <typename F>
void uri_password_spans(std::string_view dsn, F on_secret) {
    const auto scheme_end = dsn.find("://") + 3;
    const auto auth_end = dsn.find_first_of("/?", scheme_end);
    const std::string_view authority = dsn.substr(scheme_end, auth_end == std::string_view::npos ? std::string_view::npos : auth_end - scheme_end);
    if (const auto at = authority.rfind('@'); at != std::string_view::npos) {
        if (const auto colon = authority.substr(0, at).find(':'); colon != std::string_view::npos)
            on_secret(scheme_end + colon + 1, scheme_end + at);
    }
    const auto q = dsn.find('?', scheme_end);
    if (q == std::string_view::npos) return;
    std::size_t pos = q + 1;
    while (pos < dsn.size()) {
        auto amp = dsn.find('&', pos);
        if (amp == std::string_view::npos) amp = dsn.size();
        const std::string_view pair = dsn.substr(pos, amp - pos);
        if (const auto eq = pair.find('='); eq != std::string_view::npos && iequals(pair.substr(0, eq), "password"))
            on_secret(pos + eq + 1, amp);
        pos = amp + 1;
    }
}

// Walks key=value pairs (values optionally single-quoted with backslash escapes).
template <typename F>
void kv_password_spans(std::string_view dsn, F on_secret) {
    std::size_t i = 0;
    const auto n = dsn.size();
    auto skip_ws = [&] { while (i < n && std::isspace(static_cast<unsigned char>(dsn[i]))) ++i; };
    while (true) {
        skip_ws();
        if (i >= n) return;
        const auto key_begin = i;
        while (i < n && dsn[i] != '=' && !std::isspace(static_cast<unsigned char>(dsn[i]))) ++i;
        const std::string_view key = dsn.substr(key_begin, i - key_begin);
        skip_ws();
        if (i >= n || dsn[i] != '=') return;  // malformed: libpq will complain, we stop here
        ++i;
        skip_ws();
        std::size_t vb = i, ve = i;
        if (i < n && dsn[i] == '\'') {
            vb = ++i;
            while (i < n && dsn[i] != '\'') i += (dsn[i] == '\\' && i + 1 < n) ? 2 : 1;
            ve = std::min(i, n);
            if (i < n) ++i;
        } else {
            while (i < n && !std::isspace(static_cast<unsigned char>(dsn[i]))) i += (dsn[i] == '\\' && i + 1 < n) ? 2 : 1;
            ve = std::min(i, n);
        }
        if (iequals(key, "password")) on_secret(vb, ve);
    }
}

template <typename F>
void password_spans(std::string_view dsn, F on_secret) {
    if (is_uri(dsn)) uri_password_spans(dsn, on_secret);
    else kv_password_spans(dsn, on_secret);
}

}  // namespace

std::string redact_dsn(std::string_view dsn) {
    std::string out;
    std::size_t last = 0;
    password_spans(dsn, [&](std::size_t b, std::size_t e) {
        out.append(dsn.substr(last, b - last));
        out += "***";
        last = e;
    });
    out.append(dsn.substr(last));
    return out;
}

std::vector<std::string> dsn_secrets(std::string_view dsn) {
    std::vector<std::string> out;
    password_spans(dsn, [&](std::size_t b, std::size_t e) {
        if (e > b) out.emplace_back(dsn.substr(b, e - b));
    });
    return out;
}

}  // namespace stockrelay::sidecar
