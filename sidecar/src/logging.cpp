#include "logging.hpp"

#include <algorithm>
#include <mutex>
#include <set>
#include <utility>

#include <nlohmann/json.hpp>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include "database_scope.hpp"
#include "stockrelay/http/http.hpp"

namespace stockrelay::sidecar::logging {
namespace {

std::mutex g_mutex;
std::vector<std::string> g_secrets;  // guarded by g_mutex
thread_local std::string t_channel;  // ChannelScope's label on this thread

std::string with_channel(std::string_view message) {
    if (t_channel.empty() || message.rfind("channel ", 0) == 0) return std::string(message);
    return t_channel + ": " + std::string(message);
}

// A daemon serving several databases names the thread's database first
// (database_scope.hpp); the single-database daemon's lines are unchanged.
std::string with_database(const std::string& line) {
    const auto& db = current_database();
    return db.empty() ? line : "database " + db + ": " + line;
}

// The JSON line's body after ts and level (spdlog's pattern writes those):
// "msg" and "fields" (the channel id when the line is about one channel).
std::string json_body(const std::string& clean) {
    nlohmann::json fields = nlohmann::json::object();
    if (clean.rfind("channel ", 0) == 0) {
        std::size_t end = 8;
        while (end < clean.size() && clean[end] >= '0' && clean[end] <= '9') ++end;
        if (end > 8 && end - 8 < 10) fields["channel_id"] = std::stoll(clean.substr(8, end - 8));
    }
    if (!current_database().empty()) fields["database"] = current_database();
    const auto msg = nlohmann::json(with_database(clean)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    return "\"msg\":" + msg + ",\"fields\":" + fields.dump() + "}";
}

class SpdlogSink final : public stockrelay::log::Sink {
public:
    SpdlogSink(std::shared_ptr<spdlog::logger> logger, stockrelay::log::Level level, Format format)
        : logger_(std::move(logger)), level_(level), format_(format) {}

    void write(stockrelay::log::Level level, std::string_view message) override {
        std::string clean = redact(with_channel(message));
        clean = format_ == Format::json ? json_body(clean) : with_database(clean);
        switch (level) {
            case stockrelay::log::Level::debug: logger_->debug("{}", clean); break;
            case stockrelay::log::Level::info: logger_->info("{}", clean); break;
            case stockrelay::log::Level::warn: logger_->warn("{}", clean); break;
            case stockrelay::log::Level::error: logger_->error("{}", clean); break;
        }
    }
    bool enabled(stockrelay::log::Level level) const override { return level >= level_; }

private:
    std::shared_ptr<spdlog::logger> logger_;
    stockrelay::log::Level level_;
    Format format_;
};

}  // namespace

bool parse_level(std::string_view text, stockrelay::log::Level& out) {
    using L = stockrelay::log::Level;
    if (text == "debug" || text == "trace") out = L::debug;
    else if (text == "info") out = L::info;
    else if (text == "warn" || text == "warning") out = L::warn;
    else if (text == "error") out = L::error;
    else return false;
    return true;
}

void setup(stockrelay::log::Level level, Format format) {
    auto logger = std::make_shared<spdlog::logger>("stockrelayd", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    if (format == Format::json)
        logger->set_pattern(R"({"ts":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l",%v)", spdlog::pattern_time_type::utc);
    else
        logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %l %v", spdlog::pattern_time_type::utc);
    logger->set_level(spdlog::level::trace);
    logger->flush_on(spdlog::level::trace);  // tests and journald read lines as they come
    stockrelay::log::set_sink(std::make_shared<SpdlogSink>(std::move(logger), level, format));
}

void add_secrets(const std::vector<std::string>& secrets) {
    std::lock_guard lock(g_mutex);
    for (const auto& s : secrets) {
        if (s.size() >= 4 && std::find(g_secrets.begin(), g_secrets.end(), s) == g_secrets.end()) g_secrets.push_back(s);
    }
}

ChannelScope::ChannelScope(std::string label) : previous_(std::exchange(t_channel, std::move(label))) {}

ChannelScope::~ChannelScope() { t_channel = std::move(previous_); }

std::string redact(std::string_view text) {
    std::vector<std::string> secrets;
    {
        std::lock_guard lock(g_mutex);
        secrets = g_secrets;
    }
    return stockrelay::http::redact(text, secrets);
}

}  // namespace stockrelay::sidecar::logging
