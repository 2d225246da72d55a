// Sales-aware pushes (contract v4 [sales-aware]): never put sold units back on
// sale. Before a push the guard loads, in one snapshot, the value last set per
// key, the channel's shop orders Odoo has not absorbed and when each row's
// number was computed, and arms every item: its quantity becomes Odoo's
// number minus those sales, and the channel calls its on_level with the
// shop's level when it reads one (see native sales_aware/accounting.hpp).
// In the ack transaction it records what was set for the rows acked 'done'.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "pg.hpp"
#include "queries.hpp"
#include "stockrelay/channels/channel.hpp"
#include "stockrelay/sales_aware/accounting.hpp"

namespace stockrelay::sidecar {

class SalesGuard {
public:
    // Arms `items` (one per pushed row). Reads only; its own short transaction.
    void arm(pg::Connection& conn, std::int64_t channel_id, std::vector<channels::PushItem>& items);
    // Notes the shop item each row landed on (a fresh resolution, or the cached one).
    void pushed(const channels::PushReport& report);
    // Upserts stock_relay_last_set for `done_ids` and notes unusual accounting
    // (drift, held units) on those rows; call inside the ack transaction.
    void record(pg::Connection& conn, std::int64_t channel_id, const std::vector<std::int64_t>& done_ids);

    struct Key {
        std::int64_t row_id = 0;
        std::string sku;
        std::string location_key;
        std::string remote_id;  // the shop item written (cached, or resolved during the push)
        std::int64_t odoo = 0;
        std::int64_t mark = 0;  // newest inbox id seen when the level was observed
        sales_aware::Inputs in;
        sales_aware::Outcome out;
    };

private:
    std::map<std::int64_t, std::shared_ptr<Key>> by_row_;
};

// [{"quantity": n, "since": s}, ...] <-> holds (garbage reads as none).
std::vector<sales_aware::Hold> holds_from_json(std::string_view text);
std::string holds_to_json(const std::vector<sales_aware::Hold>& holds);

}  // namespace stockrelay::sidecar
