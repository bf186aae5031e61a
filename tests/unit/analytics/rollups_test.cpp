// The rollups kept by the triggers equal a rebuild from the raw events: for events inserted through the real
// telemetry writer, for simulated history, and after erasing a user.
#include <gtest/gtest.h>

#include <map>

#include "analytics_test_support.h"
#include "faceweave/telemetry.h"

namespace faceweave {
namespace {

using analytics_test::TempDir;

// Every rollup row as text, with sums rounded so summation order does not matter.
std::map<std::string, std::string> snapshot(Analytics& a) {
  std::map<std::string, std::string> out;
  for (const char* table : {"ax_hourly", "ax_stage_hist", "ax_user_first", "ax_user_day", "ax_user_option"}) {
    sqlite3_stmt* s = nullptr;
    std::string sql = std::string("SELECT * FROM ") + table;
    EXPECT_EQ(sqlite3_prepare_v2(a.database().handle(), sql.c_str(), -1, &s, nullptr), SQLITE_OK);
    while (sqlite3_step(s) == SQLITE_ROW) {
      std::string key = table, value;
      int n = sqlite3_column_count(s);
      for (int i = 0; i < n; ++i) {
        std::string cell;
        if (sqlite3_column_type(s, i) == SQLITE_FLOAT) {
          char buf[64];
          std::snprintf(buf, sizeof buf, "%.6f", sqlite3_column_double(s, i));
          cell = buf;
        } else {
          const unsigned char* t = sqlite3_column_text(s, i);
          cell = t ? reinterpret_cast<const char*>(t) : "NULL";
        }
        key += "|" + cell;
      }
      out[key] = value;
    }
    sqlite3_finalize(s);
  }
  return out;
}

void record_some(const std::string& dir, const std::string& user, double rate) {
  TelemetryOptions o;
  o.data_dir = dir;
  o.consent = "usage";
  o.user_id = user;
  o.sample_rate = rate;
  o.sampling = "cohort";
  auto t = Telemetry::create(o);
  ASSERT_TRUE(t) << t.status().to_string();
  for (int i = 0; i < 20; ++i) {
    (*t)->record_option("swap", "color_match", i % 2 ? "none" : "histogram");
    (*t)->record_stages(std::vector<std::pair<std::string, double>>{{"detect", 8.5 + i}, {"enhance", 120.25}},
                        3840, 2160, 1 + i);
    (*t)->record_command("swap", i % 5 ? StatusCode::kOk : StatusCode::kNoFace, 200 + i, i % 5 ? 0 : 9, 1);
    ASSERT_TRUE((*t)->record("ui.action",
                             {{"control", "keep-mouth-interior"}, {"action", "toggle"}, {"value", "false"}})
                    .is_ok());
    ASSERT_TRUE((*t)->record("ui.action", {{"control", "target"}, {"action", "upload"}}).is_ok());
  }
  ASSERT_TRUE((*t)->flush().is_ok());
}

TEST(AnalyticsRollups, TriggersUnderTheTelemetryWriterEqualARebuild) {
  TempDir dir;
  record_some(dir.path, "alice", 1);  // before the rollups exist: installing them rebuilds
  {
    auto a = Analytics::open(dir.path);
    ASSERT_TRUE(a) << a.status().to_string();
  }
  record_some(dir.path, "bob", 1);  // through the writer's transactions: the triggers keep the rollups
  record_some(dir.path, "alice", 1);
  auto a = Analytics::open(dir.path);
  ASSERT_TRUE(a);
  auto live = snapshot(**a);
  EXPECT_GT(live.size(), 10u);
  auto n = (*a)->rebuild();
  ASSERT_TRUE(n) << n.status().to_string();
  EXPECT_GT(*n, 200);
  EXPECT_EQ(live, snapshot(**a));
  // The stage view sees the writer's events: 4k, detect and enhance.
  auto t = (*a)->latency({});
  ASSERT_TRUE(t);
  bool enhance_4k = false;
  for (const auto& r : t->rows) enhance_4k = enhance_4k || (r[0] == "4k" && r[1] == "enhance");
  EXPECT_TRUE(enhance_4k) << t->to_json().dump();
}

TEST(AnalyticsRollups, SimulatedHistoryAndMoreEventsEqualARebuild) {
  TempDir dir;
  SimulateOptions o;
  o.data_dir = dir.path;
  o.users = 60;
  o.days = 21;  // ending today: older events would leave at the writer's 90-day retention
  auto r = simulate_telemetry(o);
  ASSERT_TRUE(r) << r.status().to_string();
  EXPECT_EQ(r->users, 60);
  EXPECT_GT(r->events, 1000);
  record_some(dir.path, "carol", 1);
  auto a = Analytics::open(dir.path);
  ASSERT_TRUE(a);
  auto live = snapshot(**a);
  ASSERT_TRUE((*a)->rebuild());
  EXPECT_EQ(live, snapshot(**a));
}

TEST(AnalyticsRollups, SimulateIsDeterministicForASeed) {
  std::map<std::string, std::string> first;
  for (int run = 0; run < 2; ++run) {
    TempDir dir;
    SimulateOptions o;
    o.data_dir = dir.path;
    o.users = 40;
    o.days = 14;
    o.seed = 7;
    o.end = "2025-05-31";
    ASSERT_TRUE(simulate_telemetry(o));
    auto a = Analytics::open(dir.path);
    ASSERT_TRUE(a);
    auto s = snapshot(**a);
    if (run == 0)
      first = s;
    else
      EXPECT_EQ(first, s);
  }
}

TEST(AnalyticsRollups, SimulatedHistoryShowsTheDesignedEffects) {
  TempDir dir;
  SimulateOptions o;
  o.data_dir = dir.path;
  o.users = 400;
  o.days = 30;
  o.end = "2025-05-31";
  ASSERT_TRUE(simulate_telemetry(o));
  auto a = Analytics::open(dir.path);
  ASSERT_TRUE(a);
  // Most first-time users switch skin-tone matching off.
  auto d = (*a)->defaults_off({});
  ASSERT_TRUE(d);
  for (const auto& r : d->rows) {
    if (r[0] == "color_match" && r[2] == "none") {
      EXPECT_GT(r[6].get<double>(), 0.5) << r.dump();
    }
  }
  // The enhancer dominates 4K runs.
  auto l = (*a)->latency({});
  ASSERT_TRUE(l);
  bool found = false;
  for (const auto& r : l->rows)
    if (r[0] == "4k" && r[1] == "enhance") {
      found = true;
      EXPECT_GT(r[3].get<double>(), 0.5) << r.dump();
    }
  EXPECT_TRUE(found);
  // Two versions, and 0.2.0 fails less often.
  AbOptions ab;
  auto t = (*a)->ab({}, ab);
  ASSERT_TRUE(t) << t.status().to_string();
  EXPECT_LT(t->summary["difference"].get<double>(), 0);
}

TEST(AnalyticsRollups, ForgettingAUserErasesTheirPerUserRollups) {
  TempDir dir;
  record_some(dir.path, "alice", 1);
  record_some(dir.path, "bob", 1);
  auto a = Analytics::open(dir.path);
  ASSERT_TRUE(a);
  auto pseudonym = telemetry_pseudonym(dir.path, "alice");
  ASSERT_TRUE(pseudonym);
  a->reset();
  auto store = TelemetryStore::open(dir.path);
  ASSERT_TRUE(store);
  ASSERT_TRUE((*store)->forget("alice"));
  store->reset();
  auto b = Analytics::open(dir.path);
  ASSERT_TRUE(b);
  auto s = snapshot(**b);
  for (const auto& [k, v] : s) EXPECT_EQ(k.find(*pseudonym), std::string::npos) << k;
  EXPECT_FALSE(s.empty());
}

TEST(AnalyticsRollups, BadSimulateInput) {
  TempDir dir;
  SimulateOptions o;
  o.data_dir = dir.path;
  o.users = 0;
  EXPECT_EQ(simulate_telemetry(o).status().code(), StatusCode::kInvalidArgument);
  o.users = 10;
  o.days = 0;
  EXPECT_EQ(simulate_telemetry(o).status().code(), StatusCode::kInvalidArgument);
  o.days = 3;
  o.end = "2025-02-30";
  EXPECT_EQ(simulate_telemetry(o).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace faceweave
