#include "order_poller.hpp"

#include <thread>

#include <fmt/format.h>

#include "logging.hpp"
#include "queries.hpp"
#include "stockrelay/log.hpp"
#include "stockrelay/orders_api.hpp"

namespace stockrelay::sidecar {
namespace {

using std::chrono::seconds;
using std::chrono::steady_clock;

constexpr const char* kUtc = R"(YYYY-MM-DD"T"HH24:MI:SS"Z")";

// Where this poll starts: the cursor minus the overlap, or (first poll) the
// lookback of settings.orders_lookback_hours (default 24) before now.
std::string since(pg::Connection& conn, std::int64_t channel_id, double lookback_hours) {
    auto r = conn.exec(fmt::format("SELECT to_char(COALESCE((SELECT updated_at FROM stock_relay_order_cursor "
                                   "WHERE channel_id = $1), (now() AT TIME ZONE 'UTC') - make_interval(secs => $2)) "
                                   "- make_interval(secs => $3), '{}')",
                                   kUtc)
                           .c_str(),
                       pg::Params()
                           .add(channel_id)
                           .add(fmt::format("{}", lookback_hours * 3600))
                           .add(static_cast<std::int64_t>(kOrderCursorOverlap.count())));
    return r.str(0, 0);
}

void save_cursor(pg::Connection& conn, std::int64_t channel_id, const std::optional<std::string>& newest,
                 const std::optional<Error>& error) {
    conn.exec(
        "INSERT INTO stock_relay_order_cursor AS c (channel_id, updated_at, polled_at, error_code, last_error) "
        "VALUES ($1, ($2::timestamptz AT TIME ZONE 'UTC'), now() AT TIME ZONE 'UTC', $3, $4) "
        "ON CONFLICT (channel_id) DO UPDATE SET "
        "  updated_at = GREATEST(c.updated_at, EXCLUDED.updated_at), polled_at = EXCLUDED.polled_at, "
        "  error_code = EXCLUDED.error_code, last_error = EXCLUDED.last_error",
        pg::Params()
            .add(channel_id)
            .add(newest)
            .add(error ? std::optional<std::string>(std::string(to_string(error->code))) : std::nullopt)
            .add(error ? std::optional<std::string>(logging::redact(error->describe())) : std::nullopt));
}

double lookback_hours(const channels::Config& cfg) {
    const auto it = cfg.settings.find("orders_lookback_hours");
    return it != cfg.settings.end() && it->is_number() && it->get<double>() >= 0 ? it->get<double>() : 24.0;
}

}  // namespace

void record_poll_error(pg::Connection& conn, std::int64_t channel_id, const Error& error) {
    save_cursor(conn, channel_id, std::nullopt, error);
}

OrderPollResult poll_channel_orders(pg::Connection& conn, inbox::CronNotifier& notifier, channels::Channel& channel,
                                    const channels::Config& cfg, const std::atomic<bool>& stop,
                                    steady_clock::duration slice) {
    OrderPollResult out;
    const auto ends = steady_clock::now() + slice;
    const auto from = since(conn, cfg.id, lookback_hours(cfg));
    log::debug("order poll: orders updated after {}", from);
    orders::PollReport rep;
    auto stored = [&](const std::vector<std::string>& keys) { return inbox::stored_keys(conn, cfg.id, keys); };
    auto sink = [&](const orders::OrderPage& page) {
        std::vector<inbox::Event> events;
        for (const auto& raw : page.orders) {
            auto ev = orders::normalize(cfg.type, raw.json);
            if (!ev) {
                ++out.malformed;
                log::error("channel {}: order poll: {}; stored as a failed inbox row", cfg.id, ev.error().message);
                events.push_back(inbox::malformed_event(raw.json, raw.text, "poll", std::nullopt, ev.error().message));
                continue;
            }
            events.push_back({std::move(*ev), raw.text, "poll", std::nullopt, std::nullopt});
        }
        const auto newest = page.newest_updated_at.empty() ? std::nullopt : std::optional(page.newest_updated_at);
        const auto w = inbox::write(conn, cfg.id, events, [&] { save_cursor(conn, cfg.id, newest, std::nullopt); });
        out.inserted += w.inserted;
        if (w.inserted > 0) notifier.notify(conn);
        out.more = steady_clock::now() >= ends;
        log::debug("order poll: page of {} new, {} already stored; cursor {}", page.orders.size(), page.skipped,
                   page.newest_updated_at);
        return !stop.load() && !out.more;
    };
    out.error = orders::poll_orders(channel, from, stored, sink, rep);
    out.seen = rep.orders;
    out.skipped = rep.skipped;
    out.pages = rep.pages;
    if (out.error) out.more = false;
    if (out.error) save_cursor(conn, cfg.id, std::nullopt, out.error);
    else if (rep.orders == 0) save_cursor(conn, cfg.id, std::nullopt, std::nullopt);
    return out;
}

OrderPoller::OrderPoller(std::string dsn, std::optional<std::int64_t> only, const std::atomic<bool>& stop)
    : dsn_(std::move(dsn)), only_(only), stop_(stop), notifier_(dsn_) {}

// A channel's poller, or nullopt when its settings do not load: then why is
// logged once per version of the settings and recorded on its cursor row.
std::optional<OrderPoller::Polled> OrderPoller::load(pg::Connection& conn, const queries::ChannelRow& row,
                                                     const nlohmann::json& j) {
    auto config = channels::Config::from_json(j);
    Result<std::unique_ptr<channels::Channel>> channel =
        config ? channels::make_channel(*config) : Result<std::unique_ptr<channels::Channel>>(config.error());
    if (!channel) {
        if (broken_[row.id] != row.json) {
            broken_[row.id] = row.json;
            const auto why = logging::redact(channel.error().describe());
            log::error("channel {}: orders cannot be polled: {}", row.id, why);
            record_poll_error(conn, row.id, channel.error());
        }
        return std::nullopt;
    }
    broken_.erase(row.id);
    logging::add_secrets(config->secrets());
    Polled p;
    p.fingerprint = row.json;
    p.config = *config;
    p.channel = std::move(*channel);
    p.channel->set_sleeper([this](std::chrono::milliseconds d) {
        for (auto left = d; left.count() > 0 && !stop_; left -= std::chrono::milliseconds{100})
            std::this_thread::sleep_for(std::min(left, std::chrono::milliseconds{100}));
        return !stop_.load();
    });
    p.every = seconds{std::max(1, j.value("order_poll_seconds", 120))};
    return p;
}

void OrderPoller::reload(pg::Connection& conn) {
    std::map<std::int64_t, Polled> next;
    for (const auto& row : queries::load_channels(conn, true, only_)) {
        const auto j = nlohmann::json::parse(row.json);
        if (!j.value("orders_enabled", false)) continue;
        auto it = channels_.find(row.id);
        if (it != channels_.end() && it->second.fingerprint == row.json) {
            next.emplace(row.id, std::move(it->second));
            continue;
        }
        if (auto p = load(conn, row, j)) next.emplace(row.id, std::move(*p));
    }
    channels_ = std::move(next);
}

bool OrderPoller::poll_due(pg::Connection& conn) {
    bool more = false;
    for (auto& [id, p] : channels_) {
        if (stop_ || steady_clock::now() < p.next) continue;
        const logging::ChannelScope scope(fmt::format("channel {} ({}) orders", id, p.config.name));
        const auto t0 = steady_clock::now();
        // Alone, a poll runs to the end: a continuation lists the cursor's second again.
        const steady_clock::duration slice = channels_.size() > 1 ? steady_clock::duration(kOrderPollSlice)
                                                                  : std::chrono::hours{24};
        const auto r = poll_channel_orders(conn, notifier_, *p.channel, p.config, stop_, slice);
        const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(steady_clock::now() - t0).count();
        p.next = r.more ? steady_clock::now() : steady_clock::now() + p.every;
        more = more || r.more;
        if (r.error)
            log::warn("order poll failed: {}; next try in {} s", logging::redact(r.error->describe()), p.every.count());
        else if (r.inserted > 0 || r.malformed > 0 || r.more || log::enabled(log::Level::debug))
            log::info("order poll: {} order(s) listed in {} page(s), {} already stored, {} new inbox row(s), {} "
                      "malformed, {} ms{}", r.seen, r.pages, r.skipped, r.inserted, r.malformed, ms,
                      r.more ? "; continues after the other channels" : "");
    }
    return more;
}

void OrderPoller::run() {
    std::unique_ptr<pg::Connection> conn;
    int failures = 0;
    while (!stop_) {
        try {
            if (!conn) conn = std::make_unique<pg::Connection>(dsn_);
            if (steady_clock::now() >= next_reload_) {
                reload(*conn);
                next_reload_ = steady_clock::now() + seconds{5};
            }
            const bool more = poll_due(*conn);
            failures = 0;
            if (more) continue;  // the rest of a burst: no pause
        } catch (const pg::Error& e) {
            conn.reset();
            if (failures++ % 30 == 0) log::warn("order poller: PostgreSQL unavailable: {}", e.what());
        } catch (const std::exception& e) {  // never let orders-in take the daemon down
            log::error("order poller: {}", logging::redact(e.what()));
        }
        for (int i = 0; i < 10 && !stop_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds{100});
    }
}

}  // namespace stockrelay::sidecar
