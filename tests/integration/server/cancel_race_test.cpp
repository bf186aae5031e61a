// A cancel racing a job's end, each interleaving forced through JobRunner's test seam (no sleeps, no timing):
// the real engine swaps the test images, the real SQLite store holds the job and DELETE /api/jobs/{id} goes
// through Api::handle. Once, a cancel that arrived after the engine had produced the result but before it
// was written answered 200 with status `done`; it must be 409 and the result must stand.
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "faceweave/engine.h"
#include "server/api.h"
#include "server/job_runner.h"
#include "server/job_store.h"
#include "server/uploads.h"
#include "test_support.h"

namespace faceweave::testing {
namespace {
namespace fs = std::filesystem;
using nlohmann::json;
using server::Api;
using server::HttpRequest;
using server::HttpResponse;
using server::JobRunner;
using server::JobStore;
using server::UploadStore;

// Holds the job's thread at one seam point until the test lets it go; records the points reached.
class Gate {
 public:
  explicit Gate(std::string hold_at) : hold_at_(std::move(hold_at)) {}
  void at(const std::string& point) {
    std::unique_lock lock(mutex_);
    reached_.push_back(point);
    cv_.notify_all();
    if (point == hold_at_) cv_.wait(lock, [this] { return released_; });
  }
  // Waits until `point` was reached (at most a minute: the swap itself runs first).
  bool wait_for(const std::string& point) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, std::chrono::minutes(1),
                        [&] { return std::find(reached_.begin(), reached_.end(), point) != reached_.end(); });
  }
  void release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    cv_.notify_all();
  }

 private:
  std::string hold_at_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::string> reached_;
  bool released_ = false;
};

class CancelRace : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    EngineOptions eo;
    eo.models_dir = models_dir();
    eo.manifest_path = manifest_path();
    auto engine = Engine::create(eo);
    ASSERT_TRUE(engine) << engine.status().message();
    engine_ = std::move(*engine);
  }
  static void TearDownTestSuite() { engine_.reset(); }

  void SetUp() override {
    auto store = JobStore::open(dir_.file("jobs.db"));
    ASSERT_TRUE(store) << store.status().message();
    store_ = std::move(*store);
    uploads_ = std::make_unique<UploadStore>(dir_.file("uploads"), server::UploadLimits{}, 24);
    runner_ = std::make_unique<JobRunner>(*store_, *engine_, *uploads_, nullptr, 1);
    server::ApiOptions options;
    options.results_dir = dir_.file("results");
    options.data_dir = dir_.path();
    api_ = std::make_unique<Api>(options, *engine_, *store_, *runner_, *uploads_, nullptr);
  }
  void TearDown() override {
    if (gate_) gate_->release();
    if (runner_) runner_->stop();
  }

  // Runs one image job (obama's face onto biden), held at `hold_at` by the gate.
  std::string start_job(const std::string& hold_at) {
    gate_ = std::make_unique<Gate>(hold_at);
    runner_->test_hook = [this](const std::string&, const char* point) { gate_->at(point); };
    output_ = dir_.file("out.png");
    auto job = store_->submit(
        json{{"sources", {image("obama.jpg")}}, {"target", image("biden.jpg")}, {"output", output_}},
        "image");
    EXPECT_TRUE(job) << job.status().message();
    runner_->start();
    return job ? job->id : "";
  }
  std::future<HttpResponse> cancel_async(const std::string& id) {
    return std::async(std::launch::async, [this, id] {
      HttpRequest r;
      r.method = "DELETE";
      r.path = "/api/jobs/" + id;
      r.remote_addr = "127.0.0.1";
      return api_->handle(r);
    });
  }
  // Waits until the store holds the cancel request (the DELETE got past its own check of the job's state).
  bool wait_cancel_requested(const std::string& id) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
    while (std::chrono::steady_clock::now() < deadline) {
      auto job = store_->get(id);
      if (job && job->cancel_requested) return true;
      std::this_thread::yield();
    }
    return false;
  }
  json job_state(const std::string& id) {
    auto job = store_->get(id);
    EXPECT_TRUE(job);
    return job ? server::job_json(*job) : json();
  }

  static std::unique_ptr<Engine> engine_;
  TempDir dir_;
  std::unique_ptr<JobStore> store_;
  std::unique_ptr<UploadStore> uploads_;
  std::unique_ptr<JobRunner> runner_;
  std::unique_ptr<Api> api_;
  std::unique_ptr<Gate> gate_;
  std::string output_;
};
std::unique_ptr<Engine> CancelRace::engine_;

// The cancel reaches the job before the engine starts: the job is cancelled and leaves no output.
TEST_F(CancelRace, CancelBeforeTheSwapStartsCancelsTheJob) {
  const std::string id = start_job("starting");
  ASSERT_TRUE(gate_->wait_for("starting"));
  auto answer = cancel_async(id);
  ASSERT_TRUE(gate_->wait_for("cancelled"));  // the runner's flag is set: now the job may go on
  gate_->release();
  const HttpResponse r = answer.get();
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(json::parse(r.body)["status"], "cancelled") << r.body;
  EXPECT_EQ(job_state(id)["status"], "cancelled");
  EXPECT_FALSE(fs::exists(output_));
}

// The engine has made the result, the cancel arrives before the outcome is written: the job finished, the
// cancel lost. 409, and the job shows done with its result (this answered 200 `done` once).
TEST_F(CancelRace, CancelWhileTheOutcomeIsWrittenIsAConflict) {
  const std::string id = start_job("finishing");
  ASSERT_TRUE(gate_->wait_for("finishing"));
  auto answer = cancel_async(id);
  ASSERT_TRUE(wait_cancel_requested(id));  // the DELETE saw `running` and asked the store to cancel
  gate_->release();
  const HttpResponse r = answer.get();
  EXPECT_EQ(r.status, 409) << r.body;
  const json body = json::parse(r.body);
  EXPECT_EQ(body["error"]["code"], "conflict") << r.body;
  EXPECT_NE(body["error"]["message"].get<std::string>().find("finished before the cancel"), std::string::npos)
      << r.body;
  const json state = job_state(id);
  EXPECT_EQ(state["status"], "done") << state.dump();
  EXPECT_EQ(state["result"]["faces_swapped"], 1) << state.dump();
  EXPECT_TRUE(fs::exists(output_));
}

// The job was written as done before the cancel came: 409 from the store's own check.
TEST_F(CancelRace, CancelAfterTheJobEndedIsAConflict) {
  const std::string id = start_job("none");
  ASSERT_TRUE(gate_->wait_for("finishing"));
  runner_->stop();  // the outcome is written once the runner's thread has ended
  const HttpResponse r = cancel_async(id).get();
  EXPECT_EQ(r.status, 409) << r.body;
  EXPECT_EQ(json::parse(r.body)["error"]["code"], "conflict") << r.body;
  EXPECT_EQ(job_state(id)["status"], "done");
  EXPECT_TRUE(fs::exists(output_));
}

}  // namespace
}  // namespace faceweave::testing
