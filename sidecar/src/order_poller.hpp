// Orders in, the polling fallback: for each channel with orders_enabled,
// every order_poll_seconds, the orders updated since the channel's cursor
// (stock_relay_order_cursor) go into the inbox. Runs on its own thread and
// database connection, so pushes are never delayed by a slow shop listing.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "inbox.hpp"
#include "pg.hpp"
#include "queries.hpp"
#include "stockrelay/channels/channel.hpp"

namespace stockrelay::sidecar {

// Re-read before every poll: the cursor is the newest update fully stored;
// a poll starts a second before it (the shops' filters compare strictly, to
// the second), so orders updated in that same second are not missed. What it
// lists again is skipped after one look-up of the page's event keys.
inline constexpr std::chrono::seconds kOrderCursorOverlap{1};
// With other channels to poll, one channel's poll stops after the page that
// ends this slice and continues at its cursor after the other channels' due
// polls: a burst in one shop never holds back the others.
inline constexpr std::chrono::seconds kOrderPollSlice{5};

struct OrderPollResult {
    long long seen = 0;       // orders the shop listed
    int inserted = 0;         // new inbox rows (including failed ones for malformed orders)
    int malformed = 0;
    long long skipped = 0;    // listed again, already stored: not normalized nor written
    int pages = 0;
    bool more = false;        // stopped at the end of its slice; poll again soon
    std::optional<Error> error;
};

// One poll of one channel: reads the cursor, lists the shop's orders page by
// page and writes each page's new events into the inbox in one transaction
// with the cursor (the page's newest update) and polled_at. A shop error is
// recorded on the cursor row (error_code, last_error) and returned.
OrderPollResult poll_channel_orders(pg::Connection& conn, inbox::CronNotifier& notifier, channels::Channel& channel,
                                    const channels::Config& config, const std::atomic<bool>& stop,
                                    std::chrono::steady_clock::duration slice = kOrderPollSlice);

// Records on the channel's cursor row why its orders cannot be polled (its
// settings do not load, no client for its type): Odoo shows error_code/last_error.
void record_poll_error(pg::Connection& conn, std::int64_t channel_id, const Error& error);

class OrderPoller {
public:
    OrderPoller(std::string dsn, std::optional<std::int64_t> only, const std::atomic<bool>& stop);
    void run();  // until stop

private:
    struct Polled {
        std::string fingerprint;
        std::unique_ptr<channels::Channel> channel;
        channels::Config config;
        std::chrono::seconds every{120};
        std::chrono::steady_clock::time_point next{};
    };
    void reload(pg::Connection& conn);
    std::optional<Polled> load(pg::Connection& conn, const queries::ChannelRow& row, const nlohmann::json& j);
    bool poll_due(pg::Connection& conn);  // true: a poll stopped at its slice

    std::string dsn_;
    std::optional<std::int64_t> only_;
    const std::atomic<bool>& stop_;
    inbox::CronNotifier notifier_;
    std::map<std::int64_t, Polled> channels_;
    std::map<std::int64_t, std::string> broken_;  // channel -> the settings that did not load (logged once)
    std::chrono::steady_clock::time_point next_reload_{};
};

}  // namespace stockrelay::sidecar
