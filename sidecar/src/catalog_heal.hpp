// Catalogue failures that heal themselves: rows that failed for the shop's
// state (error codes transient, throttled: Medusa down, 5xx, timeouts, rate
// limits, their retries spent) are re-queued once the channel works again,
// through the contract's stock_relay_retry_failed_documents(). Rows a person
// must fix (rejected, duplicate_sku, not_found, auth, config...) never are.
// "Works again": a catalogue row of the channel landed. When the channel has
// nothing else queued, one failed row is re-queued now and then as a probe.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>

#include "pg.hpp"

namespace stockrelay::sidecar {

class CatalogHealer {
public:
    explicit CatalogHealer(std::chrono::milliseconds probe_every = std::chrono::minutes{1})
        : probe_every_(probe_every) {}
    // After a pass over the channel in which `landed` rows were published.
    // Returns the rows re-queued.
    std::int64_t after_pass(pg::Connection& conn, std::int64_t channel_id, int landed);

private:
    std::chrono::milliseconds probe_every_;
    std::map<std::int64_t, std::chrono::steady_clock::time_point> last_probe_;
};

}  // namespace stockrelay::sidecar
