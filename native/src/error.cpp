#include "stockrelay/error.hpp"

#include <fmt/format.h>

namespace stockrelay {

std::string_view to_string(ErrorCode code) noexcept {
    switch (code) {
        case ErrorCode::transient: return "transient";
        case ErrorCode::throttled: return "throttled";
        case ErrorCode::auth: return "auth";
        case ErrorCode::config: return "config";
        case ErrorCode::not_found: return "not_found";
        case ErrorCode::sku_not_found: return "sku_not_found";
        case ErrorCode::duplicate_sku: return "duplicate_sku";
        case ErrorCode::invalid_quantity: return "invalid_quantity";
        case ErrorCode::rejected: return "rejected";
        case ErrorCode::permanent: return "permanent";
    }
    return "permanent";
}

bool is_retryable(ErrorCode code) noexcept {
    return code == ErrorCode::transient || code == ErrorCode::throttled;
}

std::string Error::describe() const {
    if (http_status > 0) return fmt::format("{}: {} (HTTP {})", to_string(code), message, http_status);
    return fmt::format("{}: {}", to_string(code), message);
}

Error make_error(ErrorCode code, std::string message, int http_status) {
    Error e;
    e.code = code;
    e.message = std::move(message);
    e.http_status = http_status;
    return e;
}

}  // namespace stockrelay
