// OAuth 1.0a one-legged signing, the only auth WooCommerce accepts over plain
// HTTP (class-wc-rest-authentication.php, check_oauth_signature).
#include <algorithm>
#include <array>
#include <cctype>
#include <stdexcept>

#include <fmt/format.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "stockrelay/channels/woocommerce.hpp"
#include "stockrelay/http/http.hpp"

namespace stockrelay::channels::woocommerce {
namespace {

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

std::string percent_decode(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && hex_value(s[i + 1]) >= 0 && hex_value(s[i + 2]) >= 0) {
            out.push_back(static_cast<char>(hex_value(s[i + 1]) * 16 + hex_value(s[i + 2])));
            i += 2;
        } else if (s[i] == '+') {
            out.push_back(' ');  // PHP decodes the query as form data
        } else {
            out.push_back(s[i]);
        }
    }
    return out;
}

}  // namespace

QueryParams parse_query(std::string_view query) {
    QueryParams out;
    while (!query.empty()) {
        auto amp = query.find('&');
        auto part = query.substr(0, amp);
        query = amp == std::string_view::npos ? std::string_view{} : query.substr(amp + 1);
        if (part.empty()) continue;
        auto eq = part.find('=');
        if (eq == std::string_view::npos)
            out.emplace_back(percent_decode(part), "");
        else
            out.emplace_back(percent_decode(part.substr(0, eq)), percent_decode(part.substr(eq + 1)));
    }
    return out;
}

std::string oauth_base_string(std::string_view method, std::string_view url_without_query, QueryParams params) {
    // WooCommerce sorts by the decoded name (uksort strcmp); ties keep no
    // meaningful order there, so sort by value as RFC 5849 does.
    std::sort(params.begin(), params.end());
    std::string joined;
    for (const auto& [k, v] : params) {
        if (!joined.empty()) joined += '&';
        joined += http::url_encode(k);
        joined += '=';
        joined += http::url_encode(v);
    }
    std::string upper(method);
    std::transform(upper.begin(), upper.end(), upper.begin(), [](unsigned char c) { return std::toupper(c); });
    return fmt::format("{}&{}&{}", upper, http::url_encode(url_without_query), http::url_encode(joined));
}

std::string oauth_signature(std::string_view base_string, std::string_view consumer_secret,
                            std::string_view signature_method) {
    const EVP_MD* md = signature_method == "HMAC-SHA1" ? EVP_sha1() : EVP_sha256();
    std::string key = fmt::format("{}&", consumer_secret);
    std::array<unsigned char, EVP_MAX_MD_SIZE> mac{};
    unsigned int len = 0;
    HMAC(md, key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(base_string.data()),
         base_string.size(), mac.data(), &len);
    return http::base64(std::string_view(reinterpret_cast<const char*>(mac.data()), len));
}

std::string oauth_sign_url(std::string_view method, std::string_view url, const OAuthCredentials& creds,
                           std::string_view nonce, std::int64_t timestamp) {
    auto q = url.find('?');
    std::string_view path = url.substr(0, q);
    std::string query = q == std::string_view::npos ? std::string{} : std::string(url.substr(q + 1));
    std::string oauth = fmt::format("oauth_consumer_key={}&oauth_nonce={}&oauth_signature_method={}&oauth_timestamp={}",
                                    http::url_encode(creds.consumer_key), http::url_encode(nonce),
                                    http::url_encode(creds.signature_method), timestamp);
    if (!query.empty()) query += '&';
    query += oauth;
    auto sig = oauth_signature(oauth_base_string(method, path, parse_query(query)), creds.consumer_secret,
                               creds.signature_method);
    return fmt::format("{}?{}&oauth_signature={}", path, query, http::url_encode(sig));
}

std::string random_nonce() {
    std::array<unsigned char, 16> bytes{};
    if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
        throw std::runtime_error("OpenSSL RAND_bytes failed");  // no entropy: a programming/platform error
    std::string out;
    for (auto b : bytes) out += fmt::format("{:02x}", b);
    return out;
}

}  // namespace stockrelay::channels::woocommerce
