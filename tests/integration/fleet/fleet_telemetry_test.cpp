// Fleet telemetry on a real PostgreSQL (pg_cluster.h): each node's events.db is an outbox shipped with
// `faceweave telemetry ship`; every event arrives exactly once across restarts of the node (each ship is a
// new process) and of PostgreSQL, a node that could not reach the database catches up, and the fleet view
// of `faceweave insights --database-url` is the sum of the nodes' own views.
#include <map>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "integration/fleet/pg_cluster.h"

namespace faceweave::testing {
namespace {
using nlohmann::json;

void simulate(const std::string& data_dir, int users, int seed) {
  faceweave(data_dir, "--telemetry all telemetry simulate --users " + std::to_string(users) +
                          " --days 5 --end 2026-12-01 --seed " + std::to_string(seed));
}

int64_t local_events(const std::string& data_dir) {
  return std::stoll(
      run_command("sqlite3 " + data_dir + "/telemetry/events.db 'SELECT count(*) FROM events'").out);
}

std::string shipped(const std::string& out) {
  const auto at = out.find("shipped ");
  return at == std::string::npos ? out : out.substr(at + 8, out.find(' ', at + 8) - at - 8);
}

TEST(FleetTelemetry, EveryEventArrivesExactlyOnceAcrossRestartsOfEitherSide) {
  const std::string url = PgCluster::get().fresh_database("ship_once");
  TempDir dir;
  const std::string node = dir.file("node");
  simulate(node, 15, 1);
  const int64_t first = local_events(node);
  ASSERT_GT(first, 100);
  EXPECT_EQ(shipped(faceweave(node, "telemetry ship --database-url " + url)), std::to_string(first));
  // A restarted node ships nothing twice.
  EXPECT_EQ(shipped(faceweave(node, "telemetry ship --database-url " + url)), "0");
  // The database restarts; the node records more meanwhile, then ships only what is new.
  PgCluster::get().restart();
  simulate(node, 10, 2);
  const int64_t all = local_events(node);
  ASSERT_GT(all, first);
  EXPECT_EQ(shipped(faceweave(node, "telemetry ship --database-url " + url)), std::to_string(all - first));
  // The database cannot be reached: the events wait in the outbox (exit 8, nothing lost) and catch up.
  simulate(node, 5, 3);
  const CommandResult down =
      run_command("FACEWEAVE_TELEMETRY=off " + binary() + " --data-dir " + node +
                  " telemetry ship --database-url postgres://postgres@127.0.0.1:1/x 2>&1");
  EXPECT_EQ(down.code, 8) << down.out;
  EXPECT_EQ(shipped(faceweave(node, "telemetry ship --database-url " + url)),
            std::to_string(local_events(node) - all));
  const std::string stored = PgCluster::get().sql(
      url,
      "SELECT count(*), count(DISTINCT seq), max(seq), (SELECT shipped_seq FROM faceweave_nodes) FROM "
      "faceweave_events");
  const std::string n = std::to_string(local_events(node));
  EXPECT_EQ(stored, n + "|" + n + "|" + n + "|" + n + "\n");
  // One partition per day of events (UTC); the others are today's and the next days' (made ahead).
  EXPECT_EQ(
      PgCluster::get().sql(
          url,
          "SELECT (SELECT count(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE "
          "i.inhparent = 'faceweave_events'::regclass AND to_date(substr(c.relname, 18), 'YYYYMMDD') < "
          "(now() AT TIME ZONE 'UTC')::date) = count(DISTINCT floor(ts / 86400000.0)) FROM faceweave_events"),
      "t\n");
  const std::string last_day = PgCluster::get().sql(url, "SELECT count(*) FROM faceweave_events_20261201");
  EXPECT_GT(std::atoi(last_day.c_str()), 0) << "the last simulated day has its own partition: " << last_day;
}

// (action, option) -> count of the `actions` view.
std::map<std::string, double> actions(const std::string& out) {
  std::map<std::string, double> counts;
  const json t = json::parse(out.substr(out.find('{')), nullptr, false);
  EXPECT_TRUE(t.is_object()) << out;
  if (!t.is_object()) return counts;
  for (const auto& r : t["rows"])
    counts[r["action"].get<std::string>() + "/" + r["option"].get<std::string>()] += r["count"].get<double>();
  return counts;
}

TEST(FleetTelemetry, TheFleetViewIsTheSumOfTheNodesViews) {
  const std::string url = PgCluster::get().fresh_database("fleet_view");
  TempDir dir;
  simulate(dir.file("a"), 20, 11);
  simulate(dir.file("b"), 30, 12);
  faceweave(dir.file("a"), "telemetry ship --database-url " + url);
  faceweave(dir.file("b"), "telemetry ship --database-url " + url);
  // k = 1: the sum of the nodes' cells equals the fleet's only when no cell is hidden (k-anonymity).
  auto expected = actions(faceweave(dir.file("a"), "insights actions --k 1 --json"));
  for (const auto& [key, count] : actions(faceweave(dir.file("b"), "insights actions --k 1 --json")))
    expected[key] += count;
  const auto fleet =
      actions(faceweave(dir.file("viewer"), "insights --database-url " + url + " actions --k 1 --json"));
  ASSERT_FALSE(fleet.empty());
  EXPECT_EQ(fleet, expected);
}

}  // namespace
}  // namespace faceweave::testing
