#include "inflight.hpp"

#include <algorithm>
#include <utility>

#include <fmt/format.h>

#include "stockrelay/log.hpp"

namespace stockrelay::sidecar {
namespace {

// Whose turn it is on a shop that the lanes share.
struct Turn {
    std::mutex m;
    std::shared_ptr<LeaseGuard> current;  // the lane holding `m` fences the shop's calls
};

// The shared shop connection, fenced by the lease of the lane whose turn it is
// (lease.cpp's FencedClient, with the guard chosen per turn).
class TurnFencedClient final : public http::Client {
public:
    TurnFencedClient(std::unique_ptr<http::Client> inner, std::shared_ptr<Turn> turn)
        : inner_(std::move(inner)), turn_(std::move(turn)) {}

    Result<http::Response> send(const http::Request& request) override {
        if (turn_->current)  // read under turn_->m, held by the calling lane
            if (auto why = turn_->current->refuse_call(request.timeout))
                return make_error(ErrorCode::transient, fmt::format("not sent: {}", *why));
        return inner_->send(request);
    }

private:
    std::unique_ptr<http::Client> inner_;
    std::shared_ptr<Turn> turn_;
};

// One lane's view of the shared channel: every call waits for the turn, then
// runs with this lane's lease guard and sleeper. The worker sets its sleeper
// on this wrapper (Channel::set_sleeper is not virtual): it is handed on to
// the shared channel at each turn.
class TurnTakingChannel final : public channels::Channel {
public:
    TurnTakingChannel(std::shared_ptr<channels::Channel> inner, std::shared_ptr<Turn> turn,
                      std::shared_ptr<LeaseGuard> guard)
        : inner_(std::move(inner)), turn_(std::move(turn)), guard_(std::move(guard)) {}

private:
    template <typename F>
    auto in_turn(F f) {
        std::lock_guard lock(turn_->m);
        turn_->current = guard_;
        struct Release {
            Turn& t;
            ~Release() { t.current.reset(); }
        } release{*turn_};
        if (sleeper_) inner_->set_sleeper(sleeper_);
        return f(*inner_);
    }

public:

    std::string_view type() const override { return inner_->type(); }
    std::size_t max_batch() const override { return inner_->max_batch(); }
    std::size_t batch_size() const override { return inner_->batch_size(); }
    Result<std::string> test_connection() override {
        return in_turn([&](channels::Channel& c) { return c.test_connection(); });
    }
    Result<std::vector<channels::Location>> list_locations() override {
        return in_turn([&](channels::Channel& c) { return c.list_locations(); });
    }
    Result<std::vector<channels::RemoteItem>> lookup_sku(const std::string& sku) override {
        return in_turn([&](channels::Channel& c) { return c.lookup_sku(sku); });
    }
    channels::PushReport push(const std::vector<channels::PushItem>& items) override {
        return in_turn([&](channels::Channel& c) { return c.push(items); });
    }
    std::optional<Error> read_inventory(const std::vector<std::string>& location_keys, const nlohmann::json& cursor,
                                        const channels::InventorySink& sink, channels::ReadReport& report) override {
        return in_turn([&](channels::Channel& c) { return c.read_inventory(location_keys, cursor, sink, report); });
    }
    Result<nlohmann::json> graphql_call(std::string_view op, const std::string& document,
                                        const nlohmann::json& variables) override {
        return in_turn([&](channels::Channel& c) { return c.graphql_call(op, document, variables); });
    }
    Result<http::Response> rest_call(const std::string& method, const std::string& rel,
                                     const std::string& body) override {
        return in_turn([&](channels::Channel& c) { return c.rest_call(method, rel, body); });
    }

private:
    std::shared_ptr<channels::Channel> inner_;
    std::shared_ptr<Turn> turn_;
    std::shared_ptr<LeaseGuard> guard_;
};

// Every lane of a channel gets the same circuit breaker.
WorkerOptions with_shared_health(WorkerOptions options) {
    if (!options.health) options.health = std::make_shared<SharedHealth>();
    return options;
}

}  // namespace

// The measured best settings (docs/BENCHMARKS.md section 14): WooCommerce 4
// (up to the site's PHP workers), Medusa 2; Shopify 1 (its cost bucket is the
// limit, lanes would only take turns). The lanes of a channel share one
// circuit breaker (shared_health.hpp), so a shop that is down costs no more
// probes or log lines with 4 lanes than with 1.
int default_batches_in_flight(std::string_view type) {
    if (type == "woocommerce") return 4;
    if (type == "medusa") return 2;
    return 1;
}

int batches_in_flight(const nlohmann::json& channel_row, std::string_view type) {
    const auto it = channel_row.find("batches_in_flight");
    if (it == channel_row.end() || !it->is_number_integer()) return default_batches_in_flight(type);
    return std::clamp(it->get<int>(), 1, kMaxBatchesInFlight);
}

// Shopify: one channel (one cost bucket, one connection) behind every lane.
Result<std::unique_ptr<ChannelLanes>> ChannelLanes::create_turn_taking(const channels::Config& config, int lanes,
                                                                      const WorkerOptions& options, Wakeup& wake) {
    auto turn = std::make_shared<Turn>();
    auto shared = channels::make_channel(
        config, std::make_unique<TurnFencedClient>(http::make_curl_client(config.client_options()), turn));
    if (!shared) return shared.error();
    std::shared_ptr<channels::Channel> channel = std::move(*shared);
    std::unique_ptr<ChannelLanes> out(new ChannelLanes());
    const auto shared_options = with_shared_health(options);
    for (int i = 0; i < lanes; ++i) {
        auto lane_options = shared_options;
        lane_options.guard = std::make_shared<LeaseGuard>();
        auto view = std::make_unique<TurnTakingChannel>(channel, turn, lane_options.guard);
        out->workers_.push_back(std::make_unique<ChannelWorker>(config, std::move(view), lane_options, wake));
    }
    return out;
}

Result<std::unique_ptr<ChannelLanes>> ChannelLanes::create(const channels::Config& config, int lanes,
                                                          const WorkerOptions& options, Wakeup& wake,
                                                          const MakeChannel& make) {
    lanes = std::clamp(lanes, 1, kMaxBatchesInFlight);
    if (config.type == "shopify" && lanes > 1) return create_turn_taking(config, lanes, options, wake);
    std::unique_ptr<ChannelLanes> out(new ChannelLanes());
    const auto shared_options = with_shared_health(options);
    for (int i = 0; i < lanes; ++i) {
        auto lane_options = shared_options;
        lane_options.guard = std::make_shared<LeaseGuard>();
        auto channel = make(lane_options.guard);
        if (!channel) return channel.error();
        out->workers_.push_back(std::make_unique<ChannelWorker>(config, std::move(*channel), lane_options, wake));
    }
    return out;
}

ChannelLanes::~ChannelLanes() {
    request_stop();
    join();
}

void ChannelLanes::start(const Spawn& spawn) {
    if (workers_.size() > 1)
        log::info("channel {} ({}): {} batches in flight", workers_.front()->config().id,
                  workers_.front()->config().name, workers_.size());
    for (auto& w : workers_) threads_.push_back(spawn([w = w.get()] { w->run(); }));
}

void ChannelLanes::request_stop() {
    for (auto& w : workers_) w->request_stop();
}

void ChannelLanes::join() {
    for (auto& t : threads_)
        if (t.joinable()) t.join();
    threads_.clear();
}

}  // namespace stockrelay::sidecar
