// The rollups folded in by watermark equal a rebuild from the raw events: folded in several increments (with
// sampled rows), for events inserted through the real telemetry writer, for simulated history; they keep
// what they had when retention deletes raw events, and erasing a user erases their per-user rows.
#include <gtest/gtest.h>

#include <map>

#include "analytics_test_support.h"
#include "faceweave/telemetry.h"

namespace faceweave {
namespace {

// One or two users per history here: k = 1 (k-anonymity is tested in kanon_test.cpp).
InsightsFilter k1() {
  InsightsFilter f;
  f.k = 1;
  return f;
}

using analytics_test::TempDir;

// Every rollup row as text, with sums rounded so summation order does not matter.
std::map<std::string, std::string> snapshot(Analytics& a) {
  std::map<std::string, std::string> out;
  for (const char* table :
       {"ax_hourly", "ax_daily", "ax_stage_hist", "ax_dims", "ax_user", "ax_user_week", "ax_user_switch",
        "ax_cohort", "ax_cohort_week", "ax_cohort_switch", "ax_day_users", "ax_run_opt", "ax_stage_with",
        "ax_stage", "ax_run_end", "ax_exp_run", "ax_profile"}) {
    sqlite3_stmt* s = nullptr;
    std::string sql = std::string("SELECT * FROM ") + table;
    EXPECT_EQ(sqlite3_prepare_v2(a.database().handle(), sql.c_str(), -1, &s, nullptr), SQLITE_OK);
    while (sqlite3_step(s) == SQLITE_ROW) {
      std::string key = table, value;
      int n = sqlite3_column_count(s);
      for (int i = 0; i < n; ++i) {
        std::string cell;
        if (sqlite3_column_type(s, i) == SQLITE_BLOB) {  // the user sketches, byte for byte
          const auto* p = static_cast<const unsigned char*>(sqlite3_column_blob(s, i));
          static const char* kHex = "0123456789abcdef";
          for (int b = 0; b < sqlite3_column_bytes(s, i); ++b) {
            cell.push_back(kHex[p[b] >> 4]);
            cell.push_back(kHex[p[b] & 15]);
          }
        } else if (sqlite3_column_type(s, i) == SQLITE_FLOAT) {
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

TEST(AnalyticsRollups, FoldAfterTheTelemetryWriterEqualsARebuild) {
  TempDir dir;
  record_some(dir.path(), "alice", 1);  // before the rollups exist: installing them rebuilds
  {
    auto a = Analytics::open(dir.path());
    ASSERT_TRUE(a) << a.status().to_string();
  }
  record_some(dir.path(), "bob", 1);  // through the writer: the next open/view folds them in
  record_some(dir.path(), "alice", 1);
  auto a = Analytics::open(dir.path());
  ASSERT_TRUE(a);
  ASSERT_TRUE((*a)->refresh().is_ok());
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
  o.data_dir = dir.path();
  o.users = 60;
  o.days = 21;  // ending today: older events would leave at the writer's 90-day retention
  auto r = simulate_telemetry(o);
  ASSERT_TRUE(r) << r.status().to_string();
  EXPECT_EQ(r->users, 60);
  EXPECT_GT(r->events, 1000);
  record_some(dir.path(), "carol", 1);
  auto a = Analytics::open(dir.path());
  ASSERT_TRUE(a);
  ASSERT_TRUE((*a)->refresh().is_ok());
  auto live = snapshot(**a);
  ASSERT_TRUE((*a)->rebuild());
  EXPECT_EQ(live, snapshot(**a));
}

TEST(AnalyticsRollups, SimulateIsDeterministicForASeed) {
  std::map<std::string, std::string> first;
  for (int run = 0; run < 2; ++run) {
    TempDir dir;
    SimulateOptions o;
    o.data_dir = dir.path();
    o.users = 40;
    o.days = 14;
    o.seed = 7;
    o.end = "2025-05-31";
    ASSERT_TRUE(simulate_telemetry(o));
    auto a = Analytics::open(dir.path());
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
  o.data_dir = dir.path();
  o.users = 400;
  o.days = 30;
  o.end = "2025-05-31";
  ASSERT_TRUE(simulate_telemetry(o));
  auto a = Analytics::open(dir.path());
  ASSERT_TRUE(a);
  // Most first-time users switch skin-tone matching off.
  auto d = (*a)->defaults_off({});
  ASSERT_TRUE(d);
  bool color_match_off = false;  // the row must exist: a missing row would check nothing
  for (const auto& r : d->rows) {
    if (r[0] == "color_match" && r[2] == "none") {
      color_match_off = true;
      EXPECT_GT(r[6].get<double>(), 0.5) << r.dump();
    }
  }
  EXPECT_TRUE(color_match_off) << d->rows.size() << " rows, none for color_match switched to none";
  // The frame enhancer dominates 4K runs (about half of their stage time), ahead of the face enhancer.
  InsightsFilter all = k1();
  auto l = (*a)->latency(all);
  ASSERT_TRUE(l);
  double frame = 0, face = 0;
  for (const auto& r : l->rows)
    if (r[0] == "4k" && r[3].is_number()) {
      if (r[1] == "frame_enhance") frame = r[3].get<double>();
      if (r[1] == "enhance") face = r[3].get<double>();
    }
  EXPECT_GT(frame, 0.35) << l->to_json().dump();
  EXPECT_GT(frame, face);
  // Two versions, and 0.2.0 fails less often.
  AbOptions ab;
  auto t = (*a)->ab({}, ab);
  ASSERT_TRUE(t) << t.status().to_string();
  EXPECT_LT(t->summary["difference"].get<double>(), 0);
}

TEST(AnalyticsRollups, ForgettingAUserErasesTheirPerUserRollups) {
  TempDir dir;
  record_some(dir.path(), "alice", 1);
  record_some(dir.path(), "bob", 1);
  auto a = Analytics::open(dir.path());
  ASSERT_TRUE(a);
  auto pseudonym = telemetry_pseudonym(dir.path(), "alice");
  ASSERT_TRUE(pseudonym);
  a->reset();
  auto store = TelemetryStore::open(dir.path());
  ASSERT_TRUE(store);
  ASSERT_TRUE((*store)->forget("alice"));
  store->reset();
  auto b = Analytics::open(dir.path());
  ASSERT_TRUE(b);
  auto s = snapshot(**b);
  for (const auto& [k, v] : s) EXPECT_EQ(k.find(*pseudonym), std::string::npos) << k;
  EXPECT_FALSE(s.empty());
}

// A small history of three users, two of them sampled, inserted in `parts` increments with a fold after
// each one; returns the database path.
void insert_part(analytics_test::Db& d, int part) {
  using analytics_test::at;
  using telemetry::EventKind;
  const std::string user = std::string(63, 'a') + char('0' + part % 3);
  double rate = part % 3 == 0 ? 1 : (part % 3 == 1 ? 0.5 : 0.25);
  std::string day =
      part < 4 ? "2025-05-0" + std::to_string(5 + part) : "2025-05-1" + std::to_string(part - 4);
  int64_t s = d.session(std::string(31, 's') + char('a' + part), user, part % 2 ? "0.2.0" : "0.1.0",
                        at(day.c_str(), 9 + part), part % 2 ? "web" : "linux-x86_64");
  d.event(s, at(day.c_str(), 9 + part), EventKind::kUiAction, R"({"control":"target","action":"upload"})", -1,
          StatusCode::kOk, rate);
  d.event(s, at(day.c_str(), 9 + part, 1), EventKind::kUiAction,
          R"({"control":"color-match","action":"change","value":"none"})", -1, StatusCode::kOk, rate);
  d.event(s, at(day.c_str(), 9 + part, 2), EventKind::kCommandOption,
          R"({"command":"swap","option":"blend","value":"affine"})", -1, StatusCode::kOk, rate);
  d.event(s, at(day.c_str(), 9 + part, 2), EventKind::kStageTiming,
          R"({"stage":"detect","resolution":"4k","frames":3,"media":"video"})", 30.0 + part, StatusCode::kOk,
          rate);
  if (part % 2)
    d.event(s, at(day.c_str(), 9 + part, 3), EventKind::kUiAction,
            R"({"control":"preview","action":"preview"})", -1, StatusCode::kOk, rate);
  d.event(s, at(day.c_str(), 9 + part, 4), EventKind::kCommandRun,
          R"({"surface":"cli","command":"swap","exit_code":0,"changed":1,"provider":"cuda"})", 90,
          part == 4 ? StatusCode::kNoFace : StatusCode::kOk, rate);
}

TEST(AnalyticsRollups, FoldingInIncrementsEqualsOneRebuild) {
  TempDir dir;
  analytics_test::Db d(dir.path());
  auto a = Analytics::open_database(d.path);
  ASSERT_TRUE(a) << a.status().to_string();
  for (int part = 0; part < 8; ++part) {
    insert_part(d, part);
    ASSERT_TRUE((*a)->refresh().is_ok());  // each fold sees only the new events and sessions
  }
  ASSERT_TRUE((*a)->refresh().is_ok());  // nothing new: no change
  auto folded = snapshot(**a);
  EXPECT_GT(folded.size(), 40u);
  auto n = (*a)->rebuild();
  ASSERT_TRUE(n) << n.status().to_string();
  EXPECT_EQ(*n, 8 * 5 + 4);
  EXPECT_EQ(folded, snapshot(**a));
  // The views read the folded rollups: 8 weighted uploads' users (1 + 2 + 4 per three parts).
  auto f = (*a)->funnel({});
  ASSERT_TRUE(f);
  EXPECT_EQ(f->rows[0][1], 7.0) << f->to_json().dump();  // three users: weights 1, 2, 4
}

TEST(AnalyticsRollups, EveryViewFoldsFirstAndTwoFoldersAgree) {
  TempDir dir;
  analytics_test::Db d(dir.path());
  auto a = Analytics::open_database(d.path);
  auto b = Analytics::open_database(d.path);
  ASSERT_TRUE(a && b);
  insert_part(d, 0);
  auto t = (*a)->view("usage", k1());
  ASSERT_TRUE(t);
  EXPECT_EQ(t->summary["runs"], 1.0);  // folded by the view itself
  insert_part(d, 3);
  // The second process folds the new part; the first sees it without folding anything twice.
  ASSERT_TRUE((*b)->refresh().is_ok());
  t = (*a)->view("usage", k1());
  ASSERT_TRUE(t);
  EXPECT_EQ(t->summary["runs"], 2.0);
  auto folded = snapshot(**a);
  ASSERT_TRUE((*a)->rebuild());
  EXPECT_EQ(folded, snapshot(**a));
}

TEST(AnalyticsRollups, AViewWhileAnotherProcessHoldsTheWriteLockSaysItIsBehind) {
  TempDir dir;
  analytics_test::Db d(dir.path());
  auto a = Analytics::open_database(d.path);
  ASSERT_TRUE(a);
  insert_part(d, 0);
  insert_part(d, 3);
  d.exec("BEGIN IMMEDIATE");  // another writer holds the lock past the busy timeout (2 s)
  auto t = (*a)->view("usage", k1());
  ASSERT_TRUE(t) << t.status().to_string();
  EXPECT_EQ(t->summary["runs"], 0.0);
  ASSERT_FALSE(t->notes.empty());
  EXPECT_NE(t->to_text().find("not included yet"), std::string::npos) << t->to_text();
  d.exec("COMMIT");
  t = (*a)->view("usage", k1());
  ASSERT_TRUE(t);
  EXPECT_EQ(t->summary["runs"], 2.0);
  EXPECT_EQ(t->to_text().find("not included yet"), std::string::npos);
}

TEST(AnalyticsRollups, TheWriterPathHasNoTriggers) {
  TempDir dir;
  record_some(dir.path(), "alice", 1);
  auto a = Analytics::open(dir.path());
  ASSERT_TRUE(a);
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(
      sqlite3_prepare_v2((*a)->database().handle(),
                         "SELECT count(*) FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'events'",
                         -1, &s, nullptr),
      SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(s, 0), 0);
  sqlite3_finalize(s);
}

TEST(AnalyticsRollups, RetentionDeletingRawEventsKeepsTheRollups) {
  TempDir dir;
  analytics_test::Db d(dir.path());
  auto a = Analytics::open_database(d.path);
  ASSERT_TRUE(a);
  for (int part = 0; part < 8; ++part) insert_part(d, part);
  auto before = (*a)->view("errors", k1());
  auto funnel_before = (*a)->view("funnel", k1());
  ASSERT_TRUE(before && funnel_before);
  EXPECT_EQ(before->summary["runs"], 17.0);  // weights 1, 2, 4, 1, 2, 4, 1, 2
  EXPECT_EQ(funnel_before->rows[0][1], 7.0);
  // What telemetry retention does: delete old events, then the sessions left without events. Parts 0-5
  // go; the user of parts 2 and 5 (weight 4) has nothing left and loses their per-user rows.
  d.exec("DELETE FROM events WHERE ts < " + std::to_string(analytics_test::at("2025-05-12", 0)));
  d.exec("DELETE FROM sessions WHERE id NOT IN (SELECT DISTINCT session FROM events)");
  insert_part(d, 9);  // the first user again (weight 1)
  auto after = (*a)->view("errors", k1());
  auto funnel_after = (*a)->view("funnel", k1());
  ASSERT_TRUE(after && funnel_after);
  EXPECT_EQ(after->summary["runs"], 18.0);
  EXPECT_EQ(funnel_after->rows[0][1], 7.0);  // the pruned user still counts in their cohort
  ASSERT_TRUE((*a)->rebuild());              // a rebuild sees only the stored events
  auto rebuilt = (*a)->view("errors", k1());
  ASSERT_TRUE(rebuilt);
  EXPECT_EQ(rebuilt->summary["runs"], 4.0);  // parts 6, 7 and 9
}

TEST(AnalyticsRollups, AnOlderRollupSchemaIsRebuiltWithoutItsTriggers) {
  TempDir dir;
  analytics_test::Db d(dir.path());
  insert_part(d, 0);
  {
    auto a = Analytics::open_database(d.path);
    ASSERT_TRUE(a);
  }
  // What version 1 left behind: its schema number and an insert trigger on events.
  d.exec("UPDATE meta SET value = 1 WHERE key = 'analytics_schema'");
  d.exec(
      "CREATE TABLE ax_user_day(x); CREATE TRIGGER ax_events_insert AFTER INSERT ON events BEGIN "
      "INSERT INTO ax_user_day VALUES (1); END;");
  insert_part(d, 1);
  auto a = Analytics::open_database(d.path);
  ASSERT_TRUE(a) << a.status().to_string();
  auto triggers = d.db().handle();
  sqlite3_stmt* s = nullptr;
  ASSERT_EQ(
      sqlite3_prepare_v2(triggers,
                         "SELECT (SELECT count(*) FROM sqlite_master WHERE name IN ('ax_events_insert', "
                         "'ax_user_day')), (SELECT value FROM meta WHERE key = 'analytics_schema')",
                         -1, &s, nullptr),
      SQLITE_OK);
  ASSERT_EQ(sqlite3_step(s), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(s, 0), 0);
  EXPECT_EQ(sqlite3_column_int(s, 1), 7);  // the current rollup schema
  sqlite3_finalize(s);
  auto t = (*a)->view("usage", k1());
  ASSERT_TRUE(t);
  EXPECT_EQ(t->summary["runs"], 3.0);  // part 0 (weight 1) and part 1 (weight 2), rebuilt from the events
}

TEST(AnalyticsRollups, BadSimulateInput) {
  TempDir dir;
  SimulateOptions o;
  o.data_dir = dir.path();
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
