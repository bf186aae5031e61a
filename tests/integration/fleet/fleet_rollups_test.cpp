// The fleet's rollups on a real PostgreSQL (pg_cluster.h): distinct users from the per-day HyperLogLog
// sketches agree with the exact count (and are counted exactly, saying so, where the hll extension cannot
// be installed); retention drops old day partitions and makes the next days' ahead, keeping the rollups;
// an API node's /api/insights and /metrics show the sum of two nodes' telemetry.
#include <ctime>
#include <map>
#include <regex>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "integration/fleet/child_process.h"
#include "integration/fleet/pg_cluster.h"

namespace faceweave::testing {
namespace {
using nlohmann::json;

json table(const std::string& out) {
  const auto brace = out.find('{');
  const json t = json::parse(brace == std::string::npos ? "" : out.substr(brace), nullptr, false);
  EXPECT_TRUE(t.is_object()) << out;
  return t.is_object() ? t : json::object();
}

// The UTC day `offset` days from today, as YYYY-MM-DD or YYYYMMDD.
std::string day(int offset, const char* format = "%Y-%m-%d") {
  const std::time_t t = std::time(nullptr) + std::time_t(offset) * 86400;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[16];
  std::strftime(buf, sizeof(buf), format, &tm);
  return buf;
}

int64_t number(const std::string& s) {
  return std::atoll(s.c_str());
}

// HyperLogLog with 2^11 registers (the extension's default) has a standard error of 1.04 / sqrt(2048),
// 2.3%; three of them bound the estimate.
constexpr double kHllBound = 3 * 1.04 / 45.25;

TEST(FleetRollups, DistinctUsersFromSketchesMatchTheExactCount) {
  const std::string url = PgCluster::get().fresh_database("hll_users");
  TempDir dir;
  for (const auto& [node, users, seed] : {std::tuple{"a", 700, 21}, std::tuple{"b", 900, 22}}) {
    faceweave(dir.file(node), "--telemetry all telemetry simulate --users " + std::to_string(users) +
                                  " --days 6 --end 2026-11-30 --seed " + std::to_string(seed));
    faceweave(dir.file(node), "telemetry ship --database-url " + url);
  }
  const json t = table(faceweave(dir.file("viewer"), "insights --database-url " + url + " users --json"));
  EXPECT_EQ(t["summary"]["method"], "hll") << t.dump();
  const double exact = double(number(PgCluster::get().sql(
      url, "SELECT count(DISTINCT user_hash) FROM faceweave_events WHERE user_hash <> ''")));
  ASSERT_GT(exact, 1000);
  const double estimate = t["summary"]["users"].get<double>();
  EXPECT_NEAR(estimate, exact, kHllBound * exact);
  // Each day too; and the range is a union of the days, not their sum (people come back).
  // Six simulated days (a session running past midnight may add a seventh).
  ASSERT_GE(t["rows"].size(), 6u) << t.dump();
  double sum_of_days = 0;
  for (const auto& row : t["rows"]) {
    const std::string d = row["day"].get<std::string>();
    const double day_exact = double(number(PgCluster::get().sql(
        url,
        "SELECT count(DISTINCT user_hash) FROM faceweave_events WHERE user_hash <> '' AND "
        "faceweave_day(ts) = '" +
            d + "'")));
    EXPECT_NEAR(row["users"].get<double>(), day_exact, kHllBound * day_exact + 2) << d;
    sum_of_days += row["users"].get<double>();
  }
  EXPECT_LT(estimate, sum_of_days);
  // A range of one day is that day's row.
  const json one =
      table(faceweave(dir.file("viewer"),
                      "insights --database-url " + url + " users --from 2026-11-28 --to 2026-11-28 --json"));
  ASSERT_EQ(one["rows"].size(), 1u) << one.dump();
  EXPECT_EQ(one["summary"]["users"], one["rows"][0]["users"]);
}

TEST(FleetRollups, WithoutTheHllExtensionUsersAreCountedExactlyAndSaySo) {
  // A database owner who is not a superuser may not create the hll extension (it is not trusted).
  const std::string admin = PgCluster::get().url();
  PgCluster::get().sql(admin, "DROP DATABASE IF EXISTS no_hll");
  PgCluster::get().sql(admin, "DROP ROLE IF EXISTS plain_owner");
  PgCluster::get().sql(admin, "CREATE ROLE plain_owner LOGIN");
  PgCluster::get().sql(admin, "CREATE DATABASE no_hll OWNER plain_owner");
  const std::string port = admin.substr(admin.rfind(':') + 1, admin.rfind('/') - admin.rfind(':') - 1);
  const std::string url = "postgres://plain_owner@127.0.0.1:" + port + "/no_hll";
  TempDir dir;
  faceweave(dir.file("a"),
            "--telemetry all telemetry simulate --users 300 --days 3 --end 2026-11-30 --seed 5");
  faceweave(dir.file("a"), "telemetry ship --database-url " + url);
  EXPECT_EQ(PgCluster::get().sql(url, "SELECT to_regtype('hll') IS NULL"), "t\n");
  const json t = table(faceweave(dir.file("viewer"), "insights --database-url " + url + " users --json"));
  EXPECT_EQ(t["summary"]["method"], "exact") << t.dump();
  EXPECT_EQ(t["summary"]["users"].get<int64_t>(),
            number(PgCluster::get().sql(
                url, "SELECT count(DISTINCT user_hash) FROM faceweave_events WHERE user_hash <> ''")));
  EXPECT_NE(t["notes"].dump().find("postgresql-15-hll"), std::string::npos) << t.dump();
}

TEST(FleetRollups, RetentionDropsOldDayPartitionsAndMakesTheNextDaysAhead) {
  const std::string url = PgCluster::get().fresh_database("retention");
  TempDir dir;
  // Ten days of history ending yesterday.
  faceweave(dir.file("a"),
            "--telemetry all telemetry simulate --users 40 --days 10 --end " + day(-1) + " --seed 8");
  const std::string shipped =
      faceweave(dir.file("a"), "telemetry ship --retention-days 4 --database-url " + url);
  EXPECT_NE(shipped.find("dropped 6 day partition(s) older than 4 days"), std::string::npos) << shipped;
  auto partitions = [&] {
    return PgCluster::get().sql(
        url,
        "SELECT string_agg(substr(c.relname, 18), ',' ORDER BY c.relname) FROM pg_inherits "
        "i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = "
        "'faceweave_events'::regclass");
  };
  // Kept: today and the 4 days before it (yesterday..today-4 hold events); made ahead: the next 3 days.
  std::string expected;
  for (int d = -4; d <= 3; ++d) expected += (expected.empty() ? "" : ",") + day(d, "%Y%m%d");
  EXPECT_EQ(partitions(), expected + "\n");
  EXPECT_EQ(PgCluster::get().sql(url, "SELECT min(faceweave_day(ts))::text FROM faceweave_events"),
            day(-4) + "\n");
  // The rollups keep every shipped event, dropped days included.
  const std::string local =
      run_command("sqlite3 " + dir.file("a") + "/telemetry/events.db 'SELECT count(*) FROM events'").out;
  EXPECT_EQ(PgCluster::get().sql(url, "SELECT sum(events) FROM faceweave_daily_events"), local);
  // Idempotent: nothing more to drop, nothing lost.
  const std::string again =
      faceweave(dir.file("a"), "telemetry ship --retention-days 4 --database-url " + url);
  EXPECT_EQ(again.find("dropped"), std::string::npos) << again;
  EXPECT_EQ(partitions(), expected + "\n");
}

// (action/option) -> count of the `actions` view table.
std::map<std::string, double> actions(const json& t) {
  std::map<std::string, double> counts;
  for (const auto& r : t["rows"])
    counts[r["action"].get<std::string>() + "/" + r["option"].get<std::string>()] += r["count"].get<double>();
  return counts;
}

std::string http_get(const std::string& url) {
  return run_command("curl -s --max-time 60 '" + url + "'").out;
}

TEST(FleetRollups, AnApiNodeShowsTheSumOfTwoNodesInInsightsAndMetrics) {
  const std::string url = PgCluster::get().fresh_database("api_fleet_view");
  TempDir dir;
  faceweave(dir.file("a"),
            "--telemetry all telemetry simulate --users 20 --days 5 --end 2026-12-01 --seed 31");
  faceweave(dir.file("b"),
            "--telemetry all telemetry simulate --users 30 --days 5 --end 2026-12-01 --seed 32");
  faceweave(dir.file("a"), "telemetry ship --database-url " + url);
  faceweave(dir.file("b"), "telemetry ship --database-url " + url);
  ChildProcess api({"--data-dir", dir.file("api"), "serve", "--port", "0", "--database-url", url,
                    "--media-dir", dir.file("api"), "--max-concurrent-jobs", "0"},
                   dir.file("api.log"));
  ASSERT_TRUE(api.wait_for("serving on http://127\\.0\\.0\\.1:[0-9]+/")) << api.log();
  std::smatch port;
  const std::string log = api.log();
  ASSERT_TRUE(std::regex_search(log, port, std::regex("127\\.0\\.0\\.1:([0-9]+)/")));
  const std::string base = "http://127.0.0.1:" + std::string(port[1]);

  auto expected = actions(table(faceweave(dir.file("a"), "insights actions --json --k 1")));
  for (const auto& [key, count] : actions(table(faceweave(dir.file("b"), "insights actions --json --k 1"))))
    expected[key] += count;
  const auto fleet = actions(table(http_get(base + "/api/insights/actions?k=1")));
  ASSERT_FALSE(fleet.empty());
  EXPECT_EQ(fleet, expected);

  // A third node ships later: the API node's view catches up (its replica appends what is new).
  faceweave(dir.file("c"),
            "--telemetry all telemetry simulate --users 10 --days 5 --end 2026-12-01 --seed 33");
  faceweave(dir.file("c"), "telemetry ship --database-url " + url);
  for (const auto& [key, count] : actions(table(faceweave(dir.file("c"), "insights actions --json --k 1"))))
    expected[key] += count;
  std::map<std::string, double> caught_up;
  for (int i = 0; i < 50 && caught_up != expected; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
    caught_up = actions(table(http_get(base + "/api/insights/actions?k=1")));
  }
  EXPECT_EQ(caught_up, expected);

  // /metrics: every node's stored events by event, from PostgreSQL's daily rollup.
  const std::string metrics = http_get(base + "/metrics");
  EXPECT_NE(metrics.find("faceweave_fleet_up 1"), std::string::npos) << metrics.substr(0, 2000);
  EXPECT_NE(metrics.find("faceweave_fleet_nodes 3"), std::string::npos);
  double events = 0;
  const std::regex sample(R"(faceweave_fleet_events_total\{event="[^"]+"\} ([0-9.e+]+))");
  for (std::sregex_iterator it(metrics.begin(), metrics.end(), sample), end; it != end; ++it)
    events += std::stod((*it)[1]);
  int64_t local = 0;
  for (const char* node : {"a", "b", "c"})
    local += number(
        run_command("sqlite3 " + dir.file(node) + "/telemetry/events.db 'SELECT count(*) FROM events'").out);
  EXPECT_EQ(int64_t(events), local);
  EXPECT_NE(metrics.find("faceweave_fleet_users{window=\"30d\",method=\"hll\"}"), std::string::npos);
  // The fleet's distinct users through the API: PostgreSQL's sketches.
  const json users = table(http_get(base + "/api/insights/users"));
  EXPECT_EQ(users["summary"]["method"], "hll") << users.dump();
  EXPECT_GT(users["summary"]["users"].get<int64_t>(), 50);
}

}  // namespace
}  // namespace faceweave::testing
