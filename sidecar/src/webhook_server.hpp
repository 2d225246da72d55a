// The daemon's HTTP listener (off unless --listen is given): POST
// /webhooks/<channel id> takes a shop's signed order webhook into the inbox,
// (serving several databases: POST /webhooks/<database>/<channel id>, since
// every database numbers its channels from 1; the shop's webhook settings
// hold only a URL, so the database goes in its path),
// GET /healthz answers "ok". TLS belongs to a reverse proxy in front.
//
// Order of checks per request: body size (413, by the server before the
// handler), channel known and receiving orders (404), WooCommerce's unsigned
// creation ping (200, nothing stored), signature over the raw body in
// constant time (401, nothing stored), then store and answer; Odoo's work
// happens later in Odoo's own cron.
#pragma once

#include <chrono>
#include <cstddef>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include "stockrelay/error.hpp"

namespace stockrelay::sidecar {

struct ListenOptions {
    std::string host = "127.0.0.1";
    int port = 0;                               // 0: any free port (tests)
    std::size_t max_body = 4 * 1024 * 1024;     // bytes; larger bodies get 413
    int threads = 8;                            // concurrent requests; a slow client holds one
    std::chrono::seconds read_timeout{5};       // a client silent this long is dropped
};

// "ADDR:PORT" (or ":PORT", "[::1]:PORT") -> host and port.
Result<ListenOptions> parse_listen(const std::string& text);

class WebhookServer {
public:
    // One database: POST /webhooks/<channel id> (and /webhooks/<its name>/<channel id>).
    WebhookServer(std::string dsn, ListenOptions options);
    // Several databases (set_databases): POST /webhooks/<database>/<channel id>.
    explicit WebhookServer(ListenOptions options);
    // The databases served now, name -> DSN; a dropped one's requests get 404.
    void set_databases(const std::map<std::string, std::string>& dsns);
    ~WebhookServer();
    WebhookServer(const WebhookServer&) = delete;
    WebhookServer& operator=(const WebhookServer&) = delete;

    // Binds and starts serving on a thread; fails (config error) when the
    // address cannot be bound.
    Status start();
    void stop();
    int port() const noexcept { return port_; }

private:
    struct Impl;
    std::unique_ptr<Impl> impl_;
    std::thread thread_;
    int port_ = 0;
};

}  // namespace stockrelay::sidecar
