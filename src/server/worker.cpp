// `faceweave worker`: a job runner with no HTTP server, on a PostgreSQL queue shared with API nodes.
#include <filesystem>
#include <thread>

#include <opencv2/core/utility.hpp>

#include "core/log.h"
#include "core/private_files.h"
#include "core/thread_pool.h"
#include "faceweave/server.h"
#include "fleet/event_shipper.h"
#include "pg/connection.h"
#include "server/job_runner.h"
#include "server/job_store.h"
#include "server/uploads.h"

namespace faceweave {
namespace fs = std::filesystem;

Status run_worker(const WorkerOptions& options, Telemetry* telemetry, const std::atomic<bool>* stop) {
  if (options.database_url.empty())
    return invalid_argument(
        "a worker needs the shared queue: give --database-url postgres://user:password@host:5432/db (or "
        "FACEWEAVE_DATABASE_URL); `faceweave serve` runs the jobs of a single machine itself");
  if (options.concurrency < 1 || options.concurrency > 64)
    return invalid_argument("--concurrency must be between 1 and 64");
  if (options.threads < 0 || options.threads > 256)
    return invalid_argument("--threads must be between 0 and 256");
  if (options.threads > 0) {
    cv::setNumThreads(options.threads);
    core::default_thread_limit().store(unsigned(options.threads));
  }
  core::restrict_umask();
  const std::string data_dir = resolve_data_dir(options.data_dir);
  FW_RETURN_IF_ERROR(core::make_private_dir(data_dir));
  const std::string media_dir = options.media_dir.empty() ? data_dir : options.media_dir;
  std::error_code ec;
  if (!fs::is_directory(media_dir, ec))
    return not_found("the media folder " + media_dir +
                     " does not exist; mount the folder the API nodes keep uploads and results in, and give "
                     "it as --media-dir");
  FW_ASSIGN_OR_RETURN(auto jobs, server::open_job_store({data_dir, options.database_url, options.name,
                                                         options.lease_seconds, options.max_attempts}));
  FW_ASSIGN_OR_RETURN(auto engine, Engine::create(options.engine));
  // Uploads are only read here (reference faces); the API nodes add and sweep them.
  server::UploadStore uploads((fs::path(media_dir) / "uploads").string(), {}, 24);
  server::JobRunner runner(*jobs, *engine, uploads, telemetry, options.concurrency);
  // The worker's own telemetry (its jobs' runs) goes to the fleet's events table.
  fleet::BackgroundShipper shipper(
      {(fs::path(data_dir) / "telemetry" / "events.db").string(), options.database_url, "", 5000}, 5000);
  runner.start();
  core::log_info("worker waiting for jobs on " + pg::redact(options.database_url));
  if (options.on_ready) options.on_ready();
  while (!(stop && stop->load())) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  runner.stop();  // running jobs go back to the queue for another worker
  return Status::ok();
}

}  // namespace faceweave
