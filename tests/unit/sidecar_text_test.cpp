// Pure text helpers of the daemon: DSN redaction, the schema-version
// message, PostgreSQL array literals and text sanitising.
#include <gtest/gtest.h>

#include "dsn.hpp"
#include "pg.hpp"
#include "schema_check.hpp"

using namespace stockrelay::sidecar;

TEST(SidecarDsn, RedactsKeyValuePasswords) {
    EXPECT_EQ(redact_dsn("host=db user=odoo password=hunter22 dbname=prod"),
              "host=db user=odoo password=*** dbname=prod");
    EXPECT_EQ(redact_dsn("host=db password = 'it\\'s a \\\\ secret' dbname=x"), "host=db password = '***' dbname=x");
    EXPECT_EQ(redact_dsn("PASSWORD=abc host=x"), "PASSWORD=*** host=x");
    EXPECT_EQ(redact_dsn("host=db dbname=x"), "host=db dbname=x");
    EXPECT_EQ(dsn_secrets("host=db password=hunter22"), std::vector<std::string>{"hunter22"});
}

TEST(SidecarDsn, RedactsUriPasswords) {
    EXPECT_EQ(redact_dsn("postgresql://odoo:hunter22@db:5432/prod?sslmode=require"),
              "postgresql://odoo:***@db:5432/prod?sslmode=require");
    EXPECT_EQ(redact_dsn("postgres://odoo@db/prod?password=hunter22&sslmode=require"),
              "postgres://odoo@db/prod?password=***&sslmode=require");
    EXPECT_EQ(redact_dsn("postgresql://db/prod"), "postgresql://db/prod");
    const auto secrets = dsn_secrets("postgresql://u:p%40ss@h/d?password=two");
    EXPECT_EQ(secrets, (std::vector<std::string>{"p%40ss", "two"}));
}

TEST(SidecarSchema, MessagesNameBothVersionsAndTheFix) {
    EXPECT_EQ(schema_mismatch_message(1, 1), "");
    const auto newer = schema_mismatch_message(2, 1);
    EXPECT_NE(newer.find("database has outbox schema version 2, this stockrelayd understands 1"), std::string::npos);
    EXPECT_NE(newer.find("upgrade stockrelayd"), std::string::npos);
    const auto older = schema_mismatch_message(0, 1);
    EXPECT_NE(older.find("upgrade the Odoo module stock_relay"), std::string::npos);
    const auto none = schema_mismatch_message(std::nullopt, 1);
    EXPECT_NE(none.find("stockrelayd init-schema"), std::string::npos);
}

TEST(SidecarPg, ArrayLiteralsQuoteAndEscape) {
    EXPECT_EQ(pg::int_array({}), "{}");
    EXPECT_EQ(pg::int_array({1, -2, 3}), "{1,-2,3}");
    EXPECT_EQ(pg::text_array(std::vector<std::string>{"a", "b,c", "q\"x", "back\\slash", "NULL", ""}),
              "{\"a\",\"b,c\",\"q\\\"x\",\"back\\\\slash\",\"NULL\",\"\"}");
    EXPECT_EQ(pg::text_array(std::vector<std::optional<std::string>>{std::string("x"), std::nullopt}), "{\"x\",NULL}");
}

TEST(SidecarPg, SanitizeKeepsUtf8AndReplacesGarbage) {
    EXPECT_EQ(pg::sanitize_text("plain ascii"), "plain ascii");
    EXPECT_EQ(pg::sanitize_text("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x93\xA6"), "caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x93\xA6");
    EXPECT_EQ(pg::sanitize_text(std::string("a\0b", 3)), "ab");
    EXPECT_EQ(pg::sanitize_text("x\xFFy"), "x\xEF\xBF\xBDy");
    EXPECT_EQ(pg::sanitize_text("cut \xE2\x82"), "cut \xEF\xBF\xBD\xEF\xBF\xBD");
    EXPECT_EQ(pg::sanitize_text("\xC0\xAF"), "\xEF\xBF\xBD\xEF\xBF\xBD");  // overlong
}
