#include "stockrelay/signature.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace stockrelay::signature {

std::string hmac_sha256_base64(std::string_view body, std::string_view secret) {
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
         reinterpret_cast<const unsigned char*>(body.data()), body.size(), mac, &len);
    unsigned char out[4 * ((EVP_MAX_MD_SIZE + 2) / 3) + 1];
    const int n = EVP_EncodeBlock(out, mac, static_cast<int>(len));
    return std::string(reinterpret_cast<const char*>(out), static_cast<std::size_t>(n));
}

bool verify(std::string_view body, std::string_view secret, std::string_view header_value) {
    if (secret.empty()) return false;
    const std::string expected = hmac_sha256_base64(body, secret);
    // The length of a SHA-256 signature is public; only the bytes are compared in constant time.
    if (header_value.size() != expected.size()) return false;
    return CRYPTO_memcmp(expected.data(), header_value.data(), expected.size()) == 0;
}

}  // namespace stockrelay::signature
