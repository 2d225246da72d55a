// The figures that live in the database, read at scrape time with three
// grouped queries (channels with rows by state and oldest pending; inbox
// events; reconcile runs) and cached for a few seconds, so a busy scraper
// costs the database at most one round of them per interval.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <prometheus/metric_family.h>

#include "pg.hpp"

namespace stockrelay::sidecar::metrics {

struct ChannelFigures {
    std::int64_t id = 0;
    std::string name;
    std::string type;
    bool enabled = false;
    std::string state;  // flowing, down, refused
    std::vector<std::pair<std::string, std::int64_t>> rows_by_state;
    std::optional<double> oldest_pending_seconds;
};

struct DbSnapshot {
    bool reachable = false;
    std::optional<int> schema_version;
    std::string error;  // why not reachable (redacted by the caller's log)
    std::vector<ChannelFigures> channels;
    std::vector<prometheus::MetricFamily> families;
};

class DbFigures {
public:
    DbFigures(std::string dsn, std::chrono::milliseconds max_age);
    // The cached snapshot, refreshed when older than max_age.
    DbSnapshot snapshot();

private:
    DbSnapshot read();
    std::string dsn_;
    std::chrono::milliseconds max_age_;
    std::mutex mutex_;
    std::unique_ptr<pg::Connection> conn_;
    std::optional<DbSnapshot> cached_;
    std::chrono::steady_clock::time_point read_at_;
};

}  // namespace stockrelay::sidecar::metrics
