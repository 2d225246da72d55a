// The core logs through this sink; front-ends plug in spdlog (daemon) or
// Python logging (module). Messages never carry credentials: callers redact.
#pragma once

#include <memory>
#include <string_view>

#include <fmt/format.h>

namespace stockrelay::log {

enum class Level { debug, info, warn, error };

class Sink {
public:
    virtual ~Sink() = default;
    virtual void write(Level level, std::string_view message) = 0;
    virtual bool enabled(Level level) const { return level >= Level::info; }
};

// Install the process-wide sink (nullptr = discard). Thread-safe.
void set_sink(std::shared_ptr<Sink> sink);
std::shared_ptr<Sink> sink();

void write(Level level, std::string_view message);
bool enabled(Level level);

template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... a) {
    if (enabled(Level::debug)) write(Level::debug, fmt::format(f, std::forward<Args>(a)...));
}
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... a) {
    if (enabled(Level::info)) write(Level::info, fmt::format(f, std::forward<Args>(a)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... a) {
    if (enabled(Level::warn)) write(Level::warn, fmt::format(f, std::forward<Args>(a)...));
}
template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... a) {
    if (enabled(Level::error)) write(Level::error, fmt::format(f, std::forward<Args>(a)...));
}

}  // namespace stockrelay::log
