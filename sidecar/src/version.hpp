#pragma once
#include <string_view>

namespace stockrelay::sidecar {
std::string_view version() noexcept;
}  // namespace stockrelay::sidecar
