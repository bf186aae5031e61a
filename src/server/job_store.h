// The durable job queue: one SQLite table (jobs.db in the data dir) shared by `faceweave serve` and the
// `faceweave jobs` commands. States: queued -> running -> done | failed | cancelled. A job that was running
// when the server stopped is queued again at the next start (requeue_interrupted). Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "faceweave/status.h"

struct sqlite3;

namespace faceweave::server {

struct JobRecord {
  std::string id;
  std::string status;  // queued | running | done | failed | cancelled
  int64_t created_ms = 0;
  int64_t started_ms = 0;   // 0: not started
  int64_t finished_ms = 0;  // 0: not finished
  int attempts = 0;
  bool cancel_requested = false;
  // {"sources": [paths], "target": path, "source_ids": [...], "target_id": "...", "options": {...},
  //  "output": path, "origin": "api" | "cli"}
  nlohmann::json request;
  std::string kind;  // image | video
  double progress = 0;
  int64_t frames_done = 0;
  int64_t frames_total = 0;
  double fps = 0;
  double eta_s = 0;
  std::string error_code;  // failed jobs: the StatusCode name
  std::string error_message;
  nlohmann::json timings = nlohmann::json::object();  // stage -> ms
  nlohmann::json result;                              // done jobs: bytes, faces_swapped, frames, ...
};

struct JobProgress {
  double progress = 0;
  int64_t frames_done = 0;
  int64_t frames_total = 0;
  double fps = 0;
  double eta_s = 0;
};

class JobStore {
 public:
  static Result<std::unique_ptr<JobStore>> open(const std::string& path);
  ~JobStore();

  // Queues a job; `id` empty: a new one (an API job names its output after its id, so it makes it first).
  Result<JobRecord> submit(const nlohmann::json& request, const std::string& kind,
                           const std::string& id = "");
  // The oldest queued job, now running; nullopt when none is queued.
  Result<std::optional<JobRecord>> claim();
  Status update_progress(const std::string& id, const JobProgress& p);
  // Ends a running job: done (with result), failed (with error) or cancelled.
  Status finish(const std::string& id, const std::string& status, const std::string& error_code,
                const std::string& error_message, const nlohmann::json& timings,
                const nlohmann::json& result);
  Result<JobRecord> get(const std::string& id);
  // Newest first; `status` empty: all.
  Result<std::vector<JobRecord>> list(const std::string& status, int limit);
  // A queued job becomes cancelled at once; a running one gets cancel_requested (its runner stops it).
  // Finished jobs: kInvalidArgument with "already".
  Result<JobRecord> cancel(const std::string& id);
  Result<bool> cancel_requested(const std::string& id);
  // Jobs left running by a server that stopped: queued again. Returns how many.
  Result<int> requeue_interrupted();
  Result<std::pair<int64_t, int64_t>> counts();  // queued, running

  static int64_t now_ms();

 private:
  JobStore() = default;
  Status exec(const std::string& sql);
  sqlite3* db_ = nullptr;
  std::string path_;
  std::mutex mutex_;
};

nlohmann::json job_json(const JobRecord& job);

}  // namespace faceweave::server
