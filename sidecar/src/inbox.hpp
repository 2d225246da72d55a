// Orders in: writes normalized shop order events into stock_relay_inbox
// (contract v3 [orders]) and wakes Odoo's inbox cron. Webhooks and polls
// share it; one event is stored once (ON CONFLICT (channel_id, event_key)).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "pg.hpp"
#include "stockrelay/orders.hpp"

namespace stockrelay::sidecar::inbox {

// The scheduled action that turns inbox rows into sale orders (addon stock_relay_sale).
inline constexpr const char* kInboxCron = "stock_relay_sale.ir_cron_stock_relay_inbox";

struct Event {
    orders::OrderEvent order;
    std::string raw_body;                    // the shop's JSON text, stored verbatim as payload.raw
    std::string received_via;                // webhook | poll | manual
    std::optional<std::string> delivery_id;  // Shopify X-Shopify-Webhook-Id, WooCommerce X-WC-Webhook-Delivery-ID
    std::optional<std::string> error;        // set: the order did not normalize; stored as a failed row
};

// The event for a shop order the normalizer refused: stored as a failed row
// (error_code malformed_order, payload {"order": null, "raw": ...}) so nothing
// is lost and the person sees why. Its key is the order id (when readable)
// and a digest of the body, so the same broken body is stored once.
Event malformed_event(const nlohmann::json& raw, std::string raw_body, std::string received_via,
                      std::optional<std::string> delivery_id, std::string error);

struct WriteResult {
    int inserted = 0;
    int duplicates = 0;
    bool odoo_woken = false;  // stock_relay_wake_odoo found the cron and scheduled it
};

// One transaction: the inserts and, when anything was new, the wake-up
// trigger row, so Odoo never sees rows without a trigger. `in_same_transaction`
// (the poll's cursor move) commits with them, also for an empty page.
WriteResult write(pg::Connection& conn, std::int64_t channel_id, const std::vector<Event>& events,
                  const std::function<void()>& in_same_transaction = {});

// Which of these event keys the channel's inbox already holds (same order as `keys`).
std::vector<bool> stored_keys(pg::Connection& conn, std::int64_t channel_id, const std::vector<std::string>& keys);

// Sends `NOTIFY cron_trigger, '<dbname>'` on a connection to the `postgres`
// maintenance database, where Odoo's cron workers LISTEN. Failures are
// logged (rate-limited) and swallowed: the trigger row alone wakes Odoo at
// its workers' next poll. Not thread-safe; one per thread.
class CronNotifier {
public:
    explicit CronNotifier(std::string dsn);
    ~CronNotifier();
    void notify(pg::Connection& conn);  // `conn` names the Odoo database (current_database())

private:
    std::string dsn_;
    std::string dbname_;
    std::unique_ptr<pg::Connection> maint_;
    int failures_ = 0;
};

// The DSN with its database replaced (libpq's own parser; URIs and key=value alike).
std::string with_dbname(const std::string& dsn, const std::string& dbname);

}  // namespace stockrelay::sidecar::inbox
