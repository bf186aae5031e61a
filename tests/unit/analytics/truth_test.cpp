// Views on events recorded by the real telemetry engine (not inserted rows): per-run sampling keeps a run's
// events together, so a share of runs is unbiased (a population where every run sets an option still
// shows a share of exactly 1 at sample rate 0.5, and a 30% option stays within its confidence bound); and
// the errors view splits failures by requested provider and fallback, with numbers computed by hand from
// the runs the test records.
#include <gtest/gtest.h>

#include <cmath>

#include "analytics_test_support.h"
#include "faceweave/telemetry.h"

namespace faceweave {
namespace {

using analytics_test::TempDir;
using nlohmann::json;

TelemetryOptions options(const TempDir& dir, double rate) {
  TelemetryOptions o;
  o.data_dir = dir.path();
  o.consent = "usage";
  o.sample_rate = rate;
  o.retention_days = 0;
  return o;  // sampling: the default, per run
}

InsightsTable view(const TempDir& dir, const std::string& name) {
  auto a = Analytics::open(dir.path());
  EXPECT_TRUE(a) << a.status().to_string();
  if (!a) return {};
  auto t = (*a)->view(name, {});
  EXPECT_TRUE(t) << t.status().to_string();
  return t ? *t : InsightsTable{};
}

TEST(AnalyticsTruth, RunSamplingKeepsSharesOfRunsUnbiased) {
  TempDir dir;
  const int n = 2000;
  {
    auto t = Telemetry::create(options(dir, 0.5));
    ASSERT_TRUE(t) << t.status().to_string();
    for (int i = 0; i < n; ++i) {
      TelemetryRun run;
      // Every run switches colour matching off; 30% also choose the laplacian blend.
      (*t)->record_option("swap", "color_match", "none");
      if (i % 10 < 3) (*t)->record_option("swap", "blend", "laplacian");
      (*t)->record_command("swap", StatusCode::kOk, 10.0, 0, i % 10 < 3 ? 2 : 1);
    }
    ASSERT_TRUE((*t)->flush().is_ok());
    auto stats = (*t)->stats();
    EXPECT_GT(stats.sampled_out, 0u);
  }
  InsightsTable t = view(dir, "usage");
  double runs = t.summary["runs"].get<double>();
  // The weighted count estimates the population: 2000 +- 5 standard deviations (sd = 2 sqrt(n/4)).
  EXPECT_NEAR(runs, n, 5 * 2 * std::sqrt(n * 0.25));
  // Whole runs are kept, so a share that is 1 in the population is exactly 1 in the sample (per-event
  // sampling keeps options and runs independently and gives anything around 1).
  EXPECT_EQ(t.summary["share_over_range"]["color_match=none"], 1.0) << t.to_json().dump();
  double kept = runs * 0.5;
  double laplacian = t.summary["share_over_range"]["blend=laplacian"].get<double>();
  EXPECT_NEAR(laplacian, 0.3, 5 * std::sqrt(0.3 * 0.7 / kept)) << t.to_json().dump();
}

TEST(AnalyticsTruth, ErrorsSplitByRequestedProviderAndFallback) {
  TempDir dir;
  {
    auto t = Telemetry::create(options(dir, 1.0));
    ASSERT_TRUE(t) << t.status().to_string();
    auto swap = [&](const char* requested, const char* used, StatusCode outcome) {
      TelemetryRun run;
      bool fallback = std::string(requested) != used;
      (*t)->record_command("swap", outcome, 10.0, outcome == StatusCode::kOk ? 0 : 9, 0, "cli", used,
                           requested, fallback);
    };
    // Five runs asked for cuda and fell back to cpu; two of them failed. Three ran on cpu as asked; one
    // failed. Two ran on cuda as asked; none failed.
    for (int i = 0; i < 5; ++i) swap("cuda", "cpu", i < 2 ? StatusCode::kModelError : StatusCode::kOk);
    for (int i = 0; i < 3; ++i) swap("cpu", "cpu", i < 1 ? StatusCode::kNoFace : StatusCode::kOk);
    for (int i = 0; i < 2; ++i) swap("cuda", "cuda", StatusCode::kOk);
    ASSERT_TRUE((*t)->flush().is_ok());
  }
  InsightsTable t = view(dir, "errors");
  const json& s = t.summary;
  // By the provider used, fallback runs hide among the cpu runs: 3 failures in 8.
  EXPECT_EQ(s["by_provider"]["cpu"]["runs"], 8.0) << s.dump(2);
  EXPECT_EQ(s["by_provider"]["cpu"]["errors"], 3.0);
  // By the provider requested: cuda 2 of 7, cpu 1 of 3.
  EXPECT_EQ(s["by_requested"]["cuda"]["runs"], 7.0);
  EXPECT_EQ(s["by_requested"]["cuda"]["errors"], 2.0);
  EXPECT_EQ(s["by_requested"]["cpu"]["errors_per_run"], std::round(1e4 / 3) / 1e4);
  // By fallback: 2 of 5 fallback runs failed, 1 of 5 others.
  EXPECT_EQ(s["by_fallback"]["true"]["runs"], 5.0);
  EXPECT_EQ(s["by_fallback"]["true"]["errors_per_run"], 0.4);
  EXPECT_EQ(s["by_fallback"]["true"]["codes"]["model_error"], 2.0);
  EXPECT_EQ(s["by_fallback"]["false"]["errors_per_run"], 0.2);
  EXPECT_EQ(s["by_requested_fallback"]["cuda"]["true"]["errors"], 2.0);
  EXPECT_EQ(s["by_requested_fallback"]["cuda"]["false"]["errors"], 0.0);
  // Rows: one per day, version, provider used, requested and fallback.
  bool found = false;
  for (const auto& r : t.rows)
    if (r[2] == "cpu" && r[3] == "all" && r[7] == "cuda" && r[8] == true) {
      found = true;
      EXPECT_EQ(r[4], 2.0);
      EXPECT_EQ(r[5], 5.0);
    }
  EXPECT_TRUE(found) << t.to_json().dump(2);
}

}  // namespace
}  // namespace faceweave
