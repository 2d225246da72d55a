#include "webhook_server.hpp"

#include <httplib.h>

#include <map>
#include <mutex>
#include <regex>
#include <vector>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "database_scope.hpp"
#include "database_set.hpp"
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

// One database's webhooks: its channels' secrets (cached a second) and a
// small pool of connections, released with the route when the database is.
struct Route {
    std::string name;  // empty: the single-database daemon (no log prefix, no label)
    std::string dsn;
    std::mutex mutex;
    std::map<std::int64_t, Target> targets;
    std::vector<ThreadDb> idle;

    ThreadDb acquire() {
        {
            std::lock_guard<std::mutex> lock(mutex);
            if (!idle.empty()) {
                ThreadDb d = std::move(idle.back());
                idle.pop_back();
                return d;
            }
        }
        ThreadDb d;
        d.conn = std::make_unique<pg::Connection>(dsn, std::chrono::seconds{5});
        d.notifier = std::make_unique<inbox::CronNotifier>(dsn);
        return d;
    }
    void release(ThreadDb d) {
        std::lock_guard<std::mutex> lock(mutex);
        if (idle.size() < 4) idle.push_back(std::move(d));
    }
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
    ListenOptions options;
    httplib::Server server;
    bool several = false;  // POST /webhooks/<channel id> needs the one database
    std::mutex routes_mutex;
    std::map<std::string, std::shared_ptr<Route>> routes;  // by database name
    std::shared_ptr<Route> single;

    std::shared_ptr<Route> route(const std::string& database) {
        std::lock_guard<std::mutex> lock(routes_mutex);
        auto it = routes.find(database);
        return it == routes.end() ? nullptr : it->second;
    }

    Target target(Route& r, ThreadDb& d, std::int64_t id) {
        {
            std::lock_guard<std::mutex> lock(r.mutex);
            auto it = r.targets.find(id);
            if (it != r.targets.end() && steady::now() - it->second.loaded < std::chrono::seconds{1}) return it->second;
        }
        Target t;
        t.loaded = steady::now();
        auto rows = queries::load_channels(*d.conn, false, id);
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
        std::lock_guard<std::mutex> lock(r.mutex);
        return r.targets[id] = t;
    }

    // POST /webhooks/<channel id>: the one database's; with several, the
    // database must be named (channel ids repeat across databases).
    void handle_bare(const httplib::Request& req, httplib::Response& res) {
        if (several || !single)
            return reply(res, 404, "this stockrelayd serves several databases: POST /webhooks/<database>/<channel id>");
        handle(single, std::stoll(req.matches[1]), req, res);
    }

    // POST /webhooks/<database>/<channel id>
    void handle_named(const httplib::Request& req, httplib::Response& res) {
        auto r = route(req.matches[1]);
        if (!r) return reply(res, 404, fmt::format("no database {} served here", std::string(req.matches[1])));
        handle(r, std::stoll(req.matches[2]), req, res);
    }

    void handle(const std::shared_ptr<Route>& r, std::int64_t id, const httplib::Request& req, httplib::Response& res) {
        const DatabaseScope scope(r->name);
        try {
            ThreadDb d = r->acquire();
            handle_channel(*r, d, id, req, res);
            r->release(std::move(d));
        } catch (const pg::Error& e) {
            log::warn("webhook for channel {}: database unavailable ({}); answered 503 so the shop retries", id,
                      logging::redact(e.what()));
            reply(res, 503, "temporarily unavailable; retry later");
        }
    }

    void handle_channel(Route& r, ThreadDb& d, std::int64_t id, const httplib::Request& req, httplib::Response& res) {
        const Target t = target(r, d, id);
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
        store(d, id, t.type, req, *shape, res);
    }

    void store(ThreadDb& d, std::int64_t id, const std::string& type, const httplib::Request& req, const Shape& shape,
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
    impl_->options = std::move(options);
    impl_->single = std::make_shared<Route>();
    impl_->single->dsn = std::move(dsn);
    impl_->routes[database_of(impl_->single->dsn)] = impl_->single;
}

WebhookServer::WebhookServer(ListenOptions options) : impl_(std::make_unique<Impl>()) {
    impl_->options = std::move(options);
    impl_->several = true;
}

void WebhookServer::set_databases(const std::map<std::string, std::string>& dsns) {
    std::lock_guard<std::mutex> lock(impl_->routes_mutex);
    auto& routes = impl_->routes;
    for (auto it = routes.begin(); it != routes.end();) {
        auto want = dsns.find(it->first);
        it = want == dsns.end() || want->second != it->second->dsn ? routes.erase(it) : std::next(it);
    }
    for (const auto& [name, dsn] : dsns) {
        if (routes.count(name)) continue;
        auto r = std::make_shared<Route>();
        r->name = name;
        r->dsn = dsn;
        routes.emplace(name, std::move(r));
    }
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
    s.Post(R"(/webhooks/(\d{1,9}))", [this](const httplib::Request& req, httplib::Response& res) { impl_->handle_bare(req, res); });
    s.Post(R"(/webhooks/([a-zA-Z0-9][a-zA-Z0-9_.-]{0,62})/(\d{1,9}))",
           [this](const httplib::Request& req, httplib::Response& res) { impl_->handle_named(req, res); });
    s.Get("/healthz", [](const httplib::Request&, httplib::Response& res) { res.set_content("ok\n", "text/plain"); });
    s.set_error_handler([](const httplib::Request&, httplib::Response& res) {
        if (!res.body.empty()) return;  // a handler's own answer (e.g. which URL to use) stands, counted once
        if (res.status == 413) reply(res, 413, "body too large");
        else if (res.status == 404) reply(res, 404, "not found");
    });
    port_ = o.port == 0 ? s.bind_to_any_port(o.host) : (s.bind_to_port(o.host, o.port) ? o.port : -1);
    if (port_ <= 0)
        return make_error(ErrorCode::config, fmt::format("cannot listen on {}:{} (in use, or not an address here)",
                                                         o.host, o.port));
    thread_ = std::thread([this] { impl_->server.listen_after_bind(); });
    log::info("listening for shop webhooks on http://{}:{}/webhooks/{} (max body {} bytes)", o.host, port_,
              impl_->several ? "<database>/<channel id>" : "<channel id>", o.max_body);
    return Ok{};
}

void WebhookServer::stop() {
    if (!impl_) return;
    impl_->server.stop();
    if (thread_.joinable()) thread_.join();
}

}  // namespace stockrelay::sidecar
