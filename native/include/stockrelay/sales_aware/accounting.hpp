// Sales-aware pushes: the value to set in a shop is Odoo's sellable minus the
// shop's sales Odoo has not absorbed yet. Pure and deterministic (times are
// plain numbers), so every rule below is unit-tested without a shop.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace stockrelay::sales_aware {

// A drop of the shop's level that no order explains yet, presumed to be a
// sale while it is younger than the grace period.
struct Hold {
    std::int64_t quantity = 0;
    std::int64_t since = 0;  // seconds since the epoch, when it was first seen
    bool operator==(const Hold&) const = default;
};

struct Inputs {
    std::int64_t sellable = 0;               // Odoo's number (the outbox row)
    std::optional<std::int64_t> last_set;    // what stockrelay set last; nullopt: never (or forgotten)
    std::optional<std::int64_t> shop_level;  // the shop's level now; nullopt: not read (assumed == last_set)
    std::int64_t unabsorbed = 0;             // inbox sales that are not a confirmed sale order for this row
    std::int64_t new_orders = 0;             // inbox sales received since the last write (explain drops)
    std::vector<Hold> held;                  // presumed sales kept at the last write, oldest first
    std::int64_t grace_seconds = 900;
    std::int64_t now = 0;                    // seconds since the epoch
};

struct Outcome {
    std::int64_t set = 0;          // the value to set in the shop
    std::vector<Hold> held;        // presumed sales still in their grace period, oldest first
    std::int64_t drift_rise = 0;   // units the shop rose by without us: drift, overwritten
    std::int64_t drift_drop = 0;   // held drops no order explained within the grace period: drift
    std::int64_t presumed = 0;     // sum of `held`
    std::string note;              // for the outbox row's log; empty when nothing unusual happened
};

// drop = last_set - shop_level (when both are known): a rise is drift at once,
// a drop joins the held presumed sales; orders received since the last write
// explain held drops oldest first; holds older than the grace period become
// drift. set = max(0, sellable - unabsorbed - presumed).
Outcome decide(const Inputs& in);

}  // namespace stockrelay::sales_aware
