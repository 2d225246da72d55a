#include "webhook_server.hpp"

#include <httplib.h>

#include <map>
#include <mutex>
#include <regex>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "inbox.hpp"
#include "logging.hpp"
#include "metrics.hpp"
#include "queries.hpp"
#include "stockrelay/channels/channel.hpp"
#include "stockrelay/log.hpp"
#include "stockrelay/orders.hpp"
#include "stockrelay/signature.hpp"

namespace stockrelay::sidecar {
namespace {

using nlohmann::json;
using steady = std::chrono::steady_clock;

// What a request needs to know about its channel.
struct Target {
    std::string type;
    std::string secret;  // the HMAC key; empty: no webhooks can be verified
    bool receiving = false;
    steady::time_point loaded;
};

struct Shape {
    const char* signature_header;
    const char* secret_key;
    const char* topic_header;       // nullptr: no topic header
    const char* topic_prefix;       // order topics start with this
    const char* delivery_header;
};

std::optional<Shape> shape_of(const std::string& type) {
    if (type == "shopify")
        return Shape{"X-Shopify-Hmac-Sha256", "client_secret", "X-Shopify-Topic", "orders/", "X-Shopify-Webhook-Id"};
    if (type == "woocommerce")
        return Shape{"X-WC-Webhook-Signature", "webhook_secret", "X-WC-Webhook-Topic", "order.", "X-WC-Webhook-Delivery-ID"};
    if (type == "medusa")  // our own subscriber (README): same construction, our header
        return Shape{"X-Stockrelay-Hmac-Sha256", "webhook_secret", nullptr, "", "X-Stockrelay-Delivery-Id"};
    return std::nullopt;
}

// One database connection and cron notifier per server thread.
struct ThreadDb {
    std::unique_ptr<pg::Connection> conn;
    std::unique_ptr<inbox::CronNotifier> notifier;
};

void reply(httplib::Response& res, int status, const std::string& message) {
    metrics::webhook_request(status);
    res.status = status;
    res.set_content(json{{"status", status}, {"message", message}}.dump() + "\n", "application/json");
}

bool is_woo_ping(const httplib::Request& req) {
    static const std::regex ping("webhook_id=[0-9]+");
    return req.get_header_value("Content-Type").rfind("application/x-www-form-urlencoded", 0) == 0 &&
           std::regex_match(req.body, ping);
}

}  // namespace

struct WebhookServer::Impl {
    std::string dsn;
    ListenOptions options;
    httplib::Server server;
    std::mutex mutex;
    std::map<std::int64_t, Target> targets;

    ThreadDb& db() {
        thread_local std::map<const Impl*, ThreadDb> per_server;
        auto& d = per_server[this];
        if (!d.conn) d.conn = std::make_unique<pg::Connection>(dsn, std::chrono::seconds{5});
        if (!d.notifier) d.notifier = std::make_unique<inbox::CronNotifier>(dsn);
        return d;
    }

    // Cached for 1 s: a settings change in Odoo (secret, orders on/off) applies at once.
    Target target(std::int64_t id) {
        {
            std::lock_guard<std::mutex> lock(mutex);
            auto it = targets.find(id);
            if (it != targets.end() && steady::now() - it->second.loaded < std::chrono::seconds{1}) return it->second;
        }
        Target t;
        t.loaded = steady::now();
        auto rows = queries::load_channels(*db().conn, false, id);
        if (!rows.empty()) {
            const auto j = json::parse(rows[0].json);
            t.type = rows[0].type;
            t.receiving = rows[0].enabled && j.value("orders_enabled", false);  // as the poller: a disabled channel is off
            if (auto s = shape_of(t.type)) {
                const auto creds = j.value("credentials", json::object());
                if (creds.is_object() && creds.contains(s->secret_key) && creds[s->secret_key].is_string())
                    t.secret = creds[s->secret_key].get<std::string>();
                logging::add_secrets({t.secret});
            }
        }
        std::lock_guard<std::mutex> lock(mutex);
        return targets[id] = t;
    }

    void handle(const httplib::Request& req, httplib::Response& res) {
        const std::int64_t id = std::stoll(req.matches[1]);
        try {
            handle_channel(id, req, res);
        } catch (const pg::Error& e) {
            db() = ThreadDb{};
            log::warn("webhook for channel {}: database unavailable ({}); answered 503 so the shop retries", id,
                      logging::redact(e.what()));
            reply(res, 503, "temporarily unavailable; retry later");
        }
    }

    void handle_channel(std::int64_t id, const httplib::Request& req, httplib::Response& res) {
        const Target t = target(id);
        const auto shape = shape_of(t.type);
        if (!t.receiving || !shape) return reply(res, 404, fmt::format("no channel {} receiving orders", id));
        if (t.type == "woocommerce" && !req.has_header(shape->signature_header) && is_woo_ping(req))
            return reply(res, 200, "pong");  // WooCommerce's unsigned ping on webhook creation; nothing stored
        if (!signature::verify(req.body, t.secret, req.get_header_value(shape->signature_header))) {
            log::warn("webhook for channel {}: {} signature from {}; nothing stored", id,
                      req.has_header(shape->signature_header) ? "bad" : "missing", req.remote_addr);
            return reply(res, 401, "bad or missing signature");
        }
        if (shape->topic_header) {
            const auto topic = req.get_header_value(shape->topic_header);
            if (topic.rfind(shape->topic_prefix, 0) != 0) return reply(res, 200, "topic " + topic + " ignored");
        }
        store(id, t.type, req, *shape, res);
    }

    void store(std::int64_t id, const std::string& type, const httplib::Request& req, const Shape& shape,
               httplib::Response& res) {
        json raw = json::parse(req.body, nullptr, false);
        std::string raw_text = req.body;
        if (type == "medusa" && raw.is_object() && raw.contains("order")) {  // {"event": "order.placed", "order": {...}}
            raw = raw["order"];
            raw_text = raw.dump();
        }
        std::optional<std::string> delivery;
        if (req.has_header(shape.delivery_header)) delivery = req.get_header_value(shape.delivery_header);
        inbox::Event event;
        auto normalized = orders::normalize(type, raw);
        if (normalized) {
            event = {std::move(*normalized), raw_text, "webhook", delivery, std::nullopt};
        } else {
            log::error("webhook for channel {}: {}; stored as a failed inbox row", id, normalized.error().message);
            event = inbox::malformed_event(raw, raw_text, "webhook", delivery, normalized.error().message);
        }
        auto& d = db();
        const auto w = inbox::write(*d.conn, id, {event});
        if (w.inserted > 0) d.notifier->notify(*d.conn);
        reply(res, 200, w.inserted > 0 ? "stored" : "duplicate: already stored");
    }
};

Result<ListenOptions> parse_listen(const std::string& text) {
    ListenOptions o;
    const auto colon = text.rfind(':');
    if (colon == std::string::npos)
        return make_error(ErrorCode::config, fmt::format("--listen '{}': expected ADDR:PORT", text));
    std::string host = text.substr(0, colon);
    if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
    o.host = host.empty() ? "0.0.0.0" : host;
    try {
        std::size_t used = 0;
        o.port = std::stoi(text.substr(colon + 1), &used);
        if (used != text.size() - colon - 1 || o.port < 0 || o.port > 65535) throw std::out_of_range("port");
    } catch (const std::exception&) {
        return make_error(ErrorCode::config, fmt::format("--listen '{}': the port is not a number 0..65535", text));
    }
    return o;
}

WebhookServer::WebhookServer(std::string dsn, ListenOptions options) : impl_(std::make_unique<Impl>()) {
    impl_->dsn = std::move(dsn);
    impl_->options = std::move(options);
}

WebhookServer::~WebhookServer() { stop(); }

Status WebhookServer::start() {
    auto& s = impl_->server;
    const auto& o = impl_->options;
    const int threads = o.threads;
    s.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<std::size_t>(threads)); };
    s.set_payload_max_length(o.max_body);
    s.set_read_timeout(o.read_timeout);
    s.set_write_timeout(o.read_timeout);
    s.set_keep_alive_timeout(5);
    s.Post(R"(/webhooks/(\d{1,9}))", [this](const httplib::Request& req, httplib::Response& res) { impl_->handle(req, res); });
    s.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
    s.set_error_handler([](const httplib::Request&, httplib::Response& res) {
        if (res.status == 413) reply(res, 413, "body too large");
        else if (res.status == 404) reply(res, 404, "not found");
    });
    port_ = o.port == 0 ? s.bind_to_any_port(o.host) : (s.bind_to_port(o.host, o.port) ? o.port : -1);
    if (port_ <= 0)
        return make_error(ErrorCode::config, fmt::format("cannot listen on {}:{} (in use, or not an address here)",
                                                         o.host, o.port));
    thread_ = std::thread([this] { impl_->server.listen_after_bind(); });
    log::info("listening for shop webhooks on http://{}:{}/webhooks/<channel id> (max body {} bytes)", o.host, port_,
              o.max_body);
    return Ok{};
}

void WebhookServer::stop() {
    if (!impl_) return;
    impl_->server.stop();
    if (thread_.joinable()) thread_.join();
}

}  // namespace stockrelay::sidecar
