// Error codes and an expected-style Result for everything callers handle.
// Exceptions are reserved for programming errors.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace stockrelay {

// What the caller should do about a failure. The sidecar maps these onto row
// states: transient/throttled retry with backoff, the rest fail the row.
enum class ErrorCode {
    transient,         // 5xx, timeout, connection reset, garbage answer: retry
    throttled,         // rate limited (429, THROTTLED): retry after retry_after
    auth,              // credentials refused (401/403): fail, operator must fix
    config,            // channel settings unusable (bad URL, unknown version...)
    not_found,         // remote object does not exist (stale cache entry)
    sku_not_found,     // the shop has no item with this SKU
    duplicate_sku,     // the shop has more than one item with this SKU
    invalid_quantity,  // negative / fractional / out of range quantity
    rejected,          // the shop refused this item (validation userError)
    permanent,         // anything else that retrying cannot fix
};

std::string_view to_string(ErrorCode code) noexcept;
// Whether a row failing with `code` should be retried later.
bool is_retryable(ErrorCode code) noexcept;

struct Error {
    ErrorCode code = ErrorCode::permanent;
    std::string message;
    int http_status = 0;                          // 0 when no HTTP answer was had
    std::chrono::milliseconds retry_after{0};     // a server hint (Retry-After, bucket refill)

    std::string describe() const;  // "<code>: <message> (HTTP <status>)"
};

Error make_error(ErrorCode code, std::string message, int http_status = 0);

struct Ok {};

// A value or an Error.
template <typename T>
class Result {
public:
    Result(T value) : v_(std::move(value)) {}          // NOLINT(google-explicit-constructor)
    Result(Error error) : v_(std::move(error)) {}      // NOLINT(google-explicit-constructor)

    bool ok() const noexcept { return v_.index() == 0; }
    explicit operator bool() const noexcept { return ok(); }

    T& value() & { return std::get<0>(v_); }
    const T& value() const& { return std::get<0>(v_); }
    T&& value() && { return std::get<0>(std::move(v_)); }
    T* operator->() { return &std::get<0>(v_); }
    const T* operator->() const { return &std::get<0>(v_); }
    T& operator*() & { return std::get<0>(v_); }
    const T& operator*() const& { return std::get<0>(v_); }

    const Error& error() const& { return std::get<1>(v_); }
    Error&& error() && { return std::get<1>(std::move(v_)); }

private:
    std::variant<T, Error> v_;
};

using Status = Result<Ok>;

}  // namespace stockrelay
