#include "stockrelay/log.hpp"

#include <atomic>
#include <mutex>

namespace stockrelay::log {
namespace {
std::mutex g_mutex;
std::shared_ptr<Sink> g_sink;  // guarded by g_mutex
}  // namespace

void set_sink(std::shared_ptr<Sink> s) {
    std::lock_guard lock(g_mutex);
    g_sink = std::move(s);
}

std::shared_ptr<Sink> sink() {
    std::lock_guard lock(g_mutex);
    return g_sink;
}

bool enabled(Level level) {
    auto s = sink();
    return s && s->enabled(level);
}

void write(Level level, std::string_view message) {
    if (auto s = sink()) s->write(level, message);
}

}  // namespace stockrelay::log
