#include "database_figures.hpp"

#include <future>

namespace stockrelay::sidecar::metrics {

void DatabaseFigures::set(const std::map<std::string, std::string>& dsns) {
    std::lock_guard lock(mutex_);
    for (auto it = dbs_.begin(); it != dbs_.end();) {
        auto want = dsns.find(it->first);
        it = want == dsns.end() || want->second != it->second.first ? dbs_.erase(it) : std::next(it);
    }
    for (const auto& [name, dsn] : dsns)
        if (!dbs_.count(name)) dbs_.emplace(name, std::make_pair(dsn, std::make_shared<DbFigures>(dsn, max_age_)));
}

std::vector<std::pair<std::string, DbSnapshot>> DatabaseFigures::snapshots() {
    std::vector<std::pair<std::string, std::shared_ptr<DbFigures>>> dbs;
    {
        std::lock_guard lock(mutex_);
        for (const auto& [name, v] : dbs_) dbs.emplace_back(name, v.second);
    }
    std::vector<std::pair<std::string, DbSnapshot>> out;
    if (dbs.size() == 1) {
        out.emplace_back(dbs[0].first, dbs[0].second->snapshot());
        return out;
    }
    std::vector<std::future<DbSnapshot>> reads;
    for (auto& [name, f] : dbs) reads.push_back(std::async(std::launch::async, [f = f] { return f->snapshot(); }));
    for (std::size_t i = 0; i < dbs.size(); ++i) out.emplace_back(dbs[i].first, reads[i].get());
    return out;
}

std::vector<prometheus::MetricFamily> merged_families(const std::vector<std::pair<std::string, DbSnapshot>>& snaps) {
    std::vector<prometheus::MetricFamily> out;
    std::map<std::string, std::size_t> index;  // family name -> position in out
    for (const auto& [db, snap] : snaps) {
        for (const auto& family : snap.families) {
            auto [it, fresh] = index.emplace(family.name, out.size());
            if (fresh) {
                out.push_back(family);
                out.back().metric.clear();
            }
            auto& target = out[it->second];
            for (auto m : family.metric) {
                if (!db.empty()) m.label.push_back({"database", db});
                target.metric.push_back(std::move(m));
            }
        }
    }
    return out;
}

}  // namespace stockrelay::sidecar::metrics
