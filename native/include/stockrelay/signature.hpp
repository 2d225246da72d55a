// Webhook signatures: base64(HMAC-SHA256(raw body, secret)), the construction
// of Shopify's X-Shopify-Hmac-Sha256, WooCommerce's X-WC-Webhook-Signature
// and our own X-Stockrelay-Hmac-Sha256 (the Medusa subscriber).
#pragma once

#include <string>
#include <string_view>

namespace stockrelay::signature {

std::string hmac_sha256_base64(std::string_view body, std::string_view secret);

// Constant time in the body's signature (CRYPTO_memcmp over equal-length
// digests); false for an empty secret or a header that is not 44 base64 chars.
bool verify(std::string_view body, std::string_view secret, std::string_view header_value);

}  // namespace stockrelay::signature
