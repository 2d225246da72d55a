#include "stockrelay/sales_aware/orders.hpp"

namespace stockrelay::sales_aware {

std::int64_t unabsorbed(const std::vector<OrderLine>& lines, const std::string& sku, std::int64_t valued_at) {
    std::int64_t n = 0;
    for (const auto& l : lines) {
        if (l.sku != sku || l.cancelled || l.quantity <= 0) continue;
        if (l.absorbed_at && *l.absorbed_at <= valued_at) continue;
        n += l.quantity;
    }
    return n;
}

std::int64_t received_between(const std::vector<OrderLine>& lines, const std::string& sku, std::int64_t after_mark,
                              std::int64_t up_to_mark) {
    std::int64_t n = 0;
    for (const auto& l : lines)
        if (l.sku == sku && !l.cancelled && l.quantity > 0 && l.first_inbox_id > after_mark &&
            l.first_inbox_id <= up_to_mark)
            n += l.quantity;
    return n;
}

}  // namespace stockrelay::sales_aware
