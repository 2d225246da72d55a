#include "lease.hpp"

#include <algorithm>

#include <fmt/format.h>

namespace stockrelay::sidecar {
namespace {

using std::chrono::milliseconds;

class FencedClient final : public http::Client {
public:
    FencedClient(std::unique_ptr<http::Client> inner, std::shared_ptr<LeaseGuard> guard)
        : inner_(std::move(inner)), guard_(std::move(guard)) {}

    Result<http::Response> send(const http::Request& request) override {
        if (auto why = guard_->refuse_call(request.timeout))
            return make_error(ErrorCode::transient, fmt::format("not sent: {}", *why));
        return inner_->send(request);
    }

private:
    std::unique_ptr<http::Client> inner_;
    std::shared_ptr<LeaseGuard> guard_;
};

long long ms(LeaseGuard::Clock::duration d) { return std::chrono::duration_cast<milliseconds>(d).count(); }

}  // namespace

void LeaseGuard::arm(milliseconds lease, Clock::time_point since) {
    std::lock_guard lock(m_);
    armed_ = true;
    lease_ = lease;
    valid_until_ = since + lease;
    lost_.reset();
}

void LeaseGuard::disarm() {
    std::lock_guard lock(m_);
    armed_ = false;
    lost_.reset();
}

void LeaseGuard::renewed(Clock::time_point sent_at) {
    std::lock_guard lock(m_);
    if (armed_ && !lost_) valid_until_ = std::max(valid_until_, sent_at + lease_);
}

void LeaseGuard::lost(std::string why) {
    std::lock_guard lock(m_);
    if (armed_ && !lost_) lost_ = std::move(why);
}

std::optional<std::string> LeaseGuard::refuse_call(milliseconds call_timeout) const {
    std::lock_guard lock(m_);
    if (!armed_) return std::nullopt;
    if (lost_) return fmt::format("the lease of this push's rows is lost ({})", *lost_);
    // The call must end while the rows are still ours: it may take up to its
    // timeout (at most half the lease is asked for, so a short lease still works:
    // the heartbeat keeps renewing it through a slow call).
    const auto need = std::min(call_timeout, lease_ / 2);
    const auto left = valid_until_ - Clock::now();
    if (left < need)
        return fmt::format("the lease of this push's rows ends in {} ms, too soon for a call that may take {} ms "
                           "(PostgreSQL did not confirm the heartbeat)",
                           std::max<long long>(ms(left), 0), need.count());
    return std::nullopt;
}

std::optional<std::string> LeaseGuard::refuse_wait(milliseconds d) const {
    std::lock_guard lock(m_);
    if (!armed_) return std::nullopt;
    if (lost_) return fmt::format("the lease of this push's rows is lost ({})", *lost_);
    if (d > max_wait(lease_))
        return fmt::format("a wait of {} ms is longer than a push may wait ({} ms, a quarter of the {} s lease)",
                           d.count(), max_wait(lease_).count(), lease_.count() / 1000);
    if (Clock::now() + d >= valid_until_) return fmt::format("a wait of {} ms would outlast the lease", d.count());
    return std::nullopt;
}

milliseconds LeaseGuard::heartbeat_every(milliseconds lease) { return std::max(lease / 6, milliseconds{200}); }

std::unique_ptr<http::Client> fenced_client(std::unique_ptr<http::Client> inner, std::shared_ptr<LeaseGuard> guard) {
    return std::make_unique<FencedClient>(std::move(inner), std::move(guard));
}

Result<std::unique_ptr<channels::Channel>> make_fenced_channel(const channels::Config& config,
                                                               std::shared_ptr<LeaseGuard> guard) {
    return channels::make_channel(config, fenced_client(http::make_curl_client(config.client_options()), std::move(guard)));
}

}  // namespace stockrelay::sidecar
