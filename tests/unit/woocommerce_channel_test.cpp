// WooCommerce channel against a scripted in-memory WooCommerce (no network).
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>

#include "stockrelay/channels/channel.hpp"
#include "stockrelay/channels/woocommerce.hpp"

using namespace stockrelay;
using namespace stockrelay::channels;
using nlohmann::json;
namespace wc = stockrelay::channels::woocommerce;

namespace {

// --- OAuth 1.0a ------------------------------------------------------------

// Expected values computed independently with Python's hmac module:
//   q = lambda s: urllib.parse.quote(s, safe='-._~')
//   norm = "&".join(f"{q(k)}={q(v)}" for k, v in sorted(params.items()))
//   base = "GET&" + q(url) + "&" + q(norm)
//   base64.b64encode(hmac.new(b"cs_secret_5678&", base.encode(), hashlib.sha256).digest())
// with url = http://127.0.0.1:8080/wp-json/wc/v3/products and params
// sku="MUG-1,TEE M", _fields="id,sku", per_page="100", oauth_consumer_key="ck_test_1234",
// oauth_nonce="0123456789abcdef", oauth_signature_method="HMAC-SHA256", oauth_timestamp="1700000000".
constexpr const char* kVectorBase =
    "GET&http%3A%2F%2F127.0.0.1%3A8080%2Fwp-json%2Fwc%2Fv3%2Fproducts&_fields%3Did%252Csku%26oauth_consumer_key%"
    "3Dck_test_1234%26oauth_nonce%3D0123456789abcdef%26oauth_signature_method%3DHMAC-SHA256%26oauth_timestamp%"
    "3D1700000000%26per_page%3D100%26sku%3DMUG-1%252CTEE%2520M";
constexpr const char* kVectorSignature = "w6QZq7AqYEttLV7yzfKPavttSfs1E6hHlKfqO6RgO5c=";

TEST(WooOAuth, SignsTheKnownVector) {
    wc::QueryParams params{{"sku", "MUG-1,TEE M"},
                           {"_fields", "id,sku"},
                           {"per_page", "100"},
                           {"oauth_consumer_key", "ck_test_1234"},
                           {"oauth_nonce", "0123456789abcdef"},
                           {"oauth_signature_method", "HMAC-SHA256"},
                           {"oauth_timestamp", "1700000000"}};
    auto base = wc::oauth_base_string("get", "http://127.0.0.1:8080/wp-json/wc/v3/products", params);
    EXPECT_EQ(base, kVectorBase);
    EXPECT_EQ(wc::oauth_signature(base, "cs_secret_5678", "HMAC-SHA256"), kVectorSignature);
}

TEST(WooOAuth, SignedUrlCarriesTheSameSignature) {
    wc::OAuthCredentials creds{"ck_test_1234", "cs_secret_5678", "HMAC-SHA256"};
    auto url = wc::oauth_sign_url("GET",
                                  "http://127.0.0.1:8080/wp-json/wc/v3/products?sku=MUG-1%2CTEE%20M&_fields=id%2Csku&per_page=100",
                                  creds, "0123456789abcdef", 1700000000);
    EXPECT_EQ(url.rfind("http://127.0.0.1:8080/wp-json/wc/v3/products?sku=MUG-1%2CTEE%20M&", 0), 0u);
    auto params = wc::parse_query(url.substr(url.find('?') + 1));
    std::map<std::string, std::string> m(params.begin(), params.end());
    EXPECT_EQ(m["oauth_signature"], kVectorSignature);
    EXPECT_EQ(m["oauth_consumer_key"], "ck_test_1234");
    EXPECT_EQ(m.count("oauth_token"), 0u);  // one-legged
    EXPECT_EQ(url.find("cs_secret_5678"), std::string::npos);
}

TEST(WooOAuth, NoncesAreFreshAndHex) {
    auto a = wc::random_nonce(), b = wc::random_nonce();
    EXPECT_EQ(a.size(), 32u);
    EXPECT_NE(a, b);
    EXPECT_EQ(a.find_first_not_of("0123456789abcdef"), std::string::npos);
}

// --- a scripted WooCommerce ------------------------------------------------

struct Product {
    std::string sku, type = "simple", name;
    int parent = 0;
    bool manage = false;
    std::int64_t stock = 0;
    std::string status = "publish";
};

struct FakeWoo {
    std::map<int, Product> products;
    std::vector<http::Request> requests;
    int batch_limit = 100;
    // Return a response to short-circuit the normal handling (fault injection).
    std::function<std::optional<http::Response>(const http::Request&)> fault;
    std::string index_body = R"({"name":"Mug Shop","namespaces":["wp/v2","wc/v3"]})";
    int index_status = 200;
    // /?rest_route=/ (answers even with plain permalinks); a non-WordPress site answers neither.
    std::string rest_route_body = R"({"name":"Mug Shop","namespaces":["wp/v2","wc/v3"]})";
    int rest_route_status = 200;

    static http::Response reply(int status, const json& body, std::vector<std::pair<std::string, std::string>> h = {}) {
        http::Response r;
        r.status = status;
        r.body = body.dump();
        r.headers = std::move(h);
        return r;
    }
    static json err(const std::string& code, const std::string& msg, int status) {
        return json{{"code", code}, {"message", msg}, {"data", {{"status", status}}}};
    }
    json view(int id) const {
        const auto& p = products.at(id);
        return json{{"id", id},        {"sku", p.sku},         {"name", p.name},
                    {"type", p.type},  {"parent_id", p.parent}, {"manage_stock", p.manage},
                    {"stock_quantity", p.manage ? json(p.stock) : json()}, {"status", p.status}};
    }

    http::Response handle(const http::Request& rq) {
        requests.push_back(rq);
        if (fault)
            if (auto r = fault(rq)) return *r;
        auto q = rq.url.find('?');
        std::string path = rq.url.substr(0, q);
        auto params = wc::parse_query(q == std::string::npos ? "" : rq.url.substr(q + 1));
        std::map<std::string, std::string> m(params.begin(), params.end());
        const std::string api = "/wp-json/wc/v3/";
        if (path.size() >= 9 && path.substr(path.size() - 9) == "/wp-json/") return reply(index_status, json::parse(index_body));
        if (m.count("rest_route")) return reply(rest_route_status, json::parse(rest_route_body));
        auto at = path.find(api);
        if (at == std::string::npos) return reply(404, err("rest_no_route", "No route", 404));
        std::string route = path.substr(at + api.size());
        if (rq.method == "GET" && route == "products") {
            json out = json::array();
            if (m.count("sku")) {
                std::vector<std::string> wanted;
                std::string s = m["sku"];
                for (std::size_t p = 0;;) {
                    auto c = s.find(',', p);
                    wanted.push_back(s.substr(p, c - p));
                    if (c == std::string::npos) break;
                    p = c + 1;
                }
                wanted.push_back(s);
                for (const auto& [id, p] : products)
                    if (p.status != "trash" && std::find(wanted.begin(), wanted.end(), p.sku) != wanted.end())
                        out.push_back(view(id));
            } else {
                for (const auto& [id, p] : products) {
                    out.push_back(json{{"id", id}});
                    break;
                }
            }
            return reply(200, out, {{"x-wp-total", std::to_string(products.size())}, {"x-wp-totalpages", "1"}});
        }
        if (rq.method == "POST" && route.size() > 6 && route.substr(route.size() - 6) == "/batch") {
            auto body = json::parse(rq.body);
            const auto& updates = body["update"];
            if (static_cast<int>(updates.size()) > batch_limit)
                return reply(413, err("woocommerce_rest_request_entity_too_large",
                                      "Unable to accept more than 100 items for this request.", 413));
            int parent = 0;
            if (route != "products/batch") parent = std::stoi(route.substr(9));
            json answers = json::array();
            for (const auto& u : updates) {
                int id = u["id"].get<int>();
                auto it = products.find(id);
                bool ok = it != products.end() && (parent ? it->second.parent == parent : it->second.type != "variation");
                if (!ok) {
                    answers.push_back(json{{"id", id}, {"error", err("woocommerce_rest_product_invalid_id", "Invalid ID.", 400)}});
                    continue;
                }
                if (!u["stock_quantity"].is_number_integer()) {
                    answers.push_back(json{{"id", id}, {"error", err("rest_invalid_param", "bad quantity", 400)}});
                    continue;
                }
                it->second.manage = u.value("manage_stock", it->second.manage);
                it->second.stock = u["stock_quantity"].get<std::int64_t>();
                answers.push_back(view(id));
            }
            return reply(200, json{{"update", answers}});
        }
        return reply(404, err("rest_no_route", "No route was found matching the URL and request method.", 404));
    }

    std::vector<const http::Request*> posts() const {
        std::vector<const http::Request*> out;
        for (const auto& r : requests)
            if (r.method == "POST") out.push_back(&r);
        return out;
    }
    std::vector<const http::Request*> lookups() const {
        std::vector<const http::Request*> out;
        for (const auto& r : requests)
            if (r.method == "GET" && r.url.find("sku=") != std::string::npos) out.push_back(&r);
        return out;
    }
};

class FakeClient : public http::Client {
public:
    explicit FakeClient(std::shared_ptr<FakeWoo> w) : w_(std::move(w)) {}
    Result<http::Response> send(const http::Request& r) override { return w_->handle(r); }

private:
    std::shared_ptr<FakeWoo> w_;
};

json config_row(const std::string& base = "https://shop.example") {
    return json{{"id", 1},
                {"channel_type", "woocommerce"},
                {"base_url", base},
                {"credentials", {{"consumer_key", "ck_live_abcdef"}, {"consumer_secret", "cs_live_123456"}}}};
}

std::unique_ptr<Channel> make(const std::shared_ptr<FakeWoo>& w, json row = config_row()) {
    auto cfg = Config::from_json(row);
    EXPECT_TRUE(cfg) << cfg.error().message;
    auto ch = make_channel(*cfg, std::make_unique<FakeClient>(w));
    EXPECT_TRUE(ch) << ch.error().message;
    return std::move(ch).value();
}

PushItem item(std::int64_t row, std::string sku, std::int64_t qty, std::optional<Resolution> cached = std::nullopt) {
    PushItem p;
    p.row_id = row;
    p.sku = std::move(sku);
    p.quantity = qty;
    p.cached = std::move(cached);
    return p;
}

std::shared_ptr<FakeWoo> shop() {
    auto w = std::make_shared<FakeWoo>();
    w->products[11] = {"MUG-1", "simple", "Mug", 0, true, 3};
    w->products[12] = {"TEE", "variable", "Tee", 0, false, 0};
    w->products[13] = {"TEE-S", "variation", "Tee - S", 12, true, 1};
    w->products[14] = {"TEE-M", "variation", "Tee - M", 12, false, 0};
    w->products[20] = {"CAP", "variable", "Cap", 0, false, 0};
    w->products[21] = {"CAP-RED", "variation", "Cap - red", 20, true, 0};
    w->products[30] = {"PEN", "simple", "Pen", 0, false, 0};
    return w;
}

// --- configuration / auth --------------------------------------------------

TEST(WooChannel, BasicAuthOverHttps) {
    auto w = shop();
    auto ch = make(w);
    EXPECT_EQ(ch->type(), "woocommerce");
    EXPECT_EQ(ch->batch_size(), 50u);
    auto ok = ch->test_connection();
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_NE(ok->find("Mug Shop"), std::string::npos);
    EXPECT_NE(ok->find("HTTP Basic"), std::string::npos);
    const auto& r = w->requests.back();
    EXPECT_EQ(r.url, "https://shop.example/wp-json/wc/v3/products?per_page=1&_fields=id");
    bool found = false;
    for (const auto& h : r.headers)
        if (h.name == "Authorization") {
            found = true;
            EXPECT_EQ(h.value, "Basic " + http::base64("ck_live_abcdef:cs_live_123456"));
            EXPECT_TRUE(h.secret);
        }
    EXPECT_TRUE(found);
    EXPECT_EQ(r.url.find("oauth_"), std::string::npos);
    // The public index is fetched without credentials.
    for (const auto& h : w->requests.front().headers) EXPECT_NE(h.name, "Authorization");
}

TEST(WooChannel, OAuthOverPlainLoopbackHttpWithFreshNonces) {
    auto w = shop();
    auto ch = make(w, config_row("http://127.0.0.1:8080"));
    ASSERT_TRUE(ch->test_connection());
    auto rep = ch->push({item(1, "MUG-1", 9)});
    ASSERT_FALSE(rep.items[0].error) << rep.items[0].error->message;
    std::set<std::string> nonces;
    for (const auto& r : w->requests) {
        if (r.url.find("/wc/v3/") == std::string::npos) continue;
        for (const auto& h : r.headers) EXPECT_NE(h.name, "Authorization");
        auto q = r.url.find('?');
        auto params = wc::parse_query(r.url.substr(q + 1));
        std::string sig;
        wc::QueryParams rest;
        for (auto& [k, v] : params) {
            if (k == "oauth_signature")
                sig = v;
            else
                rest.emplace_back(k, v);
            if (k == "oauth_nonce") nonces.insert(v);
            if (k == "oauth_signature_method") {
                EXPECT_EQ(v, "HMAC-SHA256");
            }
        }
        // What WooCommerce recomputes from the URL it received.
        auto expect = wc::oauth_signature(wc::oauth_base_string(r.method, r.url.substr(0, q), rest), "cs_live_123456",
                                          "HMAC-SHA256");
        EXPECT_EQ(sig, expect) << r.url;
    }
    EXPECT_EQ(nonces.size(), 3u);  // products?per_page=1, sku lookup, batch
    // Excerpts never show the key, the secret or the signature.
    EXPECT_EQ(rep.items[0].request_excerpt.find("ck_live"), std::string::npos);
    EXPECT_EQ(rep.items[0].request_excerpt.find("oauth_signature"), std::string::npos);
}

TEST(WooChannel, RefusesPlainHttpToARemoteHostAndBadConfig) {
    auto cfg = Config::from_json(config_row("http://shop.example"));
    auto ch = make_channel(*cfg, std::make_unique<FakeClient>(shop()));
    ASSERT_FALSE(ch);
    EXPECT_EQ(ch.error().code, ErrorCode::config);
    EXPECT_NE(ch.error().message.find("plain HTTP"), std::string::npos);

    auto row = config_row("http://shop.example");
    row["settings"] = {{"allow_insecure_http", true}};
    EXPECT_TRUE(make_channel(*Config::from_json(row), std::make_unique<FakeClient>(shop())));

    auto trap = make_channel(*Config::from_json(config_row("https://shop.example/?rest_route=/wc/v3")),
                             std::make_unique<FakeClient>(shop()));
    ASSERT_FALSE(trap);
    EXPECT_NE(trap.error().message.find("permalinks"), std::string::npos);

    auto nocreds = config_row();
    nocreds["credentials"] = {{"consumer_key", "ck_x"}};
    auto bad = make_channel(*Config::from_json(nocreds), std::make_unique<FakeClient>(shop()));
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("consumer_secret"), std::string::npos);

    auto big = config_row();
    big["batch_size"] = 500;
    EXPECT_EQ(make(shop(), big)->batch_size(), 100u);
}

TEST(WooChannel, DetectsThePermalinkTrap) {
    auto w = shop();
    w->index_status = 404;
    w->index_body = R"("<html>Page not found</html>")";
    auto ok = make(w)->test_connection();
    ASSERT_FALSE(ok);
    EXPECT_EQ(ok.error().code, ErrorCode::config);
    EXPECT_NE(ok.error().message.find("pretty permalinks"), std::string::npos);
    EXPECT_NE(ok.error().message.find("rest_route"), std::string::npos);
}

TEST(WooChannel, ANonWordPressSiteIsToldSoNotPermalinks) {
    auto w = shop();
    w->index_status = 404;
    w->index_body = R"("<html>Not Found</html>")";
    w->rest_route_status = 404;
    w->rest_route_body = R"("<html>Not Found</html>")";
    auto ch = make(w);
    auto t = ch->test_connection();
    ASSERT_FALSE(t);
    EXPECT_EQ(t.error().code, ErrorCode::config);
    EXPECT_NE(t.error().message.find("https://shop.example is not a WooCommerce store"), std::string::npos)
        << t.error().message;
    EXPECT_EQ(t.error().message.find("permalinks"), std::string::npos) << t.error().message;
    // A push meets the same 404 page on the API and says the same.
    w->fault = [](const http::Request& r) -> std::optional<http::Response> {
        if (r.url.find("/wp-json/wc/v3/") == std::string::npos) return std::nullopt;
        http::Response page;
        page.status = 404;
        page.body = "<html>Not Found</html>";
        return page;
    };
    auto rep = ch->push({item(1, "MUG-1", 4, Resolution{"11", "", {}})});
    ASSERT_TRUE(rep.items[0].error);
    EXPECT_EQ(rep.items[0].error->code, ErrorCode::config);
    EXPECT_NE(rep.items[0].error->message.find("is not a WooCommerce store"), std::string::npos);

    // WordPress without WooCommerce, plain permalinks: WordPress is named, not the permalinks.
    w->rest_route_status = 200;
    w->rest_route_body = R"({"name":"Blog","namespaces":["wp/v2"]})";
    auto blog = make(w)->test_connection();
    ASSERT_FALSE(blog);
    EXPECT_NE(blog.error().message.find("no WooCommerce REST API"), std::string::npos) << blog.error().message;
}

TEST(WooChannel, AuthFailureIsClearAndRedacted) {
    auto w = shop();
    w->fault = [](const http::Request& r) -> std::optional<http::Response> {
        if (r.url.find("/wc/v3/") == std::string::npos) return std::nullopt;
        return FakeWoo::reply(401, FakeWoo::err("woocommerce_rest_authentication_error",
                                                "Consumer secret cs_live_123456 is invalid.", 401));
    };
    auto ch = make(w);
    auto t = ch->test_connection();
    ASSERT_FALSE(t);
    EXPECT_EQ(t.error().code, ErrorCode::auth);
    EXPECT_NE(t.error().message.find("Consumer secret"), std::string::npos);
    EXPECT_EQ(t.error().message.find("cs_live_123456"), std::string::npos);
    auto rep = ch->push({item(1, "MUG-1", 4, Resolution{"11", "", {}})});
    ASSERT_TRUE(rep.items[0].error);
    EXPECT_EQ(rep.items[0].error->code, ErrorCode::auth);
    EXPECT_EQ(rep.items[0].response_excerpt.find("cs_live_123456"), std::string::npos);
}

// --- lookup -----------------------------------------------------------------

TEST(WooChannel, LooksUpSkusExactlyWithVariations) {
    auto w = shop();
    auto ch = make(w);
    auto items = ch->lookup_sku("TEE-S");
    ASSERT_TRUE(items);
    ASSERT_EQ(items->size(), 1u);
    EXPECT_EQ((*items)[0].resolution.remote_id, "13");
    EXPECT_EQ((*items)[0].resolution.parent_id, "12");
    EXPECT_EQ((*items)[0].levels.at(""), 1);
    EXPECT_NE(w->requests.back().url.find("_fields=id%2Csku%2Cname%2Ctype%2Cstatus%2Cparent_id%2Cmanage_stock%2Cstock_quantity"),
              std::string::npos);
    auto none = ch->lookup_sku("tee-s");  // case matters
    ASSERT_TRUE(none);
    EXPECT_TRUE(none->empty());
    auto locs = ch->list_locations();
    ASSERT_TRUE(locs);
    ASSERT_EQ(locs->size(), 1u);
    EXPECT_EQ((*locs)[0].id, "");
}

TEST(WooChannel, ChunksAndEncodesSkuLookups) {
    auto w = std::make_shared<FakeWoo>();
    std::vector<PushItem> items;
    for (int i = 0; i < 45; ++i) {
        w->products[100 + i] = {"SKU-" + std::to_string(i), "simple", "", 0, true, 0};
        items.push_back(item(i + 1, "SKU-" + std::to_string(i), i));
    }
    w->products[200] = {"A,B", "simple", "", 0, true, 0};
    w->products[201] = {"A", "simple", "", 0, true, 0};  // near miss of "A,B"
    w->products[202] = {"Ü 1&x", "simple", "", 0, true, 0};
    items.push_back(item(46, "A,B", 5));
    items.push_back(item(47, "Ü 1&x", 6));
    auto ch = make(w);
    auto rep = ch->push(items);
    for (const auto& o : rep.items) EXPECT_FALSE(o.error) << o.error->message;
    auto lookups = w->lookups();
    ASSERT_EQ(lookups.size(), 3u);  // 40 + (5 + the encoded one) + the comma SKU alone
    int comma_alone = 0;
    for (const auto* r : lookups) {
        auto p = wc::parse_query(r->url.substr(r->url.find('?') + 1));
        if (p[0].second == "A,B") ++comma_alone;
        EXPECT_EQ(r->url.find(' '), std::string::npos);
    }
    EXPECT_EQ(comma_alone, 1);
    bool encoded = false;
    for (const auto* r : lookups) encoded = encoded || r->url.find("%C3%9C%201%26x") != std::string::npos;
    EXPECT_TRUE(encoded);
    EXPECT_EQ(w->products[200].stock, 5);
    EXPECT_EQ(w->products[201].stock, 0);
    EXPECT_EQ(w->products[202].stock, 6);
    EXPECT_EQ(rep.items[45].resolved->remote_id, "200");
}

TEST(WooChannel, MissDuplicateVariableParentAndLocation) {
    auto w = shop();
    w->products[40] = {"DUP", "simple", "", 0, true, 0};
    w->products[41] = {"DUP", "variation", "", 20, true, 0};
    auto ch = make(w);
    auto bad_loc = item(4, "MUG-1", 1);
    bad_loc.location_key = "gid://shopify/Location/1";
    auto rep = ch->push({item(1, "NOPE", 1), item(2, "DUP", 1), item(3, "TEE", 1), bad_loc});
    EXPECT_EQ(rep.items[0].error->code, ErrorCode::sku_not_found);
    EXPECT_EQ(rep.items[1].error->code, ErrorCode::duplicate_sku);
    EXPECT_NE(rep.items[1].error->message.find("#40"), std::string::npos);
    EXPECT_NE(rep.items[1].error->message.find("#41 (variation of #20)"), std::string::npos);
    EXPECT_EQ(rep.items[2].error->code, ErrorCode::rejected);
    EXPECT_NE(rep.items[2].error->message.find("variable product #12"), std::string::npos);
    EXPECT_EQ(rep.items[3].error->code, ErrorCode::rejected);
    EXPECT_NE(rep.items[3].error->message.find("gid://shopify/Location/1"), std::string::npos);
    EXPECT_TRUE(w->posts().empty());
}

// --- push -------------------------------------------------------------------

TEST(WooChannel, GroupsVariationsPerParent) {
    auto w = shop();
    auto ch = make(w);
    auto rep = ch->push({item(1, "MUG-1", 7), item(2, "TEE-S", 0), item(3, "CAP-RED", 2), item(4, "TEE-M", 5),
                         item(5, "PEN", 9)});
    for (const auto& o : rep.items) EXPECT_FALSE(o.error) << o.error->message;
    auto posts = w->posts();
    ASSERT_EQ(posts.size(), 3u);
    std::map<std::string, json> bodies;
    for (const auto* p : posts) bodies[p->url.substr(p->url.find("/wc/v3/") + 7)] = json::parse(p->body);
    ASSERT_EQ(bodies.count("products/batch"), 1u);
    ASSERT_EQ(bodies.count("products/12/variations/batch"), 1u);
    ASSERT_EQ(bodies.count("products/20/variations/batch"), 1u);
    EXPECT_EQ(bodies["products/batch"]["update"].size(), 2u);
    EXPECT_EQ(bodies["products/12/variations/batch"]["update"].size(), 2u);
    EXPECT_EQ(bodies["products/batch"]["update"][0], (json{{"id", 11}, {"manage_stock", true}, {"stock_quantity", 7}}));
    EXPECT_EQ(w->products[14].stock, 5);
    EXPECT_TRUE(w->products[14].manage);
    EXPECT_TRUE(w->products[30].manage);
    EXPECT_EQ(rep.items[1].resolved->parent_id, "12");
    EXPECT_EQ(rep.http_calls, 4);  // one lookup, three batches
    EXPECT_NE(rep.items[1].request_excerpt.find("products/12/variations/batch"), std::string::npos);
    EXPECT_NE(rep.items[1].response_excerpt.find("\"stock_quantity\":0"), std::string::npos);
}

TEST(WooChannel, MapsPerItemErrorsAndRelooksUpStaleIds) {
    auto w = shop();
    auto ch = make(w);
    // Cached ids: 99 no longer exists (MUG-1 is now #11); #30 is fine.
    w->fault = [](const http::Request& r) -> std::optional<http::Response> {
        if (r.method != "POST") return std::nullopt;
        auto body = json::parse(r.body);
        for (const auto& u : body["update"])
            if (u["id"] == 30)  // one item refused for a validation reason
                return FakeWoo::reply(200, json{{"update", json::array({json{{"id", 99}, {"error", FakeWoo::err("woocommerce_rest_product_invalid_id", "Invalid ID.", 400)}},
                                                                         json{{"id", 30}, {"error", FakeWoo::err("woocommerce_rest_product_not_editable", "Locked.", 400)}}})}});
        return std::nullopt;
    };
    auto rep = ch->push({item(1, "MUG-1", 8, Resolution{"99", "", {}}), item(2, "PEN", 3, Resolution{"30", "", {}})});
    ASSERT_FALSE(rep.items[0].error) << rep.items[0].error->message;
    EXPECT_FALSE(rep.items[0].drop_cache);  // replaced, not just dropped
    ASSERT_TRUE(rep.items[0].resolved);
    EXPECT_EQ(rep.items[0].resolved->remote_id, "11");
    EXPECT_EQ(w->products[11].stock, 8);
    ASSERT_TRUE(rep.items[1].error);
    EXPECT_EQ(rep.items[1].error->code, ErrorCode::rejected);
    EXPECT_NE(rep.items[1].error->message.find("woocommerce_rest_product_not_editable"), std::string::npos);
    EXPECT_EQ(rep.items[1].http_status, 400);
    EXPECT_EQ(w->products[30].stock, 0);

    // A stale id whose SKU has vanished: cache dropped, sku_not_found.
    w->fault = nullptr;
    auto gone = ch->push({item(3, "GONE", 1, Resolution{"77", "", {}})});
    ASSERT_TRUE(gone.items[0].error);
    EXPECT_EQ(gone.items[0].error->code, ErrorCode::sku_not_found);
    EXPECT_TRUE(gone.items[0].drop_cache);
}

// A cached id is trusted only as far as the write's answer confirms it: the
// answer carries the item's SKU and status on every write.
TEST(WooChannel, ACachedIdWhoseSkuMovedIsRelookedUpAndPushedAgain) {
    auto w = shop();
    auto ch = make(w);
    // MUG-1 was renamed on #11 (now MUG-OLD); a new product #40 carries MUG-1.
    w->products[11].sku = "MUG-OLD";
    w->products[40] = {"MUG-1", "simple", "Mug v2", 0, false, 0};
    auto rep = ch->push({item(1, "MUG-1", 8, Resolution{"11", "", {}})});
    ASSERT_FALSE(rep.items[0].error) << rep.items[0].error->message;
    ASSERT_TRUE(rep.items[0].resolved);
    EXPECT_EQ(rep.items[0].resolved->remote_id, "40");
    EXPECT_FALSE(rep.items[0].drop_cache);  // replaced by the new mapping
    EXPECT_EQ(w->products[40].stock, 8);
    EXPECT_TRUE(w->products[40].manage);  // just resolved: stock management switched on
    auto posts = w->posts();
    ASSERT_EQ(posts.size(), 2u);
    // The write to the cached id did not switch stock management on.
    EXPECT_EQ(json::parse(posts[0]->body)["update"][0], (json{{"id", 11}, {"stock_quantity", 8}}));
    EXPECT_EQ(json::parse(posts[1]->body)["update"][0], (json{{"id", 40}, {"manage_stock", true}, {"stock_quantity", 8}}));
}

TEST(WooChannel, ATrashedProductIsNoTargetAndItsSuccessorIsFound) {
    auto w = shop();
    auto ch = make(w);
    w->products[11].status = "trash";  // trashed, SKU kept; re-created as #41
    w->products[41] = {"MUG-1", "simple", "Mug again", 0, true, 0};
    auto rep = ch->push({item(1, "MUG-1", 6, Resolution{"11", "", {}})});
    ASSERT_FALSE(rep.items[0].error) << rep.items[0].error->message;
    EXPECT_EQ(rep.items[0].resolved->remote_id, "41");
    EXPECT_EQ(w->products[41].stock, 6);

    // Trashed and nothing else carries the SKU: not found, cache dropped, not done.
    w->products[41].status = "trash";
    auto gone = ch->push({item(2, "MUG-1", 5, Resolution{"41", "", {}})});
    ASSERT_TRUE(gone.items[0].error);
    EXPECT_EQ(gone.items[0].error->code, ErrorCode::sku_not_found);
    EXPECT_TRUE(gone.items[0].drop_cache);
    // The failed row shows the lookup that found nothing, not the write to the trashed item.
    EXPECT_NE(gone.items[0].request_excerpt.find("GET /wp-json/wc/v3/products?sku=MUG-1"), std::string::npos)
        << gone.items[0].request_excerpt;
    EXPECT_EQ(gone.items[0].response_excerpt, "HTTP 200 []");
}

TEST(WooChannel, ACachedItemNoLongerManagingStockIsNotSwitchedOnBlindly) {
    auto w = shop();
    auto ch = make(w);
    w->products[30].manage = false;  // PEN: someone switched stock management off in WooCommerce
    auto rep = ch->push({item(1, "PEN", 4, Resolution{"30", "", {}})});
    ASSERT_FALSE(rep.items[0].error) << rep.items[0].error->message;
    auto posts = w->posts();
    ASSERT_EQ(posts.size(), 2u);
    EXPECT_FALSE(json::parse(posts[0]->body)["update"][0].contains("manage_stock"));
    // Looked up again: #30 still carries PEN, so this push resolved it and may switch it on.
    EXPECT_TRUE(json::parse(posts[1]->body)["update"][0]["manage_stock"].get<bool>());
    EXPECT_EQ(w->products[30].stock, 4);
}

TEST(WooChannel, SplitsOn413) {
    auto w = std::make_shared<FakeWoo>();
    std::vector<PushItem> items;
    for (int i = 0; i < 7; ++i) {
        w->products[10 + i] = {"S" + std::to_string(i), "simple", "", 0, true, 0};
        items.push_back(item(i + 1, "S" + std::to_string(i), 100 + i, Resolution{std::to_string(10 + i), "", {}}));
    }
    w->batch_limit = 2;  // a server whose limit was filtered down
    auto row = config_row();
    row["batch_size"] = 7;
    auto rep = make(w, row)->push(items);
    for (const auto& o : rep.items) EXPECT_FALSE(o.error) << o.error->message;
    for (int i = 0; i < 7; ++i) EXPECT_EQ(w->products[10 + i].stock, 100 + i);
    for (const auto* p : w->posts()) EXPECT_LE(json::parse(p->body)["update"].size(), 7u);

    // Even one item refused as too large: a permanent, explained error.
    w->batch_limit = 0;
    auto one = make(w)->push({item(1, "S0", 1, Resolution{"10", "", {}})});
    ASSERT_TRUE(one.items[0].error);
    EXPECT_EQ(one.items[0].error->code, ErrorCode::permanent);
    EXPECT_EQ(one.items[0].http_status, 413);
}

TEST(WooChannel, HonoursRetryAfter) {
    auto w = shop();
    int throttles = 1;
    w->fault = [&](const http::Request& r) -> std::optional<http::Response> {
        if (r.method == "POST" && throttles-- > 0)
            return FakeWoo::reply(429, FakeWoo::err("too_many", "slow down", 429), {{"retry-after", "2"}});
        return std::nullopt;
    };
    auto ch = make(w);
    std::vector<std::chrono::milliseconds> slept;
    ch->set_sleeper([&](std::chrono::milliseconds d) {
        slept.push_back(d);
        return true;
    });
    auto rep = ch->push({item(1, "MUG-1", 6, Resolution{"11", "", {}})});
    ASSERT_FALSE(rep.items[0].error);
    ASSERT_EQ(slept.size(), 1u);
    EXPECT_EQ(slept[0].count(), 2000);
    EXPECT_EQ(rep.throttled_for.count(), 2000);
    EXPECT_EQ(w->products[11].stock, 6);

    // A long Retry-After is handed back to the sidecar instead of blocking.
    throttles = 1;
    w->fault = [&](const http::Request& r) -> std::optional<http::Response> {
        if (r.method == "POST") return FakeWoo::reply(429, FakeWoo::err("too_many", "slow down", 429), {{"retry-after", "120"}});
        return std::nullopt;
    };
    slept.clear();
    auto later = ch->push({item(1, "MUG-1", 6, Resolution{"11", "", {}})});
    ASSERT_TRUE(later.items[0].error);
    EXPECT_EQ(later.items[0].error->code, ErrorCode::throttled);
    EXPECT_EQ(later.items[0].error->retry_after.count(), 120000);
    EXPECT_TRUE(slept.empty());
}

TEST(WooChannel, TransientFailuresAreRetryable) {
    auto w = shop();
    auto ch = make(w);
    const std::vector<std::function<Result<http::Response>()>> faults = {
        [] { return Result<http::Response>(FakeWoo::reply(503, json{{"code", "down"}, {"message", "maintenance"}})); },
        [] {
            http::Response r;
            r.status = 200;
            r.body = "<html>PHP Fatal error</html>";
            return Result<http::Response>(r);
        },
        [] { return Result<http::Response>(make_error(ErrorCode::transient, "no answer within 15000 ms")); },
    };
    for (const auto& f : faults) {
        class Faulty : public http::Client {
        public:
            explicit Faulty(std::function<Result<http::Response>()> fn) : fn_(std::move(fn)) {}
            Result<http::Response> send(const http::Request&) override { return fn_(); }
            std::function<Result<http::Response>()> fn_;
        };
        auto c = make_channel(*Config::from_json(config_row()), std::make_unique<Faulty>(f));
        auto rep = (*c)->push({item(1, "MUG-1", 1, Resolution{"11", "", {}}), item(2, "PEN", 1)});
        for (const auto& o : rep.items) {
            ASSERT_TRUE(o.error);
            EXPECT_TRUE(is_retryable(o.error->code)) << o.error->describe();
        }
    }
}

}  // namespace
