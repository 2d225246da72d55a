// Several batches of one channel in flight (issue 17, contract v6
// [in-flight]). A slow shop (real WooCommerce spends ~37 ms per product save)
// is driven by up to `batches_in_flight` lanes at once. Each lane is a whole
// ChannelWorker (claim -> push -> ack) with its own PostgreSQL connection,
// its own shop connection and its own lease guard; all lanes of a channel
// share the process's worker id and its Wakeup.
//
// Why this keeps the invariants: the claim (queries.cpp) never takes a row
// whose key has a row in flight, whoever leased it, and the in-flight unique
// index makes two claims of one key impossible; so lanes always hold
// DISJOINT keys, a newer row of a key waits until the lane holding the older
// one has acked it (after its push returned), and coalescing at enqueue time
// means a superseded value is never claimed at all. A lane whose batch fails
// (5xx, timeouts) acks its own rows for retry; the other lanes go on. The
// channel's pause/backoff lives in the rows and stock_relay_channel_state,
// which every lane reads; its circuit breaker is ONE per channel, shared by
// its lanes (shared_health.hpp): one probe per backoff step, each state change
// logged and stored once, a success in any lane ends an outage. Shopify's
// lanes share ONE channel (one cost bucket, one connection) and take turns on
// it, each call fenced by the lease of the lane whose turn it is: only claim,
// checks and ack overlap.
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string_view>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "lease.hpp"
#include "worker.hpp"

namespace stockrelay::sidecar {

inline constexpr int kMaxBatchesInFlight = 16;  // the contract's CHECK

// The shop type's default when the channel leaves batches_in_flight empty
// (docs/BENCHMARKS.md "Several batches in flight" for the figures behind it).
int default_batches_in_flight(std::string_view type);

// The channel row's batches_in_flight (row_to_json of stock_relay_channel),
// or the type's default when it is NULL or missing; clamped to 1..16.
int batches_in_flight(const nlohmann::json& channel_row, std::string_view type);

// The lanes of one channel.
class ChannelLanes {
public:
    // Builds a channel whose HTTP client is fenced by `guard`.
    using MakeChannel = std::function<Result<std::unique_ptr<channels::Channel>>(std::shared_ptr<LeaseGuard>)>;
    using Spawn = std::function<std::thread(std::function<void()>)>;

    // `lanes` workers of `config`'s channel (the first error of a channel
    // that cannot be built is returned).
    static Result<std::unique_ptr<ChannelLanes>> create(const channels::Config& config, int lanes,
                                                       const WorkerOptions& options, Wakeup& wake,
                                                       const MakeChannel& make);
    ~ChannelLanes();

    // One thread per lane, each running ChannelWorker::run.
    void start(const Spawn& spawn);
    void request_stop();
    void join();
    std::size_t size() const { return workers_.size(); }

private:
    ChannelLanes() = default;
    static Result<std::unique_ptr<ChannelLanes>> create_turn_taking(const channels::Config& config, int lanes,
                                                                    const WorkerOptions& options, Wakeup& wake);
    std::vector<std::unique_ptr<ChannelWorker>> workers_;
    std::vector<std::thread> threads_;
};

}  // namespace stockrelay::sidecar
