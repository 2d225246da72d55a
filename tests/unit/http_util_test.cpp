#include <gtest/gtest.h>

#include "stockrelay/http/http.hpp"

using namespace stockrelay;
using namespace stockrelay::http;

TEST(Url, ParsesShopUrls) {
    auto u = Url::parse("https://My-Shop.myshopify.com/").value();
    EXPECT_EQ(u.scheme, "https");
    EXPECT_EQ(u.host, "my-shop.myshopify.com");
    EXPECT_EQ(u.port, 443);
    EXPECT_EQ(u.path, "");
    EXPECT_EQ(u.origin(), "https://my-shop.myshopify.com");
    auto w = Url::parse("http://127.0.0.1:8080/shop/?x=1").value();
    EXPECT_EQ(w.port, 8080);
    EXPECT_EQ(w.path, "/shop");
    EXPECT_EQ(w.query, "x=1");
    EXPECT_TRUE(w.is_loopback());
    EXPECT_EQ(w.origin(), "http://127.0.0.1:8080");
}

TEST(Url, RejectsBadUrlsWithAReason) {
    EXPECT_NE(Url::parse("shop.example.com").error().message.find("missing scheme"), std::string::npos);
    EXPECT_NE(Url::parse("ftp://x").error().message.find("http or https"), std::string::npos);
    EXPECT_NE(Url::parse("https://user:pw@x.com").error().message.find("credentials"), std::string::npos);
    EXPECT_NE(Url::parse("https://x.com:99999").error().message.find("port"), std::string::npos);
    EXPECT_NE(Url::parse("https://").error().message.find("host"), std::string::npos);
    EXPECT_EQ(Url::parse("https://").error().code, ErrorCode::config);
}

TEST(Encoding, UrlEncodeAndBase64) {
    EXPECT_EQ(url_encode("sku:'A B'"), "sku%3A%27A%20B%27");
    EXPECT_EQ(url_encode("a-b_c.d~"), "a-b_c.d~");
    EXPECT_EQ(base64("ck_1:cs_2"), "Y2tfMTpjc18y");
    EXPECT_EQ(base64("a"), "YQ==");
    EXPECT_EQ(base64("ab"), "YWI=");
    EXPECT_EQ(base64(""), "");
}

TEST(Redact, RemovesSecretsInPlainAndEncodedForm) {
    auto out = redact("token=shpat_abc/def and shpat_abc%2Fdef", {"shpat_abc/def"});
    EXPECT_EQ(out.find("shpat_abc"), std::string::npos);
    EXPECT_NE(out.find("[redacted]"), std::string::npos);
}

TEST(Excerpt, CutsOnUtf8Boundary) {
    std::string s = "ab\xC3\xA9" "cd";  // "abécd"
    auto e = excerpt(s, 3);
    EXPECT_EQ(e.substr(0, 2), "ab");
    EXPECT_NE(e.find("more bytes"), std::string::npos);
    EXPECT_EQ(excerpt("short", 10), "short");
}

TEST(Classify, MapsStatusesToActions) {
    Response r;
    r.status = 200;
    EXPECT_FALSE(classify_status(r, "x"));
    r.status = 401;
    EXPECT_EQ(classify_status(r, "x")->code, ErrorCode::auth);
    r.status = 503;
    EXPECT_EQ(classify_status(r, "x")->code, ErrorCode::transient);
    r.status = 429;
    r.headers = {{"retry-after", "3"}};
    auto e = classify_status(r, "x");
    EXPECT_EQ(e->code, ErrorCode::throttled);
    EXPECT_EQ(e->retry_after.count(), 3000);
    r.status = 301;
    r.headers = {{"location", "https://evil.example/"}};
    EXPECT_EQ(classify_status(r, "x")->code, ErrorCode::config);
    r.status = 400;
    EXPECT_EQ(classify_status(r, "x")->code, ErrorCode::permanent);
}
