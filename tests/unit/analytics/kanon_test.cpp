// k-anonymity in every event view and its exports: a history with five users behind one set of cells and
// a single user behind another. At the default k = 5 each view shows the five users' cells with their
// numbers and the lone user's as "< 5" (and no share built on them), in the table, its JSON and its CSV;
// at k = 1 everything shows.
//
//   A1..A5  0.2.0 linux-x86_64  2025-05-05 (Mon) 10:00  color_match none; detect 10 ms at 1080p (image);
//                                                        swap ok on cpu
//   L       0.2.0 linux-x86_64  2025-05-06 (Tue) 15:00  blend affine; enhance 100 ms at 4k (image);
//                                                        swap failed (no_face) on cuda
#include <gtest/gtest.h>

#include "analytics_test_support.h"

namespace faceweave {
namespace {

using analytics_test::at;
using analytics_test::Db;
using analytics_test::TempDir;
using nlohmann::json;
using telemetry::EventKind;

const json kFew = "< 5";

class KAnonymityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    {
      Db d(dir.path());
      for (int i = 1; i <= 5; ++i) {
        int64_t s = d.session(std::string(31, 'a') + char('0' + i), std::string(63, 'a') + char('0' + i),
                              "0.2.0", at("2025-05-05", 10), "linux-x86_64");
        d.event(s, at("2025-05-05", 10), EventKind::kCommandOption,
                R"({"command":"swap","option":"color_match","value":"none"})");
        d.event(s, at("2025-05-05", 10), EventKind::kStageTiming,
                R"({"stage":"detect","resolution":"1080p","frames":1,"media":"image"})", 10);
        d.event(s, at("2025-05-05", 10), EventKind::kCommandRun,
                R"({"surface":"cli","command":"swap","exit_code":0,"provider":"cpu","requested":"cpu"})", 50);
      }
      int64_t s = d.session(std::string(32, 'l'), std::string(64, 'l'), "0.2.0", at("2025-05-06", 15),
                            "linux-x86_64");
      d.event(s, at("2025-05-06", 15), EventKind::kCommandOption,
              R"({"command":"swap","option":"blend","value":"affine"})");
      d.event(s, at("2025-05-06", 15), EventKind::kStageTiming,
              R"({"stage":"enhance","resolution":"4k","frames":1,"media":"image"})", 100);
      d.event(s, at("2025-05-06", 15), EventKind::kCommandRun,
              R"({"surface":"cli","command":"swap","exit_code":9,"provider":"cuda","requested":"cuda"})", 80,
              StatusCode::kNoFace);
    }
    auto a = Analytics::open(dir.path());
    ASSERT_TRUE(a) << a.status().to_string();
    analytics = std::move(*a);
  }
  InsightsTable view(const std::string& name, int k = 5) {
    InsightsFilter f;
    f.k = k;
    auto t = analytics->view(name, f);
    EXPECT_TRUE(t) << t.status().to_string();
    return t ? *t : InsightsTable{};
  }
  static json row(const InsightsTable& t, std::vector<json> key) {
    for (const auto& r : t.rows) {
      bool match = true;
      for (size_t i = 0; i < key.size(); ++i) match = match && r[i] == key[i];
      if (match) return r;
    }
    ADD_FAILURE() << "no row " << json(key).dump() << " in " << t.to_json().dump();
    return json::array({nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr, nullptr});
  }
  // The lone user's cell is "< 5" in every export, and the exports never show its number.
  static void exports_hide(const InsightsTable& t, const std::string& lone_key) {
    EXPECT_NE(t.to_csv().find("< 5"), std::string::npos) << t.to_csv();
    EXPECT_NE(t.to_text().find("< 5"), std::string::npos) << t.to_text();
    EXPECT_NE(t.to_json().dump().find("\"< 5\""), std::string::npos);
    EXPECT_NE(t.to_csv().find(lone_key), std::string::npos) << "the row stays, only its numbers go";
    EXPECT_GE(t.summary["suppressed_cells"].get<int>(), 1);
    EXPECT_EQ(t.summary["k"], 5);
  }
  TempDir dir;
  std::unique_ptr<Analytics> analytics;
};

TEST_F(KAnonymityTest, Usage) {
  InsightsTable t = view("usage");
  json r = row(t, {"2025-05-05", "color_match", "none"});
  EXPECT_EQ(r[3], 5.0);
  EXPECT_EQ(r[4], 5.0);
  EXPECT_EQ(r[5], 1.0);
  r = row(t, {"2025-05-06", "blend", "affine"});
  EXPECT_EQ(r[3], kFew);
  EXPECT_EQ(r[4], kFew);
  EXPECT_TRUE(r[5].is_null());
  EXPECT_EQ(t.summary["runs"], 6.0);  // six users ran over the range
  EXPECT_EQ(t.summary["share_over_range"]["color_match=none"], std::round(1e4 * 5 / 6) / 1e4);
  EXPECT_TRUE(t.summary["share_over_range"]["blend=affine"].is_null());
  exports_hide(t, "affine");
  InsightsTable all = view("usage", 1);
  EXPECT_EQ(row(all, {"2025-05-06", "blend", "affine"})[3], 1.0);
  EXPECT_EQ(all.summary["suppressed_cells"], 0);
}

TEST_F(KAnonymityTest, Heatmap) {
  InsightsTable t = view("heatmap");
  ASSERT_EQ(t.rows.size(), 7u);
  EXPECT_EQ(t.rows[0][0], "Mon");
  EXPECT_EQ(t.rows[0][1 + 10], 5.0);
  EXPECT_EQ(t.rows[1][0], "Tue");
  EXPECT_EQ(t.rows[1][1 + 15], kFew);
  EXPECT_EQ(t.rows[1][1 + 14], 0.0);  // an empty cell is no one's: 0
  EXPECT_EQ(t.summary["runs"], 6.0);
  exports_hide(t, "Tue");
  EXPECT_EQ(view("heatmap", 1).rows[1][1 + 15], 1.0);
}

TEST_F(KAnonymityTest, Actions) {
  InsightsTable t = view("actions");
  EXPECT_EQ(row(t, {"set", "color_match"})[2], 5.0);
  EXPECT_EQ(row(t, {"set", "blend"})[2], kFew);
  exports_hide(t, "blend");
}

TEST_F(KAnonymityTest, Errors) {
  InsightsTable t = view("errors");
  json r = row(t, {"2025-05-05", "0.2.0", "cpu", "all"});
  EXPECT_EQ(r[4], 0.0);
  EXPECT_EQ(r[5], 5.0);
  EXPECT_EQ(r[6], 0.0);
  r = row(t, {"2025-05-06", "0.2.0", "cuda", "all"});
  EXPECT_EQ(r[4], kFew);
  EXPECT_EQ(r[5], kFew);
  EXPECT_TRUE(r[6].is_null());
  r = row(t, {"2025-05-06", "0.2.0", "cuda", "no_face"});
  EXPECT_EQ(r[4], kFew);
  EXPECT_EQ(t.summary["runs"], 6.0);
  EXPECT_EQ(t.summary["errors"], kFew);  // the one failure is the lone user's
  EXPECT_TRUE(t.summary["errors_per_run"].is_null());
  EXPECT_EQ(t.summary["by_requested"]["cpu"]["runs"], 5.0);
  EXPECT_EQ(t.summary["by_requested"]["cpu"]["errors_per_run"], 0.0);
  EXPECT_EQ(t.summary["by_requested"]["cuda"]["runs"], kFew);
  EXPECT_EQ(t.summary["by_requested"]["cuda"]["codes"]["no_face"], kFew);
  exports_hide(t, "cuda");
  InsightsTable all = view("errors", 1);
  EXPECT_EQ(all.summary["errors_per_run"], std::round(1e4 / 6) / 1e4);
}

TEST_F(KAnonymityTest, Latency) {
  InsightsTable t = view("latency");
  json r = row(t, {"1080p", "detect"});
  EXPECT_EQ(r[2], 50.0);
  EXPECT_EQ(r[3], 1.0);
  EXPECT_EQ(r[4], 5.0);
  r = row(t, {"4k", "enhance"});
  EXPECT_EQ(r[2], kFew);
  EXPECT_TRUE(r[3].is_null());
  EXPECT_TRUE(r[5].is_null());
  EXPECT_TRUE(r[6].is_null());
  // Both media totals: image has the six users' records.
  EXPECT_EQ(t.summary["by_media"]["image"]["total_ms"], 150.0);
  exports_hide(t, "enhance");
  EXPECT_EQ(row(view("latency", 1), {"4k", "enhance"})[2], 100.0);
}

// The version A/B: two users of 0.1.0 join (both swap ok). At k = 5 their arm shows "< 5" for its runs and
// users, and 0.2.0's one failed run (L's) is "< 5" too; no rate, difference or verdict is built on them.
TEST_F(KAnonymityTest, AbVersions) {
  {
    Db d(dir.path());
    for (int i = 1; i <= 2; ++i) {
      int64_t s = d.session(std::string(31, 'o') + char('0' + i), std::string(63, 'o') + char('0' + i),
                            "0.1.0", at("2025-05-05", 11), "linux-x86_64");
      d.event(s, at("2025-05-05", 11), EventKind::kCommandRun,
              R"({"surface":"cli","command":"swap","exit_code":0,"provider":"cpu","requested":"cpu"})", 50);
    }
  }
  auto ab = [&](int k, const std::string& metric) {
    InsightsFilter f;
    f.k = k;
    AbOptions o;
    o.a = "0.1.0";
    o.b = "0.2.0";
    o.min_sample = 1;
    o.metric = metric;
    auto t = analytics->ab(f, o);
    EXPECT_TRUE(t) << t.status().to_string();
    return t ? *t : InsightsTable{};
  };
  InsightsTable t = ab(5, "error_rate");
  json a = row(t, {"a"}), b = row(t, {"b"});
  EXPECT_EQ(a[2], kFew);
  EXPECT_EQ(a[3], kFew);
  EXPECT_TRUE(a[4].is_null());
  EXPECT_EQ(a[5], kFew);  // cohort users
  EXPECT_EQ(b[2], kFew);  // the one failed run is L's alone
  EXPECT_EQ(b[3], 6.0);   // six users ran
  EXPECT_TRUE(b[4].is_null());
  EXPECT_EQ(b[5], 6.0);
  for (const char* key : {"difference", "ci_low", "ci_high", "z", "p_value", "srm_p_value"})
    EXPECT_TRUE(t.summary[key].is_null()) << key;
  EXPECT_EQ(t.summary["enough_data"], false);
  EXPECT_NE(t.summary["verdict"].get<std::string>().find("fewer than k = 5"), std::string::npos);
  exports_hide(t, "0.1.0");
  // A cohort metric: 0.1.0's 2 cohort users are hidden, 0.2.0's 5 of 6 who switched color_match are not.
  InsightsTable c = ab(5, "color_match_off");
  EXPECT_EQ(row(c, {"a"})[3], kFew);
  EXPECT_EQ(row(c, {"b"})[2], 5.0);
  EXPECT_EQ(row(c, {"b"})[3], 6.0);
  EXPECT_TRUE(c.summary["difference"].is_null());
  // k = 1 shows everything: 0 of 2 against 1 of 6.
  InsightsTable all = ab(1, "error_rate");
  EXPECT_EQ(row(all, {"a"})[3], 2.0);
  EXPECT_EQ(row(all, {"b"})[2], 1.0);
  EXPECT_NEAR(all.summary["difference"].get<double>(), 1.0 / 6, 1e-6);
  EXPECT_EQ(all.summary["suppressed_cells"], 0);
}

TEST_F(KAnonymityTest, ActiveUsers) {
  InsightsTable t = view("users");
  EXPECT_EQ(row(t, {"2025-05-05"})[1], 5.0);
  EXPECT_EQ(row(t, {"2025-05-06"})[1], kFew);
  EXPECT_EQ(t.summary["active_users"], 6.0);
  EXPECT_EQ(t.summary["sum_of_daily_active"], 6.0);
  exports_hide(t, "2025-05-06");
}

}  // namespace
}  // namespace faceweave
