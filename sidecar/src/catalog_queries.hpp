// The SQL of the catalogue side of the daemon (contract v5 [catalogue]):
// claiming 'product'/'price' outbox rows, the catalogue map, dry runs.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "pg.hpp"
#include "queries.hpp"
#include "stockrelay/catalog/publisher.hpp"

namespace stockrelay::sidecar::catalog_queries {

struct CatalogRow {
    std::int64_t id = 0;
    std::string kind;  // product | price
    std::int64_t template_id = 0;
    std::string external_id;
    std::string payload;  // jsonb as text; empty when NULL
    std::int64_t version = 0;
    int attempts = 0;     // including this claim
};

// Enabled channels that publish their catalogue (catalog_enabled).
std::vector<queries::ChannelRow> catalog_channels(pg::Connection& conn, std::optional<std::int64_t> only);

// Like queries::claim for kinds product/price: at most one row per key in
// flight, live edits first, SKIP LOCKED; expired leases come back first.
std::vector<CatalogRow> claim(pg::Connection& conn, std::int64_t channel_id, const std::string& worker_id,
                              std::chrono::seconds lease, int limit, const std::optional<std::string>& due_before);

// Per catalogue channel (catalog_enabled): product and price rows pending or
// in flight, and catalogue rows failed (`stockrelayd status`).
struct Backlog {
    std::int64_t product = 0;
    std::int64_t price = 0;
    std::int64_t failed = 0;
};
std::map<std::int64_t, Backlog> backlog(pg::Connection& conn, std::optional<std::int64_t> only);

// The channel's map rows of a template.
stockrelay::catalog::Mapping load_mapping(pg::Connection& conn, std::int64_t channel_id, std::int64_t template_id);

// Upserts `entries`, deletes `unmap` (external ids); call inside the ack's transaction.
void write_mapping(pg::Connection& conn, std::int64_t channel_id, const std::vector<stockrelay::catalog::MapEntry>& entries,
                   const std::vector<std::string>& unmap);

// Whether the channel has a pending or in-flight 'product' row for the template.
bool product_row_open(pg::Connection& conn, std::int64_t channel_id, std::int64_t template_id);

// Among `skus`, those an open 'product' row of the channel carries in its variants.
std::set<std::string> skus_awaiting_product(pg::Connection& conn, std::int64_t channel_id,
                                            const std::vector<std::string>& skus);

// The newest document per template in the channel's outbox (any state), for
// `catalog --dry-run`; `template_id` limits it to one.
std::vector<std::string> newest_documents(pg::Connection& conn, std::int64_t channel_id,
                                          std::optional<std::int64_t> template_id);

struct PreviewRequest {
    std::int64_t id = 0;
    std::int64_t channel_id = 0;
    std::optional<std::int64_t> template_id;
    std::string documents;  // jsonb array as text
};
// Claims one 'requested' preview (SKIP LOCKED) of the given channels, or of any when empty.
std::optional<PreviewRequest> claim_preview(pg::Connection& conn, const std::vector<std::int64_t>& channels);
void finish_preview(pg::Connection& conn, std::int64_t id, const std::string& result_json);
void fail_preview(pg::Connection& conn, std::int64_t id, const std::string& error);
// stock_relay_retry_failed_documents(): the newest failed document per key re-queued.
queries::RetryResult retry_failed_documents(pg::Connection& conn, std::optional<std::int64_t> channel_id,
                                            std::optional<std::int64_t> row_id);

std::optional<PreviewRequest> load_preview(pg::Connection& conn, std::int64_t id);

}  // namespace stockrelay::sidecar::catalog_queries
