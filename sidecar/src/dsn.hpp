// Connection strings carry a password; nothing the daemon prints may.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace stockrelay::sidecar {

// The DSN with every password replaced by "***" (key=value form, URI
// userinfo and URI query parameters alike).
std::string redact_dsn(std::string_view dsn);
// The passwords a DSN carries, so log lines can be scrubbed of them.
std::vector<std::string> dsn_secrets(std::string_view dsn);

}  // namespace stockrelay::sidecar
