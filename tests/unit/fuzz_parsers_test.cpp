// Seeded random-corpus fuzzing of the channels' response parsers, run in the
// normal ctest. Each channel type pushes against a fake shop whose realistic
// answers (the shapes the real APIs return) are mutated: cut short, values
// swapped for other JSON types, deep nesting, huge and odd numbers, invalid
// UTF-8, random bytes, odd statuses and headers. Whatever comes back, push()
// must not throw or crash and must give every item exactly one outcome, in
// order; the buttons' calls (test connection, locations, SKU lookup) must not
// throw either. The seed is fixed so a failure reproduces; set
// STOCKRELAY_FUZZ_ITERATIONS to run longer.
#include <gtest/gtest.h>

#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "stockrelay/channels/channel.hpp"

using namespace stockrelay;
using namespace stockrelay::channels;
using nlohmann::json;

namespace {

int iterations() {
    if (const char* env = std::getenv("STOCKRELAY_FUZZ_ITERATIONS")) return std::max(1, std::atoi(env));
    return 400;
}

// --- the mutator -------------------------------------------------------------

class Mutator {
public:
    explicit Mutator(std::uint64_t seed) : rng_(seed) {}

    int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng_); }
    bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(rng_) < p; }

    json odd_value() {
        switch (pick(14)) {
            case 0: return nullptr;
            case 1: return true;
            case 2: return -1;
            case 3: return 1.5;
            case 4: return json::parse("1e308");
            case 5: return json::parse("18446744073709551615");
            case 6: return json::parse("-9223372036854775808");
            case 7: return "";
            case 8: return std::string(5000, 'x');
            case 9: return json::array();
            case 10: return json::object();
            case 11: return json::array({nullptr, 1, "a"});
            case 12: return "gid://shopify/InventoryItem/not-a-number";
            default: return "\xc3\xa9t\xc3\xa9";  // valid UTF-8, non-ASCII
        }
    }

    // Replaces a random node of `j` (walking down a random path) with an odd value.
    void swap_type(json& j) {
        json* node = &j;
        for (int depth = 0; depth < 12; ++depth) {
            if ((!node->is_object() && !node->is_array()) || node->empty() || chance(0.25)) break;
            auto it = node->begin();
            std::advance(it, pick(static_cast<int>(node->size())));
            node = &*it;
        }
        *node = odd_value();
    }

    std::string mutate(const std::string& good) {
        switch (pick(10)) {
            case 0:  // cut short
                return good.substr(0, good.empty() ? 0 : static_cast<std::size_t>(pick(static_cast<int>(good.size()))));
            case 1:
            case 2: {  // type swaps (several)
                json j = json::parse(good, nullptr, false);
                if (j.is_discarded()) return good;
                for (int n = 1 + pick(3); n > 0; --n) swap_type(j);
                return j.dump();
            }
            case 3: {  // deep nesting
                const int depth = 1000 + pick(20000);
                return std::string(static_cast<std::size_t>(depth), '[') + good +
                       std::string(static_cast<std::size_t>(chance(0.5) ? depth : depth / 2), ']');
            }
            case 4: {  // huge / odd numbers in place of every number
                std::string out;
                const char* odd[] = {"1e400", "-0", "99999999999999999999999999", "1.0000000000000002", "-1", "NaN"};
                for (std::size_t i = 0; i < good.size(); ++i) {
                    if (std::isdigit(static_cast<unsigned char>(good[i])) && (i == 0 || good[i - 1] == ':' ||
                                                                               good[i - 1] == '[' || good[i - 1] == ',')) {
                        while (i < good.size() && (std::isdigit(static_cast<unsigned char>(good[i])) || good[i] == '.'))
                            ++i;
                        out += odd[pick(6)];
                        --i;
                    } else {
                        out += good[i];
                    }
                }
                return out;
            }
            case 5: {  // invalid UTF-8 inside strings
                std::string out = good;
                const char* bad[] = {"\xff", "\xc3\x28", "\xe2\x82", "\xed\xa0\x80", "\xf0\x28\x8c\x28", "\x80"};
                for (int n = 1 + pick(4); n > 0 && !out.empty(); --n) {
                    auto q = out.find('"', static_cast<std::size_t>(pick(static_cast<int>(out.size()))));
                    if (q != std::string::npos) out.insert(q + 1, bad[pick(6)]);
                }
                return out;
            }
            case 6: {  // random bytes flipped
                std::string out = good;
                for (int n = 1 + pick(8); n > 0 && !out.empty(); --n)
                    out[static_cast<std::size_t>(pick(static_cast<int>(out.size())))] = static_cast<char>(pick(256));
                return out;
            }
            case 7: {  // a whole different document
                const char* docs[] = {"", "null", "[]", "{}", "\"text\"", "42", "<html>502</html>", "{\"errors\":5}",
                                      "{\"data\":null}", "{\"update\":null}", "{\"inventory_items\":{}}"};
                return docs[pick(11)];
            }
            default:
                return good;  // unmutated: the flow must also get through its good path
        }
    }

    int status() {
        const int statuses[] = {200, 200, 200, 200, 200, 201, 204, 301, 400, 401, 403, 404, 409, 413, 422, 429, 500, 502, 503};
        return statuses[pick(static_cast<int>(std::size(statuses)))];
    }

    std::vector<std::pair<std::string, std::string>> headers() {
        std::vector<std::pair<std::string, std::string>> h{{"content-type", "application/json"}};
        if (chance(0.2)) {
            const char* ra[] = {"1", "0", "-5", "abc", "999999999999", "Wed, 21 Oct 2015 07:28:00 GMT", "1.5", ""};
            h.emplace_back("retry-after", ra[pick(8)]);
        }
        if (chance(0.1)) h.emplace_back("location", "https://elsewhere.example/x");
        return h;
    }

private:
    std::mt19937_64 rng_;
};

// --- a fake shop: realistic answers, then mutated -------------------------------

using Answer = std::function<std::string(const http::Request&)>;

class FuzzClient final : public http::Client {
public:
    FuzzClient(Mutator& m, Answer good, int calls_budget) : m_(m), good_(std::move(good)), budget_(calls_budget) {}
    Result<http::Response> send(const http::Request& request) override {
        if (--budget_ < 0) return make_error(ErrorCode::transient, "fuzz: call budget spent");
        if (m_.chance(0.05)) return make_error(ErrorCode::transient, "fuzz: connection reset");
        http::Response r;
        const bool mutate = m_.chance(0.7);
        r.status = mutate && m_.chance(0.4) ? m_.status() : 200;
        r.headers = m_.headers();
        const std::string good = good_(request);
        r.body = mutate ? m_.mutate(good) : good;
        return r;
    }

private:
    Mutator& m_;
    Answer good_;
    int budget_;
};

std::vector<std::string> skus() { return {"MUG-1", "TEE-S", "CAP", "ÜBER-ß", "WITH SPACE", std::string(255, 'L')}; }

std::vector<PushItem> items(Mutator& m, const std::string& location) {
    std::vector<PushItem> out;
    auto s = skus();
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (m.chance(0.2)) continue;
        PushItem it;
        it.row_id = static_cast<std::int64_t>(100 + i);
        it.sku = s[i];
        it.location_key = location;
        it.quantity = m.pick(1000);
        it.version = static_cast<std::int64_t>(i + 1);
        out.push_back(it);
    }
    return out;
}

std::string shopify_answer(const http::Request& rq) {
    const json req = json::parse(rq.body, nullptr, false);
    const std::string q = req.is_object() && req.contains("query") && req["query"].is_string() ? req["query"].get<std::string>() : "";
    const json cost = {{"cost", {{"requestedQueryCost", 12}, {"actualQueryCost", 10},
                                 {"throttleStatus", {{"maximumAvailable", 2000}, {"currentlyAvailable", 1990}, {"restoreRate", 100}}}}}};
    json data;
    if (q.find("productVariants") != std::string::npos) {
        json nodes = json::array();
        int n = 1;
        for (const auto& s : skus()) {
            nodes.push_back({{"id", "gid://shopify/ProductVariant/" + std::to_string(n)}, {"sku", s},
                             {"product", {{"id", "gid://shopify/Product/" + std::to_string(n)}}},
                             {"inventoryItem", {{"id", "gid://shopify/InventoryItem/" + std::to_string(n)}, {"tracked", true}, {"sku", s}}}});
            ++n;
        }
        data = {{"productVariants", {{"nodes", nodes}, {"pageInfo", {{"hasNextPage", false}, {"endCursor", nullptr}}}}}};
    } else if (q.find("inventorySetQuantities") != std::string::npos) {
        data = {{"inventorySetQuantities", {{"inventoryAdjustmentGroup", {{"id", "gid://shopify/InventoryAdjustmentGroup/1"}}},
                                            {"userErrors", json::array({{{"code", "ITEM_NOT_STOCKED_AT_LOCATION"},
                                                                         {"field", {"input", "quantities", "1", "locationId"}},
                                                                         {"message", "not stocked"}}})}}}};
    } else if (q.find("inventoryActivate") != std::string::npos) {
        data = {{"inventoryActivate", {{"inventoryLevel", {{"id", "gid://shopify/InventoryLevel/1"}}}, {"userErrors", json::array()}}}};
    } else if (q.find("locations") != std::string::npos) {
        data = {{"locations", {{"nodes", json::array({{{"id", "gid://shopify/Location/1"}, {"name", "Main"}, {"isActive", true}}})},
                               {"pageInfo", {{"hasNextPage", false}, {"endCursor", nullptr}}}}}};
    } else {
        data = {{"shop", {{"name", "Fuzz shop"}}}};
    }
    return json{{"data", data}, {"extensions", cost}}.dump();
}

std::string woo_answer(const http::Request& rq) {
    if (rq.url.find("/batch") != std::string::npos) {
        json req = json::parse(rq.body, nullptr, false);
        json upd = json::array();
        if (req.is_object() && req.contains("update") && req["update"].is_array())
            for (const auto& u : req["update"])
                upd.push_back({{"id", u.value("id", json(0))}, {"sku", "X"}, {"manage_stock", true},
                               {"stock_quantity", u.value("stock_quantity", json(0))}});
        if (!upd.empty()) upd.push_back({{"id", 0}, {"error", {{"code", "woocommerce_rest_product_invalid_id"}, {"message", "Invalid ID."}, {"data", {{"status", 400}}}}}});
        return json{{"update", upd}}.dump();
    }
    if (rq.url.find("/products") != std::string::npos) {
        json out = json::array();
        int id = 10;
        for (const auto& s : skus())
            out.push_back({{"id", id++}, {"sku", s}, {"type", id % 3 ? "simple" : "variation"}, {"parent_id", id % 3 ? 0 : 5},
                           {"manage_stock", true}, {"stock_quantity", 3}, {"name", "P"}});
        return out.dump();
    }
    return json{{"name", "Fuzz Woo"}, {"home", "https://woo.example"}, {"routes", json::object()},
                {"namespaces", {"wc/v3"}}, {"authentication", json::object()}}.dump();
}

std::string medusa_answer(const http::Request& rq) {
    if (rq.url.find("/stock-locations") != std::string::npos)
        return json{{"stock_locations", json::array({{{"id", "sloc_main"}, {"name", "Main"}}})}, {"count", 1}, {"offset", 0}, {"limit", 50}}.dump();
    if (rq.url.find("/location-levels/batch") != std::string::npos) {
        json req = json::parse(rq.body, nullptr, false);
        json created = json::array(), updated = json::array();
        if (req.is_object())
            for (const char* k : {"create", "update"})
                if (req.contains(k) && req[k].is_array())
                    for (const auto& l : req[k])
                        (std::string(k) == "create" ? created : updated).push_back(
                            {{"id", "ilev_1"}, {"inventory_item_id", l.value("inventory_item_id", json(""))},
                             {"location_id", l.value("location_id", json(""))}, {"stocked_quantity", l.value("stocked_quantity", json(0))}});
        return json{{"created", created}, {"updated", updated}, {"deleted", json::array()}}.dump();
    }
    if (rq.url.find("/inventory-items") != std::string::npos) {
        json out = json::array();
        int n = 1;
        for (const auto& s : skus()) {
            json levels = json::array();
            if (n % 2) levels.push_back({{"id", "ilev_" + std::to_string(n)}, {"location_id", "sloc_main"}, {"stocked_quantity", 2}});
            out.push_back({{"id", "iitem_" + std::to_string(n++)}, {"sku", s}, {"location_levels", levels}});
        }
        return json{{"inventory_items", out}, {"count", out.size()}, {"offset", 0}, {"limit", 100}}.dump();
    }
    return json{{"user", {{"id", "user_1"}}}}.dump();
}

struct Kind {
    const char* name;
    json config;
    std::string location;
    Answer answer;
};

std::vector<Kind> kinds() {
    return {
        {"shopify",
         {{"id", 1}, {"name", "F"}, {"channel_type", "shopify"}, {"base_url", "https://fuzz.myshopify.com"},
          {"api_version", "2025-10"}, {"credentials", {{"access_token", "shpat_fuzz_0123456789"}}}},
         "gid://shopify/Location/1", shopify_answer},
        {"woocommerce",
         {{"id", 2}, {"name", "F"}, {"channel_type", "woocommerce"}, {"base_url", "https://woo.example"},
          {"credentials", {{"consumer_key", "ck_fuzz0123456789"}, {"consumer_secret", "cs_fuzz0123456789"}}}},
         "", woo_answer},
        {"medusa",
         {{"id", 3}, {"name", "F"}, {"channel_type", "medusa"}, {"base_url", "https://medusa.example"},
          {"credentials", {{"api_key", "sk_fuzz0123456789abcdef"}}}},
         "sloc_main", medusa_answer},
    };
}

void fuzz(const Kind& kind, std::uint64_t seed) {
    auto config = Config::from_json(kind.config);
    ASSERT_TRUE(config) << config.error().describe();
    Mutator m(seed);
    const int n = iterations();
    int outcomes_ok = 0, outcomes_err = 0;
    for (int i = 0; i < n; ++i) {
        SCOPED_TRACE(::testing::Message() << kind.name << " iteration " << i << " seed " << seed);
        auto channel = make_channel(*config, std::make_unique<FuzzClient>(m, kind.answer, 60));
        ASSERT_TRUE(channel) << channel.error().describe();
        int sleeps = 0;
        (*channel)->set_sleeper([&sleeps](std::chrono::milliseconds) { return ++sleeps < 20; });
        auto in = items(m, kind.location);
        if (m.chance(0.3) && !in.empty()) {  // some items arrive with a cached (possibly stale) resolution
            Resolution r;
            r.remote_id = kind.location == "" ? "10" : kind.location == "sloc_main" ? "iitem_1" : "gid://shopify/InventoryItem/1";
            if (kind.location == "sloc_main") r.extra = {{"levels", json::array({"sloc_main"})}};
            in.front().cached = r;
        }
        PushReport report;
        ASSERT_NO_THROW(report = (*channel)->push(in));
        ASSERT_EQ(report.items.size(), in.size());
        for (std::size_t k = 0; k < in.size(); ++k) {
            ASSERT_EQ(report.items[k].row_id, in[k].row_id);
            (report.items[k].error ? outcomes_err : outcomes_ok)++;
            // Outcomes are stored in text columns and shown in Odoo: they must stay printable JSON-safe text.
            ASSERT_NO_THROW((void)json(report.items[k].request_excerpt).dump(-1, ' ', false, json::error_handler_t::strict))
                << "request excerpt is not valid UTF-8";
        }
        if (i % 10 == 0) {
            auto fresh = make_channel(*config, std::make_unique<FuzzClient>(m, kind.answer, 20));
            ASSERT_TRUE(fresh);
            (*fresh)->set_sleeper([](std::chrono::milliseconds) { return false; });
            ASSERT_NO_THROW((void)(*fresh)->test_connection());
            ASSERT_NO_THROW((void)(*fresh)->list_locations());
            ASSERT_NO_THROW((void)(*fresh)->lookup_sku("MUG-1"));
        }
    }
    // The corpus really exercised both paths.
    EXPECT_GT(outcomes_ok, 0) << kind.name;
    EXPECT_GT(outcomes_err, 0) << kind.name;
}

}  // namespace

TEST(FuzzParsers, Shopify) { fuzz(kinds()[0], 0x5EED0001); }
TEST(FuzzParsers, WooCommerce) { fuzz(kinds()[1], 0x5EED0002); }
TEST(FuzzParsers, Medusa) { fuzz(kinds()[2], 0x5EED0003); }
