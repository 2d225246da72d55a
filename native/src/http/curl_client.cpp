// libcurl transport: one easy handle per client, reused so connections stay
// alive between batches. No redirects, TLS verification on by default.
#include <curl/curl.h>

#include <memory>
#include <mutex>

#include <fmt/format.h>

#include "stockrelay/http/http.hpp"
#include "stockrelay/log.hpp"

namespace stockrelay::http {
namespace {

void global_init() {
    static std::once_flag once;
    std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct SlistDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
};
struct EasyDeleter {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
};

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
    static_cast<std::string*>(user)->append(data, size * n);
    return size * n;
}

// Streams a 2xx body to Request::on_body; other answers (error pages) are kept whole.
struct StreamTarget {
    const Request* request = nullptr;
    Response* response = nullptr;
    CURL* easy = nullptr;
};

std::size_t on_stream(char* data, std::size_t size, std::size_t n, void* user) {
    auto* t = static_cast<StreamTarget*>(user);
    long status = 0;
    curl_easy_getinfo(t->easy, CURLINFO_RESPONSE_CODE, &status);
    if (status < 200 || status >= 300) {
        if (t->response->body.size() < 65536) t->response->body.append(data, size * n);
        return size * n;
    }
    return t->request->on_body(std::string_view(data, size * n)) ? size * n : 0;
}

std::size_t on_header(char* data, std::size_t size, std::size_t n, void* user) {
    auto* headers = static_cast<std::vector<std::pair<std::string, std::string>>*>(user);
    std::string_view line(data, size * n);
    if (line.rfind("HTTP/", 0) == 0) headers->clear();  // a new response (e.g. after 100-continue)
    auto colon = line.find(':');
    if (colon != std::string_view::npos) {
        std::string name(line.substr(0, colon));
        for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        std::string_view value = line.substr(colon + 1);
        while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
        while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) value.remove_suffix(1);
        headers->emplace_back(std::move(name), std::string(value));
    }
    return size * n;
}

class CurlClient final : public Client {
public:
    explicit CurlClient(ClientOptions options) : options_(std::move(options)) {
        global_init();
        easy_.reset(curl_easy_init());
    }

    Result<Response> send(const Request& request) override {
        auto url = Url::parse(request.url);
        if (!url) return url.error();
        if (url->scheme == "http" && !url->is_loopback() && !options_.allow_insecure_http)
            return make_error(ErrorCode::config,
                              fmt::format("refusing plain HTTP to {}: credentials would travel unencrypted; use https "
                                          "(or set allow_insecure_http on a test shop)", url->origin()));
        if (!easy_) return make_error(ErrorCode::transient, "curl_easy_init failed");
        CURL* c = easy_.get();
        curl_easy_reset(c);

        Response response;
        std::unique_ptr<curl_slist, SlistDeleter> headers;
        for (const auto& h : request.headers) {
            auto line = fmt::format("{}: {}", h.name, h.value);
            headers.reset(curl_slist_append(headers.release(), line.c_str()));
        }
        // libcurl adds "Expect: 100-continue" for large bodies; it only costs a round trip.
        headers.reset(curl_slist_append(headers.release(), "Expect:"));

        curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers.get());
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_TCP_KEEPALIVE, 1L);
        curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
        curl_easy_setopt(c, CURLOPT_USERAGENT, options_.user_agent.c_str());
        curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, options_.tls_verify ? 1L : 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, options_.tls_verify ? 2L : 0L);
        if (!options_.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, options_.ca_file.c_str());
        StreamTarget stream{&request, &response, c};
        if (request.on_body) {
            curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_stream);
            curl_easy_setopt(c, CURLOPT_WRITEDATA, &stream);
        } else {
            curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
            curl_easy_setopt(c, CURLOPT_WRITEDATA, &response.body);
        }
        curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(c, CURLOPT_HEADERDATA, &response.headers);
        char errbuf[CURL_ERROR_SIZE] = {0};
        curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);

        if (request.method == "GET") {
            curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
        } else {
            if (request.method != "POST") curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, request.method.c_str());
            curl_easy_setopt(c, CURLOPT_POST, 1L);
            curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
            curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
        }

        CURLcode rc = curl_easy_perform(c);
        double total = 0;
        curl_easy_getinfo(c, CURLINFO_TOTAL_TIME, &total);
        response.elapsed = std::chrono::milliseconds{static_cast<std::int64_t>(total * 1000)};
        if (rc != CURLE_OK) return transport_error(rc, errbuf, *url, request);
        long status = 0;
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
        response.status = static_cast<int>(status);
        return response;
    }

private:
    Error transport_error(CURLcode rc, const char* errbuf, const Url& url, const Request& request) const {
        std::string detail = errbuf[0] ? errbuf : curl_easy_strerror(rc);
        std::string where = fmt::format("{} {}", request.method, url.origin());
        switch (rc) {
            case CURLE_OPERATION_TIMEDOUT:
                return make_error(ErrorCode::transient,
                                  fmt::format("{}: no answer within {} ms ({})", where, request.timeout.count(), detail));
            case CURLE_COULDNT_RESOLVE_HOST:
                return make_error(ErrorCode::transient, fmt::format("{}: cannot resolve host '{}'", where, url.host));
            case CURLE_COULDNT_CONNECT:
                return make_error(ErrorCode::transient, fmt::format("{}: connection refused ({})", where, detail));
            case CURLE_PEER_FAILED_VERIFICATION:
            case CURLE_SSL_CACERT_BADFILE:
            case CURLE_SSL_CERTPROBLEM:
                // The shop's certificate does not verify against the trusted CAs:
                // retrying cannot fix that, the channel's settings (or the shop) must change.
                return make_error(ErrorCode::config,
                                  fmt::format("{}: TLS certificate verification failed: {} (fix the shop's certificate, "
                                              "or trust its CA with settings.ca_file)", where, detail));
            case CURLE_SSL_CONNECT_ERROR:
                return make_error(ErrorCode::transient, fmt::format("{}: TLS failure: {}", where, detail));
            case CURLE_WRITE_ERROR:
                return make_error(ErrorCode::transient, fmt::format("{}: the download was stopped by its reader", where));
            case CURLE_UNSUPPORTED_PROTOCOL:
            case CURLE_URL_MALFORMAT:
                return make_error(ErrorCode::config, fmt::format("{}: {}", where, detail));
            default:
                return make_error(ErrorCode::transient, fmt::format("{}: {}", where, detail));
        }
    }

    ClientOptions options_;
    std::unique_ptr<CURL, EasyDeleter> easy_;
};

}  // namespace

std::unique_ptr<Client> make_curl_client(const ClientOptions& options) {
    if (!options.tls_verify) log::warn("TLS verification is OFF for this channel (test shops only)");
    return std::make_unique<CurlClient>(options);
}

}  // namespace stockrelay::http
