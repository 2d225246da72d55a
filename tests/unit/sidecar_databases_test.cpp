// One daemon, several databases (database_set.hpp, database_figures.hpp,
// database_scope.hpp): how a DSN names its database, which command lines make
// sense, which names can be routed in a webhook URL, the scrape's families
// merged with a database label, and a stuck loop held against its own
// database only.
#include <gtest/gtest.h>

#include "database_figures.hpp"
#include "database_scope.hpp"
#include "database_set.hpp"
#include "liveness.hpp"
#include "logging.hpp"
#include "stockrelay/log.hpp"

using namespace stockrelay::sidecar;
using std::chrono::milliseconds;

TEST(Databases, ADsnIsNamedByItsDatabaseInEitherForm) {
    EXPECT_EQ(database_of("host=/run/postgresql dbname=shop_a user=relay"), "shop_a");
    EXPECT_EQ(database_of("postgresql://relay:pw@db.example/shop_b?sslmode=require"), "shop_b");
    EXPECT_EQ(database_of("host=db user=relay"), "relay");  // libpq's default: the user's name
}

TEST(Databases, CommandLinesThatCannotWorkAreRefusedWithTheReason) {
    EXPECT_EQ(source_problem({{"dbname=a"}, {}, ""}), "");
    EXPECT_EQ(source_problem({{"dbname=a", "dbname=b"}, {}, ""}), "");
    EXPECT_EQ(source_problem({{"dbname=postgres"}, {"a", "b"}, ""}), "");
    EXPECT_NE(source_problem({{}, {}, ""}).find("no database"), std::string::npos);
    EXPECT_NE(source_problem({{"dbname=a", "dbname=b"}, {"x"}, ""}).find("take one --dsn"), std::string::npos);
    EXPECT_NE(source_problem({{"host=h1 dbname=a", "host=h2 dbname=a"}, {}, ""}).find("same database 'a'"),
              std::string::npos);
    EXPECT_NE(source_problem({{"dbname=p"}, {"a", ""}, ""}).find("empty name"), std::string::npos);
    EXPECT_NE(source_problem({{"dbname=p"}, {"a"}, "^shop_"}).find("not both"), std::string::npos);
    EXPECT_FALSE((DatabaseSource{{"dbname=a"}, {}, ""}.several()));
    EXPECT_TRUE((DatabaseSource{{"dbname=a"}, {}, "^shop_"}.several()));
}

TEST(Databases, OnlyOdooStyleNamesCanBeRoutedInAWebhookUrl) {
    EXPECT_TRUE(routable_name("shop_a"));
    EXPECT_TRUE(routable_name("acme-2026.prod"));
    EXPECT_FALSE(routable_name("_hidden"));
    EXPECT_FALSE(routable_name("two words"));
    EXPECT_FALSE(routable_name("a/b"));
    EXPECT_FALSE(routable_name(""));
}

namespace {

metrics::DbSnapshot snapshot_with(double rows) {
    metrics::DbSnapshot s;
    prometheus::MetricFamily f;
    f.name = "stockrelay_outbox_rows";
    f.type = prometheus::MetricType::Gauge;
    prometheus::ClientMetric m;
    m.label = {{"channel", "1"}, {"state", "done"}};
    m.gauge.value = rows;
    f.metric.push_back(m);
    s.families.push_back(f);
    return s;
}

}  // namespace

TEST(Databases, TheScrapeHasOneFamilyPerMetricAndADatabaseLabelPerSeries) {
    const auto merged = metrics::merged_families({{"shop_a", snapshot_with(3)}, {"shop_b", snapshot_with(5)}});
    ASSERT_EQ(merged.size(), 1u);
    ASSERT_EQ(merged[0].metric.size(), 2u);
    EXPECT_EQ(merged[0].metric[0].label.back().name, "database");
    EXPECT_EQ(merged[0].metric[0].label.back().value, "shop_a");
    EXPECT_EQ(merged[0].metric[1].label.back().value, "shop_b");
    EXPECT_EQ(merged[0].metric[1].gauge.value, 5);
    // The single database of before: no label added.
    const auto single = metrics::merged_families({{"", snapshot_with(1)}});
    EXPECT_EQ(single[0].metric[0].label.size(), 2u);
}

TEST(Databases, AStuckLoopCountsAgainstItsOwnDatabaseOnly) {
    const DatabaseScope scope("shop_stuck");
    const liveness::LoopScope loop("channel 7 worker");
    const auto later = liveness::clock::now() + milliseconds{5000};
    const auto in_a = liveness::stalled_in("shop_stuck", milliseconds{1000}, later);
    ASSERT_EQ(in_a.size(), 1u);
    EXPECT_EQ(in_a[0].loop, "database shop_stuck: channel 7 worker");
    EXPECT_TRUE(liveness::stalled_in("shop_other", milliseconds{1000}, later).empty());
    EXPECT_TRUE(liveness::stalled_in("", milliseconds{1000}, later).empty());
}

TEST(Databases, LogLinesOfADatabasesThreadsNameTheDatabase) {
    const DatabaseScope scope("shop_log");
    testing::internal::CaptureStderr();
    logging::setup(stockrelay::log::Level::info, logging::Format::json);
    stockrelay::log::info("channel 3 (Shop): worker started");
    logging::setup(stockrelay::log::Level::info, logging::Format::text);
    stockrelay::log::info("listener: reconnected");
    const auto out = testing::internal::GetCapturedStderr();
    EXPECT_NE(out.find(R"("msg":"database shop_log: channel 3 (Shop): worker started")"), std::string::npos) << out;
    EXPECT_NE(out.find(R"("fields":{"channel_id":3,"database":"shop_log"})"), std::string::npos) << out;
    EXPECT_NE(out.find(" info database shop_log: listener: reconnected"), std::string::npos) << out;
}
