// The scrape-time database figures (metrics_sql.hpp) of every database the
// daemon serves: one DbFigures per database, read in parallel (a database
// that is down costs the scrape its connect timeout, not one per database),
// merged into one family per metric with a `database` label. With the single
// database of before (name "") nothing is added.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "metrics_sql.hpp"

namespace stockrelay::sidecar::metrics {

class DatabaseFigures {
public:
    explicit DatabaseFigures(std::chrono::milliseconds max_age) : max_age_(max_age) {}
    // The databases served now, name -> DSN ("" -> DSN: the single database).
    void set(const std::map<std::string, std::string>& dsns);
    // Every database's snapshot, by name.
    std::vector<std::pair<std::string, DbSnapshot>> snapshots();

private:
    std::chrono::milliseconds max_age_;
    std::mutex mutex_;
    std::map<std::string, std::pair<std::string, std::shared_ptr<DbFigures>>> dbs_;  // name -> (dsn, figures)
};

// One family per metric name across the databases, each series labelled with
// its database (an unlabelled family for the single database).
std::vector<prometheus::MetricFamily> merged_families(const std::vector<std::pair<std::string, DbSnapshot>>& snaps);

}  // namespace stockrelay::sidecar::metrics
