// The durable job queue, as one interface with two stores:
// - SqliteJobStore (sqlite_job_store.h): jobs.db in the data dir, the embedded default; one `faceweave
//   serve` runs its jobs, `faceweave jobs` queues and reads them.
// - PgJobStore (pg_job_store.h): a PostgreSQL table shared by API nodes and `faceweave worker` processes on
//   many machines; a claimed job carries a lease its runner renews (heartbeat); a job whose lease ran out is
//   queued again (up to its attempts) by whichever worker looks next.
// States: queued -> running -> done | failed | cancelled. Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "faceweave/status.h"

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
  std::string worker;  // the worker holding the job's lease (PostgreSQL), empty otherwise
};

struct JobProgress {
  double progress = 0;
  int64_t frames_done = 0;
  int64_t frames_total = 0;
  double fps = 0;
  double eta_s = 0;
};

// What a heartbeat learns about a running job.
struct LeaseState {
  bool owned = true;  // false: the lease ran out and the job went to another attempt; stop running it
  bool cancel_requested = false;
};

class JobStore {
 public:
  virtual ~JobStore() = default;
  // The embedded store (SqliteJobStore) in the file `path`.
  static Result<std::unique_ptr<JobStore>> open(const std::string& path);

  // Queues a job; `id` empty: a new one (an API job names its output after its id, so it makes it first).
  virtual Result<JobRecord> submit(const nlohmann::json& request, const std::string& kind,
                                   const std::string& id = "") = 0;
  // The oldest queued job, now running (attempts + 1) for this caller; nullopt when none is queued.
  virtual Result<std::optional<JobRecord>> claim() = 0;
  // Renews the lease of a job this caller runs and reads its cancel flag.
  virtual Result<LeaseState> heartbeat(const JobRecord& job) = 0;
  virtual Status update_progress(const JobRecord& job, const JobProgress& p) = 0;
  // Ends a running job: done (with result), failed (with error) or cancelled. kNotFound when the caller no
  // longer holds the job (its lease ran out): nothing is written.
  virtual Status finish(const JobRecord& job, const std::string& status, const std::string& error_code,
                        const std::string& error_message, const nlohmann::json& timings,
                        const nlohmann::json& result) = 0;
  // A running job handed back unfinished (the runner stops): queued again, this attempt not counted.
  virtual Status release(const JobRecord& job) = 0;
  virtual Result<JobRecord> get(const std::string& id) = 0;
  // Newest first; `status` empty: all.
  virtual Result<std::vector<JobRecord>> list(const std::string& status, int limit) = 0;
  // A queued job becomes cancelled at once; a running one gets cancel_requested (its runner stops it).
  // Finished jobs: kInvalidArgument with "already".
  virtual Result<JobRecord> cancel(const std::string& id) = 0;
  // Jobs left running by a runner that stopped: queued again (embedded: every running job, as one server
  // runs them all; PostgreSQL: those whose lease ran out). Returns how many.
  virtual Result<int> requeue_interrupted() = 0;
  virtual Result<std::pair<int64_t, int64_t>> counts() = 0;  // queued, running

  // How often a runner calls heartbeat() for each running job.
  virtual int heartbeat_ms() const { return 500; }
  // How long a lease lasts without a heartbeat (0: no leases). A runner that could not renew a lease for
  // this long stops the job itself, so it never runs beside the attempt that replaced it.
  virtual int lease_ms() const { return 0; }
  // Calls `on_new_job` (from another thread) when a job is queued anywhere; false when the store cannot
  // tell, and runners poll.
  virtual bool watch(std::function<void()> on_new_job) {
    (void)on_new_job;
    return false;
  }
  // Stops calling the watch() callback (its owner is going away); returns once it no longer runs.
  virtual void stop_watching() {}

  static int64_t now_ms();
};

// Where the queue lives: `database_url` (postgres://...) or else jobs.db in `data_dir`.
struct JobStoreConfig {
  std::string data_dir;
  std::string database_url;
  std::string worker_name;  // shown in job listings (PostgreSQL): host and process
  int lease_seconds = 30;
  int max_attempts = 3;
};
Result<std::unique_ptr<JobStore>> open_job_store(const JobStoreConfig& config);

// Removes what a run of `job` that stopped half-way may have left (the temporary output files), before a
// retry.
void remove_partial_output(const JobRecord& job);

nlohmann::json job_json(const JobRecord& job);
// A stored JSON column (capped like every outside input); `fallback` when empty, discarded when it does not
// parse.
nlohmann::json stored_job_json(const std::string& text, nlohmann::json fallback);

}  // namespace faceweave::server
