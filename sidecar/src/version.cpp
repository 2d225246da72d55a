#include "version.hpp"

namespace stockrelay::sidecar {
std::string_view version() noexcept { return "0.1.0"; }
}  // namespace stockrelay::sidecar
