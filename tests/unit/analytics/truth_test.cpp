// Views on events recorded by the real telemetry engine (not inserted rows): per-run sampling keeps a run's
// events together, so a share of runs is unbiased (a population where every run sets an option still
// shows a share of exactly 1 at sample rate 0.5, and a 30% option stays within its confidence bound); and
// the errors view splits failures by requested provider and fallback, with numbers computed by hand from
// the runs the test records.
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

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

// These histories come from one recording user: k = 1 (k-anonymity is tested in kanon_test.cpp).
InsightsTable view(const TempDir& dir, const std::string& name) {
  auto a = Analytics::open(dir.path());
  EXPECT_TRUE(a) << a.status().to_string();
  if (!a) return {};
  InsightsFilter f;
  f.k = 1;
  auto t = (*a)->view(name, f);
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
      if (i == 0) {
        (*t)->record_option("swap", "face_enhancer", "gfpgan_1_4");  // as the CLI stores gfpgan_1.4
        (*t)->record_option("swap", "reference_face_image");         // a path: by name only
      }
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
  // Values read as typed: a model name with its dot, an option recorded by name alone as "(set)", never an
  // empty value.
  for (const auto& r : t.rows) {
    EXPECT_NE(r[2], "") << r.dump();
    EXPECT_NE(r[2], "gfpgan_1_4") << r.dump();
  }
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

// k-anonymity on recorded users: seven users switch colour matching to none, two of them (also) to
// histogram. At k = 5 the histogram cell (2 users) is shown as "< 5" with no share, the none cell (7 users)
// is shown; at k = 1 both are; at k = 8 the whole cohort (7 users) is suppressed.
TEST(AnalyticsTruth, KAnonymitySuppressesCellsOfFewerThanKUsers) {
  TempDir dir;
  for (int u = 0; u < 7; ++u) {
    TelemetryOptions o = options(dir, 1.0);
    o.user_id = "user" + std::to_string(u);
    auto t = Telemetry::create(o);
    ASSERT_TRUE(t) << t.status().to_string();
    TelemetryRun run;
    (*t)->record_option("swap", "color_match", "none");
    if (u < 2) (*t)->record_option("swap", "color_match", "histogram");
    (*t)->record_command("swap", StatusCode::kOk, 10.0, 0, 1);
    ASSERT_TRUE((*t)->flush().is_ok());
  }
  auto a = Analytics::open(dir.path());
  ASSERT_TRUE(a) << a.status().to_string();
  auto cell = [](const InsightsTable& t, const std::string& value) {
    for (const auto& r : t.rows)
      if (r[0] == "color_match" && r[2] == value) return r;
    ADD_FAILURE() << "no color_match " << value << " in " << t.to_json().dump();
    return json::array();
  };
  InsightsFilter f;  // k = 5 by default
  auto t5 = (*a)->view("defaults", f);
  ASSERT_TRUE(t5) << t5.status().to_string();
  EXPECT_EQ(cell(*t5, "none")[3], 7.0);
  EXPECT_EQ(cell(*t5, "none")[4], 1.0);
  EXPECT_EQ(cell(*t5, "histogram")[3], "< 5");
  EXPECT_TRUE(cell(*t5, "histogram")[4].is_null());
  EXPECT_EQ(t5->summary["k"], 5);
  EXPECT_GE(t5->summary["suppressed_cells"].get<int>(), 2);  // histogram: users and first-session users
  EXPECT_EQ(t5->to_csv().find(",2,"), std::string::npos) << t5->to_csv();
  f.k = 1;
  auto t1 = (*a)->view("defaults", f);
  ASSERT_TRUE(t1);
  EXPECT_EQ(cell(*t1, "histogram")[3], 2.0);
  EXPECT_EQ(cell(*t1, "histogram")[4], std::round(2e4 / 7) / 1e4);
  f.k = 8;
  auto t8 = (*a)->view("defaults", f);
  ASSERT_TRUE(t8);
  EXPECT_TRUE(t8->rows.empty()) << t8->to_json().dump();
  EXPECT_EQ(t8->summary["cohort_users"], "< 8");
  auto r8 = (*a)->view("retention", f);
  ASSERT_TRUE(r8);
  ASSERT_FALSE(r8->rows.empty());
  EXPECT_EQ(r8->rows[0][1], "< 8");
  EXPECT_TRUE(r8->rows[0][3].is_null());
  f.k = 0;
  EXPECT_FALSE((*a)->view("defaults", f).is_ok());
}

// The event explorer on recorded runs: filter by event and property (a boolean, a word), page through the
// matches newest first; no pseudonym or session in the rows; bad filters are refused.
TEST(AnalyticsTruth, EventExplorerFiltersAndPages) {
  TempDir dir;
  std::vector<std::string> fallback_runs;
  {
    auto t = Telemetry::create(options(dir, 1.0));
    ASSERT_TRUE(t) << t.status().to_string();
    for (int i = 0; i < 7; ++i) {
      TelemetryRun run;
      bool fallback = i % 2 == 0;  // runs 0, 2, 4, 6
      if (fallback) fallback_runs.push_back(run.id());
      (*t)->record_option("swap", "color_match", "none");
      (*t)->record_command("swap", StatusCode::kOk, 10.0, 0, 1, "cli", "cpu", fallback ? "cuda" : "cpu",
                           fallback);
    }
    ASSERT_TRUE((*t)->flush().is_ok());
  }
  auto a = Analytics::open(dir.path());
  ASSERT_TRUE(a) << a.status().to_string();
  EventQuery q;
  q.event = "command.run";
  q.props = {{"fallback", "true"}};
  q.limit = 3;
  auto p1 = (*a)->events(q);
  ASSERT_TRUE(p1) << p1.status().to_string();
  EXPECT_EQ(p1->summary["matching"], 4);
  ASSERT_EQ(p1->rows.size(), 3u);
  EXPECT_EQ(p1->summary["next_offset"], 3);
  // Newest first: the last fallback run comes first.
  EXPECT_EQ(p1->rows[0][5]["run"], fallback_runs.back());
  EXPECT_EQ(p1->rows[0][5]["requested"], "cuda");
  EXPECT_GT(p1->rows[0][0].get<int64_t>(), p1->rows[1][0].get<int64_t>());
  const std::string dump = p1->to_json().dump();
  EXPECT_EQ(dump.find("\"user\""), std::string::npos);
  EXPECT_EQ(dump.find("\"session\""), std::string::npos);
  q.offset = 3;
  auto p2 = (*a)->events(q);
  ASSERT_TRUE(p2);
  ASSERT_EQ(p2->rows.size(), 1u);
  EXPECT_EQ(p2->rows[0][5]["run"], fallback_runs.front());
  EXPECT_TRUE(p2->summary["next_offset"].is_null());
  // A run's events join by its id.
  EventQuery by_run;
  by_run.props = {{"run", fallback_runs.front()}};
  auto r = (*a)->events(by_run);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->summary["matching"], 2);  // its command.option and command.run
  EventQuery bad;
  bad.event = "no.such";
  EXPECT_EQ((*a)->events(bad).status().code(), StatusCode::kInvalidArgument);
  bad = {};
  bad.props = {{"$.x", "1"}};
  EXPECT_EQ((*a)->events(bad).status().code(), StatusCode::kInvalidArgument);
  bad = {};
  bad.limit = 0;
  EXPECT_EQ((*a)->events(bad).status().code(), StatusCode::kInvalidArgument);
}

// The analyst is not a user: a browser that only opens the insights dashboard, changes its filters and
// exports a view is stored (the explorer shows it) but counted nowhere: not in the cohort, not as a
// funnel download, not in the actions view. A workbench user next to it is counted as before.
TEST(AnalyticsTruth, TheDashboardsOwnEventsAreNotUsage) {
  TempDir dir;
  {
    auto t = Telemetry::create(options(dir, 1.0));
    ASSERT_TRUE(t) << t.status().to_string();
    const std::string analyst = "analyst-client-0001", user = "workbench-client-01";
    using P = TelemetryProp;
    std::vector<std::pair<std::string, std::vector<P>>> dashboard = {
        {"ui.page", {P("page", "insights")}},
        {"ui.action", {P("control", "version"), P("action", "change"), P("value", "0_1_0")}},
        {"ui.action", {P("control", "filters"), P("action", "click"), P("value", "clear")}},
        {"ui.action", {P("control", "ab_metric"), P("action", "change"), P("value", "error_rate")}},
        {"ui.action", {P("control", "export"), P("action", "download"), P("value", "usage_csv")}},
    };
    for (auto& [event, props] : dashboard) ASSERT_TRUE((*t)->record_client(analyst, event, props).is_ok());
    std::vector<std::pair<std::string, std::vector<P>>> workbench = {
        {"ui.page", {P("page", "workbench")}},
        {"ui.action", {P("control", "target"), P("action", "upload")}},
        {"ui.action", {P("control", "preview"), P("action", "preview")}},
        {"ui.action", {P("control", "run"), P("action", "run")}},
        {"ui.action", {P("control", "result"), P("action", "download")}},
    };
    for (auto& [event, props] : workbench) ASSERT_TRUE((*t)->record_client(user, event, props).is_ok());
    ASSERT_TRUE((*t)->flush().is_ok());
  }
  auto a = Analytics::open(dir.path());
  ASSERT_TRUE(a) << a.status().to_string();
  InsightsFilter f;
  f.k = 1;
  auto defaults = (*a)->view("defaults", f);
  ASSERT_TRUE(defaults);
  EXPECT_EQ(defaults->summary["cohort_users"], 1.0) << defaults->to_json().dump();
  auto funnel = (*a)->view("funnel", f);
  ASSERT_TRUE(funnel);
  ASSERT_EQ(funnel->rows.size(), 4u);
  EXPECT_EQ(funnel->rows[0][1], 1.0);  // upload
  EXPECT_EQ(funnel->rows[3][1], 1.0);  // download: the workbench user's, not the export
  auto actions = (*a)->view("actions", f);
  ASSERT_TRUE(actions);
  for (const auto& r : actions->rows) {
    EXPECT_NE(r[1], "export") << actions->to_json().dump();
    EXPECT_NE(r[1], "version");
    EXPECT_NE(r[1], "ab_metric");
  }
  EventQuery all;
  all.event = "ui.page";
  auto raw = (*a)->events(all);
  ASSERT_TRUE(raw);
  EXPECT_EQ(raw->summary["matching"], 2);  // stored, and shown by the explorer
}

// Latency split by media on recorded runs: an image run (detect 10 ms) and a video run of 10 frames
// (detect 100 ms, enhance 50 ms), both at 1080p.
TEST(AnalyticsTruth, LatencyByMedia) {
  TempDir dir;
  {
    auto t = Telemetry::create(options(dir, 1.0));
    ASSERT_TRUE(t) << t.status().to_string();
    {
      TelemetryRun run;
      (*t)->record_stage("detect", 10, 1920, 1080, 1, "image");
    }
    {
      TelemetryRun run;
      (*t)->record_stage("detect", 100, 1920, 1080, 10, "video");
      (*t)->record_stage("enhance", 50, 1920, 1080, 10, "video");
    }
    ASSERT_TRUE((*t)->flush().is_ok());
  }
  auto a = Analytics::open(dir.path());
  ASSERT_TRUE(a) << a.status().to_string();
  InsightsFilter f;
  f.k = 1;
  auto all = (*a)->view("latency", f);
  ASSERT_TRUE(all) << all.status().to_string();
  EXPECT_EQ(all->summary["by_media"]["image"]["total_ms"], 10.0) << all->summary.dump();
  EXPECT_EQ(all->summary["by_media"]["video"]["total_ms"], 150.0);
  f.media = "video";
  auto video = (*a)->view("latency", f);
  ASSERT_TRUE(video) << video.status().to_string();
  ASSERT_EQ(video->rows.size(), 2u) << video->to_json().dump();
  EXPECT_EQ(video->rows[0][1], "detect");
  EXPECT_EQ(video->rows[0][2], 100.0);
  EXPECT_EQ(video->rows[0][3], std::round(1e4 * 100 / 150) / 1e4);
  EXPECT_TRUE(video->rows[0][5].is_null());
  f.media = "image";
  auto image = (*a)->view("latency", f);
  ASSERT_TRUE(image);
  ASSERT_EQ(image->rows.size(), 1u);
  EXPECT_EQ(image->rows[0][2], 10.0);
  EXPECT_EQ(image->rows[0][3], 1.0);
  f.media = "audio";
  EXPECT_EQ((*a)->view("latency", f).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace faceweave
