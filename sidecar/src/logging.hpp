// The daemon's log: spdlog behind the core's log::Sink, scrubbing every
// registered secret (DSN password, channel credentials) from each line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "stockrelay/log.hpp"

namespace stockrelay::sidecar::logging {

// Parses "debug|info|warn|error"; false when unknown.
bool parse_level(std::string_view text, stockrelay::log::Level& out);
enum class Format {
    text,  // "2026-11-30T14:02:03.123Z info message"
    json,  // {"ts": "...", "level": "info", "msg": "...", "fields": {"channel_id": 3}} one per line
};
// Installs the spdlog-backed sink (stderr) as the process-wide core sink.
// Either format is redacted the same way, before it is encoded.
void setup(stockrelay::log::Level level, Format format = Format::text);
// Secrets are replaced with "[redacted]" in every later log line.
void add_secrets(const std::vector<std::string>& secrets);
// Applies the registered secrets to `text` (for lines printed outside the log).
std::string redact(std::string_view text);

// While alive, every log line this thread writes names the channel: lines
// that do not already start with "channel " get "<label>: " in front (the
// channel clients' own lines, e.g. a rate-limit wait).
class ChannelScope {
public:
    explicit ChannelScope(std::string label);
    ~ChannelScope();
    ChannelScope(const ChannelScope&) = delete;
    ChannelScope& operator=(const ChannelScope&) = delete;

private:
    std::string previous_;
};

}  // namespace stockrelay::sidecar::logging
