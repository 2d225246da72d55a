#include "sales_guard.hpp"

#include <algorithm>
#include <set>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "stockrelay/log.hpp"
#include "stockrelay/sales_aware/orders.hpp"

namespace stockrelay::sidecar {
namespace {

using sales_aware::OrderLine;

struct Snapshot {
    std::int64_t grace = 900;
    std::int64_t now = 0;   // the database's clock, epoch seconds
    std::int64_t mark = 0;  // newest inbox id of the channel
    struct Last {
        std::int64_t quantity = 0;
        std::string remote_id;
        std::int64_t mark = 0;
        std::vector<sales_aware::Hold> held;
    };
    std::map<std::pair<std::string, std::string>, Last> last;
    std::map<std::int64_t, std::int64_t> valued_at;  // row id -> microseconds
    std::set<std::int64_t> heals;                    // rows of a reconcile heal (trigger 'reconcile')
    std::vector<OrderLine> orders;
};

void load_heads(pg::Connection& conn, std::int64_t channel_id, Snapshot& s) {
    auto r = conn.exec(
        "SELECT c.sales_grace_seconds, floor(extract(epoch FROM now()))::bigint, "
        "       coalesce((SELECT max(id) FROM stock_relay_inbox WHERE channel_id = c.id), 0) "
        "  FROM stock_relay_channel c WHERE c.id = $1",
        pg::Params().add(channel_id));
    if (r.rows() == 0) return;
    s.grace = r.i64(0, 0);
    s.now = r.i64(0, 1);
    s.mark = r.i64(0, 2);
}

void load_last(pg::Connection& conn, std::int64_t channel_id, const std::vector<std::string>& skus, Snapshot& s) {
    auto r = conn.exec(
        "SELECT sku, location_key, quantity, inbox_mark, held::text, remote_id FROM stock_relay_last_set "
        " WHERE channel_id = $1 AND sku = ANY($2::varchar[])",
        pg::Params().add(channel_id).add(pg::text_array(skus)));
    for (int i = 0; i < r.rows(); ++i)
        s.last[{r.str(i, 0), r.str(i, 1)}] = {r.i64(i, 2), r.str(i, 5), r.i64(i, 3), holds_from_json(r.get(i, 4))};
}

void load_valued(pg::Connection& conn, const std::vector<std::int64_t>& ids, Snapshot& s) {
    auto r = conn.exec(
        "SELECT id, (extract(epoch FROM coalesce(valued_at, enqueued_at)) * 1000000)::bigint, trigger = 'reconcile' "
        "  FROM stock_relay_outbox WHERE id = ANY($1::bigint[])",
        pg::Params().add(pg::int_array(ids)));
    for (int i = 0; i < r.rows(); ++i) {
        s.valued_at[r.i64(i, 0)] = r.i64(i, 1);
        if (r.boolean(i, 2)) s.heals.insert(r.i64(i, 0));
    }
}

// Per (order, SKU): the quantity of the order's newest event that is not
// 'ignored', whether that event cancels it, when Odoo confirmed it (0: before
// absorptions were recorded) and the order's first inbox id. Only orders that
// can matter: open ones, confirmed after the oldest number of the batch, or
// received after the oldest mark.
void load_orders(pg::Connection& conn, std::int64_t channel_id, const std::vector<std::string>& skus,
                 const std::vector<std::int64_t>& ids, std::int64_t min_mark, Snapshot& s) {
    auto r = conn.exec(
        "WITH cand AS ("
        "  SELECT shop_order_id FROM stock_relay_inbox"
        "   WHERE channel_id = $1 AND state IN ('pending', 'processing', 'failed')"
        "  UNION SELECT i.shop_order_id FROM stock_relay_inbox_absorbed a JOIN stock_relay_inbox i ON i.id = a.inbox_id"
        "   WHERE i.channel_id = $1 AND a.absorbed_at >"
        "         (SELECT min(coalesce(valued_at, enqueued_at)) FROM stock_relay_outbox WHERE id = ANY($3::bigint[]))"
        "  UNION SELECT shop_order_id FROM stock_relay_inbox WHERE channel_id = $1 AND id > $4"
        "), ev AS ("
        "  SELECT i.id, i.shop_order_id, i.state, i.payload, a.absorbed_at"
        "    FROM stock_relay_inbox i JOIN cand USING (shop_order_id)"
        "    LEFT JOIN stock_relay_inbox_absorbed a ON a.inbox_id = i.id"
        "   WHERE i.channel_id = $1 AND i.state <> 'ignored'"
        "), ord AS ("
        "  SELECT shop_order_id, min(id) AS first_id,"
        "         min(CASE WHEN state = 'done' THEN coalesce(absorbed_at, '-infinity') END) AS absorbed_at,"
        "         (array_agg(payload ORDER BY id DESC))[1]->'order' AS o"
        "    FROM ev GROUP BY shop_order_id"
        ") "
        "SELECT ord.shop_order_id, l->>'sku',"
        "       sum(CASE WHEN jsonb_typeof(l->'quantity') = 'number' THEN (l->>'quantity')::numeric ELSE 0 END)::bigint,"
        "       coalesce(o->>'status', '') = 'cancelled',"
        "       CASE WHEN absorbed_at = '-infinity' THEN 0"
        "            ELSE (extract(epoch FROM absorbed_at) * 1000000)::bigint END,"
        "       first_id"
        "  FROM ord CROSS JOIN LATERAL jsonb_array_elements("
        "         CASE WHEN jsonb_typeof(o->'lines') = 'array' THEN o->'lines' ELSE '[]'::jsonb END) AS l"
        " WHERE l->>'sku' = ANY($2::varchar[])"
        " GROUP BY 1, 2, 4, 5, 6",
        pg::Params().add(channel_id).add(pg::text_array(skus)).add(pg::int_array(ids)).add(min_mark));
    for (int i = 0; i < r.rows(); ++i) {
        OrderLine l;
        l.order_id = r.str(i, 0);
        l.sku = r.str(i, 1);
        l.quantity = r.i64(i, 2);
        l.cancelled = r.boolean(i, 3);
        if (!r.is_null(i, 4)) l.absorbed_at = r.i64(i, 4);
        l.first_inbox_id = r.i64(i, 5);
        s.orders.push_back(std::move(l));
    }
}

Snapshot load(pg::Connection& conn, std::int64_t channel_id, const std::vector<channels::PushItem>& items) {
    Snapshot s;
    std::vector<std::string> skus;
    std::vector<std::int64_t> ids;
    for (const auto& it : items) {
        skus.push_back(it.sku);
        ids.push_back(it.row_id);
    }
    std::sort(skus.begin(), skus.end());
    skus.erase(std::unique(skus.begin(), skus.end()), skus.end());
    pg::Transaction tx(conn);
    conn.exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY");  // one snapshot for all reads
    load_heads(conn, channel_id, s);
    load_last(conn, channel_id, skus, s);
    load_valued(conn, ids, s);
    std::int64_t min_mark = s.mark;
    for (const auto& [key, last] : s.last) min_mark = std::min(min_mark, last.mark);
    load_orders(conn, channel_id, skus, ids, min_mark, s);
    tx.commit();
    return s;
}

}  // namespace

std::vector<sales_aware::Hold> holds_from_json(std::string_view text) {
    std::vector<sales_aware::Hold> out;
    const auto j = nlohmann::json::parse(text, nullptr, false);
    if (!j.is_array()) return out;
    for (const auto& h : j)
        if (h.is_object() && h.value("quantity", nlohmann::json()).is_number_integer() &&
            h.value("since", nlohmann::json()).is_number_integer() && h["quantity"].get<std::int64_t>() > 0)
            out.push_back({h["quantity"].get<std::int64_t>(), h["since"].get<std::int64_t>()});
    return out;
}

std::string holds_to_json(const std::vector<sales_aware::Hold>& holds) {
    auto j = nlohmann::json::array();
    for (const auto& h : holds) j.push_back({{"quantity", h.quantity}, {"since", h.since}});
    return j.dump();
}

void SalesGuard::arm(pg::Connection& conn, std::int64_t channel_id, std::vector<channels::PushItem>& items) {
    by_row_.clear();
    if (items.empty()) return;
    const auto s = load(conn, channel_id, items);
    for (auto& it : items) {
        auto k = std::make_shared<Key>();
        k->row_id = it.row_id;
        k->sku = it.sku;
        k->location_key = it.location_key;
        if (it.cached) k->remote_id = it.cached->remote_id;
        k->odoo = it.quantity;
        k->mark = s.mark;
        auto& in = k->in;
        in.sellable = it.quantity;
        // A heal is the operator's verdict on a reconcile report: what the shop
        // lost without an order is drift now (orders in the inbox still count).
        in.grace_seconds = s.heals.count(it.row_id) ? 0 : s.grace;
        in.now = s.now;
        const auto valued = s.valued_at.count(it.row_id) ? s.valued_at.at(it.row_id) : s.now * 1'000'000;
        in.unabsorbed = sales_aware::unabsorbed(s.orders, it.sku, valued);
        if (auto l = s.last.find({it.sku, it.location_key}); l != s.last.end()) {
            in.last_set = l->second.quantity;
            it.last_set_remote = l->second.remote_id;
            in.held = l->second.held;
            in.new_orders = sales_aware::received_between(s.orders, it.sku, l->second.mark, s.mark);
        }
        k->out = sales_aware::decide(in);
        it.quantity = k->out.set;
        it.last_set = in.last_set;
        it.on_level = [k](std::int64_t level) {
            auto with_level = k->in;
            with_level.shop_level = level;
            k->out = sales_aware::decide(with_level);
            log::debug("sales-aware: row {} sku '{}': odoo {} last {} level {} unabsorbed {} new orders {} held {} -> {}",
                       k->row_id, k->sku, k->odoo, with_level.last_set.value_or(-1), level, with_level.unabsorbed,
                       with_level.new_orders, holds_to_json(with_level.held), k->out.set);
            return k->out.set;
        };
        by_row_[it.row_id] = std::move(k);
    }
}

void SalesGuard::pushed(const channels::PushReport& report) {
    for (const auto& o : report.items)
        if (auto k = by_row_.find(o.row_id); k != by_row_.end() && o.resolved) k->second->remote_id = o.resolved->remote_id;
}

void SalesGuard::record(pg::Connection& conn, std::int64_t channel_id, const std::vector<std::int64_t>& done_ids) {
    std::vector<std::string> skus, locs, held, notes, remotes;
    std::vector<std::int64_t> rows, set, odoo, marks;
    for (auto id : done_ids) {
        auto it = by_row_.find(id);
        if (it == by_row_.end()) continue;
        const auto& k = *it->second;
        rows.push_back(id);
        skus.push_back(k.sku);
        locs.push_back(k.location_key);
        remotes.push_back(k.remote_id);
        set.push_back(k.out.set);
        odoo.push_back(k.odoo);
        marks.push_back(k.mark);
        held.push_back(holds_to_json(k.out.held));
        notes.push_back(k.out.note);
        if (k.out.drift_rise > 0 || k.out.drift_drop > 0)
            log::warn("channel {}: sku '{}' location '{}': {}", channel_id, k.sku, k.location_key, k.out.note);
    }
    if (rows.empty()) return;
    conn.exec(
        "INSERT INTO stock_relay_last_set AS s"
        "       (channel_id, sku, location_key, remote_id, quantity, odoo_quantity, outbox_id, inbox_mark, held, set_at)"
        " SELECT $1, u.sku, u.loc, u.remote, u.q, u.odoo, u.row, u.mark, u.held::jsonb, (now() AT TIME ZONE 'UTC')"
        "   FROM unnest($2::bigint[], $3::varchar[], $4::varchar[], $5::bigint[], $6::bigint[], $7::bigint[],"
        "               $8::text[], $9::varchar[]) AS u(row, sku, loc, q, odoo, mark, held, remote)"
        "   JOIN stock_relay_outbox o ON o.id = u.row AND o.state = 'done'"
        " ON CONFLICT (channel_id, sku, location_key) DO UPDATE"
        "   SET remote_id = EXCLUDED.remote_id, quantity = EXCLUDED.quantity, odoo_quantity = EXCLUDED.odoo_quantity, outbox_id = EXCLUDED.outbox_id,"
        "       inbox_mark = EXCLUDED.inbox_mark, held = EXCLUDED.held, set_at = EXCLUDED.set_at",
        pg::Params()
            .add(channel_id)
            .add(pg::int_array(rows))
            .add(pg::text_array(skus))
            .add(pg::text_array(locs))
            .add(pg::int_array(set))
            .add(pg::int_array(odoo))
            .add(pg::int_array(marks))
            .add(pg::text_array(held))
            .add(pg::text_array(remotes)));
    // The accounting is logged on the row, ahead of the shop's answer (most batches have nothing to say).
    if (std::all_of(notes.begin(), notes.end(), [](const std::string& n) { return n.empty(); })) return;
    conn.exec(
        "UPDATE stock_relay_outbox o SET response_excerpt = 'stockrelay: ' || u.note || coalesce(E'\\n' || o.response_excerpt, '')"
        "  FROM unnest($1::bigint[], $2::text[]) AS u(row, note)"
        " WHERE o.id = u.row AND u.note <> '' AND o.state = 'done'",
        pg::Params().add(pg::int_array(rows)).add(pg::text_array(notes)));
}

}  // namespace stockrelay::sidecar
