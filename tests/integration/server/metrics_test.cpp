// GET /metrics: the renderer in-process (escaping, cumulative buckets), then a real server that runs a
// preview and an image job on the test images, whose exposition must count them and pass
// `promtool check metrics` (Debian's prometheus package, scripts/install-deps.sh) without a lint problem.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "server/metrics.h"
#include "server_process.h"

namespace faceweave::testing {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;

// One sample line: "name{labels} value" -> key "name{labels}".
std::map<std::string, double> parse_samples(const std::string& text) {
  std::map<std::string, double> out;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    if (space == std::string::npos) continue;
    const std::string v = line.substr(space + 1);
    out[line.substr(0, space)] = v == "+Inf" ? HUGE_VAL : std::stod(v);
  }
  return out;
}

// Runs promtool on `text` through its standard input; its exit code and everything it printed.
CommandResult promtool_check(const std::string& text, const TempDir& dir) {
  const std::string path = dir.file("exposition.txt");
  {
    std::ofstream out(path, std::ios::binary);
    out << text;
  }
  return run_command("promtool check metrics < " + path + " 2>&1");
}

// The le bounds of one histogram series must rise with the counts never falling, ending at +Inf = _count.
void expect_cumulative(const std::string& text, const std::string& family, const std::string& labels) {
  const std::regex line("^" + family + "_bucket\\{" + labels + ",le=\"([^\"]+)\"\\} (.+)$");
  double last_le = -1, last = -1;
  int buckets = 0;
  std::istringstream in(text);
  for (std::string l; std::getline(in, l);) {
    std::smatch m;
    if (!std::regex_match(l, m, line)) continue;
    const double le = m[1] == "+Inf" ? HUGE_VAL : std::stod(m[1]);
    const double v = std::stod(m[2]);
    EXPECT_GT(le, last_le) << l;
    EXPECT_GE(v, last) << l;
    last_le = le;
    last = v;
    ++buckets;
  }
  EXPECT_EQ(buckets, int(server::Metrics::kBuckets.size()) + 1) << family << "{" << labels << "}\n" << text;
  EXPECT_EQ(last_le, HUGE_VAL);
  EXPECT_EQ(last, parse_samples(text)[family + "_count{" + labels + "}"]);
}

TEST(MetricsExposition, EscapesLabelsAndKeepsBucketsCumulative) {
  EXPECT_EQ(server::prometheus_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
  EXPECT_EQ(server::prometheus_number(0.25), "0.25");
  EXPECT_EQ(server::prometheus_number(3), "3");
  EXPECT_EQ(server::prometheus_number(HUGE_VAL), "+Inf");

  server::Metrics m;
  const std::vector<std::pair<std::string, double>> stages = {{"detect", 12.5}, {"warp", 400}};
  m.record_run("job", "image", StatusCode::kOk, 0.8, &stages);
  m.record_run("job", "image", StatusCode::kOk, 7200, &stages);  // beyond the last bound: only in +Inf
  m.record_run("job", "video", StatusCode::kNoFace, 2);
  m.record_run("preview", "image", StatusCode::kCancelled, 0.1);
  m.record_http_error(404, "not_found");
  server::Metrics::Snapshot snap;
  snap.version = "1.0 \"odd\" \\ build\nline";  // every character that needs escaping
  snap.jobs = std::make_pair(int64_t(2), int64_t(1));
  const std::string text = m.render(snap);

  EXPECT_NE(text.find("faceweave_build_info{version=\"1.0 \\\"odd\\\" \\\\ build\\nline\"} 1\n"),
            std::string::npos)
      << text;
  auto s = parse_samples(text);
  EXPECT_EQ((s["faceweave_runs_total{kind=\"job\",media=\"image\",outcome=\"done\"}"]), 2);
  EXPECT_EQ((s["faceweave_runs_total{kind=\"job\",media=\"video\",outcome=\"failed\"}"]), 1);
  EXPECT_EQ((s["faceweave_runs_total{kind=\"preview\",media=\"image\",outcome=\"cancelled\"}"]), 1);
  EXPECT_EQ((s["faceweave_runs_total{kind=\"job\",media=\"video\",outcome=\"done\"}"]), 0);  // present from 0
  EXPECT_EQ((s["faceweave_run_errors_total{kind=\"job\",code=\"no_face\"}"]), 1);
  EXPECT_EQ((s["faceweave_http_errors_total{status=\"404\",code=\"not_found\"}"]), 1);
  EXPECT_EQ(s["faceweave_jobs_queued"], 2);
  EXPECT_EQ(s["faceweave_jobs_running"], 1);
  EXPECT_EQ((s["faceweave_stage_duration_seconds_count{stage=\"warp\",media=\"image\"}"]), 2);
  EXPECT_DOUBLE_EQ((s["faceweave_stage_duration_seconds_sum{stage=\"warp\",media=\"image\"}"]), 0.8);
  EXPECT_EQ((s["faceweave_stage_duration_seconds_bucket{stage=\"warp\",media=\"image\",le=\"0.25\"}"]), 0);
  EXPECT_EQ((s["faceweave_stage_duration_seconds_bucket{stage=\"warp\",media=\"image\",le=\"0.5\"}"]), 2);
  EXPECT_EQ((s["faceweave_run_duration_seconds_bucket{kind=\"job\",media=\"image\",le=\"3600\"}"]), 1);
  EXPECT_EQ((s["faceweave_run_duration_seconds_bucket{kind=\"job\",media=\"image\",le=\"+Inf\"}"]), 2);
  expect_cumulative(text, "faceweave_stage_duration_seconds", "stage=\"detect\",media=\"image\"");
  expect_cumulative(text, "faceweave_run_duration_seconds", "kind=\"job\",media=\"image\"");

  TempDir dir;
  auto checked = promtool_check(text, dir);
  EXPECT_EQ(checked.code, 0) << checked.out;
  EXPECT_EQ(checked.out, "") << checked.out;
}

class ServerMetrics : public ::testing::Test {
 protected:
  void start(std::vector<std::string> extra = {}) {
    server_ = std::make_unique<ServerProcess>(data_.path(), extra, data_.file("server.log"));
    ASSERT_TRUE(server_->started()) << server_->log();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(std::chrono::seconds(120));
  }

  json upload(const std::string& path) {
    httplib::MultipartFormDataItems items = {
        {"file", read_all(path), fs::path(path).filename().string(), "application/octet-stream"}};
    auto r = client_->Post("/api/uploads", items);
    EXPECT_TRUE(r && r->status == 201) << (r ? r->body : "no answer");
    return r ? json::parse(r->body, nullptr, false) : json();
  }

  TempDir data_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(ServerMetrics, CountsARealPreviewAndJobAndPassesPromtool) {
  start();
  auto before = client_->Get("/metrics");
  ASSERT_TRUE(before);
  ASSERT_EQ(before->status, 200) << before->body;
  EXPECT_EQ(before->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  auto s0 = parse_samples(before->body);
  EXPECT_EQ((s0["faceweave_runs_total{kind=\"job\",media=\"image\",outcome=\"done\"}"]), 0) << before->body;
  EXPECT_GT(s0["process_start_time_seconds"], 1.7e9);

  const json source = upload(image("obama.jpg"));
  const json target = upload(image("biden.jpg"));
  const json request{{"sources", {source["id"]}}, {"target", target["id"]}};
  auto preview = client_->Post("/api/preview", request.dump(), "application/json");
  ASSERT_TRUE(preview);
  ASSERT_EQ(preview->status, 200) << preview->body;
  json job_request = request;
  job_request["options"] = {{"output_format", "png"}};
  auto created = client_->Post("/api/jobs", job_request.dump(), "application/json");
  ASSERT_TRUE(created);
  ASSERT_EQ(created->status, 201) << created->body;
  const std::string id = json::parse(created->body)["id"];
  std::string status;
  for (int i = 0; i < 1800 && status != "done" && status != "failed"; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto j = client_->Get(("/api/jobs/" + id).c_str());
    if (j) status = json::parse(j->body, nullptr, false).value("status", "");
  }
  ASSERT_EQ(status, "done");
  EXPECT_EQ(client_->Get("/api/jobs/j_000000000000000000000000")->status, 404);
  auto events = client_->Post(
      "/api/events",
      json{{"client", "c_0123456789abcdef"},
           {"events",
            {{{"event", "ui.page"}, {"props", {{"page", "workbench"}}}}, {{"event", "command.run"}}}}}
          .dump(),
      "application/json");
  ASSERT_TRUE(events);
  EXPECT_EQ(events->status, 202) << events->body;
  auto bad_method = client_->Post("/metrics", "", "text/plain");
  ASSERT_TRUE(bad_method);
  EXPECT_EQ(bad_method->status, 405);

  auto after = client_->Get("/metrics");
  ASSERT_TRUE(after);
  ASSERT_EQ(after->status, 200);
  const std::string& text = after->body;
  auto s = parse_samples(text);
  EXPECT_EQ((s["faceweave_runs_total{kind=\"job\",media=\"image\",outcome=\"done\"}"]), 1) << text;
  EXPECT_EQ((s["faceweave_runs_total{kind=\"job\",media=\"image\",outcome=\"failed\"}"]), 0) << text;
  EXPECT_EQ((s["faceweave_runs_total{kind=\"preview\",media=\"image\",outcome=\"done\"}"]), 1) << text;
  EXPECT_EQ((s["faceweave_run_duration_seconds_count{kind=\"job\",media=\"image\"}"]), 1) << text;
  EXPECT_GT((s["faceweave_run_duration_seconds_sum{kind=\"job\",media=\"image\"}"]), 0) << text;
  // The job and the preview both warp the face: two observations of that stage.
  EXPECT_EQ((s["faceweave_stage_duration_seconds_count{stage=\"warp\",media=\"image\"}"]), 2) << text;
  EXPECT_GT((s["faceweave_stage_duration_seconds_sum{stage=\"warp\",media=\"image\"}"]), 0) << text;
  expect_cumulative(text, "faceweave_stage_duration_seconds", "stage=\"warp\",media=\"image\"");
  expect_cumulative(text, "faceweave_run_duration_seconds", "kind=\"job\",media=\"image\"");
  EXPECT_EQ((s["faceweave_uploads_total{kind=\"image\"}"]), 2) << text;
  EXPECT_EQ(s["faceweave_upload_bytes_total"],
            double(fs::file_size(image("obama.jpg")) + fs::file_size(image("biden.jpg"))));
  EXPECT_GE((s["faceweave_http_errors_total{status=\"404\",code=\"not_found\"}"]), 1) << text;
  EXPECT_EQ((s["faceweave_http_errors_total{status=\"405\",code=\"method_not_allowed\"}"]), 1) << text;
  EXPECT_EQ((s["faceweave_client_events_total{result=\"accepted\"}"]), 1) << text;
  EXPECT_EQ((s["faceweave_client_events_total{result=\"rejected\"}"]), 1) << text;
  EXPECT_EQ(s["faceweave_jobs_queued"], 0);
  EXPECT_EQ(s["faceweave_jobs_running"], 0);
  EXPECT_EQ(s["faceweave_telemetry_enabled"], 1);
  EXPECT_TRUE(s.count("faceweave_telemetry_events_total{result=\"dropped\"}")) << text;
  EXPECT_NE(text.find("# TYPE faceweave_stage_duration_seconds histogram\n"), std::string::npos);

  auto checked = promtool_check(text, data_);
  EXPECT_EQ(checked.code, 0) << checked.out << "\n" << text;
  EXPECT_EQ(checked.out, "") << "promtool lint: " << checked.out;
}

TEST_F(ServerMetrics, NeedsTheTokenWhenTheServerHasOne) {
  start({"--token", "metrics-token"});
  auto open = client_->Get("/metrics");
  ASSERT_TRUE(open);
  EXPECT_EQ(open->status, 401) << open->body;
  EXPECT_EQ(open->get_header_value("WWW-Authenticate"), "Bearer");
  auto scraped = client_->Get("/metrics", {{"Authorization", "Bearer metrics-token"}});
  ASSERT_TRUE(scraped);
  EXPECT_EQ(scraped->status, 200);
  EXPECT_NE(scraped->body.find("faceweave_build_info{version=\""), std::string::npos) << scraped->body;
}

}  // namespace
}  // namespace faceweave::testing
