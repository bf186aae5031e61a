// The analytics routes behind the /insights dashboard against a real `faceweave serve`: the index, every
// view as JSON (equal to what `faceweave insights VIEW --json` prints for the same database and filter) and
// as CSV, every bad parameter as a 4xx naming it, the empty states, and the live stream (server-sent events
// with ?token=) that reports new telemetry and ends when the server stops.
#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <mutex>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "server_process.h"

namespace faceweave::testing {
namespace {
using nlohmann::json;

const char* kViews[] = {"usage",    "heatmap", "actions",   "errors", "latency",
                        "defaults", "funnel",  "retention", "ab",     "users"};

class InsightsApi : public ::testing::Test {
 protected:
  void simulate(int users, int seed, const std::string& end = "2026-11-20") {
    auto r = run_command(binary() + " --telemetry off --data-dir " + data_.path() +
                         " telemetry simulate --users " + std::to_string(users) + " --days 14 --seed " +
                         std::to_string(seed) + " --end " + end + " 2>&1");
    ASSERT_EQ(r.code, 0) << r.out;
  }

  void start(std::vector<std::string> extra = {}, const std::string& telemetry = "all") {
    server_ = std::make_unique<ServerProcess>(data_.path(), extra, data_.file("server.log"), telemetry);
    ASSERT_TRUE(server_->started()) << server_->log();
    client_ = std::make_unique<httplib::Client>("127.0.0.1", server_->port());
    client_->set_read_timeout(std::chrono::seconds(60));
  }

  json get_json(const std::string& path, int expect = 200) {
    auto r = client_->Get(path.c_str());
    EXPECT_TRUE(r) << path;
    if (!r) return {};
    EXPECT_EQ(r->status, expect) << path << ": " << r->body;
    return json::parse(r->body, nullptr, false);
  }

  void expect_error(const std::string& path, int status, const std::string& field) {
    auto r = client_->Get(path.c_str());
    ASSERT_TRUE(r) << path;
    EXPECT_EQ(r->status, status) << path << ": " << r->body;
    const json j = json::parse(r->body, nullptr, false);
    ASSERT_TRUE(j.contains("error")) << path << ": " << r->body;
    EXPECT_FALSE(j["error"].value("message", "").empty()) << path;
    if (!field.empty()) {
      EXPECT_EQ(j["error"].value("field", ""), field) << path << ": " << r->body;
    }
  }

  TempDir data_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<httplib::Client> client_;
};

TEST_F(InsightsApi, EveryViewEqualsTheCliAndExportsAsCsv) {
  simulate(80, 3);
  start();
  const json index = get_json("/api/insights");
  EXPECT_EQ(index["database"], true) << index.dump();
  ASSERT_EQ(index["views"].size(), std::size(kViews)) << index.dump();
  for (const auto& v : index["views"]) EXPECT_FALSE(v.value("explanation", "").empty()) << v.dump();
  EXPECT_EQ(index["versions"], json::array({"0.1.0", "0.2.0"})) << index.dump();
  EXPECT_FALSE(index["ab_metrics"].empty());
  // The simulated history has web sessions and native ones: the index lists both, and filtering by one
  // keeps a part of the swap runs.
  ASSERT_GE(index["platforms"].size(), 2u) << index.dump();
  EXPECT_NE(std::find(index["platforms"].begin(), index["platforms"].end(), "web"), index["platforms"].end());
  // k = 1: a platform with a handful of users would otherwise show "< 5" (k-anonymity, tested elsewhere).
  const double all_runs = get_json("/api/insights/heatmap?k=1")["summary"].value("runs", 0.0);
  for (const auto& p : index["platforms"]) {
    const json one = get_json("/api/insights/heatmap?k=1&platform=" + p.get<std::string>());
    EXPECT_LT(one["summary"].value("runs", 0.0), all_runs) << p;
    EXPECT_GT(one["summary"].value("runs", 0.0), 0.0) << p;
  }

  const std::string filter = "from=2026-11-10&to=2026-11-20";
  for (const char* view : kViews) {
    SCOPED_TRACE(view);
    const json api = get_json(std::string("/api/insights/") + view + "?" + filter);
    auto cli = run_command(binary() + " --telemetry off --data-dir " + data_.path() + " insights " + view +
                           " --from 2026-11-10 --to 2026-11-20 --json");
    ASSERT_EQ(cli.code, 0) << cli.out;
    EXPECT_EQ(api, json::parse(cli.out, nullptr, false));
    EXPECT_EQ(api["view"], view);
    EXPECT_FALSE(api["rows"].empty()) << api.dump();

    auto csv = client_->Get((std::string("/api/insights/") + view + "?format=csv&" + filter).c_str());
    ASSERT_TRUE(csv);
    EXPECT_EQ(csv->status, 200) << csv->body;
    EXPECT_EQ(csv->get_header_value("Content-Type").rfind("text/csv", 0), 0u);
    EXPECT_EQ(csv->get_header_value("Content-Disposition"),
              std::string("attachment; filename=\"faceweave-insights-") + view +
                  "-from-2026-11-10-to-2026-11-20.csv\"");
    std::istringstream lines(csv->body);
    std::string header;
    std::getline(lines, header);
    std::string expected_header;
    for (const auto& c : api["columns"])
      expected_header += (expected_header.empty() ? "" : ",") + c.get<std::string>();
    EXPECT_EQ(header, expected_header);
    size_t rows = 0;
    for (std::string line; std::getline(lines, line);) rows += !line.empty();
    EXPECT_EQ(rows, api["rows"].size());
  }

  // A filter changes the numbers: one version has fewer runs than both.
  const double all = get_json("/api/insights/usage")["summary"]["runs"].get<double>();
  const double one = get_json("/api/insights/usage?version=0.1.0")["summary"]["runs"].get<double>();
  EXPECT_GT(one, 0);
  EXPECT_LT(one, all);
  // ab takes its options.
  const json ab =
      get_json("/api/insights/ab?metric=download_conversion&a=0.1.0&b=0.2.0&alpha=0.01&min_sample=5");
  EXPECT_EQ(ab["view"], "ab");
  EXPECT_EQ(ab["rows"].size(), 2u) << ab.dump();
  // The usage share metric, and the A/B by profile (the simulated runs carry no profile: one arm, (none),
  // so nothing to compare, an empty state).
  const json share = get_json("/api/insights/ab?metric=color_match%3Dnone&a=0.1.0&b=0.2.0&k=1");
  EXPECT_EQ(share["summary"]["metric"], "color_match=none");
  EXPECT_EQ(share["rows"].size(), 2u) << share.dump();
  EXPECT_GT(share["rows"][0]["successes"].get<double>(), 0) << share.dump();
  const json by_profile = get_json("/api/insights/ab?by=profile");
  EXPECT_TRUE(by_profile["rows"].empty()) << by_profile.dump();
  EXPECT_EQ(get_json("/api/insights")["profiles"], json::array({"(none)"}));
  const json one_week = get_json("/api/insights/retention?weeks=1")["rows"];
  ASSERT_FALSE(one_week.empty());
  EXPECT_EQ(one_week.back()["week"], 1) << one_week.dump();  // weeks 0 and 1, of the 14 days
}

// The raw event explorer: the same page as `faceweave insights events`, paged, filtered; bad input is a 400
// naming the parameter.
TEST_F(InsightsApi, EventExplorerEqualsTheCliAndPages) {
  simulate(20, 5);
  start();
  const json page = get_json("/api/insights/events?event=command.run&limit=5&offset=2");
  EXPECT_EQ(page["view"], "events");
  ASSERT_EQ(page["rows"].size(), 5u) << page.dump();
  EXPECT_EQ(page["summary"]["next_offset"], 7);
  for (const auto& r : page["rows"]) EXPECT_EQ(r["event"], "command.run");
  auto cli = run_command(binary() + " --telemetry off --data-dir " + data_.path() +
                         " insights events --event command.run --limit 5 --offset 2 --json");
  ASSERT_EQ(cli.code, 0) << cli.out;
  EXPECT_EQ(page, json::parse(cli.out, nullptr, false));
  const json cuda = get_json("/api/insights/events?event=command.run&prop=provider:cuda&limit=1000");
  ASSERT_FALSE(cuda["rows"].empty());
  for (const auto& r : cuda["rows"]) EXPECT_EQ(r["props"]["provider"], "cuda");
  expect_error("/api/insights/events?limit=0", 400, "limit");
  expect_error("/api/insights/events?event=no.such", 400, "event");
  expect_error("/api/insights/events?prop=nocolon", 400, "prop");
  expect_error("/api/insights/events?from=2026-02-30", 400, "from");
}

TEST_F(InsightsApi, BadInputIsA4xxNamingTheParameterAndMissingDataAnEmptyTable) {
  simulate(20, 5);
  start();
  expect_error("/api/insights/nope", 404, "view");
  expect_error("/api/insights/usage/extra", 404, "view");
  expect_error("/api/insights/usage?from=2026-13-01", 400, "from");
  expect_error("/api/insights/usage?from=yesterday", 400, "from");
  expect_error("/api/insights/usage?to=2026-02-30", 400, "to");
  expect_error("/api/insights/usage?from=2026-11-20&to=2026-11-01", 400, "from");
  expect_error("/api/insights/usage?format=xml", 400, "format");
  expect_error("/api/insights/ab?metric=happiness", 400, "metric");
  expect_error("/api/insights/ab?metric=color_match%3D", 400, "metric");
  expect_error("/api/insights/ab?by=profile&metric=download_conversion", 400, "metric");
  expect_error("/api/insights/ab?by=colour", 400, "by");
  expect_error("/api/insights/ab?alpha=2", 400, "alpha");
  expect_error("/api/insights/ab?alpha=abc", 400, "alpha");
  expect_error("/api/insights/ab?power=0", 400, "power");
  expect_error("/api/insights/ab?mde=-0.1", 400, "mde");
  expect_error("/api/insights/ab?min_sample=-1", 400, "min_sample");
  expect_error("/api/insights/ab?expected_share_a=1", 400, "expected_share_a");
  expect_error("/api/insights/latency?by=size", 400, "by");
  expect_error("/api/insights/retention?weeks=0", 400, "weeks");
  expect_error("/api/insights/retention?weeks=2.5", 400, "weeks");
  expect_error("/api/insights/retention?weeks=53", 400, "weeks");
  expect_error("/api/insights/usage?platform=linux", 400, "platform");  // not one of the recorded values
  expect_error("/api/insights/ab?version=0.1.0", 400, "version");       // ab compares versions: a and b
  expect_error("/api/insights/ab?a=0.1.0&b=0.1.0", 400, "b");
  auto post = client_->Post("/api/insights/usage", "{}", "application/json");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  EXPECT_EQ(post->get_header_value("Allow"), "GET");

  // A version without data, and a range without events: 200, no rows, a note that says why.
  for (const std::string path : {"/api/insights/usage?version=9.9.9", "/api/insights/funnel?version=9.9.9",
                                 "/api/insights/errors?from=2020-01-01&to=2020-01-31",
                                 "/api/insights/ab?from=2020-01-01&to=2020-01-31"}) {
    SCOPED_TRACE(path);
    const json t = get_json(path);
    EXPECT_TRUE(t["rows"].empty()) << t.dump();
    ASSERT_FALSE(t["notes"].empty()) << t.dump();
  }
  EXPECT_NE(get_json("/api/insights/usage?version=9.9.9")["notes"].dump().find("9.9.9"), std::string::npos);
  auto csv = client_->Get("/api/insights/usage?version=9.9.9&format=csv");
  ASSERT_TRUE(csv);
  EXPECT_EQ(csv->status, 200);
}

TEST_F(InsightsApi, WithoutATelemetryDatabaseEveryRouteIsAnEmptyState) {
  start({}, "off");  // nothing creates the events database
  ASSERT_FALSE(std::filesystem::exists(std::filesystem::path(data_.path()) / "telemetry" / "events.db"));
  const json index = get_json("/api/insights");
  EXPECT_EQ(index["database"], false) << index.dump();
  EXPECT_EQ(index["views"].size(), std::size(kViews));
  EXPECT_TRUE(index["versions"].empty());
  ASSERT_FALSE(index["notes"].empty());
  EXPECT_NE(index["notes"][0].get<std::string>().find("simulate"), std::string::npos);
  for (const char* view : kViews) {
    SCOPED_TRACE(view);
    const json t = get_json(std::string("/api/insights/") + view);
    EXPECT_EQ(t["view"], view);
    EXPECT_TRUE(t["rows"].empty());
    EXPECT_FALSE(t["notes"].empty());
    auto csv = client_->Get((std::string("/api/insights/") + view + "?format=csv").c_str());
    ASSERT_TRUE(csv);
    EXPECT_EQ(csv->status, 200);
  }
  // The page's bare path redirects to its folder, keeping the filters.
  auto bare = client_->Get("/insights?version=0.1.0&from=2026-11-01");
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->status, 302);
  EXPECT_EQ(bare->get_header_value("Location"), "/insights/?from=2026-11-01&version=0.1.0");

  // Bad input is still refused before the (missing) database matters.
  expect_error("/api/insights/usage?from=2026-11-20&to=2026-11-01", 400, "from");
  expect_error("/api/insights/nope", 404, "view");

  // Once telemetry appears (here from another process), the same server answers from it.
  simulate(10, 9);
  EXPECT_EQ(get_json("/api/insights")["database"], true);
  EXPECT_FALSE(get_json("/api/insights/funnel")["rows"].empty());
}

// Reads a server-sent event stream on its own thread.
class StreamReader {
 public:
  StreamReader(int port, const std::string& path) {
    thread_ = std::thread([this, port, path] {
      httplib::Client c("127.0.0.1", port);
      c.set_read_timeout(std::chrono::seconds(30));
      auto r = c.Get(path.c_str(), [this](const char* data, size_t length) {
        std::lock_guard lock(mutex_);
        text_.append(data, length);
        cv_.notify_all();
        return !quit_.load();
      });
      std::lock_guard lock(mutex_);
      status_ = r ? r->status : -1;
      content_type_ = r ? r->get_header_value("Content-Type") : "";
      ended_ = true;
      cv_.notify_all();
    });
  }
  ~StreamReader() {
    quit_ = true;
    if (thread_.joinable()) thread_.join();
  }
  // Waits until the text received contains `what` (true) or `seconds` pass (false).
  bool wait_for(const std::string& what, int seconds) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, std::chrono::seconds(seconds), [&] {
      return text_.find(what) != std::string::npos || ended_;
    }) && text_.find(what) != std::string::npos;
  }
  bool wait_ended(int seconds) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, std::chrono::seconds(seconds), [&] { return ended_; });
  }
  std::string text() {
    std::lock_guard lock(mutex_);
    return text_;
  }
  int status() {
    std::lock_guard lock(mutex_);
    return status_;
  }
  std::string content_type() {
    std::lock_guard lock(mutex_);
    return content_type_;
  }

 private:
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::string text_, content_type_;
  int status_ = 0;
  bool ended_ = false;
  std::atomic<bool> quit_{false};
};

TEST_F(InsightsApi, TheStreamReportsNewTelemetryTakesTheTokenInTheQueryAndEndsOnShutdown) {
  simulate(20, 7);
  start({"--token", "s3cret-token"});
  client_->set_bearer_token_auth("s3cret-token");
  auto unauthorised = httplib::Client("127.0.0.1", server_->port()).Get("/api/insights/stream");
  ASSERT_TRUE(unauthorised);
  EXPECT_EQ(unauthorised->status, 401);
  EXPECT_EQ(get_json("/api/insights")["database"], true);

  StreamReader stream(server_->port(), "/api/insights/stream?token=s3cret-token");
  ASSERT_TRUE(stream.wait_for("event: hello", 10)) << stream.text();
  const auto hello = stream.text();
  EXPECT_NE(hello.find("retry: "), std::string::npos) << hello;
  EXPECT_EQ(hello.find("event: telemetry"), std::string::npos) << hello;

  // Another process appends events: the stream says so within a few seconds, with the new largest id.
  simulate(5, 8, "2026-11-21");
  ASSERT_TRUE(stream.wait_for("event: telemetry", 10)) << stream.text();
  const std::string text = stream.text();
  const auto at = text.find("event: telemetry\ndata: ");
  ASSERT_NE(at, std::string::npos) << text;
  const json data = json::parse(text.substr(at + 23, text.find('\n', at + 23) - at - 23), nullptr, false);
  EXPECT_GT(data.value("new", 0), 0) << text;
  EXPECT_EQ(data.value("events_max_id", 0), get_json("/api/insights")["events_max_id"].get<int64_t>());
  // Quiet streams get keep-alive comments.
  EXPECT_TRUE(stream.wait_for(": keep-alive", 12)) << stream.text();

  // A clean stop ends the stream at once instead of waiting for the client to go.
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(server_->stop(), 0) << server_->log();
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(seconds, 5.0);
  EXPECT_TRUE(stream.wait_ended(5));
  EXPECT_EQ(stream.status(), 200);
  EXPECT_EQ(stream.content_type(), "text/event-stream");
}

TEST_F(InsightsApi, StreamsAreLimitedAndAClientThatLeavesFreesItsSlot) {
  start();
  std::vector<std::unique_ptr<StreamReader>> streams;
  for (int i = 0; i < 8; ++i) {
    streams.push_back(std::make_unique<StreamReader>(server_->port(), "/api/insights/stream"));
    ASSERT_TRUE(streams.back()->wait_for("event: hello", 10)) << i;
  }
  auto refused = client_->Get("/api/insights/stream");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 503) << refused->body;
  // Two clients go away; the server notices at its next write (a keep-alive within 5 s) and frees the slots.
  streams.pop_back();
  streams.pop_back();
  bool reopened = false;
  for (int i = 0; i < 60 && !reopened; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
    StreamReader again(server_->port(), "/api/insights/stream");
    reopened = again.wait_for("event: hello", 2);
  }
  EXPECT_TRUE(reopened) << "a slot must come free once a client disconnects";
  EXPECT_EQ(get_json("/healthz")["status"], "ok");  // the workers are not starved
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(server_->stop(), 0) << server_->log();
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 5.0);
}

}  // namespace
}  // namespace faceweave::testing
