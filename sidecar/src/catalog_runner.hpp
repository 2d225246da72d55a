// The catalogue side of `stockrelayd run` and `drain --once` (contract v5
// [catalogue]): publishes 'product' and 'price' outbox rows through each
// catalogue channel's Publisher and answers dry runs
// (stock_relay_catalog_preview). One thread and connection for every
// channel, apart from the stock workers, so a big catalogue sync never
// delays a stock push. Rows of one key are in flight once, as for stock; the
// catalogue map is written in the transaction of the row's ack.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "catalog_heal.hpp"
#include "catalog_queries.hpp"
#include "pg.hpp"
#include "stockrelay/backoff.hpp"
#include "stockrelay/catalog/publisher.hpp"
#include "worker.hpp"

namespace stockrelay::sidecar {

struct CatalogOptions {
    std::string dsn;
    std::string worker_id;
    std::chrono::seconds lease{60};
    std::chrono::milliseconds poll_interval{5000};
    BackoffPolicy backoff;
    std::optional<std::int64_t> channel;  // only this channel
    int batch = 20;
    // How long a row waits for the 'product' row it needs before trying again.
    std::chrono::milliseconds wait_for_product{1000};
};

struct CatalogStats {
    int rows = 0;
    int ok = 0;
    int failed = 0;
    int retried = 0;
    int unchanged = 0;
    int http_calls = 0;
    int previews = 0;
    CatalogStats& operator+=(const CatalogStats& o);
};

class CatalogRunner {
public:
    CatalogRunner(CatalogOptions options, Wakeup& wake);
    ~CatalogRunner();

    // Publishes every catalogue row due before `due_before` (null: now) of
    // every catalogue channel, then answers the requested previews.
    // `one_batch`: at most one batch per channel (the run loop turns between batches).
    CatalogStats drain(pg::Connection& conn, const std::optional<std::string>& due_before, const std::atomic<bool>& stop,
                       bool one_batch = false);
    // Until `stop`: drains, then waits for NOTIFY (through `wake`) or the poll interval.
    void run(const std::atomic<bool>& stop);

    // A dry run of `documents` (JSON texts) against the channel's shop; reads only.
    // Fails with the channel's error when it cannot be built.
    Result<nlohmann::json> preview(pg::Connection& conn, std::int64_t channel_id, const std::vector<nlohmann::json>& documents);

private:
    struct Shop;
    Shop* shop_for(const queries::ChannelRow& row);
    CatalogStats drain_channel(pg::Connection& conn, Shop& shop, const std::optional<std::string>& due_before,
                               const std::atomic<bool>& stop, bool one_batch);
    CatalogStats process(pg::Connection& conn, Shop& shop, const std::vector<catalog_queries::CatalogRow>& rows,
                         const std::atomic<bool>& stop);
    int answer_previews(pg::Connection& conn);

    CatalogOptions options_;
    Wakeup& wake_;
    std::mt19937_64 rng_;
    std::map<std::int64_t, std::unique_ptr<Shop>> shops_;
    CatalogHealer healer_;
};

}  // namespace stockrelay::sidecar

namespace stockrelay::sidecar {
// The catalogue runner's options from the stock workers' (same database,
// worker id and backoff; a longer lease: one publish makes several calls).
CatalogOptions catalog_options(const WorkerOptions& worker, std::optional<std::int64_t> channel);
}  // namespace stockrelay::sidecar
