// Every view against numbers computed by hand from a small fixed event set, with sampled rows (U2 is kept
// at sample_rate 0.5, so each of its rows counts twice).
//
//   U1  0.1.0  cli linux-x86_64  2025-05-05 (Mon) 10:00  color_match none; swap ok 100 ms on cuda (detect
//                                 10, enhance 30 at 1080p); 11:00 swap failed on cuda (no_face)
//                                 2025-05-13 (Tue) 09:00  swap ok on cpu       -> active again in week 1
//   U2  0.2.0  cli macos-arm64   2025-05-05 10:00, rate 0.5: keep_mouth_interior false; swap ok on cpu
//                                 (detect 20 at 1080p)
//   U3  0.2.0  web  web          2025-05-06 (Tue) 14:00  upload, color_match -> none, preview, run (swap api
//                                 ok, no provider recorded), download
//   U4  0.2.0  web  web          2025-05-06 14:00        upload only
//
// Per-user views count cohorts by the day of the first session: U1 and U2 (x2) on 2025-05-05, U3 and U4
// on 2025-05-06.
#include <gtest/gtest.h>

#include <cmath>

#include "analytics_test_support.h"

namespace faceweave {
namespace {

using analytics_test::at;
using analytics_test::Db;
using analytics_test::TempDir;
using nlohmann::json;
using telemetry::EventKind;

void fill(Db& d) {
  const std::string u1(64, '1'), u2(64, '2'), u3(64, '3'), u4(64, '4');
  int64_t s1 = d.session(std::string(32, 'a'), u1, "0.1.0", at("2025-05-05", 10), "linux-x86_64");
  d.event(s1, at("2025-05-05", 10), EventKind::kCommandOption,
          R"({"command":"swap","option":"color_match","value":"none"})");
  d.event(s1, at("2025-05-05", 10, 0, 1), EventKind::kStageTiming,
          R"({"stage":"detect","resolution":"1080p","frames":1,"media":"image"})", 10);
  d.event(s1, at("2025-05-05", 10, 0, 1), EventKind::kStageTiming,
          R"({"stage":"enhance","resolution":"1080p","frames":1,"media":"image"})", 30);
  d.event(s1, at("2025-05-05", 10, 0, 1), EventKind::kCommandRun,
          R"({"surface":"cli","command":"swap","exit_code":0,"changed":1,"provider":"cuda"})", 100);
  d.event(s1, at("2025-05-05", 11), EventKind::kCommandRun,
          R"({"surface":"cli","command":"swap","exit_code":9,"changed":0,"provider":"cuda"})", 50,
          StatusCode::kNoFace);
  int64_t s2 = d.session(std::string(32, 'b'), u2, "0.2.0", at("2025-05-05", 10), "macos-arm64");
  d.event(s2, at("2025-05-05", 10), EventKind::kCommandOption,
          R"({"command":"swap","option":"keep_mouth_interior","value":"false"})", -1, StatusCode::kOk, 0.5);
  d.event(s2, at("2025-05-05", 10, 0, 2), EventKind::kStageTiming,
          R"({"stage":"detect","resolution":"1080p","frames":1,"media":"image"})", 20, StatusCode::kOk, 0.5);
  d.event(s2, at("2025-05-05", 10, 0, 2), EventKind::kCommandRun,
          R"({"surface":"cli","command":"swap","exit_code":0,"changed":1,"provider":"cpu"})", 80,
          StatusCode::kOk, 0.5);
  int64_t s3 = d.session(std::string(32, 'c'), u3, "0.2.0", at("2025-05-06", 14), "web");
  d.event(s3, at("2025-05-06", 14), EventKind::kUiAction, R"({"control":"target","action":"upload"})");
  d.event(s3, at("2025-05-06", 14, 1), EventKind::kUiAction,
          R"({"control":"color-match","action":"change","value":"none"})");
  d.event(s3, at("2025-05-06", 14, 2), EventKind::kUiAction, R"({"control":"preview","action":"preview"})");
  d.event(s3, at("2025-05-06", 14, 3), EventKind::kUiAction, R"({"control":"run","action":"run"})");
  d.event(s3, at("2025-05-06", 14, 4), EventKind::kCommandRun,
          R"({"surface":"api","command":"swap","exit_code":0,"changed":1})", 90);
  d.event(s3, at("2025-05-06", 14, 5), EventKind::kUiAction, R"({"control":"result","action":"download"})");
  int64_t s4 = d.session(std::string(32, 'd'), u4, "0.2.0", at("2025-05-06", 14), "web");
  d.event(s4, at("2025-05-06", 14), EventKind::kUiAction, R"({"control":"target","action":"upload"})");
  int64_t s5 = d.session(std::string(32, 'e'), u1, "0.1.0", at("2025-05-13", 9), "linux-x86_64");
  d.event(s5, at("2025-05-13", 9), EventKind::kCommandRun,
          R"({"surface":"cli","command":"swap","exit_code":0,"changed":0,"provider":"cpu"})", 70);
}

class ViewsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    {
      Db d(dir.path());
      auto a = Analytics::open_database(d.path);  // installs the rollups on the empty database
      ASSERT_TRUE(a) << a.status().to_string();
      fill(d);
    }
    auto a = Analytics::open(dir.path());
    ASSERT_TRUE(a) << a.status().to_string();
    analytics = std::move(*a);
  }
  // The fixed set has four users: k-anonymity is tested on its own (truth_test.cpp), so k = 1 here.
  InsightsTable view(const std::string& name, InsightsFilter f = {}, AbOptions ab = {}) {
    f.k = 1;
    auto t = analytics->view(name, f, ab);
    EXPECT_TRUE(t) << t.status().to_string();
    return t ? *t : InsightsTable{};
  }
  // The row whose first columns equal `key`.
  static json row(const InsightsTable& t, std::vector<json> key) {
    for (const auto& r : t.rows) {
      bool match = true;
      for (size_t i = 0; i < key.size(); ++i) match = match && r[i] == key[i];
      if (match) return r;
    }
    ADD_FAILURE() << "no row " << json(key).dump() << " in " << t.to_json().dump();
    return json::array();
  }
  TempDir dir;
  std::unique_ptr<Analytics> analytics;
};

TEST_F(ViewsTest, FeatureUsageReweightsSampledRows) {
  InsightsTable t = view("usage");
  // 2025-05-05: swap runs 1 + 1 (U1) + 2 (U2 at rate 0.5) = 4.
  json r = row(t, {"2025-05-05", "color_match", "none"});
  EXPECT_EQ(r[3], 1.0);
  EXPECT_EQ(r[4], 4.0);
  EXPECT_EQ(r[5], 0.25);
  r = row(t, {"2025-05-05", "keep_mouth_interior", "false"});
  EXPECT_EQ(r[3], 2.0);
  EXPECT_EQ(r[5], 0.5);
  EXPECT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.summary["runs"], 6.0);  // + U3's api run and U1's run a week later
}

TEST_F(ViewsTest, Heatmap) {
  InsightsTable t = view("heatmap");
  ASSERT_EQ(t.rows.size(), 7u);
  EXPECT_EQ(t.rows[0][0], "Mon");
  EXPECT_EQ(t.rows[0][1 + 10], 3.0);  // U1 + U2 (x2) at 10:00 on Monday
  EXPECT_EQ(t.rows[0][1 + 11], 1.0);
  EXPECT_EQ(t.rows[1][1 + 14], 1.0);  // Tuesday 14:00 (U3) and 09:00 (U1, a week later)
  EXPECT_EQ(t.rows[1][1 + 9], 1.0);
  EXPECT_EQ(t.summary["runs"], 6.0);
}

TEST_F(ViewsTest, Actions) {
  InsightsTable t = view("actions");
  EXPECT_EQ(row(t, {"set", "keep_mouth_interior"})[2], 2.0);
  EXPECT_EQ(row(t, {"change", "color_match"})[2], 1.0);  // the UI's color-match is the CLI's color_match
  EXPECT_EQ(row(t, {"upload", "target"})[2], 2.0);
}

TEST_F(ViewsTest, ErrorRateByProvider) {
  InsightsTable t = view("errors");
  json r = row(t, {"2025-05-05", "0.1.0", "cuda", "all"});
  EXPECT_EQ(r[4], 1.0);
  EXPECT_EQ(r[5], 2.0);
  EXPECT_EQ(r[6], 0.5);
  EXPECT_EQ(row(t, {"2025-05-05", "0.1.0", "cuda", "no_face"})[4], 1.0);
  EXPECT_EQ(row(t, {"2025-05-05", "0.2.0", "cpu", "all"})[5], 2.0);  // U2's run at rate 0.5
  EXPECT_EQ(row(t, {"2025-05-05", "0.2.0", "cpu", "all"})[6], 0.0);
  EXPECT_EQ(row(t, {"2025-05-06", "0.2.0", "unknown", "all"})[5], 1.0);
  EXPECT_EQ(row(t, {"2025-05-13", "0.1.0", "cpu", "all"})[4], 0.0);
  EXPECT_EQ(t.summary["errors_per_run"], std::round(1.0 / 6 * 1e4) / 1e4);
  EXPECT_EQ(t.summary["by_provider"]["cuda"]["errors_per_run"], 0.5);
  EXPECT_EQ(t.summary["by_provider"]["cpu"]["runs"], 3.0);
  EXPECT_EQ(t.summary["by_provider"]["cpu"]["errors"], 0.0);
  EXPECT_EQ(t.summary["by_provider"]["unknown"]["runs"], 1.0);
}

// A run the user cancelled is not an error: it counts as a run, never in the error rate or its codes.
TEST(ViewsErrors, ACancelledRunIsNotAnError) {
  TempDir dir;
  {
    Db d(dir.path());
    auto a = Analytics::open_database(d.path);
    ASSERT_TRUE(a) << a.status().to_string();
    int64_t s = d.session(std::string(32, 'f'), std::string(64, '5'), "0.1.0", at("2025-05-05", 10), "web");
    d.event(s, at("2025-05-05", 10), EventKind::kCommandRun,
            R"({"surface":"api","command":"swap","exit_code":130,"changed":0})", 40, StatusCode::kCancelled);
    d.event(s, at("2025-05-05", 11), EventKind::kCommandRun,
            R"({"surface":"api","command":"swap","exit_code":9,"changed":0})", 40, StatusCode::kNoFace);
  }
  auto a = Analytics::open(dir.path());
  ASSERT_TRUE(a) << a.status().to_string();
  InsightsFilter f;
  f.k = 1;
  auto t = (*a)->view("errors", f, {});
  ASSERT_TRUE(t) << t.status().to_string();
  EXPECT_EQ(t->summary["runs"], 2.0) << t->to_json().dump();
  EXPECT_EQ(t->summary["errors"], 1.0) << t->to_json().dump();
  for (const auto& r : t->rows) EXPECT_NE(r[3], "cancelled") << r.dump();
}

TEST_F(ViewsTest, StageLatencyFromHistograms) {
  InsightsTable t = view("latency");
  // 1080p: detect 10 + 20 / 0.5 = 50 ms, enhance 30 ms: shares 0.625 and 0.375.
  json d = row(t, {"1080p", "detect"});
  EXPECT_EQ(d[2], 50.0);
  EXPECT_EQ(d[3], 0.625);
  EXPECT_EQ(d[4], 3.0);
  // Per-frame histogram: 10 ms (weight 1) in bucket 10, 20 ms (weight 2) in bucket 13: p50 and p95 both in
  // bucket 13, reported as its middle 10^1.35 = 22.387 ms.
  EXPECT_NEAR(d[5].get<double>(), 22.387, 1e-3);
  EXPECT_NEAR(d[6].get<double>(), 22.387, 1e-3);
  json e = row(t, {"1080p", "enhance"});
  EXPECT_EQ(e[3], 0.375);
  EXPECT_NEAR(e[5].get<double>(), 28.184, 1e-3);  // 30 ms: bucket 14
  EXPECT_EQ(t.rows[0][1], "detect");              // the larger share first
}

TEST_F(ViewsTest, DefaultsSwitchedOff) {
  InsightsTable t = view("defaults");
  // Cohort users: U1 1 + U2 2 (rate 0.5) + U3 1 + U4 1 = 5.
  EXPECT_EQ(t.summary["cohort_users"], 5.0);
  json c = row(t, {"color_match", "reinhard", "none"});
  EXPECT_EQ(c[3], 2.0);  // U1 on the command line, U3 in the web UI, both in their first session
  EXPECT_EQ(c[4], 0.4);
  EXPECT_EQ(c[5], 2.0);
  EXPECT_EQ(c[6], 0.4);
  json k = row(t, {"keep_mouth_interior", "true", "false"});
  EXPECT_EQ(k[3], 2.0);
  EXPECT_EQ(k[4], 0.4);
  EXPECT_EQ(row(t, {"blend", "auto", "affine"})[3], 0.0);
  // First sessions on 2025-05-06: U3 (switched color_match in the web UI) and U4.
  InsightsFilter tuesday;
  tuesday.from = tuesday.to = "2025-05-06";
  InsightsTable t2 = view("defaults", tuesday);
  EXPECT_EQ(t2.summary["cohort_users"], 2.0);
  EXPECT_EQ(row(t2, {"color_match", "reinhard", "none"})[4], 0.5);
  EXPECT_EQ(row(t2, {"keep_mouth_interior", "true", "false"})[3], 0.0);
  // No first session in the week after (U1 only came back): an empty table with a note.
  InsightsFilter later;
  later.from = "2025-05-13";
  InsightsTable t3 = view("defaults", later);
  EXPECT_TRUE(t3.rows.empty());
  EXPECT_FALSE(t3.notes.empty());
}

TEST_F(ViewsTest, Funnel) {
  InsightsTable t = view("funnel");
  ASSERT_EQ(t.rows.size(), 4u);
  EXPECT_EQ(row(t, {"upload"})[1], 2.0);
  EXPECT_EQ(row(t, {"preview"})[2], 0.5);
  EXPECT_EQ(row(t, {"run"})[1], 1.0);
  EXPECT_EQ(row(t, {"download"})[3], 0.5);
}

TEST_F(ViewsTest, Retention) {
  InsightsTable t = view("retention");
  // Cohort: U1, U2 (x2), U3, U4 = 5, all eligible for week 1 (last day 2025-05-13); U1 came back in week 1.
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0], json::array({0, 5.0, 5.0, 1.0}));
  EXPECT_EQ(t.rows[1], json::array({1, 1.0, 5.0, 0.2}));
}

TEST_F(ViewsTest, AbErrorRate) {
  AbOptions ab;
  ab.min_sample = 1;
  InsightsTable t = view("ab", {}, ab);
  // a = 0.1.0: 3 runs, 1 failed; b = 0.2.0: 3 runs (U2 x2, U3), none failed.
  EXPECT_EQ(row(t, {"a"})[1], "0.1.0");
  EXPECT_EQ(row(t, {"a"})[3], 3.0);
  EXPECT_EQ(row(t, {"b"})[2], 0.0);
  EXPECT_NEAR(t.summary["difference"].get<double>(), -1.0 / 3, 1e-6);
  EXPECT_EQ(t.summary["enough_data"], true);
  EXPECT_EQ(row(t, {"a"})[5], 1.0);  // cohort users: U1; U2 (x2), U3, U4
  EXPECT_EQ(row(t, {"b"})[5], 4.0);
  AbOptions strict;
  InsightsTable t2 = view("ab", {}, strict);
  EXPECT_EQ(t2.summary["enough_data"], false);
  EXPECT_NE(t2.summary["verdict"].get<std::string>().find("not enough data"), std::string::npos);
}

TEST_F(ViewsTest, AbUsageShare) {
  AbOptions ab;
  ab.min_sample = 1;
  ab.metric = "color_match=none";
  InsightsTable t = view("ab", {}, ab);
  // a = 0.1.0: U1 set color_match none in 1 of its 3 swap runs; b = 0.2.0: none of 3 (U3's change is a
  // UI action, not an option of a run).
  EXPECT_EQ(row(t, {"a"})[2], 1.0);
  EXPECT_EQ(row(t, {"a"})[3], 3.0);
  EXPECT_EQ(row(t, {"a"})[4], std::round(1e4 / 3) / 1e4);
  EXPECT_EQ(row(t, {"b"})[2], 0.0);
  EXPECT_EQ(row(t, {"b"})[3], 3.0);
  EXPECT_NEAR(t.summary["difference"].get<double>(), -1.0 / 3, 1e-6);
  // Pooled rate 1/6: z = -1/3 / sqrt(1/6 * 5/6 * (1/3 + 1/3)).
  EXPECT_NEAR(t.summary["z"].get<double>(), -1.0 / 3 / std::sqrt(5.0 / 36 * 2 / 3), 1e-4);
  EXPECT_EQ(t.summary["metric"], "color_match=none");
  // U2's keep_mouth_interior false counts twice (sample rate 0.5): 2 of b's 3 runs. The option may be
  // written as the web UI names it.
  ab.metric = "keep-mouth-interior=false";
  InsightsTable k = view("ab", {}, ab);
  EXPECT_EQ(row(k, {"b"})[2], 2.0);
  EXPECT_EQ(row(k, {"b"})[4], std::round(1e4 * 2 / 3) / 1e4);
  EXPECT_EQ(row(k, {"a"})[2], 0.0);
  EXPECT_NEAR(k.summary["difference"].get<double>(), 2.0 / 3, 1e-6);
  // Bad forms are refused with the form named.
  for (const char* bad : {"color_match=", "=none", "color match=none"}) {
    ab.metric = bad;
    InsightsFilter f;
    auto r = analytics->view("ab", f, ab);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
    EXPECT_NE(r.status().message().find("OPTION=VALUE"), std::string::npos) << r.status().message();
  }
}

TEST_F(ViewsTest, VersionAndDateFilters) {
  InsightsFilter f;
  f.version = "0.2.0";
  EXPECT_EQ(view("usage", f).summary["runs"], 3.0);
  f.version = "";
  f.from = "2025-05-06";
  f.to = "2025-05-06";
  EXPECT_EQ(view("heatmap", f).summary["runs"], 1.0);
}

TEST_F(ViewsTest, AbUserMetricsFromCohorts) {
  AbOptions ab;
  ab.min_sample = 1;
  ab.metric = "color_match_off";
  InsightsTable t = view("ab", {}, ab);
  EXPECT_EQ(row(t, {"a"})[2], 1.0);  // U1 of 1
  EXPECT_EQ(row(t, {"a"})[3], 1.0);
  EXPECT_EQ(row(t, {"b"})[2], 1.0);  // U3 of 4
  EXPECT_EQ(row(t, {"b"})[3], 4.0);
  ab.metric = "download_conversion";
  InsightsTable d = view("ab", {}, ab);
  EXPECT_EQ(row(d, {"b"})[2], 1.0);  // U3 downloaded; U3 and U4 uploaded
  EXPECT_EQ(row(d, {"b"})[3], 2.0);
  EXPECT_EQ(row(d, {"a"})[3], 0.0);
}

TEST_F(ViewsTest, PlatformFilterInEveryView) {
  auto platforms = analytics->platforms();
  ASSERT_TRUE(platforms);
  EXPECT_EQ(*platforms, (std::vector<std::string>{"linux-x86_64", "macos-arm64", "web"}));
  InsightsFilter web;
  web.platform = "web";
  EXPECT_EQ(view("usage", web).summary["runs"], 1.0);  // U3's api run
  EXPECT_EQ(view("heatmap", web).summary["runs"], 1.0);
  EXPECT_EQ(row(view("actions", web), {"upload", "target"})[2], 2.0);
  EXPECT_EQ(view("errors", web).summary["runs"], 1.0);
  EXPECT_TRUE(view("latency", web).rows.empty());
  EXPECT_EQ(view("defaults", web).summary["cohort_users"], 2.0);
  EXPECT_EQ(row(view("funnel", web), {"upload"})[1], 2.0);
  EXPECT_EQ(view("retention", web).rows[0], json::array({0, 2.0, 2.0, 1.0}));
  InsightsFilter mac;
  mac.platform = "macos-arm64";
  EXPECT_EQ(view("usage", mac).summary["runs"], 2.0);  // U2 at rate 0.5
  EXPECT_EQ(row(view("latency", mac), {"1080p", "detect"})[2], 40.0);
  EXPECT_EQ(view("defaults", mac).summary["cohort_users"], 2.0);
  EXPECT_TRUE(view("funnel", mac).rows.empty());
  InsightsFilter linux_;
  linux_.platform = "linux-x86_64";
  EXPECT_EQ(view("retention", linux_).rows[1], json::array({1, 1.0, 1.0, 1.0}));
  AbOptions ab;
  ab.min_sample = 1;
  ab.a = "0.1.0";
  ab.b = "0.2.0";
  InsightsTable t = view("ab", linux_, ab);
  EXPECT_EQ(row(t, {"a"})[3], 3.0);  // U1's runs
  EXPECT_EQ(row(t, {"b"})[3], 0.0);  // no 0.2.0 run on linux
  // A known platform without sessions: an empty table that says so.
  InsightsFilter win;
  win.platform = "windows-x86_64";
  for (const std::string& v : Analytics::views()) {
    if (v == "ab") continue;
    InsightsTable e = view(v, win);
    EXPECT_TRUE(e.rows.empty()) << v;
    EXPECT_NE(e.to_text().find("no sessions of platform windows-x86_64"), std::string::npos) << v;
  }
}

TEST_F(ViewsTest, BadInput) {
  InsightsFilter f;
  f.from = "2025-05-10";
  f.to = "2025-05-01";
  auto r = analytics->view("usage", f);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  f = {};
  f.from = "2025-13-01";
  EXPECT_EQ(analytics->view("usage", f).status().code(), StatusCode::kInvalidArgument);
  f.from = "yesterday";
  EXPECT_EQ(analytics->view("errors", f).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(analytics->view("nope", {}).status().code(), StatusCode::kInvalidArgument);
  AbOptions ab;
  ab.metric = "happiness";
  EXPECT_EQ(analytics->view("ab", {}, ab).status().code(), StatusCode::kInvalidArgument);
  ab = {};
  ab.a = ab.b = "0.1.0";
  EXPECT_EQ(analytics->view("ab", {}, ab).status().code(), StatusCode::kInvalidArgument);
  f = {};
  f.platform = "linux";
  EXPECT_EQ(analytics->view("usage", f).status().code(), StatusCode::kInvalidArgument);
  // A version with no data: an empty table that says so, for every view.
  f = {};
  f.version = "9.9.9";
  for (const std::string& v : Analytics::views()) {
    if (v == "ab") continue;
    auto t = analytics->view(v, f);
    ASSERT_TRUE(t) << v;
    EXPECT_TRUE(t->rows.empty()) << v;
    ASSERT_FALSE(t->notes.empty()) << v;
    EXPECT_NE(t->to_text().find("no events of version 9.9.9"), std::string::npos) << v;
  }
  TempDir empty;
  EXPECT_EQ(Analytics::open(empty.path()).status().code(), StatusCode::kNotFound);
}

TEST_F(ViewsTest, Renderings) {
  InsightsTable t = view("funnel");
  EXPECT_EQ(t.to_csv().substr(0, 44), "step,users,share_of_previous,share_of_first\n");
  json j = t.to_json();
  EXPECT_EQ(j["rows"][0]["step"], "upload");
  EXPECT_NE(t.to_text().find("download"), std::string::npos);
}

}  // namespace
}  // namespace faceweave
