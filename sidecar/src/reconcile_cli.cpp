#include "reconcile_cli.hpp"

#include <iostream>
#include <thread>

#include <fmt/format.h>

#include "exit_codes.hpp"
#include "logging.hpp"
#include "queries.hpp"

namespace stockrelay::sidecar {
namespace {

bool finished(const std::string& state) {
    return state == "read" || state == "done" || state == "failed" || state == "cancelled";
}

std::string figures(const reconcile_queries::RunRow& r) {
    std::string out = fmt::format("{} items ({} malformed), {} API calls", r.items_read, r.malformed, r.api_calls);
    if (r.cost_points) out += fmt::format(", {} cost points", r.cost_points);
    if (r.read_seconds) out += fmt::format(", read in {:.1f} s", *r.read_seconds);
    if (r.drift_found) out += fmt::format(", drift {} of {} compared", *r.drift_found, r.items_compared.value_or(0));
    if (r.healed) out += fmt::format(", {} healed", *r.healed);
    return out;
}

template <class T>
nlohmann::json opt(const std::optional<T>& v) {
    return v ? nlohmann::json(*v) : nlohmann::json();
}

}  // namespace

int cmd_reconcile(pg::Connection& conn, std::int64_t channel, bool heal, std::optional<double> wait_seconds) {
    if (queries::load_channels(conn, false, channel).empty()) {
        std::cerr << "stockrelayd: no channel " << channel << "\n";
        return exit_usage;
    }
    const auto [id, created] = reconcile_queries::request(conn, channel, heal, "cli");
    std::cout << fmt::format("reconcile {} of channel {} {}\n", id, channel,
                             created ? "requested" : "already requested and not finished: waiting for that one");
    std::cout.flush();
    if (!wait_seconds) return exit_ok;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds{
                                                                  static_cast<std::int64_t>(*wait_seconds * 1000)};
    for (;;) {
        auto run = reconcile_queries::get(conn, id);
        if (!run) {
            std::cout << fmt::format("reconcile {}: the request was deleted\n", id);
            return exit_reconcile_failed;
        }
        if (finished(run->state)) {
            if (run->state == "failed" || run->state == "cancelled") {
                std::cout << fmt::format("reconcile {}: {}: {}: {}\n", id, run->state, run->error_code.value_or("?"),
                                         logging::redact(run->last_error.value_or("")));
                return exit_reconcile_failed;
            }
            std::cout << fmt::format("reconcile {}: {}: {}\n", id, run->state, figures(*run));
            return exit_ok;
        }
        if (std::chrono::steady_clock::now() >= deadline) {
            std::cout << fmt::format("reconcile {}: still {} after {} s ({} items so far{}); is stockrelayd run "
                                     "running?\n",
                                     id, run->state, *wait_seconds, run->items_read,
                                     run->last_error ? ", last error: " + logging::redact(*run->last_error) : "");
            return exit_wait_timeout;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds{200});
    }
}

std::map<std::int64_t, reconcile_queries::RunRow> last_reconciles(pg::Connection& conn, std::optional<std::int64_t> only) {
    std::map<std::int64_t, reconcile_queries::RunRow> out;
    for (auto& r : reconcile_queries::latest(conn, only)) out.emplace(r.channel_id, std::move(r));
    return out;
}

std::string reconcile_text(const reconcile_queries::RunRow& r) {
    std::string when = r.state == "pending" ? "requested " + r.requested_at.value_or("?")
                       : r.read_at          ? "read " + *r.read_at
                                            : "started " + r.started_at.value_or("?");
    std::string out = fmt::format("  last reconcile: #{} {} ({}): {}", r.id, r.state, when, figures(r));
    if (r.last_error) out += fmt::format("; {}: {}", r.error_code.value_or("?"), logging::redact(*r.last_error));
    return out + "\n";
}

nlohmann::json reconcile_json(const reconcile_queries::RunRow& r) {
    return nlohmann::json{{"id", r.id},
                          {"state", r.state},
                          {"requested_at", opt(r.requested_at)},
                          {"started_at", opt(r.started_at)},
                          {"read_at", opt(r.read_at)},
                          {"done_at", opt(r.done_at)},
                          {"items", r.items_read},
                          {"malformed", r.malformed},
                          {"api_calls", r.api_calls},
                          {"cost_points", r.cost_points},
                          {"read_seconds", opt(r.read_seconds)},
                          {"items_compared", opt(r.items_compared)},
                          {"drift_found", opt(r.drift_found)},
                          {"healed", opt(r.healed)},
                          {"error_code", opt(r.error_code)},
                          {"last_error", r.last_error ? nlohmann::json(logging::redact(*r.last_error)) : nullptr}};
}

}  // namespace stockrelay::sidecar
