#include "catalog_queries.hpp"

#include <algorithm>

#include "stockrelay/log.hpp"

namespace stockrelay::sidecar::catalog_queries {

using stockrelay::catalog::MapEntry;
using stockrelay::catalog::Mapping;

std::vector<queries::ChannelRow> catalog_channels(pg::Connection& conn, std::optional<std::int64_t> only) {
    std::vector<queries::ChannelRow> out;
    for (auto& c : queries::load_channels(conn, true, only))
        if (c.json.find("\"catalog_enabled\":true") != std::string::npos) out.push_back(std::move(c));
    return out;
}

std::vector<CatalogRow> claim(pg::Connection& conn, std::int64_t channel_id, const std::string& worker_id,
                              std::chrono::seconds lease, int limit, const std::optional<std::string>& due_before) {
    for (int attempt = 1;; ++attempt) {
        try {
            pg::Transaction tx(conn);
            conn.exec(
                "UPDATE stock_relay_outbox AS o "
                "   SET state = CASE WHEN EXISTS (SELECT 1 FROM stock_relay_outbox p "
                "                                  WHERE p.state = 'pending' AND p.channel_id = o.channel_id "
                "                                    AND p.kind = o.kind AND p.product_id = o.product_id "
                "                                    AND p.location_key = o.location_key) "
                "                    THEN 'superseded' ELSE 'pending' END, "
                "       lease_until = NULL, "
                "       last_error = 'lease expired: ' || coalesce(o.leased_by, 'a worker') || ' did not acknowledge in time', "
                "       updated_at = (now() AT TIME ZONE 'UTC') "
                " WHERE o.channel_id = $1::integer AND o.kind IN ('product', 'price') AND o.state = 'in_flight' "
                "   AND o.lease_until < (now() AT TIME ZONE 'UTC')",
                pg::Params().add(channel_id));
            // Product rows before price rows of the same template (a price
            // needs the product), live edits before bulk syncs, oldest first.
            auto r = conn.exec(
                "UPDATE stock_relay_outbox AS o "
                "   SET state = 'in_flight', "
                "       lease_until = (now() AT TIME ZONE 'UTC') + make_interval(secs => $3::integer), "
                "       leased_by = $2, attempts = o.attempts + 1, updated_at = (now() AT TIME ZONE 'UTC') "
                " WHERE o.state = 'pending' AND o.id = ANY (ARRAY("
                "        SELECT p.id FROM stock_relay_outbox p "
                "         WHERE p.state = 'pending' AND p.channel_id = $1::integer AND p.kind IN ('product', 'price') "
                "           AND p.next_attempt_at <= coalesce($5::timestamp, (now() AT TIME ZONE 'UTC')) "
                "           AND (p.kind, p.product_id) NOT IN ("
                "                SELECT f.kind, f.product_id FROM stock_relay_outbox f "
                "                 WHERE f.state = 'in_flight' AND f.channel_id = $1::integer "
                "                   AND f.kind IN ('product', 'price')) "
                "         ORDER BY p.priority DESC, p.kind DESC, p.next_attempt_at, p.id "
                "         LIMIT $4::integer FOR UPDATE SKIP LOCKED)) "
                "RETURNING o.id, o.kind, o.product_id, o.sku, coalesce(o.payload::text, ''), o.version, o.attempts",
                pg::Params().add(channel_id).add(worker_id).add(static_cast<std::int64_t>(lease.count())).add(limit)
                    .add(due_before));
            std::vector<CatalogRow> out;
            for (int i = 0; i < r.rows(); ++i)
                out.push_back({r.i64(i, 0), r.str(i, 1), r.i64(i, 2), r.str(i, 3), r.str(i, 4), r.i64(i, 5),
                               static_cast<int>(r.i64(i, 6))});
            tx.commit();
            // Product rows first (ORDER BY in the subquery does not order RETURNING).
            std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
                return a.kind == "product" && b.kind != "product";
            });
            return out;
        } catch (const pg::Error& e) {
            if ((e.unique_violation() || e.serialization_failure()) && attempt < 10) continue;
            throw;
        }
    }
}

Mapping load_mapping(pg::Connection& conn, std::int64_t channel_id, std::int64_t template_id) {
    auto r = conn.exec(
        "SELECT external_id, object, template_id, product_id, remote_id, parent_remote_id, coalesce(handle, ''), "
        "       coalesce(document_hash, ''), adopted "
        "  FROM stock_relay_catalog_map WHERE channel_id = $1::integer AND template_id = $2::integer",
        pg::Params().add(channel_id).add(template_id));
    Mapping m;
    for (int i = 0; i < r.rows(); ++i) {
        MapEntry e;
        e.external_id = r.str(i, 0);
        e.object = r.str(i, 1);
        e.template_id = r.i64(i, 2);
        if (!r.is_null(i, 3)) e.product_id = r.i64(i, 3);
        e.remote_id = r.str(i, 4);
        e.parent_remote_id = r.str(i, 5);
        e.handle = r.str(i, 6);
        e.document_hash = r.str(i, 7);
        e.adopted = r.boolean(i, 8);
        m.entries.push_back(std::move(e));
    }
    return m;
}

void write_mapping(pg::Connection& conn, std::int64_t channel_id, const std::vector<MapEntry>& entries,
                   const std::vector<std::string>& unmap) {
    if (!unmap.empty())
        conn.exec("DELETE FROM stock_relay_catalog_map WHERE channel_id = $1::integer AND external_id = ANY($2::varchar[])",
                  pg::Params().add(channel_id).add(pg::text_array(unmap)));
    for (const auto& e : entries) {
        conn.exec(
            "INSERT INTO stock_relay_catalog_map AS m (channel_id, external_id, object, template_id, product_id, "
            "       remote_id, parent_remote_id, handle, document_hash, adopted, synced_at) "
            "VALUES ($1::integer, $2, $3, $4::integer, $5::integer, $6, $7, nullif($8, ''), nullif($9, ''), "
            "        $10::boolean, (now() AT TIME ZONE 'UTC')) "
            "ON CONFLICT (channel_id, external_id) DO UPDATE SET object = EXCLUDED.object, "
            "       template_id = EXCLUDED.template_id, product_id = EXCLUDED.product_id, "
            "       remote_id = EXCLUDED.remote_id, parent_remote_id = EXCLUDED.parent_remote_id, "
            "       handle = coalesce(EXCLUDED.handle, m.handle), "
            "       document_hash = coalesce(EXCLUDED.document_hash, m.document_hash), "
            "       adopted = m.adopted OR EXCLUDED.adopted, synced_at = EXCLUDED.synced_at",
            pg::Params().add(channel_id).add(e.external_id).add(e.object).add(e.template_id).add(e.product_id)
                .add(e.remote_id).add(e.parent_remote_id).add(e.handle).add(e.document_hash)
                .add(e.adopted ? "true" : "false"));
    }
}

bool product_row_open(pg::Connection& conn, std::int64_t channel_id, std::int64_t template_id) {
    return conn
        .exec("SELECT EXISTS (SELECT 1 FROM stock_relay_outbox WHERE channel_id = $1::integer AND kind = 'product' "
              "   AND product_id = $2::integer AND state IN ('pending', 'in_flight'))",
              pg::Params().add(channel_id).add(template_id))
        .boolean(0, 0);
}

std::set<std::string> skus_awaiting_product(pg::Connection& conn, std::int64_t channel_id,
                                            const std::vector<std::string>& skus) {
    std::set<std::string> out;
    if (skus.empty()) return out;
    auto r = conn.exec(
        "SELECT DISTINCT v->>'sku' FROM stock_relay_outbox o, jsonb_array_elements(o.payload->'variants') v "
        " WHERE o.channel_id = $1::integer AND o.kind = 'product' AND o.state IN ('pending', 'in_flight') "
        "   AND jsonb_typeof(o.payload->'variants') = 'array' AND v->>'sku' = ANY($2::varchar[])",
        pg::Params().add(channel_id).add(pg::text_array(skus)));
    for (int i = 0; i < r.rows(); ++i) out.insert(r.str(i, 0));
    return out;
}

std::vector<std::string> newest_documents(pg::Connection& conn, std::int64_t channel_id,
                                          std::optional<std::int64_t> template_id) {
    auto r = conn.exec(
        "SELECT DISTINCT ON (product_id) payload::text FROM stock_relay_outbox "
        " WHERE channel_id = $1::integer AND kind = 'product' AND payload IS NOT NULL "
        "   AND ($2::integer IS NULL OR product_id = $2::integer) ORDER BY product_id, id DESC",
        pg::Params().add(channel_id).add(template_id));
    std::vector<std::string> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(r.str(i, 0));
    return out;
}

namespace {
PreviewRequest preview_row(const pg::Result& r) {
    PreviewRequest p;
    p.id = r.i64(0, 0);
    p.channel_id = r.i64(0, 1);
    if (!r.is_null(0, 2)) p.template_id = r.i64(0, 2);
    p.documents = r.str(0, 3);
    return p;
}
}  // namespace

std::optional<PreviewRequest> claim_preview(pg::Connection& conn, const std::vector<std::int64_t>& channels) {
    pg::Transaction tx(conn);
    auto r = conn.exec(
        "UPDATE stock_relay_catalog_preview SET state = 'running', started_at = (now() AT TIME ZONE 'UTC') "
        " WHERE id = (SELECT id FROM stock_relay_catalog_preview WHERE state = 'requested' "
        "               AND ($1::integer[] IS NULL OR channel_id = ANY($1::integer[])) "
        "             ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) "
        "RETURNING id, channel_id, template_id, documents::text",
        pg::Params().add(channels.empty() ? std::optional<std::string>{} : std::optional<std::string>{pg::int_array(channels)}));
    tx.commit();
    if (r.rows() == 0) return std::nullopt;
    return preview_row(r);
}

std::optional<PreviewRequest> load_preview(pg::Connection& conn, std::int64_t id) {
    auto r = conn.exec("SELECT id, channel_id, template_id, documents::text FROM stock_relay_catalog_preview WHERE id = $1::bigint",
                       pg::Params().add(id));
    if (r.rows() == 0) return std::nullopt;
    return preview_row(r);
}

queries::RetryResult retry_failed_documents(pg::Connection& conn, std::optional<std::int64_t> channel_id,
                                            std::optional<std::int64_t> row_id) {
    pg::Transaction tx(conn);
    auto r = conn.exec("SELECT requeued, closed FROM stock_relay_retry_failed_documents($1::integer, $2::bigint)",
                       pg::Params().add(channel_id).add(row_id));
    tx.commit();
    return {r.i64(0, 0), r.i64(0, 1)};
}

std::map<std::int64_t, Backlog> backlog(pg::Connection& conn, std::optional<std::int64_t> only) {
    auto r = conn.exec(
        "SELECT c.id, count(o.id) FILTER (WHERE o.kind = 'product' AND o.state IN ('pending', 'in_flight')), "
        "       count(o.id) FILTER (WHERE o.kind = 'price' AND o.state IN ('pending', 'in_flight')), "
        "       count(o.id) FILTER (WHERE o.state = 'failed') "
        "  FROM stock_relay_channel c "
        "  LEFT JOIN stock_relay_outbox o ON o.channel_id = c.id AND o.kind IN ('product', 'price') "
        " WHERE c.catalog_enabled AND ($1::integer IS NULL OR c.id = $1::integer) GROUP BY c.id",
        pg::Params().add(only));
    std::map<std::int64_t, Backlog> out;
    for (int i = 0; i < r.rows(); ++i) out[r.i64(i, 0)] = Backlog{r.i64(i, 1), r.i64(i, 2), r.i64(i, 3)};
    return out;
}

void finish_preview(pg::Connection& conn, std::int64_t id, const std::string& result_json) {
    conn.exec("UPDATE stock_relay_catalog_preview SET state = 'done', result = $2::jsonb, error = NULL, "
              "       finished_at = (now() AT TIME ZONE 'UTC') WHERE id = $1::bigint",
              pg::Params().add(id).add(result_json));
}

void fail_preview(pg::Connection& conn, std::int64_t id, const std::string& error) {
    conn.exec("UPDATE stock_relay_catalog_preview SET state = 'failed', error = $2, "
              "       finished_at = (now() AT TIME ZONE 'UTC') WHERE id = $1::bigint",
              pg::Params().add(id).add(pg::sanitize_text(error)));
}

}  // namespace stockrelay::sidecar::catalog_queries
