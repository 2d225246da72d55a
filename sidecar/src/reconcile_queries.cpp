#include "reconcile_queries.hpp"

#include <map>


namespace stockrelay::sidecar::reconcile_queries {
namespace {


std::string lease_secs(std::chrono::seconds lease) { return std::to_string(lease.count()); }

// The page's rows, one per (remote_id, location_key) (the last wins: a shop
// that lists an item twice must not break the insert).
void insert_snapshot(pg::Connection& conn, const Claimed& run, const std::vector<channels::InventoryRecord>& page) {
    std::map<std::pair<std::string, std::string>, const channels::InventoryRecord*> rows;
    for (const auto& r : page) rows[{r.remote_id, r.location_key}] = &r;
    if (rows.empty()) return;
    std::vector<std::string> remote, parent, loc, tracked;
    std::vector<std::optional<std::string>> sku, qty, problem;
    for (const auto& [key, r] : rows) {
        remote.push_back(pg::sanitize_text(r->remote_id));
        parent.push_back(pg::sanitize_text(r->parent_id));
        loc.push_back(pg::sanitize_text(r->location_key));
        tracked.push_back(r->tracked ? "t" : "f");
        sku.push_back(r->sku ? std::optional<std::string>(pg::sanitize_text(*r->sku)) : std::nullopt);
        qty.push_back(r->quantity ? std::optional<std::string>(std::to_string(*r->quantity)) : std::nullopt);
        problem.push_back(r->problem.empty() ? std::nullopt : std::optional<std::string>(pg::sanitize_text(r->problem)));
    }
    conn.exec(
        "INSERT INTO stock_relay_snapshot (reconcile_id, channel_id, remote_id, parent_id, sku, location_key, quantity, "
        "                                  tracked, problem) "
        "SELECT $1::bigint, $2::integer, u.remote_id, u.parent_id, u.sku, u.location_key, u.quantity::numeric, "
        "       u.tracked::boolean, u.problem "
        "  FROM unnest($3::varchar[], $4::varchar[], $5::varchar[], $6::varchar[], $7::text[], $8::text[], $9::text[]) "
        "       AS u(remote_id, parent_id, sku, location_key, quantity, tracked, problem) "
        "ON CONFLICT (reconcile_id, remote_id, location_key) DO UPDATE SET parent_id = EXCLUDED.parent_id, "
        "       sku = EXCLUDED.sku, quantity = EXCLUDED.quantity, tracked = EXCLUDED.tracked, "
        "       problem = EXCLUDED.problem, seen_at = EXCLUDED.seen_at",
        pg::Params().add(run.id).add(run.channel_id).add(pg::text_array(remote)).add(pg::text_array(parent))
            .add(pg::text_array(sku)).add(pg::text_array(loc)).add(pg::text_array(qty)).add(pg::text_array(tracked))
            .add(pg::text_array(problem)));
}

RunRow row_of(const pg::Result& r, int i) {
    RunRow x;
    x.id = r.i64(i, 0);
    x.channel_id = r.i64(i, 1);
    x.state = r.str(i, 2);
    x.requested_at = r.opt(i, 3);
    x.started_at = r.opt(i, 4);
    x.read_at = r.opt(i, 5);
    x.done_at = r.opt(i, 6);
    x.items_read = r.i64(i, 7);
    x.malformed = r.i64(i, 8);
    x.api_calls = r.i64(i, 9);
    x.cost_points = r.i64(i, 10);
    x.attempts = r.i64(i, 11);
    x.method = r.opt(i, 12);
    x.error_code = r.opt(i, 13);
    x.last_error = r.opt(i, 14);
    if (!r.is_null(i, 15)) x.items_compared = r.i64(i, 15);
    if (!r.is_null(i, 16)) x.drift_found = r.i64(i, 16);
    if (!r.is_null(i, 17)) x.healed = r.i64(i, 17);
    if (!r.is_null(i, 18)) x.read_seconds = r.f64(i, 18);
    return x;
}

constexpr const char* kRunColumns =
    "id, channel_id, state, to_char(requested_at, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
    "to_char(started_at, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), to_char(read_at, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
    "to_char(done_at, 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), items_read, malformed, api_calls, cost_points, attempts, "
    "method, error_code, last_error, items_compared, drift_found, healed, "
    "extract(epoch FROM read_at - started_at)::float8";

}  // namespace

std::optional<Claimed> claim(pg::Connection& conn, const std::string& worker_id, std::chrono::seconds lease,
                             std::optional<std::int64_t> channel) {
    auto r = conn.exec(
        "WITH c AS (SELECT id FROM stock_relay_reconcile "
        "            WHERE ((state = 'pending' AND (lease_until IS NULL OR lease_until <= (now() AT TIME ZONE 'UTC'))) "
        "                OR (state = 'reading' AND (lease_until IS NULL OR lease_until <= (now() AT TIME ZONE 'UTC')))) "
        "              AND ($3::integer IS NULL OR channel_id = $3::integer) "
        "            ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) "
        "UPDATE stock_relay_reconcile r SET state = 'reading', leased_by = $1, attempts = r.attempts + 1, "
        "       lease_until = (now() AT TIME ZONE 'UTC') + make_interval(secs => $2::bigint), "
        "       started_at = coalesce(r.started_at, (now() AT TIME ZONE 'UTC')) "
        "  FROM c WHERE r.id = c.id "
        "RETURNING r.id, r.channel_id, r.cursor::text, r.attempts",
        pg::Params().add(worker_id).add(lease_secs(lease)).add(channel));
    if (r.rows() == 0) return std::nullopt;
    Claimed c;
    c.id = r.i64(0, 0);
    c.channel_id = r.i64(0, 1);
    c.cursor = r.is_null(0, 2) ? nlohmann::json() : nlohmann::json::parse(r.get(0, 2), nullptr, false);
    if (c.cursor.is_discarded()) c.cursor = nullptr;
    c.attempts = static_cast<int>(r.i64(0, 3));
    return c;
}

bool store_page(pg::Connection& conn, const Claimed& run, const std::string& worker_id, std::chrono::seconds lease,
                const std::vector<channels::InventoryRecord>& page, const nlohmann::json& cursor, int api_calls,
                int cost_points) {
    pg::Transaction tx(conn);
    auto r = conn.exec(
        "UPDATE stock_relay_reconcile SET cursor = $3::jsonb, api_calls = api_calls + $4::integer, "
        "       cost_points = cost_points + $5::integer, items_read = items_read + $6::integer, "
        "       lease_until = (now() AT TIME ZONE 'UTC') + make_interval(secs => $7::bigint) "
        " WHERE id = $1::bigint AND leased_by = $2 AND state = 'reading' RETURNING id",
        pg::Params().add(run.id).add(worker_id).add(cursor.dump()).add(api_calls).add(cost_points)
            .add(static_cast<std::int64_t>(page.size())).add(lease_secs(lease)));
    if (r.rows() == 0) return false;
    insert_snapshot(conn, run, page);
    tx.commit();
    return true;
}

std::optional<Totals> complete(pg::Connection& conn, const Claimed& run, const std::string& worker_id,
                               const std::string& method, int api_calls, int cost_points) {
    pg::Transaction tx(conn);
    auto r = conn.exec(
        "UPDATE stock_relay_reconcile r SET state = 'read', read_at = (now() AT TIME ZONE 'UTC'), method = $3, "
        "       api_calls = api_calls + $4::integer, cost_points = cost_points + $5::integer, lease_until = NULL, "
        "       error_code = NULL, last_error = NULL, "
        "       items_read = (SELECT count(*) FROM stock_relay_snapshot s WHERE s.reconcile_id = r.id), "
        "       malformed = (SELECT count(*) FROM stock_relay_snapshot s WHERE s.reconcile_id = r.id "
        "                       AND s.problem IS NOT NULL) "
        " WHERE id = $1::bigint AND leased_by = $2 AND state = 'reading' RETURNING items_read, malformed",
        pg::Params().add(run.id).add(worker_id).add(method).add(api_calls).add(cost_points));
    if (r.rows() == 0) return std::nullopt;
    Totals t{r.i64(0, 0), r.i64(0, 1), {}};
    t.cache = refresh_sku_cache(conn, run.channel_id, run.id);
    conn.exec(
        "DELETE FROM stock_relay_snapshot WHERE channel_id = $1::integer AND reconcile_id IN ("
        "  SELECT id FROM stock_relay_reconcile WHERE channel_id = $1::integer AND id < $2::bigint "
        "   ORDER BY id DESC OFFSET $3::integer)",
        pg::Params().add(run.channel_id).add(run.id).add(kKeepSnapshots - 1));
    conn.exec("SELECT stock_relay_wake_odoo('stock_relay.ir_cron_stock_relay_reconcile')");
    tx.commit();
    return t;
}

void postpone(pg::Connection& conn, const Claimed& run, const std::string& worker_id, const Error& error,
              std::chrono::milliseconds retry_in, int api_calls, int cost_points) {
    conn.exec(
        "UPDATE stock_relay_reconcile SET leased_by = NULL, "
        "       lease_until = (now() AT TIME ZONE 'UTC') + make_interval(secs => $3::float8 / 1000), "
        "       error_code = $4, last_error = $5, api_calls = api_calls + $6::integer, "
        "       cost_points = cost_points + $7::integer "
        " WHERE id = $1::bigint AND leased_by = $2 AND state = 'reading'",
        pg::Params().add(run.id).add(worker_id).add(static_cast<std::int64_t>(retry_in.count()))
            .add(std::string(to_string(error.code))).add(pg::sanitize_text(error.message)).add(api_calls).add(cost_points));
}

void fail(pg::Connection& conn, const Claimed& run, const std::string& worker_id, const Error& error, int api_calls,
          int cost_points) {
    pg::Transaction tx(conn);
    auto r = conn.exec(
        "UPDATE stock_relay_reconcile SET state = 'failed', lease_until = NULL, error_code = $3, last_error = $4, "
        "       api_calls = api_calls + $5::integer, cost_points = cost_points + $6::integer "
        " WHERE id = $1::bigint AND leased_by = $2 AND state = 'reading' RETURNING id",
        pg::Params().add(run.id).add(worker_id).add(std::string(to_string(error.code)))
            .add(pg::sanitize_text(error.message)).add(api_calls).add(cost_points));
    if (r.rows() > 0)  // an incomplete snapshot is never compared
        conn.exec("DELETE FROM stock_relay_snapshot WHERE reconcile_id = $1::bigint", pg::Params().add(run.id));
    tx.commit();
}

std::pair<std::int64_t, bool> request(pg::Connection& conn, std::int64_t channel_id, bool heal,
                                      const std::string& requested_by) {
    pg::Transaction tx(conn);
    auto r = conn.exec(
        "INSERT INTO stock_relay_reconcile (channel_id, heal, requested_by) VALUES ($1::integer, $2::boolean, $3) "
        "ON CONFLICT (channel_id) WHERE state IN ('pending', 'reading') DO NOTHING RETURNING id",
        pg::Params().add(channel_id).add(heal ? "true" : "false").add(requested_by));
    std::pair<std::int64_t, bool> out{0, r.rows() > 0};
    if (out.second) {
        out.first = r.i64(0, 0);
    } else {
        auto o = conn.exec(
            "SELECT id FROM stock_relay_reconcile WHERE channel_id = $1::integer AND state IN ('pending', 'reading')",
            pg::Params().add(channel_id));
        if (o.rows() > 0) out.first = o.i64(0, 0);
    }
    tx.commit();
    return out;
}

std::optional<RunRow> get(pg::Connection& conn, std::int64_t id) {
    const std::string sql = std::string("SELECT ") + kRunColumns + " FROM stock_relay_reconcile WHERE id = $1::bigint";
    auto r = conn.exec(sql.c_str(), pg::Params().add(id));
    if (r.rows() == 0) return std::nullopt;
    return row_of(r, 0);
}

std::vector<RunRow> latest(pg::Connection& conn, std::optional<std::int64_t> only) {
    const std::string sql = std::string("SELECT DISTINCT ON (channel_id) ") + kRunColumns +
                            " FROM stock_relay_reconcile WHERE $1::integer IS NULL OR channel_id = $1::integer "
                            "ORDER BY channel_id, id DESC";
    auto r = conn.exec(sql.c_str(), pg::Params().add(only));
    std::vector<RunRow> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(row_of(r, i));
    return out;
}

}  // namespace stockrelay::sidecar::reconcile_queries
