// Latency by input resolution on real runs (docs/analytics.md, "latency"): an image whose output has the
// target's size, a smaller image, and a video scaled up on output, swapped by the faceweave binary with
// usage telemetry. Each stage.timing carries the target's resolution bucket as `input` (a bucket from the
// allow-list, never a size); `insights latency --by input` groups by it, `--by resolution` (the default) by
// the output's, and the two differ exactly for the scaled video.
#include <gtest/gtest.h>

#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "test_support.h"

namespace faceweave::testing {
namespace {

using nlohmann::json;

CommandResult fw(const TempDir& d, const std::string& args) {
  return run_command("FACEWEAVE_DATA_DIR='" + d.path() + "/data' FACEWEAVE_MODELS_DIR='" + models_dir() +
                     "' FACEWEAVE_TELEMETRY= DO_NOT_TRACK= " + binary() + " --telemetry usage " + args +
                     " 2>&1");
}

json table(const TempDir& d, const std::string& args) {
  CommandResult r = fw(d, "insights " + args + " --json --k 1");
  EXPECT_EQ(r.code, 0) << r.out;
  json j = json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out;
  return j.is_discarded() ? json::object() : j;
}

// The buckets of the first column (and the stages seen in each).
std::set<std::string> buckets(const json& t) {
  std::set<std::string> out;
  for (const auto& row : t["rows"]) out.insert(row[t["columns"][0].get<std::string>()].get<std::string>());
  return out;
}

TEST(LatencyByInput, StageTimesCarryTheTargetsBucketAndTheViewGroupsByIt) {
  TempDir d;
  const std::string swap = "swap -s " + testdata("images/obama.jpg") + " --no-watermark --no-provenance ";
  // Targets: biden.jpg is 970 x 2204 (720p), astronaut.png 512 x 512 (sd); video_01.mp4 is 640 x 480
  // (sd), written at twice its size (1280 x 960: 720p).
  ASSERT_EQ(fw(d, swap + "-t " + testdata("images/biden.jpg") + " -o " + d.file("a.png")).code, 0);
  ASSERT_EQ(fw(d, swap + "-t " + testdata("images/astronaut.png") + " -o " + d.file("b.png")).code, 0);
  CommandResult v = fw(d, swap + "-t " + testdata("video/video_01.mp4") + " -o " + d.file("c.mp4") +
                              " --output-video-scale 2 --trim-frame-end 6");
  ASSERT_EQ(v.code, 0) << v.out;

  // The stored events: every stage.timing has an input bucket from the allow-list, and nothing else
  // about the size.
  const std::set<std::string> allowed = {"unknown", "sd", "720p", "1080p", "1440p", "4k", "8k"};
  CommandResult ev = fw(d, "insights events --event stage.timing --limit 1000 --json");
  ASSERT_EQ(ev.code, 0) << ev.out;
  const json rows = json::parse(ev.out)["rows"];
  ASSERT_GT(rows.size(), 6u);
  std::map<std::string, std::set<std::string>> input_by_output;  // per media: input -> output buckets
  for (const auto& row : rows) {
    const json p = row["props"].is_string() ? json::parse(row["props"].get<std::string>()) : row["props"];
    ASSERT_TRUE(p.contains("input")) << p.dump();
    EXPECT_TRUE(allowed.count(p["input"].get<std::string>())) << p.dump();
    for (const auto& [key, value] : p.items())
      EXPECT_TRUE(key == "stage" || key == "resolution" || key == "frames" || key == "media" ||
                  key == "run" || key == "input")
          << key;
    input_by_output[p["media"].get<std::string>() + " " + p["input"].get<std::string>()].insert(
        p["resolution"].get<std::string>());
  }
  EXPECT_EQ(input_by_output["video sd"], std::set<std::string>{"720p"});
  EXPECT_EQ(input_by_output["image sd"], std::set<std::string>{"sd"});
  EXPECT_EQ(input_by_output["image 720p"], std::set<std::string>{"720p"});

  // The view: by input, the video's stages are under sd; by output resolution, under 720p.
  const json by_input = table(d, "latency --by input --media video");
  EXPECT_EQ(by_input["columns"][0], "input");
  EXPECT_EQ(by_input["summary"]["by"], "input");
  EXPECT_EQ(buckets(by_input), std::set<std::string>{"sd"}) << by_input.dump(2);
  const json by_output = table(d, "latency --media video");
  EXPECT_EQ(by_output["columns"][0], "resolution");
  EXPECT_EQ(buckets(by_output), std::set<std::string>{"720p"}) << by_output.dump(2);
  // Over both media: sd holds the small image's and the video's stage time, 720p the large image's; the
  // total stage time is the same whichever way it is grouped, and so are the shares' sums per bucket.
  const json all_in = table(d, "latency --by input");
  const json all_out = table(d, "latency");
  EXPECT_EQ(buckets(all_in), (std::set<std::string>{"sd", "720p"}));
  double total_in = 0, total_out = 0;
  std::map<std::string, double> share_in;
  for (const auto& r : all_in["rows"]) {
    total_in += r["total_ms"].get<double>();
    share_in[r["input"]] += r["share"].get<double>();
    EXPECT_TRUE(r["p50_ms"].is_number()) << r.dump();  // the histograms are kept per input bucket too
  }
  for (const auto& r : all_out["rows"]) total_out += r["total_ms"].get<double>();
  EXPECT_NEAR(total_in, total_out, 1e-3 * total_out);
  for (const auto& [bucket, s] : share_in) EXPECT_NEAR(s, 1.0, 0.01) << bucket;
  // --with works by input as well (no run set this option: every record is "without").
  const json with = table(d, "latency --by input --with color_match=none");
  EXPECT_EQ(with["columns"][0], "input");
  EXPECT_EQ(buckets(with), (std::set<std::string>{"sd", "720p"}));

  // A bad grouping is refused with the documented exit code and says what to use.
  CommandResult bad = fw(d, "insights latency --by size");
  EXPECT_EQ(bad.code, 2) << bad.out;
  EXPECT_NE(bad.out.find("--by"), std::string::npos) << bad.out;
}

}  // namespace
}  // namespace faceweave::testing
