// Shares and their merge (include/faceweave/analytics_share.h), and the users view, on histories made
// here with hand-computed numbers:
//
//   install A: A1..A5 on 2025-05-05 (Mon) switch color_match to none and run a swap on cpu (ok); A1..A3 run
//              again on 2025-05-06; L (a sixth user) on 2025-05-06 sets blend affine and fails (no_face) on
//              cuda.
//   install B: B1..B7 on 2025-05-07 run a swap on cpu (ok); B1..B5 switch color_match to none. B1 and B2
//              carry A1's and A2's pseudonyms (as if one person used both installs with one key), so the
//              merged active users are 5 (A, 2025-05-05) + 5 (B's others) = 10, while adding the installs'
//              own counts gives 5 + 7 = 12. A's 2025-05-06 (4 users) is under k and never leaves A.
#include <gtest/gtest.h>

#include <functional>

#include "analytics_test_support.h"
#include "faceweave/analytics_share.h"

namespace faceweave {
namespace {

using analytics_test::at;
using analytics_test::Db;
using analytics_test::TempDir;
using nlohmann::json;
using telemetry::EventKind;

std::string user(char who, int i) {
  return std::string(63, who) + char('0' + i);
}

void swap(Db& d, int64_t s, int64_t ts, bool color_none, const char* provider = "cpu",
          StatusCode outcome = StatusCode::kOk) {
  if (color_none)
    d.event(s, ts, EventKind::kCommandOption, R"({"command":"swap","option":"color_match","value":"none"})");
  d.event(s, ts, EventKind::kCommandRun,
          std::string(R"({"surface":"cli","command":"swap","exit_code":0,"provider":")") + provider +
              R"(","requested":")" + provider + R"("})",
          50, outcome);
}

void fill_a(const std::string& dir) {
  Db d(dir);
  for (int i = 1; i <= 5; ++i) {
    int64_t s =
        d.session("sa" + std::to_string(i), user('a', i), "0.2.0", at("2025-05-05", 10), "linux-x86_64");
    swap(d, s, at("2025-05-05", 10), true);
  }
  for (int i = 1; i <= 3; ++i) {
    int64_t s =
        d.session("sb" + std::to_string(i), user('a', i), "0.2.0", at("2025-05-06", 9), "linux-x86_64");
    swap(d, s, at("2025-05-06", 9), false);
  }
  int64_t s = d.session("sl", user('l', 0), "0.2.0", at("2025-05-06", 15), "linux-x86_64");
  d.event(s, at("2025-05-06", 15), EventKind::kCommandOption,
          R"({"command":"swap","option":"blend","value":"affine"})");
  swap(d, s, at("2025-05-06", 15), false, "cuda", StatusCode::kNoFace);
}

void fill_b(const std::string& dir) {
  Db d(dir);
  for (int i = 1; i <= 7; ++i) {
    int64_t s = d.session("sc" + std::to_string(i), i <= 2 ? user('a', i) : user('b', i), "0.2.0",
                          at("2025-05-07", 11), "macos-arm64");
    swap(d, s, at("2025-05-07", 11), i <= 5);
  }
}

std::unique_ptr<Analytics> open(const TempDir& dir) {
  auto a = Analytics::open(dir.path());
  EXPECT_TRUE(a) << a.status().to_string();
  return a ? std::move(*a) : nullptr;
}

TEST(ActiveUsers, DistinctUsersOverAnyRangeFromTheDailySketches) {
  TempDir dir;
  fill_a(dir.path());
  auto a = open(dir);
  ASSERT_TRUE(a);
  InsightsFilter f;
  auto t = a->view("users", f);
  ASSERT_TRUE(t) << t.status().to_string();
  // 2025-05-05: 5 users; 2025-05-06: A1..A3 and L = 4 (< 5); the range: 6 distinct, not 9.
  ASSERT_EQ(t->rows.size(), 2u);
  EXPECT_EQ(t->rows[0][1], 5.0);
  EXPECT_EQ(t->rows[1][1], "< 5");
  EXPECT_EQ(t->summary["active_users"], 6.0);
  EXPECT_EQ(t->summary["sum_of_daily_active"], 9.0);
  EXPECT_LE(t->summary["ci95_low"].get<double>(), 6.0);
  EXPECT_GE(t->summary["ci95_high"].get<double>(), 6.0);
  f.k = 1;
  f.from = f.to = "2025-05-06";
  t = a->view("users", f);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->summary["active_users"], 4.0);
  f.version = "0.1.0";  // no such version: empty, with a note
  t = a->view("users", f);
  ASSERT_TRUE(t);
  EXPECT_TRUE(t->rows.empty());
  EXPECT_FALSE(t->notes.empty());
}

TEST(Share, HoldsOnlyCountsThatPassKAndSketchesOfDaysWithKUsers) {
  TempDir dir;
  fill_a(dir.path());
  auto a = open(dir);
  ASSERT_TRUE(a);
  auto s = make_share(*a, {});
  ASSERT_TRUE(s) << s.status().to_string();
  const json& j = *s;
  EXPECT_EQ(j["format"], "faceweave-share");
  EXPECT_EQ(j["k"], 5);
  EXPECT_TRUE(j["epsilon"].is_null());
  // Runs: 2025-05-05 has 5 users (5 runs), 2025-05-06 only 4 (left out); over the range 6 users, 9 runs.
  ASSERT_EQ(j["runs"]["days"].size(), 1u);
  EXPECT_EQ(j["runs"]["days"][0]["day"], "2025-05-05");
  EXPECT_EQ(j["runs"]["days"][0]["runs"], 5.0);
  EXPECT_EQ(j["runs"]["total"], 9.0);
  // Options: color_match=none (5 users) only; blend=affine (1 user) stays home.
  ASSERT_EQ(j["options"].size(), 1u);
  EXPECT_EQ(j["options"][0]["option"], "color_match");
  EXPECT_EQ(j["options"][0]["runs"], 5.0);
  // Errors: the cpu runs (5 users, 8 runs, no failure); the cuda group (1 user) is left out.
  ASSERT_EQ(j["errors"].size(), 1u);
  EXPECT_EQ(j["errors"][0]["requested"], "cpu");
  EXPECT_EQ(j["errors"][0]["runs"], 8.0);
  EXPECT_TRUE(j["errors"][0]["errors"].empty());
  // Defaults: 6 cohort users, 5 switched color_match to none (all in their first session).
  EXPECT_EQ(j["defaults"]["cohort_users"], 6.0);
  ASSERT_EQ(j["defaults"]["switches"].size(), 1u);
  EXPECT_EQ(j["defaults"]["switches"][0]["users"], 5.0);
  EXPECT_EQ(j["defaults"]["switches"][0]["first_session_users"], 5.0);
  // Sketches: 2025-05-05 only.
  ASSERT_EQ(j["active_users"].size(), 1u);
  EXPECT_EQ(j["active_users"][0]["day"], "2025-05-05");
  EXPECT_GE(j["suppressed_cells"].get<int>(), 4);
  // No pseudonym or session leaves the install.
  const std::string text = j.dump();
  for (char who : {'a', 'l'}) EXPECT_EQ(text.find(std::string(40, who)), std::string::npos);
  EXPECT_EQ(text.find("sa1"), std::string::npos);
  // k = 1 keeps every cell.
  ShareOptions all;
  all.k = 1;
  auto s1 = make_share(*a, all);
  ASSERT_TRUE(s1);
  EXPECT_EQ((*s1)["options"].size(), 2u);
  EXPECT_EQ((*s1)["errors"].size(), 2u);
  EXPECT_EQ((*s1)["errors"][1]["errors"]["no_face"], 1.0);
}

TEST(Share, EpsilonAddsFreshNoiseToEveryCount) {
  TempDir dir;
  fill_a(dir.path());
  auto a = open(dir);
  ASSERT_TRUE(a);
  ShareOptions o;
  o.epsilon = 1;
  auto s1 = make_share(*a, o);
  auto s2 = make_share(*a, o);
  ASSERT_TRUE(s1 && s2);
  EXPECT_EQ((*s1)["epsilon"], 1.0);
  // The same cells as without noise (k is applied to the exact counts), values near the truth: |Lap(1)| >
  // 20 has probability 2e-9.
  ASSERT_EQ((*s1)["options"].size(), 1u);
  double runs = (*s1)["runs"]["total"].get<double>();
  EXPECT_NEAR(runs, 9.0, 20);
  EXPECT_GE(runs, 0.0);
  // Fresh noise each time: the 8 released counts of two shares all equal has probability ~0.
  EXPECT_NE((*s1)["runs"].dump() + (*s1)["options"].dump() + (*s1)["defaults"].dump(),
            (*s2)["runs"].dump() + (*s2)["options"].dump() + (*s2)["defaults"].dump());
}

TEST(Share, RefusesBadOptions) {
  TempDir dir;
  fill_a(dir.path());
  auto a = open(dir);
  ASSERT_TRUE(a);
  ShareOptions o;
  o.k = 0;
  EXPECT_EQ(make_share(*a, o).status().code(), StatusCode::kInvalidArgument);
  o = {};
  o.epsilon = -1;
  EXPECT_EQ(make_share(*a, o).status().code(), StatusCode::kInvalidArgument);
  o = {};
  o.from = "2025-05-07";
  o.to = "2025-05-01";
  EXPECT_EQ(make_share(*a, o).status().code(), StatusCode::kInvalidArgument);
  o = {};
  o.from = "May 5";
  EXPECT_EQ(make_share(*a, o).status().code(), StatusCode::kInvalidArgument);
}

json row(const InsightsTable& t, const std::string& metric, const std::string& key) {
  for (const auto& r : t.rows)
    if (r[0] == metric && r[1] == key) return r;
  ADD_FAILURE() << "no row " << metric << " " << key << " in " << t.to_json().dump(1);
  return json::array({nullptr, nullptr, nullptr, nullptr, nullptr});
}

TEST(Merge, AddsCountsAndCountsASharedUserOnce) {
  TempDir da, db;
  fill_a(da.path());
  fill_b(db.path());
  auto a = open(da);
  auto b = open(db);
  ASSERT_TRUE(a && b);
  auto sa = make_share(*a, {});
  auto sb = make_share(*b, {});
  ASSERT_TRUE(sa && sb);
  auto t = merge_shares({*sa, *sb});
  ASSERT_TRUE(t) << t.status().to_string();
  // Collective defaults: 5 + 5 switched of 6 + 7 cohort users.
  json r = row(*t, "defaults", "color_match=none (default reinhard)");
  EXPECT_EQ(r[2], 10.0);
  EXPECT_EQ(r[3], 13.0);
  EXPECT_EQ(r[4], std::round(1e4 * 10 / 13) / 1e4);
  // Option use: 5 + 5 runs with color_match=none of 9 + 7 swap runs.
  r = row(*t, "usage", "color_match=none");
  EXPECT_EQ(r[2], 10.0);
  EXPECT_EQ(r[3], 16.0);
  // Errors on cpu: none in 8 + 7 runs.
  r = row(*t, "errors", "requested=cpu used=cpu fallback=false");
  EXPECT_EQ(r[2], 0);
  EXPECT_EQ(r[3], 15.0);
  EXPECT_EQ(t->summary["installs"], 2);
  EXPECT_EQ(t->summary["active_users"], 10.0);
  EXPECT_EQ(t->summary["active_users_summed_per_install"], 12.0);
  EXPECT_EQ(row(*t, "active_users", "2025-05-07")[2], 7.0);
  // The same share twice would add its counts twice: refused.
  EXPECT_EQ(merge_shares({*sa, *sa}).status().code(), StatusCode::kInvalidArgument);
}

TEST(Merge, RefusesWhatIsNotAShare) {
  TempDir dir;
  fill_a(dir.path());
  auto a = open(dir);
  ASSERT_TRUE(a);
  auto s = make_share(*a, {});
  ASSERT_TRUE(s);
  auto bad = [&](const std::function<void(json&)>& change) {
    json j = *s;
    change(j);
    auto t = merge_shares({j});
    EXPECT_EQ(t.status().code(), StatusCode::kInvalidArgument) << j.dump().substr(0, 200);
    return t.status().message();
  };
  EXPECT_NE(bad([](json& j) { j = json::array(); }).find("not a JSON object"), std::string::npos);
  EXPECT_NE(bad([](json& j) { j["format"] = "other"; }).find("format"), std::string::npos);
  EXPECT_NE(bad([](json& j) { j["version"] = 2; }).find("version 2"), std::string::npos);
  bad([](json& j) { j.erase("options"); });
  bad([](json& j) { j["options"][0].erase("runs"); });
  bad([](json& j) { j["active_users"][0]["sketch"] = "!!!!"; });
  bad([](json& j) { j["active_users"][0]["sketch"] = "WDEyMw=="; });  // base64 of "X123"
  bad([](json& j) { j["active_users"][0]["day"] = "yesterday"; });
  EXPECT_EQ(merge_shares({}).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace faceweave
