#include "inbox.hpp"

#include <libpq-fe.h>
#include <openssl/evp.h>

#include <fmt/format.h>

#include "stockrelay/log.hpp"

namespace stockrelay::sidecar::inbox {
namespace {

constexpr const char* kInsert = R"SQL(
INSERT INTO stock_relay_inbox (channel_id, shop_order_id, shop_order_name, topic, event_key, delivery_id,
                               shop_updated_at, payload, received_via, state, error_code, last_error)
VALUES ($1, $2, $3, $4, $5, $6, ($7::timestamptz AT TIME ZONE 'UTC'), $8::jsonb, $9,
        CASE WHEN $10::text IS NULL THEN 'pending' ELSE 'failed' END,
        CASE WHEN $10::text IS NULL THEN NULL ELSE 'malformed_order' END, $10::text)
ON CONFLICT (channel_id, event_key) DO NOTHING)SQL";

std::string quote_conninfo(const std::string& v) {
    std::string out = "'";
    for (char c : v) {
        if (c == '\'' || c == '\\') out += '\\';
        out += c;
    }
    return out + "'";
}

std::string digest(std::string_view body) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(body.data(), body.size(), md, &len, EVP_sha256(), nullptr);
    std::string hex;
    for (unsigned int i = 0; i < 8 && i < len; ++i) hex += fmt::format("{:02x}", md[i]);
    return hex;
}

}  // namespace

Event malformed_event(const nlohmann::json& raw, std::string raw_body, std::string received_via,
                      std::optional<std::string> delivery_id, std::string error) {
    Event e;
    std::string id = "unknown";
    if (raw.is_object() && raw.contains("id") && (raw["id"].is_string() || raw["id"].is_number_integer()))
        id = raw["id"].is_string() ? raw["id"].get<std::string>() : raw["id"].dump();
    if (const auto slash = id.rfind('/'); id.rfind("gid://", 0) == 0 && slash != std::string::npos) id = id.substr(slash + 1);
    e.order.shop_order_id = id;
    e.order.topic = "order_updated";
    e.order.event_key = id + "@malformed:" + digest(raw_body);
    e.order.order = nullptr;
    e.raw_body = raw.is_discarded() ? nlohmann::json(raw_body).dump() : std::move(raw_body);
    e.received_via = std::move(received_via);
    e.delivery_id = std::move(delivery_id);
    e.error = std::move(error);
    return e;
}

WriteResult write(pg::Connection& conn, std::int64_t channel_id, const std::vector<Event>& events,
                  const std::function<void()>& in_same_transaction) {
    WriteResult r;
    if (events.empty() && !in_same_transaction) return r;
    pg::Transaction tx(conn);
    for (const auto& e : events) {
        pg::Params p;
        p.add(channel_id)
            .add(e.order.shop_order_id)
            .add(e.order.name.empty() ? std::optional<std::string>() : std::optional<std::string>(e.order.name))
            .add(e.order.topic)
            .add(e.order.event_key)
            .add(e.delivery_id)
            .add(e.order.shop_updated_at.empty() ? std::optional<std::string>() : std::optional<std::string>(e.order.shop_updated_at))
            .add(pg::sanitize_text(orders::inbox_payload(e.order, e.raw_body)))
            .add(e.received_via)
            .add(e.error);
        if (conn.exec(kInsert, p).affected() > 0) ++r.inserted;
        else ++r.duplicates;
    }
    if (r.inserted > 0) {  // (a failed row wakes Odoo too: harmless, and keeps this simple)
        auto woke = conn.exec("SELECT stock_relay_wake_odoo($1)", pg::Params().add(kInboxCron));
        r.odoo_woken = woke.rows() == 1 && woke.boolean(0, 0);
    }
    if (in_same_transaction) in_same_transaction();
    tx.commit();
    return r;
}

std::vector<bool> stored_keys(pg::Connection& conn, std::int64_t channel_id, const std::vector<std::string>& keys) {
    std::vector<bool> out(keys.size(), false);
    if (keys.empty()) return out;
    auto r = conn.exec(
        "SELECT k.ord - 1 FROM jsonb_array_elements_text($2::jsonb) WITH ORDINALITY AS k(key, ord) "
        "WHERE EXISTS (SELECT 1 FROM stock_relay_inbox i WHERE i.channel_id = $1 AND i.event_key = k.key)",
        pg::Params().add(channel_id).add(pg::sanitize_text(nlohmann::json(keys).dump())));
    for (int i = 0; i < r.rows(); ++i) {
        const auto idx = std::stoull(r.str(i, 0));
        if (idx < out.size()) out[idx] = true;
    }
    return out;
}

std::string with_dbname(const std::string& dsn, const std::string& dbname) {
    char* err = nullptr;
    PQconninfoOption* opts = PQconninfoParse(dsn.c_str(), &err);
    if (!opts) {
        if (err) PQfreemem(err);
        return "dbname=" + quote_conninfo(dbname);
    }
    std::string out;
    for (auto* o = opts; o->keyword; ++o) {
        if (!o->val || std::string(o->keyword) == "dbname") continue;
        out += std::string(o->keyword) + "=" + quote_conninfo(o->val) + " ";
    }
    PQconninfoFree(opts);
    return out + "dbname=" + quote_conninfo(dbname);
}

CronNotifier::CronNotifier(std::string dsn) : dsn_(std::move(dsn)) {}
CronNotifier::~CronNotifier() = default;

void CronNotifier::notify(pg::Connection& conn) {
    try {
        if (dbname_.empty()) dbname_ = conn.exec("SELECT current_database()").str(0, 0);
        if (!maint_) maint_ = std::make_unique<pg::Connection>(with_dbname(dsn_, "postgres"), std::chrono::seconds{5});
        maint_->exec("SELECT pg_notify('cron_trigger', $1)", pg::Params().add(dbname_));
        failures_ = 0;
    } catch (const pg::Error& e) {
        maint_.reset();
        if (failures_++ % 100 == 0)
            log::warn("orders in: could not NOTIFY Odoo's cron workers on the postgres database ({}); the inbox "
                      "rows are stored and Odoo picks them up at its next cron poll", e.what());
    }
}

}  // namespace stockrelay::sidecar::inbox
