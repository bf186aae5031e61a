// latency --with OPTION=VALUE against numbers computed by hand: six users run with color_match none (detect
// 10 ms, blend 5 ms at 1080p), six others without it (detect 30 ms, blend 5 ms). The options of the first
// group are folded before their stage times arrive (a fold between a run's events), which must not lose
// the join.
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

std::string stage(const char* name, const std::string& run) {
  return std::string(R"({"stage":")") + name +
         R"(","resolution":"1080p","frames":1,"media":"image","run":")" + run + "\"}";
}

TEST(LatencyWith, ComparesRunsWithAndWithoutAnOptionValue) {
  TempDir dir;
  std::vector<int64_t> with_sessions;
  {
    Db d(dir.path());
    for (int i = 0; i < 6; ++i) {
      int64_t s = d.session("w" + std::to_string(i), std::string(63, 'w') + char('0' + i), "0.2.0",
                            at("2025-05-05", 10), "linux-x86_64");
      with_sessions.push_back(s);
      d.event(
          s, at("2025-05-05", 10), EventKind::kCommandOption,
          R"({"command":"swap","option":"color-match","value":"none","run":"rw)" + std::to_string(i) + "\"}");
    }
  }
  {
    auto a = Analytics::open(dir.path());  // folds the options alone
    ASSERT_TRUE(a) << a.status().to_string();
  }
  {
    Db d(dir.path());
    for (int i = 0; i < 6; ++i) {
      d.event(with_sessions[size_t(i)], at("2025-05-05", 10), EventKind::kStageTiming,
              stage("detect", "rw" + std::to_string(i)), 10);
      d.event(with_sessions[size_t(i)], at("2025-05-05", 10), EventKind::kStageTiming,
              stage("blend", "rw" + std::to_string(i)), 5);
      int64_t s = d.session("o" + std::to_string(i), std::string(63, 'o') + char('0' + i), "0.2.0",
                            at("2025-05-05", 11), "linux-x86_64");
      d.event(s, at("2025-05-05", 11), EventKind::kStageTiming, stage("detect", "ro" + std::to_string(i)),
              30);
      d.event(s, at("2025-05-05", 11), EventKind::kStageTiming, stage("blend", "ro" + std::to_string(i)), 5);
    }
  }
  auto a = Analytics::open(dir.path());
  ASSERT_TRUE(a);
  InsightsFilter f;
  f.with = "color_match=none";
  auto t = (*a)->view("latency", f);
  ASSERT_TRUE(t) << t.status().to_string();
  ASSERT_EQ(t->rows.size(), 2u) << t->to_json().dump(1);
  // Sorted by total stage time: detect (240 ms) before blend (60 ms).
  const json& detect = t->rows[0];
  EXPECT_EQ(detect[1], "detect");
  EXPECT_EQ(detect[2], 10.0);
  EXPECT_EQ(detect[3], std::round(1e4 * 10 / 15) / 1e4);  // of the with-runs' 15 ms per run at 1080p
  EXPECT_EQ(detect[4], 6.0);
  EXPECT_EQ(detect[5], 30.0);
  EXPECT_EQ(detect[6], std::round(1e4 * 30 / 35) / 1e4);
  EXPECT_EQ(detect[7], 6.0);
  const json& blend = t->rows[1];
  EXPECT_EQ(blend[2], 5.0);
  EXPECT_EQ(blend[5], 5.0);
  EXPECT_EQ(t->summary["with_records"], 12.0);
  EXPECT_EQ(t->summary["without_records"], 12.0);
  // k = 7: six users on each side are too few.
  f.k = 7;
  t = (*a)->view("latency", f);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->rows[0][4], "< 7");
  EXPECT_TRUE(t->rows[0][2].is_null());
  EXPECT_EQ(t->rows[0][7], "< 7");
  // The option written as the web UI names it, and a value nobody set.
  f.k = 5;
  f.with = "color-match=none";
  EXPECT_EQ((*a)->view("latency", f)->rows[0][2], 10.0);
  f.with = "blend=affine";
  t = (*a)->view("latency", f);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->summary["with_records"], 0.0);
  EXPECT_EQ(t->rows[0][4], 0.0);
  EXPECT_EQ(t->rows[0][5], std::round(1e3 * 240 / 12) / 1e3);
  for (const char* bad : {"color_match", "=none", "color_match=", "Color Match=none"}) {
    f.with = bad;
    EXPECT_EQ((*a)->view("latency", f).status().code(), StatusCode::kInvalidArgument) << bad;
  }
}

}  // namespace
}  // namespace faceweave
