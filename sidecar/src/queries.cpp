#include "queries.hpp"

#include <fmt/format.h>

#include "stockrelay/log.hpp"
#include "stockrelay/schema.hpp"

namespace stockrelay::sidecar::queries {
namespace {

constexpr const char* kStates[] = {"pending", "in_flight", "done", "failed", "superseded"};

}  // namespace

std::optional<int> schema_version(pg::Connection& conn) {
    auto exists = conn.exec("SELECT to_regclass('stock_relay_schema_version') IS NOT NULL");
    if (!exists.boolean(0, 0)) return std::nullopt;
    auto r = conn.exec("SELECT version FROM stock_relay_schema_version");
    if (r.rows() == 0) return std::nullopt;
    return static_cast<int>(r.i64(0, 0));
}

void apply_schema(pg::Connection& conn) {
    pg::Transaction tx(conn);
    conn.exec("SET LOCAL statement_timeout = 0");  // building an index on a big outbox may take a while
    conn.exec(schema::sql());
    tx.commit();
}

std::vector<ChannelRow> load_channels(pg::Connection& conn, bool enabled_only, std::optional<std::int64_t> only) {
    auto r = conn.exec(
        "SELECT c.id, c.name, c.channel_type, c.enabled, row_to_json(c)::text FROM stock_relay_channel c "
        "WHERE ($1::boolean IS FALSE OR c.enabled) AND ($2::integer IS NULL OR c.id = $2::integer) ORDER BY c.id",
        pg::Params().add(enabled_only ? "true" : "false").add(only));
    std::vector<ChannelRow> out;
    for (int i = 0; i < r.rows(); ++i)
        out.push_back({r.i64(i, 0), r.str(i, 1), r.str(i, 2), r.boolean(i, 3), r.str(i, 4)});
    return out;
}

std::vector<ClaimedRow> claim_in_tx(pg::Connection& conn, std::int64_t channel_id, const std::string& worker_id,
                                    std::chrono::seconds lease, int limit,
                                    const std::optional<std::string>& due_before, std::int64_t* recovered) {
    // A worker that died (kill -9, lost network) leaves rows in flight;
    // once the lease is over they go back to pending, or are superseded
    // when a newer value for the key is already waiting.
    auto rec = conn.exec(
        "UPDATE stock_relay_outbox AS o "
        "   SET state = CASE WHEN EXISTS (SELECT 1 FROM stock_relay_outbox p "
        "                                  WHERE p.state = 'pending' AND p.channel_id = o.channel_id "
        "                                    AND p.kind = o.kind AND p.product_id = o.product_id "
        "                                    AND p.location_key = o.location_key) "
        "                    THEN 'superseded' ELSE 'pending' END, "
        "       lease_until = NULL, "
        "       last_error = 'lease expired: ' || coalesce(o.leased_by, 'a worker') || ' did not acknowledge in time', "
        "       updated_at = (now() AT TIME ZONE 'UTC') "
        " WHERE o.channel_id = $1::integer AND o.state = 'in_flight' "
        "   AND o.lease_until < (now() AT TIME ZONE 'UTC')",
        pg::Params().add(channel_id));
    if (recovered) *recovered = rec.affected();
    auto r = conn.exec(
        // Plain joins here let the planner, which believes few rows are
        // in flight, compare every candidate with every in-flight row;
        // the hashed NOT IN and the id array keep a claim O(batch).
        "UPDATE stock_relay_outbox AS o "
        "   SET state = 'in_flight', "
        "       lease_until = (now() AT TIME ZONE 'UTC') + make_interval(secs => $3::integer), "
        "       leased_by = $2, attempts = o.attempts + 1, "
        "       updated_at = (now() AT TIME ZONE 'UTC') "
        " WHERE o.state = 'pending' AND o.id = ANY (ARRAY("
        "        SELECT p.id FROM stock_relay_outbox p "
        "         WHERE p.state = 'pending' AND p.channel_id = $1::integer AND p.kind = 'stock' "
        "           AND p.next_attempt_at <= coalesce($5::timestamp, (now() AT TIME ZONE 'UTC')) "
        "           AND (p.product_id, p.location_key) NOT IN ("
        "                SELECT f.product_id, f.location_key FROM stock_relay_outbox f "
        "                 WHERE f.state = 'in_flight' AND f.channel_id = $1::integer AND f.kind = 'stock') "
        "         ORDER BY p.priority DESC, p.next_attempt_at, p.id "  // live first; the claim index's order
        "         LIMIT $4::integer FOR UPDATE SKIP LOCKED)) "
        "RETURNING o.id, o.product_id, o.sku, o.location_key, o.quantity::text, o.version, o.attempts",
        pg::Params().add(channel_id).add(worker_id).add(static_cast<std::int64_t>(lease.count())).add(limit)
            .add(due_before));
    std::vector<ClaimedRow> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i)
        out.push_back({r.i64(i, 0), r.i64(i, 1), r.str(i, 2), r.str(i, 3), r.str(i, 4), r.i64(i, 5),
                       static_cast<int>(r.i64(i, 6))});
    return out;
}

std::vector<ClaimedRow> claim(pg::Connection& conn, std::int64_t channel_id, const std::string& worker_id,
                              std::chrono::seconds lease, int limit, const std::optional<std::string>& due_before,
                              std::int64_t* recovered) {
    for (int attempt = 1;; ++attempt) {
        try {
            pg::Transaction tx(conn);
            auto out = claim_in_tx(conn, channel_id, worker_id, lease, limit, due_before, recovered);
            tx.commit();
            return out;
        } catch (const pg::Error& e) {
            // Another replica put the same key in flight (or enqueued a pending
            // row while we recovered one) between our snapshot and our write.
            if ((e.unique_violation() || e.serialization_failure()) && attempt < 10) {
                log::debug("claim for channel {} raced another writer, retrying: {}", channel_id, e.what());
                continue;
            }
            throw;
        }
    }
}

std::int64_t extend_lease(pg::Connection& conn, const std::vector<std::int64_t>& ids, const std::string& worker_id,
                          std::chrono::seconds lease) {
    if (ids.empty()) return 0;
    return conn
        .exec("UPDATE stock_relay_outbox SET lease_until = (now() AT TIME ZONE 'UTC') + make_interval(secs => $3::integer) "
              " WHERE id = ANY($1::bigint[]) AND state = 'in_flight' AND leased_by = $2",
              pg::Params().add(pg::int_array(ids)).add(worker_id).add(static_cast<std::int64_t>(lease.count())))
        .affected();
}

std::int64_t requeue_refused(pg::Connection& conn, std::int64_t channel_id) {
    return retry_failed(conn, channel_id, std::nullopt, {"auth", "config"}).requeued;
}

std::string db_now(pg::Connection& conn) {
    return conn.exec("SELECT (now() AT TIME ZONE 'UTC')::text").str(0, 0);
}

std::optional<std::chrono::milliseconds> next_due(pg::Connection& conn, std::int64_t channel_id) {
    auto r = conn.exec(
        "SELECT (EXTRACT(EPOCH FROM (least("
        "  (SELECT min(next_attempt_at) FROM stock_relay_outbox WHERE state = 'pending' AND channel_id = $1::integer AND kind = 'stock'),"
        "  (SELECT min(lease_until) FROM stock_relay_outbox WHERE state = 'in_flight' AND channel_id = $1::integer)"
        ") - (now() AT TIME ZONE 'UTC'))) * 1000)::bigint",
        pg::Params().add(channel_id));
    if (r.is_null(0, 0)) return std::nullopt;
    return std::chrono::milliseconds{r.i64(0, 0)};
}

std::map<std::int64_t, std::chrono::milliseconds> row_ages(pg::Connection& conn, const std::vector<std::int64_t>& ids) {
    std::map<std::int64_t, std::chrono::milliseconds> out;
    if (ids.empty()) return out;
    auto r = conn.exec(
        "SELECT id, (EXTRACT(EPOCH FROM ((now() AT TIME ZONE 'UTC') - enqueued_at)) * 1000)::bigint "
        "  FROM stock_relay_outbox WHERE id = ANY($1::bigint[])",
        pg::Params().add(pg::int_array(ids)));
    for (int i = 0; i < r.rows(); ++i) out.emplace(r.i64(i, 0), std::chrono::milliseconds{r.i64(i, 1)});
    return out;
}

constexpr const char* kIso = "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'";

std::optional<ChannelStateRow> load_channel_state(pg::Connection& conn, std::int64_t channel_id) {
    const auto sql = fmt::format(
        "SELECT state, to_char(since, {0}), reason, error_code, worker_id, probes, to_char(next_probe_at, {0}) "
        "  FROM stock_relay_channel_state WHERE channel_id = $1::integer", kIso);
    auto r = conn.exec(sql.c_str(), pg::Params().add(channel_id));
    if (r.rows() == 0) return std::nullopt;
    return ChannelStateRow{r.str(0, 0), r.str(0, 1), r.opt(0, 2), r.opt(0, 3), r.opt(0, 4),
                           static_cast<int>(r.i64(0, 5)), r.opt(0, 6)};
}

void save_channel_state(pg::Connection& conn, std::int64_t channel_id, std::string_view state,
                        const std::optional<std::string>& reason, const std::optional<std::string>& error_code,
                        const std::string& worker_id, int probes, std::chrono::milliseconds next_probe_in) {
    conn.exec(
        "INSERT INTO stock_relay_channel_state AS s "
        "       (channel_id, state, since, reason, error_code, worker_id, probes, next_probe_at, updated_at) "
        "VALUES ($1::integer, $2::varchar, (now() AT TIME ZONE 'UTC'), $3::text, $4::varchar, $5::varchar, $6::integer, "
        "        CASE WHEN $2::varchar = 'flowing' THEN NULL "
        "             ELSE (now() AT TIME ZONE 'UTC') + $7::bigint * interval '1 millisecond' END, "
        "        (now() AT TIME ZONE 'UTC')) "
        "ON CONFLICT (channel_id) DO UPDATE SET "
        "       since = CASE WHEN s.state = EXCLUDED.state THEN s.since ELSE EXCLUDED.since END, "
        "       state = EXCLUDED.state, reason = EXCLUDED.reason, error_code = EXCLUDED.error_code, "
        "       worker_id = EXCLUDED.worker_id, probes = EXCLUDED.probes, next_probe_at = EXCLUDED.next_probe_at, "
        "       updated_at = EXCLUDED.updated_at",
        pg::Params().add(channel_id).add(std::string(state)).add(reason ? std::optional<std::string>(pg::sanitize_text(*reason)) : std::nullopt)
            .add(error_code).add(worker_id).add(static_cast<std::int64_t>(probes))
            .add(static_cast<std::int64_t>(next_probe_in.count())));
}

std::map<std::string, CachedSku> load_cache(pg::Connection& conn, std::int64_t channel_id,
                                            const std::vector<std::string>& skus, std::chrono::seconds max_age) {
    std::map<std::string, CachedSku> out;
    if (skus.empty()) return out;
    auto r = conn.exec(
        "SELECT sku, remote_id, parent_id, extra::text, product_id, "
        "       resolved_at <= (now() AT TIME ZONE 'UTC') - make_interval(secs => $3::bigint) "
        "  FROM stock_relay_sku_cache "
        "WHERE channel_id = $1::integer AND sku = ANY($2::varchar[])",
        pg::Params().add(channel_id).add(pg::text_array(skus)).add(static_cast<std::int64_t>(max_age.count())));
    for (int i = 0; i < r.rows(); ++i) {
        CachedSku c;
        c.resolution.remote_id = r.str(i, 1);
        c.resolution.parent_id = r.str(i, 2);
        c.resolution.extra = nlohmann::json::parse(r.get(i, 3), nullptr, false);
        if (c.resolution.extra.is_discarded() || !c.resolution.extra.is_object())
            c.resolution.extra = nlohmann::json::object();
        if (!r.is_null(i, 4)) c.owner = r.i64(i, 4);
        c.expired = r.boolean(i, 5);
        out.emplace(r.str(i, 0), std::move(c));
    }
    return out;
}

std::map<std::int64_t, std::string> current_skus(pg::Connection& conn, std::int64_t channel_id,
                                                 const std::vector<std::int64_t>& products) {
    std::map<std::int64_t, std::string> out;
    if (products.empty()) return out;
    auto r = conn.exec(
        "SELECT DISTINCT ON (product_id) product_id, sku FROM stock_relay_outbox "
        // kind: catalogue rows key product_id by template id and carry no SKU in `sku` (v5)
        " WHERE channel_id = $1::integer AND kind = 'stock' AND product_id = ANY($2::integer[]) "
        " ORDER BY product_id, id DESC",
        pg::Params().add(channel_id).add(pg::int_array(products)));
    for (int i = 0; i < r.rows(); ++i) out.emplace(r.i64(i, 0), r.str(i, 1));
    return out;
}

std::set<std::int64_t> rows_with_pending_successor(pg::Connection& conn, const std::vector<std::int64_t>& ids) {
    std::set<std::int64_t> out;
    if (ids.empty()) return out;
    auto r = conn.exec(
        "SELECT o.id FROM stock_relay_outbox o WHERE o.id = ANY($1::bigint[]) AND EXISTS ("
        "  SELECT 1 FROM stock_relay_outbox p WHERE p.state = 'pending' AND p.channel_id = o.channel_id "
        "     AND p.kind = o.kind AND p.product_id = o.product_id AND p.location_key = o.location_key "
        "     AND p.id <> o.id OFFSET 0)",  // OFFSET 0: a per-row probe of the pending-key index, not a join
        pg::Params().add(pg::int_array(ids)));
    for (int i = 0; i < r.rows(); ++i) out.insert(r.i64(i, 0));
    return out;
}

std::int64_t write_acks(pg::Connection& conn, const std::string& worker_id, const std::vector<AckRow>& rows) {
    if (rows.empty()) return 0;
    // A batch's rows mostly share one request/response excerpt: each distinct
    // text travels once and rows point at it (1-based; NULL keeps the old one).
    std::vector<std::string> texts;
    std::map<std::string, std::int64_t> text_index;
    auto intern = [&](const std::optional<std::string>& t) -> std::optional<std::string> {
        if (!t || t->empty()) return std::nullopt;
        auto [it, fresh] = text_index.emplace(*t, static_cast<std::int64_t>(texts.size()) + 1);
        if (fresh) texts.push_back(pg::sanitize_text(*t));
        return std::to_string(it->second);
    };
    std::vector<std::int64_t> ids, delays, refunds, statuses;
    std::vector<std::optional<std::string>> states, codes, errors, reqs, resps;
    for (const auto& a : rows) {
        ids.push_back(a.id);
        states.emplace_back(a.state);
        delays.push_back(a.delay.count());
        refunds.push_back(a.refund_attempt ? 1 : 0);
        statuses.push_back(a.http_status);
        codes.push_back(a.error_code);
        errors.push_back(a.last_error ? std::optional<std::string>(pg::sanitize_text(*a.last_error)) : std::nullopt);
        reqs.push_back(intern(a.request_excerpt));
        resps.push_back(intern(a.response_excerpt));
    }
    auto r = conn.exec(
        "UPDATE stock_relay_outbox AS o "
        "   SET state = a.state, "
        "       attempts = greatest(o.attempts - a.refund, 0), "
        "       next_attempt_at = CASE WHEN a.state = 'pending' AND a.delay_ms > 0 "
        "                              THEN (now() AT TIME ZONE 'UTC') + a.delay_ms * interval '1 millisecond' "
        "                              ELSE o.next_attempt_at END, "
        "       lease_until = NULL, "
        "       done_at = CASE WHEN a.state = 'done' THEN (now() AT TIME ZONE 'UTC') ELSE o.done_at END, "
        "       last_http_status = coalesce(nullif(a.http_status, 0), o.last_http_status), "
        "       error_code = a.error_code, "
        "       last_error = a.last_error, "
        "       request_excerpt = coalesce(($11::text[])[a.req], o.request_excerpt), "
        "       response_excerpt = coalesce(($11::text[])[a.resp], o.response_excerpt), "
        "       updated_at = (now() AT TIME ZONE 'UTC') "
        "  FROM unnest($1::bigint[], $2::varchar[], $3::bigint[], $4::integer[], $5::integer[], $6::varchar[], "
        "              $7::text[], $8::integer[], $9::integer[]) "
        "       AS a(id, state, delay_ms, refund, http_status, error_code, last_error, req, resp) "
        " WHERE o.id = a.id AND o.id = ANY($1::bigint[]) AND o.state = 'in_flight' AND o.leased_by = $10",
        pg::Params()
            .add(pg::int_array(ids))
            .add(pg::text_array(states))
            .add(pg::int_array(delays))
            .add(pg::int_array(refunds))
            .add(pg::int_array(statuses))
            .add(pg::text_array(codes))
            .add(pg::text_array(errors))
            .add(pg::text_array(reqs))
            .add(pg::text_array(resps))
            .add(worker_id)
            .add(pg::text_array(texts)));
    return r.affected();
}

void update_cache(pg::Connection& conn, std::int64_t channel_id, const std::map<std::string, CachedSku>& upserts,
                  const std::set<std::string>& drops) {
    if (!drops.empty()) {
        conn.exec("DELETE FROM stock_relay_sku_cache WHERE channel_id = $1::integer AND sku = ANY($2::varchar[])",
                  pg::Params().add(channel_id).add(pg::text_array(std::vector<std::string>(drops.begin(), drops.end()))));
    }
    if (upserts.empty()) return;
    std::vector<std::string> skus, remote, parent, extra;
    std::vector<std::optional<std::string>> owner;
    for (const auto& [sku, c] : upserts) {
        skus.push_back(sku);
        remote.push_back(c.resolution.remote_id);
        parent.push_back(c.resolution.parent_id);
        extra.push_back(c.resolution.extra.is_object() ? c.resolution.extra.dump() : "{}");
        owner.push_back(c.owner ? std::optional<std::string>{std::to_string(*c.owner)} : std::nullopt);
    }
    conn.exec(
        "INSERT INTO stock_relay_sku_cache (channel_id, sku, remote_id, parent_id, extra, product_id, resolved_at) "
        "SELECT $1::integer, u.sku, u.remote_id, u.parent_id, u.extra::jsonb, u.product_id::integer, "
        "       (now() AT TIME ZONE 'UTC') "
        "  FROM unnest($2::varchar[], $3::varchar[], $4::varchar[], $5::text[], $6::text[]) "
        "       AS u(sku, remote_id, parent_id, extra, product_id) "
        "ON CONFLICT (channel_id, sku) DO UPDATE SET remote_id = EXCLUDED.remote_id, parent_id = EXCLUDED.parent_id, "
        "       extra = EXCLUDED.extra, product_id = coalesce(EXCLUDED.product_id, stock_relay_sku_cache.product_id), "
        "       resolved_at = EXCLUDED.resolved_at",
        pg::Params().add(channel_id).add(pg::text_array(skus)).add(pg::text_array(remote)).add(pg::text_array(parent))
            .add(pg::text_array(extra)).add(pg::text_array(owner)));
}

RetryResult retry_failed(pg::Connection& conn, std::optional<std::int64_t> channel_id, std::optional<std::int64_t> row_id,
                         const std::vector<std::string>& error_codes) {
    pg::Transaction tx(conn);
    auto r = conn.exec("SELECT requeued, closed FROM stock_relay_retry_failed($1::integer, $2::bigint, $3::varchar[])",
                       pg::Params().add(channel_id).add(row_id).add(
                           error_codes.empty() ? std::optional<std::string>{} : std::optional<std::string>{pg::text_array(error_codes)}));
    tx.commit();
    return {r.i64(0, 0), r.i64(0, 1)};
}

namespace {

// Channel states (contract v2) and failed rows by reason, for `status`.
void add_health(pg::Connection& conn, std::optional<std::int64_t> only, std::vector<ChannelStatus>& out) {
    std::map<std::int64_t, ChannelStatus*> by_id;
    for (auto& s : out) by_id[s.id] = &s;
    const auto sql = fmt::format(
        "SELECT channel_id, coalesce(error_code, 'unknown'), count(*), to_char(max(updated_at), {}) "
        "  FROM stock_relay_outbox WHERE state = 'failed' AND ($1::integer IS NULL OR channel_id = $1::integer) "
        " GROUP BY 1, 2", kIso);
    auto f = conn.exec(sql.c_str(), pg::Params().add(only));
    for (int i = 0; i < f.rows(); ++i) {
        auto it = by_id.find(f.i64(i, 0));
        if (it == by_id.end()) continue;
        it->second->failed_by_reason[f.str(i, 1)] = f.i64(i, 2);
        auto at = f.str(i, 3);
        if (!it->second->last_failure_at || *it->second->last_failure_at < at) it->second->last_failure_at = at;
    }
    for (auto& [id, s] : by_id) {
        try {
            s->health = load_channel_state(conn, id);
        } catch (const pg::Error& e) {
            if (e.connection_lost()) throw;
            s->health = ChannelStateRow{"unknown", "", std::string(e.what()), std::nullopt, std::nullopt, 0,
                                        std::nullopt};  // e.g. a role without the v2 grant
        }
    }
}

}  // namespace

std::vector<ChannelStatus> status(pg::Connection& conn, std::optional<std::int64_t> only) {
    auto r = conn.exec(
        "SELECT c.id, c.name, c.channel_type, c.enabled, "
        "       count(o.id) FILTER (WHERE o.state = 'pending'), "
        "       count(o.id) FILTER (WHERE o.state = 'in_flight'), "
        "       count(o.id) FILTER (WHERE o.state = 'done'), "
        "       count(o.id) FILTER (WHERE o.state = 'failed'), "
        "       count(o.id) FILTER (WHERE o.state = 'superseded'), "
        "       EXTRACT(EPOCH FROM ((now() AT TIME ZONE 'UTC') - min(o.enqueued_at) FILTER (WHERE o.state = 'pending'))), "
        "       to_char(max(o.done_at), 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'), "
        "       (SELECT coalesce(f.error_code || ': ', '') || coalesce(f.last_error, '') FROM stock_relay_outbox f "
        "         WHERE f.channel_id = c.id AND f.state = 'failed' ORDER BY f.updated_at DESC, f.id DESC LIMIT 1) "
        "  FROM stock_relay_channel c LEFT JOIN stock_relay_outbox o ON o.channel_id = c.id "
        " WHERE ($1::integer IS NULL OR c.id = $1::integer) "
        " GROUP BY c.id ORDER BY c.id",
        pg::Params().add(only));
    std::vector<ChannelStatus> out;
    for (int i = 0; i < r.rows(); ++i) {
        ChannelStatus s;
        s.id = r.i64(i, 0);
        s.name = r.str(i, 1);
        s.type = r.str(i, 2);
        s.enabled = r.boolean(i, 3);
        for (int k = 0; k < 5; ++k) s.counts[kStates[k]] = r.i64(i, 4 + k);
        if (!r.is_null(i, 9)) s.oldest_pending_seconds = r.f64(i, 9);
        s.last_success = r.opt(i, 10);
        s.last_error = r.opt(i, 11);
        out.push_back(std::move(s));
    }
    add_health(conn, only, out);
    return out;
}

}  // namespace stockrelay::sidecar::queries
