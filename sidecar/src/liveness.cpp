#include "liveness.hpp"

#include <map>
#include <mutex>

#include "database_scope.hpp"

namespace stockrelay::sidecar::liveness {
namespace {

struct Slot {
    std::string name;
    std::string database;  // the registering thread's (database_scope.hpp)
    bool idle = false;
    clock::time_point busy_since;
};

std::mutex g_mutex;
std::map<int, Slot> g_slots;  // guarded by g_mutex
int g_next_id = 1;
thread_local int t_loop = 0;  // this thread's slot id; 0: none

void set_idle(int id, bool idle) {
    if (id == 0) return;
    std::lock_guard lock(g_mutex);
    auto it = g_slots.find(id);
    if (it == g_slots.end()) return;
    it->second.idle = idle;
    if (!idle) it->second.busy_since = clock::now();
}

}  // namespace

LoopScope::LoopScope(std::string name) {
    std::lock_guard lock(g_mutex);
    id_ = g_next_id++;
    g_slots[id_] = Slot{std::move(name), current_database(), false, clock::now()};
    t_loop = id_;
}

LoopScope::~LoopScope() {
    std::lock_guard lock(g_mutex);
    g_slots.erase(id_);
    if (t_loop == id_) t_loop = 0;
}

void LoopScope::beat() { set_idle(id_, false); }

IdleScope::IdleScope() { set_idle(t_loop, true); }

IdleScope::~IdleScope() { set_idle(t_loop, false); }

static std::string label(const Slot& s) { return s.database.empty() ? s.name : "database " + s.database + ": " + s.name; }

std::vector<Stall> stalled(std::chrono::milliseconds limit, clock::time_point now) {
    std::vector<Stall> out;
    std::lock_guard lock(g_mutex);
    for (const auto& [id, s] : g_slots) {
        const auto busy = std::chrono::duration_cast<std::chrono::milliseconds>(now - s.busy_since);
        if (!s.idle && busy > limit) out.push_back({label(s), busy});
    }
    return out;
}

std::vector<Stall> stalled_in(const std::string& database, std::chrono::milliseconds limit, clock::time_point now) {
    std::vector<Stall> out;
    std::lock_guard lock(g_mutex);
    for (const auto& [id, s] : g_slots) {
        const auto busy = std::chrono::duration_cast<std::chrono::milliseconds>(now - s.busy_since);
        if (s.database == database && !s.idle && busy > limit) out.push_back({label(s), busy});
    }
    return out;
}

std::vector<std::string> loops() {
    std::vector<std::string> out;
    std::lock_guard lock(g_mutex);
    for (const auto& [id, s] : g_slots) out.push_back(label(s));
    return out;
}

}  // namespace stockrelay::sidecar::liveness
