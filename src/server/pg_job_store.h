// The job queue on PostgreSQL (table faceweave_jobs), shared by API nodes and `faceweave worker` processes
// on many machines (docs/fleet.md).
// - claim: the oldest queued job, taken with SELECT ... FOR UPDATE SKIP LOCKED, so two workers never take
//   the same row; the job gets a lease (lease_expires, the database's clock) and a lease token
//   (worker = "<name>#<attempt>").
// - heartbeat renews the lease and reads the cancel flag; finish and progress only write while the caller
//   holds the token, so a worker that lost its lease cannot overwrite the attempt that replaced it.
// - A job whose lease ran out (a killed worker, a lost network) is queued again by the next claim, or
//   failed once it used max_attempts.
// - submit and release NOTIFY faceweave_jobs; watch() LISTENs on a second connection (reconnecting with
//   backoff) so idle workers wake at once, polling only as a fallback.
// Thread-safe: one connection behind a mutex for the statements, one for LISTEN.
#pragma once

#include <atomic>
#include <mutex>
#include <thread>

#include "pg/connection.h"
#include "server/job_store.h"

namespace faceweave::server {

struct PgJobStoreOptions {
  std::string url;
  std::string worker_name;  // this process, in lease tokens
  int lease_seconds = 30;
  int max_attempts = 3;  // given to the jobs this store queues
};

class PgJobStore : public JobStore {
 public:
  static Result<std::unique_ptr<PgJobStore>> open(const PgJobStoreOptions& options);
  ~PgJobStore() override;

  Result<JobRecord> submit(const nlohmann::json& request, const std::string& kind,
                           const std::string& id = "") override;
  Result<std::optional<JobRecord>> claim() override;
  Result<LeaseState> heartbeat(const JobRecord& job) override;
  Status update_progress(const JobRecord& job, const JobProgress& p) override;
  Status finish(const JobRecord& job, const std::string& status, const std::string& error_code,
                const std::string& error_message, const nlohmann::json& timings,
                const nlohmann::json& result) override;
  Status release(const JobRecord& job) override;
  Result<JobRecord> get(const std::string& id) override;
  Result<std::vector<JobRecord>> list(const std::string& status, int limit) override;
  Result<JobRecord> cancel(const std::string& id) override;
  Result<int> requeue_interrupted() override;
  Result<std::pair<int64_t, int64_t>> counts() override;
  int heartbeat_ms() const override;
  int lease_ms() const override { return options_.lease_seconds * 1000; }
  bool watch(std::function<void()> on_new_job) override;
  void stop_watching() override;

 private:
  explicit PgJobStore(PgJobStoreOptions options) : options_(std::move(options)) {}
  Result<pg::Rows> exec(const std::string& sql, const pg::Params& params = {});
  Result<int> reap_expired();
  void listen_loop(std::function<void()> on_new_job);

  PgJobStoreOptions options_;
  std::unique_ptr<pg::Connection> conn_;
  std::mutex mutex_;
  std::thread listener_;
  std::atomic<bool> stopping_{false};
};

}  // namespace faceweave::server
