// URL parsing, encoding, redaction and status classification.
#include <algorithm>
#include <cctype>
#include <ctime>

#include <fmt/format.h>

#include "stockrelay/http/http.hpp"

namespace stockrelay::http {
namespace {
bool iequals(std::string_view a, std::string_view b) {
    return a.size() == b.size() &&
           std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
           });
}
}  // namespace

std::optional<std::string> Response::header(std::string_view name) const {
    for (const auto& [k, v] : headers)
        if (iequals(k, name)) return v;
    return std::nullopt;
}

std::chrono::milliseconds Response::retry_after() const {
    auto h = header("retry-after");
    if (!h || h->empty()) return std::chrono::milliseconds{0};
    const std::string& v = *h;
    if (std::all_of(v.begin(), v.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)) || c == '.'; })) {
        try {
            double secs = std::stod(v);
            return std::chrono::milliseconds{static_cast<std::int64_t>(std::min(secs, 3600.0) * 1000)};
        } catch (...) {
            return std::chrono::milliseconds{0};
        }
    }
    std::tm tm{};
    if (strptime(v.c_str(), "%a, %d %b %Y %H:%M:%S", &tm)) {
        auto when = timegm(&tm);
        auto now = std::time(nullptr);
        if (when > now) return std::chrono::milliseconds{std::min<std::int64_t>(when - now, 3600) * 1000};
    }
    return std::chrono::milliseconds{0};
}

Result<Url> Url::parse(std::string_view text) {
    auto bad = [&](std::string_view why) {
        return make_error(ErrorCode::config, fmt::format("invalid URL '{}': {}", text, why));
    };
    Url u;
    auto sep = text.find("://");
    if (sep == std::string_view::npos) return bad("missing scheme (expected https://...)");
    u.scheme = std::string(text.substr(0, sep));
    std::transform(u.scheme.begin(), u.scheme.end(), u.scheme.begin(), [](unsigned char c) { return std::tolower(c); });
    if (u.scheme != "http" && u.scheme != "https") return bad("scheme must be http or https");
    std::string_view rest = text.substr(sep + 3);
    auto path_start = rest.find_first_of("/?#");
    std::string_view authority = rest.substr(0, path_start);
    std::string_view tail = path_start == std::string_view::npos ? std::string_view{} : rest.substr(path_start);
    if (authority.find('@') != std::string_view::npos) return bad("credentials in the URL are not allowed; use the credential fields");
    if (authority.empty()) return bad("missing host");
    std::string_view host = authority, port;
    if (authority.front() == '[') {
        auto close = authority.find(']');
        if (close == std::string_view::npos) return bad("unterminated IPv6 address");
        host = authority.substr(0, close + 1);
        if (close + 1 < authority.size()) {
            if (authority[close + 1] != ':') return bad("garbage after IPv6 address");
            port = authority.substr(close + 2);
        }
    } else if (auto colon = authority.rfind(':'); colon != std::string_view::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon + 1);
    }
    if (host.empty()) return bad("missing host");
    for (char c : host)
        if (std::isspace(static_cast<unsigned char>(c))) return bad("host contains whitespace");
    u.host = std::string(host);
    std::transform(u.host.begin(), u.host.end(), u.host.begin(), [](unsigned char c) { return std::tolower(c); });
    if (!port.empty()) {
        int p = 0;
        for (char c : port) {
            if (!std::isdigit(static_cast<unsigned char>(c))) return bad("port is not a number");
            p = p * 10 + (c - '0');
            if (p > 65535) return bad("port out of range");
        }
        if (p == 0) return bad("port out of range");
        u.port = p;
    } else {
        u.port = u.scheme == "https" ? 443 : 80;
    }
    auto frag = tail.find('#');
    if (frag != std::string_view::npos) tail = tail.substr(0, frag);
    auto q = tail.find('?');
    u.path = std::string(tail.substr(0, q));
    while (!u.path.empty() && u.path.back() == '/') u.path.pop_back();
    if (q != std::string_view::npos) u.query = std::string(tail.substr(q + 1));
    return u;
}

std::string Url::origin() const {
    bool default_port = (scheme == "https" && port == 443) || (scheme == "http" && port == 80);
    return default_port ? fmt::format("{}://{}", scheme, host) : fmt::format("{}://{}:{}", scheme, host, port);
}

bool Url::is_loopback() const {
    return host == "localhost" || host == "[::1]" || host.rfind("127.", 0) == 0;
}

std::string url_encode(std::string_view text) {
    std::string out;
    out.reserve(text.size() * 3);
    for (unsigned char c : text) {
        if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
            out.push_back(static_cast<char>(c));
        } else {
            out += fmt::format("%{:02X}", c);
        }
    }
    return out;
}

std::string base64(std::string_view data) {
    static constexpr char kAlphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((data.size() + 2) / 3 * 4);
    std::size_t i = 0;
    auto byte = [&](std::size_t k) { return static_cast<unsigned>(static_cast<unsigned char>(data[k])); };
    for (; i + 2 < data.size(); i += 3) {
        unsigned v = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += kAlphabet[v & 63];
    }
    if (i + 1 == data.size()) {
        unsigned v = byte(i) << 16;
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += "==";
    } else if (i + 2 == data.size()) {
        unsigned v = (byte(i) << 16) | (byte(i + 1) << 8);
        out += kAlphabet[(v >> 18) & 63];
        out += kAlphabet[(v >> 12) & 63];
        out += kAlphabet[(v >> 6) & 63];
        out += '=';
    }
    return out;
}

std::string redact(std::string_view text, const std::vector<std::string>& secrets) {
    // Every form a secret takes on the wire, since a shop's error page may echo
    // the request back: as is, URL-encoded, base64, and the HTTP Basic pairs
    // "user:password" (WooCommerce key:secret) and "key:" (Medusa secret key).
    std::vector<std::string> forms;
    for (const auto& s : secrets) {
        if (s.size() < 4) continue;  // too short to redact without mangling text; never a real credential
        forms.push_back(s);
        forms.push_back(url_encode(s));
        forms.push_back(base64(s));
        forms.push_back(base64(s + ":"));
        for (const auto& other : secrets)
            if (&other != &s && !other.empty()) forms.push_back(base64(s + ":" + other));
    }
    // Longest first, so a pair is replaced whole before any part of it.
    std::sort(forms.begin(), forms.end(),
              [](const auto& a, const auto& b) { return a.size() != b.size() ? a.size() > b.size() : a < b; });
    forms.erase(std::unique(forms.begin(), forms.end()), forms.end());
    std::string out(text);
    for (const auto& f : forms)
        for (std::size_t pos = out.find(f); pos != std::string::npos; pos = out.find(f, pos)) {
            out.replace(pos, f.size(), "[redacted]");
            pos += 10;
        }
    return out;
}

std::string excerpt(std::string_view text, std::size_t max) {
    if (text.size() <= max) return std::string(text);
    std::size_t cut = max;
    // Do not split a UTF-8 sequence.
    while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
    return fmt::format("{}... [{} more bytes]", text.substr(0, cut), text.size() - cut);
}

std::optional<Error> classify_status(const Response& r, std::string_view what) {
    const int s = r.status;
    if (s >= 200 && s < 300) return std::nullopt;
    auto snippet = excerpt(r.body, 300);
    Error e;
    e.http_status = s;
    if (s == 401 || s == 403) {
        e.code = ErrorCode::auth;
        e.message = fmt::format("{}: credentials refused by the shop: {}", what, snippet);
    } else if (s == 404) {
        e.code = ErrorCode::not_found;
        e.message = fmt::format("{}: not found: {}", what, snippet);
    } else if (s == 429) {
        e.code = ErrorCode::throttled;
        e.retry_after = r.retry_after();
        e.message = fmt::format("{}: rate limited by the shop (retry after {} ms)", what, e.retry_after.count());
    } else if (s == 408 || s == 425 || s >= 500) {
        e.code = ErrorCode::transient;
        e.retry_after = r.retry_after();
        e.message = fmt::format("{}: shop answered HTTP {}: {}", what, s, snippet);
    } else if (s >= 300 && s < 400) {
        e.code = ErrorCode::config;
        e.message = fmt::format("{}: shop answered with a redirect to '{}'; redirects are not followed, fix the base URL",
                                what, r.header("location").value_or("?"));
    } else {
        e.code = ErrorCode::permanent;
        e.message = fmt::format("{}: shop answered HTTP {}: {}", what, s, snippet);
    }
    return e;
}

}  // namespace stockrelay::http
