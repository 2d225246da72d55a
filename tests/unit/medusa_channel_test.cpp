// Medusa channel against a scripted in-memory Medusa v2 Admin API (no network).
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <memory>
#include <set>

#include "stockrelay/channels/channel.hpp"
#include "stockrelay/channels/medusa.hpp"
#include "stockrelay/channels/woocommerce.hpp"

using namespace stockrelay;
using namespace stockrelay::channels;
using nlohmann::json;
using std::chrono::system_clock;

namespace {

std::string b64url(const std::string& s) {
    auto b = http::base64(s);
    for (auto& c : b) c = c == '+' ? '-' : c == '/' ? '_' : c;
    while (!b.empty() && b.back() == '=') b.pop_back();
    return b;
}

std::string make_jwt(std::int64_t exp) {
    return b64url(R"({"alg":"HS256","typ":"JWT"})") + "." +
           b64url(json{{"actor_id", "user_1"}, {"iat", exp - 86400}, {"exp", exp}}.dump()) + ".c2lnbmF0dXJl";
}

TEST(MedusaJwt, ReadsExpiry) {
    auto exp = medusa::jwt_expiry(make_jwt(1700086400));
    ASSERT_TRUE(exp);
    EXPECT_EQ(std::chrono::duration_cast<std::chrono::seconds>(exp->time_since_epoch()).count(), 1700086400);
    EXPECT_FALSE(medusa::jwt_expiry("not-a-jwt"));
    EXPECT_FALSE(medusa::jwt_expiry("a.b.c"));
}

// --- a scripted Medusa --------------------------------------------------------

struct FakeMedusa {
    std::map<std::string, std::string> locations{{"sloc_main", "WH Main"}, {"sloc_b", "Backroom"}};
    std::map<std::string, std::string> items{{"iitem_mug", "MUG-1"}, {"iitem_tee", "TEE-S"}, {"iitem_cap", "CAP"}};
    std::map<std::pair<std::string, std::string>, std::int64_t> levels{{{"iitem_mug", "sloc_main"}, 3}};
    std::map<std::pair<std::string, std::string>, std::int64_t> reserved;  // unfulfilled orders per level
    std::set<std::int64_t> poison;  // quantities the fake refuses (to force a 400 on a batch)
    std::vector<http::Request> requests;
    std::function<std::optional<http::Response>(const http::Request&)> fault;
    std::string api_key = "sk_0123456789abcdef";
    std::string password = "hunter22";
    std::int64_t jwt_exp = 0;
    std::set<std::string> valid_jwts;
    int logins = 0;

    static http::Response reply(int status, const json& body) {
        http::Response r;
        r.status = status;
        r.body = body.dump();
        return r;
    }
    static http::Response err(int status, const std::string& type, const std::string& msg) {
        return reply(status, json{{"type", type}, {"message", msg}});
    }
    std::string header(const http::Request& r, const std::string& name) const {
        for (const auto& h : r.headers)
            if (h.name == name) return h.value;
        return {};
    }

    http::Response handle(const http::Request& rq) {
        requests.push_back(rq);
        if (fault)
            if (auto r = fault(rq)) return *r;
        auto q = rq.url.find('?');
        std::string path = rq.url.substr(0, q);
        path = path.substr(path.find("/", 8));
        auto params = woocommerce::parse_query(q == std::string::npos ? "" : rq.url.substr(q + 1));
        if (path == "/auth/user/emailpass") {
            auto b = json::parse(rq.body);
            if (b["password"] != password) return err(401, "unauthorized", "Invalid email or password");
            ++logins;
            auto t = make_jwt(jwt_exp + logins);  // distinct tokens
            valid_jwts.insert(t);
            return reply(200, json{{"token", t}});
        }
        auto auth = header(rq, "Authorization");
        bool ok = auth == "Basic " + http::base64(api_key + ":") ||
                  (auth.rfind("Bearer ", 0) == 0 && valid_jwts.count(auth.substr(7)));
        if (!ok) return err(401, "unauthorized", "Unauthorized");
        if (path == "/admin/stock-locations") {
            std::size_t limit = 50, offset = 0;
            for (auto& [k, v] : params) {
                if (k == "limit") limit = std::stoul(v);
                if (k == "offset") offset = std::stoul(v);
            }
            json arr = json::array();
            std::size_t n = 0;
            for (const auto& [id, name] : locations)
                if (n++ >= offset && arr.size() < limit) arr.push_back(json{{"id", id}, {"name", name}});
            return reply(200, json{{"stock_locations", arr}, {"count", locations.size()}, {"offset", offset}, {"limit", limit}});
        }
        if (path == "/admin/inventory-items" && rq.method == "GET") {
            std::set<std::string> skus;
            for (auto& [k, v] : params)
                if (k == "sku[]") skus.insert(v);
            json arr = json::array();
            for (const auto& [id, sku] : items) {
                if (!skus.count(sku)) continue;
                json lv = json::array();
                for (const auto& [key, qty] : levels)
                    if (key.first == id)
                        lv.push_back(json{{"location_id", key.second}, {"stocked_quantity", qty},
                                          {"reserved_quantity", reserved.count(key) ? reserved.at(key) : 0}});
                arr.push_back(json{{"id", id}, {"sku", sku}, {"title", sku}, {"location_levels", lv}});
            }
            return reply(200, json{{"inventory_items", arr}, {"count", arr.size()}, {"offset", 0}, {"limit", 200}});
        }
        if (path == "/admin/inventory-items/location-levels/batch" && rq.method == "POST") {
            auto b = json::parse(rq.body);
            // All or nothing: validate everything first.
            for (const auto& c : b.value("create", json::array())) {
                std::pair<std::string, std::string> key{c["inventory_item_id"], c["location_id"]};
                if (!items.count(key.first))
                    return err(404, "not_found", "Inventory item with id: " + key.first + " was not found");
                if (levels.count(key))
                    return err(400, "invalid_data", "Inventory level with inventory_item_id: " + key.first +
                                                        ", location_id: " + key.second + ", already exists.");
                if (poison.count(c["stocked_quantity"].get<std::int64_t>())) return err(400, "invalid_data", "poisoned");
            }
            for (const auto& u : b.value("update", json::array())) {
                std::pair<std::string, std::string> key{u["inventory_item_id"], u["location_id"]};
                if (!levels.count(key))
                    return err(404, "not_found", "Item " + key.first + " is not stocked at location " + key.second);
                if (poison.count(u["stocked_quantity"].get<std::int64_t>())) return err(400, "invalid_data", "poisoned");
            }
            json created = json::array(), updated = json::array();
            for (const auto& c : b.value("create", json::array())) {
                levels[{c["inventory_item_id"], c["location_id"]}] = c["stocked_quantity"];
                created.push_back(c);
            }
            for (const auto& u : b.value("update", json::array())) {
                levels[{u["inventory_item_id"], u["location_id"]}] = u["stocked_quantity"];
                updated.push_back(u);
            }
            return reply(200, json{{"created", created}, {"updated", updated}});
        }
        return err(404, "not_found", "no route " + path);
    }

    std::vector<json> batches() const {
        std::vector<json> out;
        for (const auto& r : requests)
            if (r.method == "POST" && r.url.find("location-levels/batch") != std::string::npos) out.push_back(json::parse(r.body));
        return out;
    }
    int count(const std::string& needle) const {
        int n = 0;
        for (const auto& r : requests) n += r.url.find(needle) != std::string::npos;
        return n;
    }
};

class FakeClient : public http::Client {
public:
    explicit FakeClient(std::shared_ptr<FakeMedusa> m) : m_(std::move(m)) {}
    Result<http::Response> send(const http::Request& r) override { return m_->handle(r); }

private:
    std::shared_ptr<FakeMedusa> m_;
};

json config_row(json credentials = {{"api_key", "sk_0123456789abcdef"}}) {
    return json{{"id", 2}, {"channel_type", "medusa"}, {"base_url", "http://127.0.0.1:9000"}, {"credentials", credentials}};
}

std::unique_ptr<Channel> make(const std::shared_ptr<FakeMedusa>& m, json row = config_row(),
                              medusa::Clock clock = nullptr) {
    auto cfg = Config::from_json(row);
    EXPECT_TRUE(cfg) << cfg.error().message;
    auto ch = medusa::make_channel(*cfg, std::make_unique<FakeClient>(m), std::move(clock));
    EXPECT_TRUE(ch) << ch.error().message;
    return std::move(ch).value();
}

PushItem item(std::int64_t row, std::string sku, std::string loc, std::int64_t qty,
              std::optional<Resolution> cached = std::nullopt) {
    PushItem p;
    p.row_id = row;
    p.sku = std::move(sku);
    p.location_key = std::move(loc);
    p.quantity = qty;
    p.cached = std::move(cached);
    return p;
}

// --- tests --------------------------------------------------------------------

TEST(MedusaChannel, SecretKeyGoesInBasicAuth) {
    auto m = std::make_shared<FakeMedusa>();
    auto ch = make(m);
    EXPECT_EQ(ch->batch_size(), 250u);
    auto ok = ch->test_connection();
    ASSERT_TRUE(ok) << ok.error().message;
    EXPECT_NE(ok->find("2 stock location(s)"), std::string::npos);
    const auto& r = m->requests.back();
    EXPECT_EQ(r.url, "http://127.0.0.1:9000/admin/stock-locations?limit=1&fields=id");
    bool secret = false;
    for (const auto& h : r.headers)
        if (h.name == "Authorization") {
            EXPECT_EQ(h.value, "Basic " + http::base64("sk_0123456789abcdef:"));
            secret = h.secret;
        }
    EXPECT_TRUE(secret);

    auto row = config_row();
    row["batch_size"] = 5000;
    EXPECT_EQ(make(m, row)->batch_size(), 1000u);
    auto none = medusa::make_channel(*Config::from_json(config_row(json::object())), std::make_unique<FakeClient>(m), nullptr);
    ASSERT_FALSE(none);
    EXPECT_EQ(none.error().code, ErrorCode::config);
}

TEST(MedusaChannel, BadKeyIsAnAuthError) {
    auto m = std::make_shared<FakeMedusa>();
    auto ch = make(m, config_row({{"api_key", "sk_wrong_key_zzzz"}}));
    auto t = ch->test_connection();
    ASSERT_FALSE(t);
    EXPECT_EQ(t.error().code, ErrorCode::auth);
    auto rep = ch->push({item(1, "MUG-1", "sloc_main", 1)});
    EXPECT_EQ(rep.items[0].error->code, ErrorCode::auth);
}

TEST(MedusaChannel, JwtLoginIsReusedAndRenewedBeforeExpiry) {
    auto m = std::make_shared<FakeMedusa>();
    auto now = system_clock::time_point{std::chrono::seconds{1'700'000'000}};
    m->jwt_exp = 1'700'000'000 + 86400;
    auto ch = make(m, config_row({{"email", "admin@example.com"}, {"password", "hunter22"}}), [&] { return now; });
    ASSERT_TRUE(ch->test_connection());
    ASSERT_TRUE(ch->list_locations());
    EXPECT_EQ(m->logins, 1);
    // 23 h 55 min later: inside the renewal margin, a new token before the call.
    now += std::chrono::hours(23) + std::chrono::minutes(55);
    m->jwt_exp += 86400;  // tokens issued from now on live a day longer
    ASSERT_TRUE(ch->test_connection());
    EXPECT_EQ(m->logins, 2);
    // The server forgets the token (restart with a new secret): one 401, one login, success.
    m->valid_jwts.clear();
    auto calls = m->requests.size();
    ASSERT_TRUE(ch->test_connection());
    EXPECT_EQ(m->logins, 3);
    EXPECT_EQ(m->requests.size() - calls, 3u);
    // Wrong password: a clear auth error, the password never in the message.
    auto bad = make(m, config_row({{"email", "admin@example.com"}, {"password", "wrong-password"}}));
    auto t = bad->test_connection();
    ASSERT_FALSE(t);
    EXPECT_EQ(t.error().code, ErrorCode::auth);
    EXPECT_NE(t.error().message.find("email/password"), std::string::npos);
    EXPECT_EQ(t.error().message.find("wrong-password"), std::string::npos);
}

TEST(MedusaChannel, LooksUpSkusAndLevels) {
    auto m = std::make_shared<FakeMedusa>();
    auto ch = make(m);
    auto items = ch->lookup_sku("MUG-1");
    ASSERT_TRUE(items);
    ASSERT_EQ(items->size(), 1u);
    EXPECT_EQ((*items)[0].resolution.remote_id, "iitem_mug");
    EXPECT_EQ((*items)[0].levels.at("sloc_main"), 3);
    EXPECT_NE(m->requests.back().url.find("sku%5B%5D=MUG-1&fields=id,sku,title,location_levels.location_id,"
                                          "location_levels.stocked_quantity,location_levels.reserved_quantity"),
              std::string::npos);
    // "Look up SKU" shows what a customer can buy: stocked minus reserved.
    m->reserved[{"iitem_mug", "sloc_main"}] = 1;
    EXPECT_EQ((*ch->lookup_sku("MUG-1"))[0].levels.at("sloc_main"), 2);
    auto locs = ch->list_locations();
    ASSERT_TRUE(locs);
    EXPECT_EQ(locs->size(), 2u);
}

TEST(MedusaChannel, CreatesMissingLevelsAndUpdatesExistingOnes) {
    auto m = std::make_shared<FakeMedusa>();
    auto ch = make(m);
    auto rep = ch->push({item(1, "MUG-1", "sloc_main", 10), item(2, "MUG-1", "sloc_b", 4), item(3, "TEE-S", "sloc_main", 0)});
    for (const auto& o : rep.items) EXPECT_FALSE(o.error) << o.error->message;
    auto batches = m->batches();
    ASSERT_EQ(batches.size(), 1u);
    EXPECT_EQ(batches[0]["update"].size(), 1u);
    EXPECT_EQ(batches[0]["create"].size(), 2u);
    EXPECT_EQ(batches[0]["update"][0],
              (json{{"inventory_item_id", "iitem_mug"}, {"location_id", "sloc_main"}, {"stocked_quantity", 10}}));
    EXPECT_EQ((m->levels[{"iitem_mug", "sloc_b"}]), 4);
    EXPECT_EQ((m->levels[{"iitem_tee", "sloc_main"}]), 0);
    // The cache learns the item (only the id: levels are read on every push).
    ASSERT_TRUE(rep.items[1].resolved);
    EXPECT_EQ(rep.items[1].resolved->remote_id, "iitem_mug");
    EXPECT_EQ(rep.items[1].resolved->extra, json::object());
    EXPECT_NE(rep.items[1].request_excerpt.find("\"create\""), std::string::npos);
    EXPECT_NE(rep.items[1].response_excerpt.find("\"stocked_quantity\":4"), std::string::npos);

    // Cached rows are read too: a level deleted meanwhile is created, not "updated" into a 404.
    m->levels.erase({"iitem_mug", "sloc_b"});
    auto again = ch->push({item(4, "MUG-1", "sloc_b", 6, Resolution{"iitem_mug", "", {}}),
                           item(5, "CAP", "sloc_main", 2, Resolution{"iitem_cap", "", {}}),
                           item(6, "TEE-S", "sloc_main", 8, Resolution{"iitem_tee", "", {}})});
    for (const auto& o : again.items) EXPECT_FALSE(o.error) << o.error->message;
    EXPECT_EQ((m->levels[{"iitem_mug", "sloc_b"}]), 6);
    EXPECT_EQ((m->levels[{"iitem_tee", "sloc_main"}]), 8);
    EXPECT_EQ((m->levels[{"iitem_cap", "sloc_main"}]), 2);
    EXPECT_EQ(again.http_calls, 3);  // one lookup, the locations (a level is created), one batch
    for (const auto& o : again.items) EXPECT_FALSE(o.resolved);  // the cache was right: nothing to write
}

// Medusa's available = stocked - reserved; Odoo's sellable is already net of
// Odoo's reservations. stocked = sellable + reserved keeps available = sellable.
TEST(MedusaChannel, StockedIsTheSellablePlusTheLevelsReservation) {
    auto m = std::make_shared<FakeMedusa>();
    m->reserved[{"iitem_mug", "sloc_main"}] = 2;
    auto ch = make(m);
    auto rep = ch->push({item(1, "MUG-1", "sloc_main", 10, Resolution{"iitem_mug", "", {}})});
    ASSERT_FALSE(rep.items[0].error) << rep.items[0].error->message;
    EXPECT_EQ((m->levels[{"iitem_mug", "sloc_main"}]), 12);
    EXPECT_EQ((*ch->lookup_sku("MUG-1"))[0].levels.at("sloc_main"), 10);
    // A new level has no reservation: stocked = sellable.
    auto fresh = ch->push({item(2, "TEE-S", "sloc_main", 5)});
    ASSERT_FALSE(fresh.items[0].error);
    EXPECT_EQ((m->levels[{"iitem_tee", "sloc_main"}]), 5);
}

TEST(MedusaChannel, ACachedItemTheSkuMovedAwayFromIsNeverWritten) {
    auto m = std::make_shared<FakeMedusa>();
    m->levels[{"iitem_cap", "sloc_main"}] = 1;
    auto ch = make(m);
    // The cache says MUG-1 is iitem_cap (the SKU moved: MUG-1 is iitem_mug now).
    auto rep = ch->push({item(1, "MUG-1", "sloc_main", 9, Resolution{"iitem_cap", "", {}})});
    ASSERT_FALSE(rep.items[0].error) << rep.items[0].error->message;
    ASSERT_TRUE(rep.items[0].resolved);
    EXPECT_EQ(rep.items[0].resolved->remote_id, "iitem_mug");
    EXPECT_EQ((m->levels[{"iitem_mug", "sloc_main"}]), 9);
    EXPECT_EQ((m->levels[{"iitem_cap", "sloc_main"}]), 1);
    for (const auto& b : m->batches())
        for (const auto& k : {"create", "update"})
            for (const auto& e : b.value(k, json::array())) EXPECT_NE(e["inventory_item_id"], "iitem_cap");
    // Now the SKU matches two items: duplicate_sku, and the cached mapping goes.
    m->items["iitem_mug2"] = "MUG-1";
    auto dup = ch->push({item(2, "MUG-1", "sloc_main", 9, Resolution{"iitem_mug", "", {}})});
    ASSERT_TRUE(dup.items[0].error);
    EXPECT_EQ(dup.items[0].error->code, ErrorCode::duplicate_sku);
    EXPECT_TRUE(dup.items[0].drop_cache);
}

TEST(MedusaChannel, ALevelAppearingBetweenReadAndWriteIsReadAgainNotGuessed) {
    auto m = std::make_shared<FakeMedusa>();
    auto ch = make(m);
    bool once = true;
    m->fault = [&](const http::Request& r) -> std::optional<http::Response> {
        if (r.method == "POST" && once) {  // an order path creates the level (with a reservation) meanwhile
            once = false;
            m->levels[{"iitem_tee", "sloc_main"}] = 4;
            m->reserved[{"iitem_tee", "sloc_main"}] = 1;
        }
        return std::nullopt;
    };
    auto rep = ch->push({item(1, "TEE-S", "sloc_main", 3), item(2, "MUG-1", "sloc_main", 7)});
    ASSERT_TRUE(rep.items[0].error);
    EXPECT_EQ(rep.items[0].error->code, ErrorCode::transient);
    EXPECT_NE(rep.items[0].error->message.find("appeared"), std::string::npos);
    EXPECT_EQ((m->levels[{"iitem_tee", "sloc_main"}]), 4);  // not overwritten with a guess
    ASSERT_FALSE(rep.items[1].error) << rep.items[1].error->message;
    EXPECT_EQ((m->levels[{"iitem_mug", "sloc_main"}]), 7);
    // The retry reads the level and its reservation.
    auto retry = ch->push({item(1, "TEE-S", "sloc_main", 3)});
    ASSERT_FALSE(retry.items[0].error);
    EXPECT_EQ((m->levels[{"iitem_tee", "sloc_main"}]), 4);  // 3 sellable + 1 reserved
}

TEST(MedusaChannel, GuardsAgainstOrphanLocations) {
    auto m = std::make_shared<FakeMedusa>();
    auto ch = make(m);
    auto rep = ch->push({item(1, "MUG-1", "sloc_nowhere", 5), item(2, "MUG-1", "sloc_main", 5), item(3, "CAP", "", 1)});
    ASSERT_TRUE(rep.items[0].error);
    EXPECT_EQ(rep.items[0].error->code, ErrorCode::rejected);
    EXPECT_NE(rep.items[0].error->message.find("unknown Medusa stock location 'sloc_nowhere'"), std::string::npos);
    EXPECT_FALSE(rep.items[1].error);
    EXPECT_EQ(rep.items[2].error->code, ErrorCode::rejected);
    for (const auto& b : m->batches())
        for (const auto& k : {"create", "update"})
            for (const auto& e : b.value(k, json::array())) EXPECT_NE(e["location_id"], "sloc_nowhere");
    EXPECT_EQ(m->levels.count({"iitem_mug", "sloc_nowhere"}), 0u);
    // Known locations are cached; a new one appearing in the shop is picked up on a miss.
    int lists = m->count("/admin/stock-locations");
    ch->push({item(4, "MUG-1", "sloc_main", 6)});
    EXPECT_EQ(m->count("/admin/stock-locations"), lists);
    m->locations["sloc_new"] = "New";
    auto fresh = ch->push({item(5, "MUG-1", "sloc_new", 7)});
    EXPECT_FALSE(fresh.items[0].error);
    EXPECT_EQ(m->count("/admin/stock-locations"), lists + 1);
    // A location deleted after the list was read: a new level there is refused, not created.
    m->locations.erase("sloc_b");
    auto deleted = ch->push({item(6, "MUG-1", "sloc_b", 2), item(7, "MUG-1", "sloc_main", 3)});
    ASSERT_TRUE(deleted.items[0].error);
    EXPECT_EQ(deleted.items[0].error->code, ErrorCode::rejected);
    EXPECT_NE(deleted.items[0].error->message.find("unknown Medusa stock location 'sloc_b'"), std::string::npos);
    EXPECT_EQ(m->levels.count({"iitem_mug", "sloc_b"}), 0u);
    EXPECT_FALSE(deleted.items[1].error);
    EXPECT_EQ((m->levels[{"iitem_mug", "sloc_main"}]), 3);
}

TEST(MedusaChannel, BisectsAnAllOrNothingFailureAndLandsTheGoodRows) {
    auto m = std::make_shared<FakeMedusa>();
    std::vector<PushItem> items;
    for (int i = 0; i < 40; ++i) {
        std::string id = "iitem_" + std::to_string(i), sku = "SKU-" + std::to_string(i);
        m->items[id] = sku;
        m->levels[{id, "sloc_main"}] = 0;
        items.push_back(item(i + 1, sku, "sloc_main", i == 7 || i == 29 ? 13 : 100 + i));
    }
    m->poison = {13};
    auto ch = make(m);
    auto rep = ch->push(items);
    for (int i = 0; i < 40; ++i) {
        const auto& o = rep.items[static_cast<std::size_t>(i)];
        if (i == 7 || i == 29) {
            ASSERT_TRUE(o.error);
            EXPECT_EQ(o.error->code, ErrorCode::rejected);
            EXPECT_NE(o.error->message.find("poisoned"), std::string::npos);
            EXPECT_EQ(o.http_status, 400);
        } else {
            EXPECT_FALSE(o.error) << i << ": " << o.error->message;
            EXPECT_EQ((m->levels[{"iitem_" + std::to_string(i), "sloc_main"}]), 100 + i);
        }
    }
    // Bounded: far fewer calls than one per row.
    EXPECT_LE(static_cast<int>(m->batches().size()), 2 * 2 * 6 + 1);
}

TEST(MedusaChannel, GivesUpIsolatingWhenTheBudgetIsSpent) {
    auto m = std::make_shared<FakeMedusa>();
    std::vector<PushItem> items;
    for (int i = 0; i < 64; ++i) {
        std::string id = "iitem_" + std::to_string(i);
        m->items[id] = "SKU-" + std::to_string(i);
        m->levels[{id, "sloc_main"}] = 0;
        items.push_back(item(i + 1, "SKU-" + std::to_string(i), "sloc_main", i % 2 ? 13 : 1));
    }
    m->poison = {13};
    auto rep = make(m)->push(items);
    EXPECT_LE(static_cast<int>(m->batches().size()), 24 + 4 * 7);
    int retry_later = 0, landed = 0;
    for (std::size_t i = 0; i < rep.items.size(); ++i) {
        const auto& o = rep.items[i];
        if (i % 2) {
            ASSERT_TRUE(o.error);  // poisoned rows never land
        }
        if (o.error) retry_later += o.error->code == ErrorCode::transient;
        if (!o.error) ++landed;
    }
    // Rows left when the budget ran out come back later, when the bad rows
    // isolated so far have failed for good; some good rows landed already.
    EXPECT_GT(retry_later, 0);
    EXPECT_GT(landed, 0);
}

TEST(MedusaChannel, MissesDuplicatesAndVanishedItems) {
    auto m = std::make_shared<FakeMedusa>();
    m->items["iitem_dup1"] = "DUP";
    m->items["iitem_dup2"] = "DUP";
    auto ch = make(m);
    auto rep = ch->push({item(1, "NOPE", "sloc_main", 1), item(2, "DUP", "sloc_main", 1),
                         item(3, "MUG-1", "sloc_main", 2, Resolution{"iitem_old", "", {{"levels", {"sloc_main"}}}})});
    EXPECT_EQ(rep.items[0].error->code, ErrorCode::sku_not_found);
    EXPECT_EQ(rep.items[1].error->code, ErrorCode::duplicate_sku);
    EXPECT_NE(rep.items[1].error->message.find("iitem_dup1, iitem_dup2"), std::string::npos);
    // iitem_old was deleted in the shop: every push looks its SKUs up, so the current item gets it.
    ASSERT_FALSE(rep.items[2].error) << rep.items[2].error->message;
    EXPECT_EQ(rep.items[2].resolved->remote_id, "iitem_mug");
    EXPECT_EQ((m->levels[{"iitem_mug", "sloc_main"}]), 2);
}

TEST(MedusaChannel, TransientAndThrottledFailures) {
    auto m = std::make_shared<FakeMedusa>();
    int throttles = 1;
    m->fault = [&](const http::Request& r) -> std::optional<http::Response> {
        if (r.method != "POST") return std::nullopt;
        if (throttles-- > 0) {
            auto resp = FakeMedusa::err(429, "too_many", "slow");
            resp.headers = {{"retry-after", "1"}};
            return resp;
        }
        return FakeMedusa::err(503, "unknown_error", "db down");
    };
    auto ch = make(m);
    std::vector<std::chrono::milliseconds> slept;
    ch->set_sleeper([&](std::chrono::milliseconds d) {
        slept.push_back(d);
        return true;
    });
    auto rep = ch->push({item(1, "MUG-1", "sloc_main", 1), item(2, "TEE-S", "sloc_main", 1)});
    ASSERT_EQ(slept.size(), 1u);
    EXPECT_EQ(slept[0].count(), 1000);
    for (const auto& o : rep.items) {
        ASSERT_TRUE(o.error);
        EXPECT_EQ(o.error->code, ErrorCode::transient);
        EXPECT_EQ(o.http_status, 503);
    }
    EXPECT_EQ(m->batches().size(), 2u);  // a 5xx is not bisected
}

}  // namespace
