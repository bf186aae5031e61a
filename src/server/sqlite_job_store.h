// The embedded job queue: one SQLite table (jobs.db in the data dir) shared by `faceweave serve` and the
// `faceweave jobs` commands. One server runs the jobs, so there are no leases: a job that was running when
// the server stopped is queued again at the next start (requeue_interrupted). Thread-safe.
#pragma once

#include <mutex>

#include "server/job_store.h"

struct sqlite3;

namespace faceweave::server {

class SqliteJobStore : public JobStore {
 public:
  static Result<std::unique_ptr<SqliteJobStore>> open(const std::string& path);
  ~SqliteJobStore() override;

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

 private:
  SqliteJobStore() = default;
  Status exec(const std::string& sql);
  sqlite3* db_ = nullptr;
  std::string path_;
  std::mutex mutex_;
};

}  // namespace faceweave::server
