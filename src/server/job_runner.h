// Runs the queued jobs of a JobStore on `max_concurrent` threads through the Engine, writing progress
// (at most twice a second), per-stage timings and the outcome back to the store, and recording the run in
// telemetry like a CLI swap (surface "api"). A job cancelled through the store or cancel() stops within a
// frame and leaves no output. stop() interrupts running jobs and queues them again, so a restart resumes;
// drain() first lets them finish for a while (SIGTERM, docs/container.md).
// One heartbeat thread renews the lease of every running job (JobStore::heartbeat) and carries cancel
// requests from other processes to the job; a job whose lease was lost, or could not be renewed for most
// of its length (the database is unreachable), is stopped here, so it never runs twice at once.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "faceweave/engine.h"
#include "faceweave/telemetry.h"
#include "server/job_store.h"
#include "server/uploads.h"

namespace faceweave::server {

class JobRunner {
 public:
  JobRunner(JobStore& store, const Engine& engine, const UploadStore& uploads, Telemetry* telemetry,
            int max_concurrent);
  ~JobRunner();  // stop()

  void start();
  void stop();
  // Takes no more queued jobs (they stay queued for the next start or another server) and waits, at most
  // `timeout_ms`, for the running ones to finish. Returns how many still run; stop() queues them again.
  int drain(int timeout_ms);
  void wake();  // a job was queued
  // Sets the cancel flag of a job running here; false when it does not run here.
  bool cancel(const std::string& id);
  // Waits (at most `timeout_ms`) until job `id` no longer runs here.
  void wait_stopped(const std::string& id, int timeout_ms);
  // Called when a job changes state or progresses (for live views); may be null.
  std::function<void(const std::string& id)> on_change;
  // Test-only seam (null in the product): called on the job's thread at "starting" (the job is running
  // here, the engine not started yet) and "finishing" (the engine returned, its outcome not yet written),
  // and on the caller's thread at "cancelled" (cancel() set the job's flag). A test blocks in it to force
  // one interleaving of a cancel and a job's end. Set it before start().
  std::function<void(const std::string& id, const char* point)> test_hook;

 private:
  struct Running {
    JobRecord job;
    std::shared_ptr<std::atomic<bool>> cancel;
    std::chrono::steady_clock::time_point renewed;  // the last heartbeat that kept the lease
    std::atomic<bool> lease_lost{false};
  };
  void loop();
  void heartbeat_loop();
  void run(JobRecord job);

  JobStore& store_;
  const Engine& engine_;
  const UploadStore& uploads_;
  Telemetry* telemetry_;
  int max_concurrent_;
  std::vector<std::thread> threads_;
  std::thread heartbeat_;
  bool watching_ = false;  // the store wakes us when a job is queued elsewhere
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stopping_ = false;
  bool draining_ = false;
  bool woken_ = false;
  std::map<std::string, std::shared_ptr<Running>> running_;  // by job id
};

}  // namespace faceweave::server
