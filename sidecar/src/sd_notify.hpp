// systemd's notify protocol (Type=notify): READY=1 once the database answered
// with the right contract version, WATCHDOG=1 while the loops turn,
// STOPPING=1 on the way out. Without libsystemd at build time
// (-DSTOCKRELAY_SYSTEMD=OFF) or without $NOTIFY_SOCKET these do nothing.
#pragma once

#include <chrono>
#include <optional>
#include <string>

namespace stockrelay::sidecar::sd {

void ready();
void watchdog();
void stopping();
void status(const std::string& text);
// WatchdogSec= as systemd passed it ($WATCHDOG_USEC for this pid); nullopt: off.
std::optional<std::chrono::milliseconds> watchdog_interval();
// Whether this build can talk to systemd at all.
bool available();

}  // namespace stockrelay::sidecar::sd
