// Ownership (stock_relay_sku_cache.product_id: the Odoo product that publishes
// the SKU on the channel, see worker.cpp check_ownership) is about Odoo's
// side and survives a move in the shop: a moved row keeps its product_id. A
// dropped row loses it, exactly like a cache miss: the next push of the SKU
// looks it up, and two shop items with it fail that push as duplicate_sku.
#include "reconcile_cache.hpp"

namespace stockrelay::sidecar {
namespace {

// Per SKU of the snapshot: how many distinct shop items carry it, whether
// they all track stock, whether any row is malformed, and the item when
// there is exactly one.
constexpr const char* kPerSku =
    "WITH s AS (SELECT sku, count(DISTINCT remote_id) AS items, bool_and(tracked) AS tracked, "
    "                  bool_or(problem IS NOT NULL) AS unsure, min(remote_id) AS remote_id, "
    "                  min(parent_id) AS parent_id "
    "             FROM stock_relay_snapshot WHERE reconcile_id = $2::bigint AND sku IS NOT NULL GROUP BY sku) ";

}  // namespace

CacheRefresh refresh_sku_cache(pg::Connection& conn, std::int64_t channel_id, std::int64_t reconcile_id) {
    CacheRefresh out;
    const auto params = pg::Params().add(channel_id).add(reconcile_id);
    const std::string drop = std::string(kPerSku) +
                             "DELETE FROM stock_relay_sku_cache c WHERE c.channel_id = $1::integer "
                             "   AND NOT EXISTS (SELECT 1 FROM s WHERE s.sku = c.sku AND s.unsure) "
                             "   AND NOT EXISTS (SELECT 1 FROM s WHERE s.sku = c.sku AND s.items = 1 AND s.tracked)";
    auto dropped = conn.exec(drop.c_str(), params);
    out.dropped = dropped.affected();
    const std::string count = std::string(kPerSku) +
                              "SELECT count(*) FILTER (WHERE c.remote_id <> s.remote_id OR c.parent_id <> s.parent_id), "
                              "       count(*) "
                              "  FROM stock_relay_sku_cache c JOIN s ON s.sku = c.sku "
                              " WHERE c.channel_id = $1::integer AND s.items = 1 AND s.tracked AND NOT s.unsure";
    auto moved = conn.exec(count.c_str(), params);
    out.moved = moved.i64(0, 0);
    out.confirmed = moved.i64(0, 1) - out.moved;
    const std::string follow = std::string(kPerSku) +
                               "UPDATE stock_relay_sku_cache c SET remote_id = s.remote_id, parent_id = s.parent_id, "
                               "       extra = CASE WHEN c.remote_id = s.remote_id AND c.parent_id = s.parent_id "
                               "                    THEN c.extra ELSE '{}'::jsonb END, "
                               "       resolved_at = (now() AT TIME ZONE 'UTC') "
                               "  FROM s WHERE c.channel_id = $1::integer AND s.sku = c.sku AND s.items = 1 "
                               "   AND s.tracked AND NOT s.unsure";
    conn.exec(follow.c_str(), params);
    return out;
}

}  // namespace stockrelay::sidecar
