#include "sd_notify.hpp"

#ifdef STOCKRELAY_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace stockrelay::sidecar::sd {
namespace {

void send([[maybe_unused]] const std::string& state) {
#ifdef STOCKRELAY_HAVE_SYSTEMD
    sd_notify(0, state.c_str());
#endif
}

}  // namespace

void ready() { send("READY=1\nSTATUS=relaying stock"); }
void watchdog() { send("WATCHDOG=1"); }
void stopping() { send("STOPPING=1\nSTATUS=finishing the batches in hand"); }
void status(const std::string& text) { send("STATUS=" + text); }

std::optional<std::chrono::milliseconds> watchdog_interval() {
#ifdef STOCKRELAY_HAVE_SYSTEMD
    std::uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) return std::chrono::milliseconds{usec / 1000};
#endif
    return std::nullopt;
}

bool available() {
#ifdef STOCKRELAY_HAVE_SYSTEMD
    return true;
#else
    return false;
#endif
}

}  // namespace stockrelay::sidecar::sd
