// WooCommerce REST v3 channel (/wp-json/wc/v3): consumer key/secret auth
// (Basic over HTTPS, OAuth 1.0a one-legged over plain HTTP), SKU resolution
// over simple products and variations, stock pushed with the batch endpoints.
// The helpers below are public so the signing can be tested on its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stockrelay/error.hpp"

namespace stockrelay::channels::woocommerce {

inline constexpr std::size_t kMaxBatch = 100;     // the server's default batch limit (413 above it)
inline constexpr std::size_t kDefaultBatch = 50;
inline constexpr std::size_t kSkusPerLookup = 40;  // SKUs per comma-separated ?sku= query

using QueryParams = std::vector<std::pair<std::string, std::string>>;  // decoded names and values

// OAuth 1.0a signature base string as WooCommerce recomputes it:
// METHOD & enc(url without query) & enc(sorted enc(k)=enc(v) joined by &).
std::string oauth_base_string(std::string_view method, std::string_view url_without_query, QueryParams params);
// base64(HMAC(secret + "&", base)); `signature_method` is HMAC-SHA256 or HMAC-SHA1.
std::string oauth_signature(std::string_view base_string, std::string_view consumer_secret,
                            std::string_view signature_method);

struct OAuthCredentials {
    std::string consumer_key;
    std::string consumer_secret;
    std::string signature_method = "HMAC-SHA256";
};

// `url` with the oauth_* parameters and the signature appended to its query.
// The existing query must be percent-encoded; nonce and timestamp are inputs
// so that a signature can be reproduced.
std::string oauth_sign_url(std::string_view method, std::string_view url, const OAuthCredentials& creds,
                           std::string_view nonce, std::int64_t timestamp);

// 32 hex characters from the OS random source.
std::string random_nonce();

// Splits a percent-encoded query string into decoded pairs.
QueryParams parse_query(std::string_view query);

}  // namespace stockrelay::channels::woocommerce
