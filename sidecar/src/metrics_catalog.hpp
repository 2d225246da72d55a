// The catalogue's Prometheus series (issue 16), recorded by the catalogue
// runner on the daemon's registry (metrics.hpp). Labels: a channel id, an
// action (created, updated, unchanged, archived, prices, adopted), an error
// code. The backlog of product/price rows is read at scrape time (metrics_sql).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <prometheus/metric_family.h>

#include "pg.hpp"

namespace stockrelay::sidecar::metrics {

// A catalogue row published (`action`; adopted products count once more as "adopted").
void catalog_published(std::int64_t channel, const std::string& action, bool adopted);
// A catalogue row failed (or is retried) with `error_code`.
void catalog_failed(std::int64_t channel, const std::string& error_code);
// HTTP calls the catalogue made to the channel's shop.
void catalog_calls(std::int64_t channel, int calls);
// A dry run answered (ok) or failed, and how long it took.
void catalog_preview(std::int64_t channel, bool ok, double seconds);

// At scrape time: stockrelay_catalog_backlog_rows{channel, kind}, the product
// and price rows pending or in flight.
void catalog_backlog_families(pg::Connection& conn, std::vector<prometheus::MetricFamily>& out);

}  // namespace stockrelay::sidecar::metrics
