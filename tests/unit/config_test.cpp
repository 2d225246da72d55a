#include <gtest/gtest.h>

#include "stockrelay/channels/channel.hpp"

using namespace stockrelay;
using channels::Config;
using nlohmann::json;

TEST(ChannelConfig, ReadsARow) {
    auto c = Config::from_json(json{{"id", 3}, {"name", "Main"}, {"channel_type", "shopify"},
                                    {"base_url", "https://a.myshopify.com"}, {"api_version", "2026-01"},
                                    {"credentials", {{"access_token", "shpat_x1234"}}},
                                    {"batch_size", 100}, {"timeout_ms", 5000}, {"tls_verify", true}});
    ASSERT_TRUE(c) << c.error().message;
    EXPECT_EQ(c->id, 3);
    EXPECT_EQ(c->batch_size, 100);
    EXPECT_EQ(c->timeout.count(), 5000);
    EXPECT_EQ(c->secrets(), std::vector<std::string>{"shpat_x1234"});
}

TEST(ChannelConfig, NamesTheBadField) {
    auto missing = Config::from_json(json{{"channel_type", "shopify"}});
    EXPECT_NE(missing.error().message.find("'base_url' is missing"), std::string::npos);
    auto type = Config::from_json(json{{"channel_type", "amazon"}, {"base_url", "https://x"}});
    EXPECT_NE(type.error().message.find("'amazon' is unknown"), std::string::npos);
    auto wrong = Config::from_json(json{{"channel_type", "shopify"}, {"base_url", "https://x"}, {"batch_size", "ten"}});
    EXPECT_NE(wrong.error().message.find("'batch_size' has the wrong type"), std::string::npos);
    auto url = Config::from_json(json{{"channel_type", "shopify"}, {"base_url", "x.myshopify.com"}});
    EXPECT_NE(url.error().message.find("'base_url'"), std::string::npos);
    EXPECT_EQ(url.error().code, ErrorCode::config);
    auto creds = Config::from_json(json{{"channel_type", "shopify"}, {"base_url", "https://x"}, {"credentials", "tok"}});
    EXPECT_NE(creds.error().message.find("'credentials' must be a JSON object"), std::string::npos);
}

TEST(ChannelConfig, SkuCacheMaxAgeDefaultsToAnHourAndMustNotBeNegative) {
    const json base{{"channel_type", "shopify"}, {"base_url", "https://a.myshopify.com"}};
    EXPECT_EQ(Config::from_json(base)->sku_cache_max_age.count(), 3600);
    auto zero = base;
    zero["sku_cache_max_age_seconds"] = 0;
    EXPECT_EQ(Config::from_json(zero)->sku_cache_max_age.count(), 0);
    auto negative = base;
    negative["sku_cache_max_age_seconds"] = -5;
    auto bad = Config::from_json(negative);
    ASSERT_FALSE(bad);
    EXPECT_NE(bad.error().message.find("'sku_cache_max_age_seconds'"), std::string::npos) << bad.error().message;
}
