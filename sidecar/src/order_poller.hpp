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
#include "stockrelay/channels/channel.hpp"

namespace stockrelay::sidecar {

// Re-read before every poll: the cursor starts a little before the newest
// update seen, so orders updated in that same second are not missed (the
// inbox's dedupe drops what was already stored).
inline constexpr std::chrono::seconds kOrderCursorOverlap{2};

struct OrderPollResult {
    long long seen = 0;       // orders the shop listed
    int inserted = 0;         // new inbox rows (including failed ones for malformed orders)
    int malformed = 0;
    std::optional<Error> error;
};

// One poll of one channel: reads the cursor, lists the shop's orders page by
// page, writes each page into the inbox and moves the cursor past it. A shop
// error is recorded on the cursor row (error_code, last_error) and returned.
OrderPollResult poll_channel_orders(pg::Connection& conn, inbox::CronNotifier& notifier, channels::Channel& channel,
                                    const channels::Config& config, const std::atomic<bool>& stop);

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
    void poll_due(pg::Connection& conn);

    std::string dsn_;
    std::optional<std::int64_t> only_;
    const std::atomic<bool>& stop_;
    inbox::CronNotifier notifier_;
    std::map<std::int64_t, Polled> channels_;
    std::chrono::steady_clock::time_point next_reload_{};
};

}  // namespace stockrelay::sidecar
