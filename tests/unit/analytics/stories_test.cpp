// The simulator's stories (docs/analytics.md "simulate") read off the views: the frame enhancer dominates
// 4K stage time, and runs that asked for cuda and fell back to cpu fail far more often than the others,
// which the errors view shows by requested provider and fallback (not only by the provider used).
#include <gtest/gtest.h>

#include "analytics_test_support.h"

namespace faceweave {
namespace {

using analytics_test::TempDir;
using nlohmann::json;

class StoriesTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir = new TempDir();
    SimulateOptions o;
    o.data_dir = dir->path();
    o.users = 1500;
    o.days = 21;
    o.seed = 7;
    o.end = "2025-05-31";
    auto r = simulate_telemetry(o);
    ASSERT_TRUE(r) << r.status().to_string();
  }
  static void TearDownTestSuite() {
    delete dir;
    dir = nullptr;
  }
  static InsightsTable view(const std::string& name) {
    auto a = Analytics::open(dir->path());
    EXPECT_TRUE(a) << a.status().to_string();
    auto t = (*a)->view(name, {});
    EXPECT_TRUE(t) << t.status().to_string();
    return t ? *t : InsightsTable{};
  }
  static TempDir* dir;
};
TempDir* StoriesTest::dir = nullptr;

TEST_F(StoriesTest, TheFrameEnhancerDominates4K) {
  InsightsTable t = view("latency");
  // Rows of a resolution come largest share first.
  const json* top = nullptr;
  double frame_share = 0, face_share = 0;
  for (const auto& r : t.rows) {
    if (r[0] != "4k") continue;
    if (!top) top = &r;
    if (r[1] == "frame_enhance") frame_share = r[3].get<double>();
    if (r[1] == "enhance") face_share = r[3].get<double>();
  }
  ASSERT_NE(top, nullptr) << t.to_json().dump();
  EXPECT_EQ((*top)[1], "frame_enhance") << t.to_json().dump();
  EXPECT_GT(frame_share, 0.4);
  EXPECT_GT(frame_share, face_share);
  // At 1080p the frame enhancer is rare and cheap: it is not the top stage there.
  for (const auto& r : t.rows)
    if (r[0] == "1080p") {
      EXPECT_NE(r[1], "frame_enhance");
      break;
    }
}

TEST_F(StoriesTest, FallbackFailuresShowByRequestedProviderAndFallback) {
  InsightsTable t = view("errors");
  const json& s = t.summary;
  ASSERT_TRUE(s["by_fallback"].contains("true")) << s.dump(1);
  double with = s["by_fallback"]["true"]["errors_per_run"].get<double>();
  double without = s["by_fallback"]["false"]["errors_per_run"].get<double>();
  // About 0.3 against 0.06: the fallback runs fail several times as often.
  EXPECT_GT(with, 3 * without) << s["by_fallback"].dump();
  EXPECT_GT(s["by_requested_fallback"]["cuda"]["true"]["runs"].get<double>(), 100);
  // Their failures carry the codes the views split them by.
  EXPECT_GT(s["by_fallback"]["true"]["codes"]["no_face"].get<double>(), 0);
  // By the provider used alone, the fallback runs hide among cpu runs: cpu's rate sits between.
  double cpu = s["by_provider"]["cpu"]["errors_per_run"].get<double>();
  EXPECT_GT(cpu, without);
  EXPECT_LT(cpu, with);
}

}  // namespace
}  // namespace faceweave
