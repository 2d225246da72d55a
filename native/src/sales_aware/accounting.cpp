#include "stockrelay/sales_aware/accounting.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace stockrelay::sales_aware {
namespace {

// Orders explain the oldest holds first: the sale behind an order received
// now is the oldest drop nobody has explained yet.
std::vector<Hold> explain(std::vector<Hold> held, std::int64_t orders) {
    std::vector<Hold> left;
    for (auto& h : held) {
        const auto used = std::min(orders, h.quantity);
        orders -= used;
        h.quantity -= used;
        if (h.quantity > 0) left.push_back(h);
    }
    return left;
}

void add_note(std::string& note, const std::string& part) {
    if (!note.empty()) note += "; ";
    note += part;
}

}  // namespace

Outcome decide(const Inputs& in) {
    Outcome out;
    std::vector<Hold> held = in.held;
    if (in.last_set && in.shop_level) {
        const std::int64_t drop = *in.last_set - *in.shop_level;
        if (drop > 0) held.push_back({drop, in.now});
        if (drop < 0) {
            out.drift_rise = -drop;
            add_note(out.note, fmt::format("drift: the shop rose from {} (our last value) to {} without a sale order; "
                                           "overwritten with Odoo's number",
                                           *in.last_set, *in.shop_level));
        }
    }
    held = explain(std::move(held), std::max<std::int64_t>(0, in.new_orders));
    for (const auto& h : held) {
        if (in.now - h.since >= in.grace_seconds)
            out.drift_drop += h.quantity;
        else
            out.held.push_back(h);
    }
    if (out.drift_drop > 0)
        add_note(out.note, fmt::format("drift: {} unit(s) left the shop and no order explained them within the grace "
                                       "period ({} s); overwritten with Odoo's number",
                                       out.drift_drop, in.grace_seconds));
    for (const auto& h : out.held) out.presumed += h.quantity;
    const std::int64_t unabsorbed = std::max<std::int64_t>(0, in.unabsorbed);
    out.set = std::max<std::int64_t>(0, in.sellable - unabsorbed - out.presumed);
    if (out.presumed > 0)
        add_note(out.note, fmt::format("{} unit(s) held back as presumed shop sales not yet seen as orders", out.presumed));
    if (unabsorbed > 0)
        add_note(out.note, fmt::format("{} unit(s) held back for shop orders Odoo has not confirmed yet", unabsorbed));
    return out;
}

}  // namespace stockrelay::sales_aware
