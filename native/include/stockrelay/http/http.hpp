// HTTP transport used by the channel clients. One Client per channel, reused
// (keeps the connection alive). TLS verification is always on unless the
// channel explicitly turns it off; redirects are never followed, so a request
// (and its credentials) can only reach the configured host.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stockrelay/error.hpp"

namespace stockrelay::http {

struct Header {
    std::string name;
    std::string value;
    bool secret = false;  // never copied into excerpts or logs
};

struct Request {
    std::string method = "GET";
    std::string url;
    std::vector<Header> headers;
    std::string body;
    std::chrono::milliseconds timeout{15000};
    // Streaming download: when set, the body of a 2xx answer is handed over in
    // chunks as it arrives instead of being kept in Response::body (which then
    // stays empty); returning false aborts the transfer (a transient error).
    // Clients that cannot stream may ignore it: callers then read Response::body.
    std::function<bool(std::string_view chunk)> on_body;
};

struct Response {
    int status = 0;
    std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
    std::string body;
    std::chrono::milliseconds elapsed{0};

    // Case-insensitive header lookup.
    std::optional<std::string> header(std::string_view name) const;
    // Retry-After in seconds or HTTP-date; 0 when absent or unparsable.
    std::chrono::milliseconds retry_after() const;
};

struct ClientOptions {
    bool tls_verify = true;
    std::string ca_file;                                 // extra trust anchor (private CA)
    bool allow_insecure_http = false;                    // plain http to a non-loopback host
    std::chrono::milliseconds connect_timeout{5000};
    std::string user_agent = "stockrelay/0.1";
};

class Client {
public:
    virtual ~Client() = default;
    // Transport failures come back as transient errors (timeout, refused,
    // reset) or config errors (bad URL, plain HTTP refused, redirect refused).
    // Any HTTP status is a successful Result: callers classify statuses.
    virtual Result<Response> send(const Request& request) = 0;
};

std::unique_ptr<Client> make_curl_client(const ClientOptions& options);

struct Url {
    std::string scheme;  // "http" | "https"
    std::string host;
    int port = 0;        // explicit or scheme default
    std::string path;    // without trailing slash, may be empty
    std::string query;

    static Result<Url> parse(std::string_view text);
    std::string origin() const;          // scheme://host[:port]
    bool is_loopback() const;
};

std::string url_encode(std::string_view text);   // RFC 3986 unreserved kept
std::string base64(std::string_view data);
// Replace every occurrence of each secret (len >= 4) with "[redacted]".
std::string redact(std::string_view text, const std::vector<std::string>& secrets);
// At most `max` bytes, cut on a UTF-8 boundary, with a marker when cut.
std::string excerpt(std::string_view text, std::size_t max = 2000);

// Classify an HTTP status: 2xx -> nullopt; 401/403 auth; 404 not_found;
// 408/425/5xx transient; 429 throttled (retry_after from the header); other
// 4xx permanent. `what` prefixes the message.
std::optional<Error> classify_status(const Response& response, std::string_view what);
// 3xx: never followed; classify_status explains it as a config error.
constexpr bool is_redirect(int status) noexcept { return status >= 300 && status < 400; }

}  // namespace stockrelay::http
