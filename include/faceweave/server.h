// `faceweave serve`: the REST API (docs/api.md), the web UI and the durable job queue in one process; and
// the job queue as the `faceweave jobs` commands see it (the same store, usable with or without a running
// server); and `faceweave worker`, which runs the jobs of a queue on PostgreSQL shared by a fleet.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "faceweave/engine.h"
#include "faceweave/experiments.h"
#include "faceweave/options.h"
#include "faceweave/status.h"
#include "faceweave/telemetry.h"

namespace faceweave {

struct ServeOptions {
  std::string host = "127.0.0.1";
  int port = 7860;       // 0: any free port (on_listening tells which)
  std::string data_dir;  // empty: resolve_data_dir("")
  std::string token;     // required when host is not a loopback address
  // Replaces the built-in swap defaults of previews, jobs and GET /api/config (docs/experiments.md).
  std::optional<DefaultsProfile> defaults_profile;
  // Host names (besides the bound address, localhost, 127.0.0.1 and [::1]) the server answers to; requests
  // naming any other host are refused (DNS rebinding, docs/security.md).
  std::vector<std::string> allowed_hosts;
  int max_concurrent_jobs = 1;
  std::string web_dir;  // empty: the UI this build made
  double upload_retention_hours = 24;
  int64_t max_image_bytes = 50ll << 20;
  int64_t max_video_bytes = 2ll << 30;
  // Width x height an uploaded image may have (a small file can declare a huge image).
  int64_t max_image_pixels = 50'000'000;
  // Pixels decoded at once across all requests (uploads, previews, jobs); more decodes wait their turn.
  int64_t decode_budget_pixels = 150'000'000;
  double events_per_second = 20;  // /api/events batches per client address
  // After the stop signal: new jobs are refused and running ones get this long to finish before they are
  // interrupted and queued again. Under the 10 s that `docker stop` and `podman stop` wait before they
  // kill; orchestrators that wait longer (Kubernetes: 30 s) can allow more.
  double drain_seconds = 8;
  EngineOptions engine;
  std::function<void(const std::string& url)> on_listening;
  // A fleet (docs/fleet.md): the job queue on PostgreSQL instead of <data dir>/jobs.db, and the folder every
  // node mounts for uploads and results (default: the data dir). max_concurrent_jobs may then be 0: this
  // node only serves the API and `faceweave worker` processes run the jobs.
  std::string database_url;
  std::string media_dir;
  int lease_seconds = 30;  // see WorkerOptions
  int max_attempts = 3;
  // The fleet's events: day partitions older than this are dropped (once an hour, by this node; workers
  // only make partitions ahead). 0 keeps them all; the per-day rollups are kept either way.
  int fleet_retention_days = 90;
  // A line per request worth showing (server/request_log.h: pages, uploads, previews, jobs, downloads,
  // errors); called from the server's threads.
  std::function<void(const std::string& line)> on_request;
};

// Runs until *stop becomes true (checked a few times a second), then drains: no new jobs, running jobs
// get drain_seconds to finish; the rest are interrupted and queued again, so the next start resumes them.
Status serve(const ServeOptions& options, Telemetry* telemetry, const std::atomic<bool>* stop);

// `faceweave worker`: runs the jobs of a PostgreSQL queue (docs/fleet.md) until *stop becomes true; its
// running jobs are then handed back to the queue.
struct WorkerOptions {
  std::string database_url;  // postgres://user:password@host:5432/db (required)
  std::string media_dir;     // the folder the API nodes keep uploads and results in (default: the data dir)
  std::string data_dir;      // empty: resolve_data_dir("")
  std::string name;          // in lease tokens and listings; empty: <host>:<pid>
  int concurrency = 1;       // jobs run at once
  // Cores one job may use (OpenCV's threads for an image, the frame pool of a video); 0: all of them.
  // Several workers on one machine each take a share instead of all contending for every core.
  int threads = 0;
  // A job whose worker did not renew its lease for this long is given to another worker, up to
  // max_attempts runs in all.
  int lease_seconds = 30;
  int max_attempts = 3;
  EngineOptions engine;
  std::function<void()> on_ready;  // called once the queue is reachable and the worker waits for jobs
};
Status run_worker(const WorkerOptions& options, Telemetry* telemetry, const std::atomic<bool>* stop);

// Where `faceweave jobs` finds the queue: PostgreSQL when database_url is set, else <data_dir>/jobs.db.
// Outputs go by default to <media_dir or data dir>/results.
struct JobQueueLocation {
  std::string data_dir;
  std::string database_url;
  std::string media_dir;
};

// One job as `faceweave jobs` shows it; `json` is the same object as GET /api/jobs/{id}.
struct JobView {
  std::string id;
  std::string status;
  std::string kind;
  double progress = 0;
  std::string created_at;
  std::string output;  // the output file (jobs submitted from the CLI)
  std::string error;   // failed jobs: the message
  std::string json;
};

// Queues one job per source x target (sources are photos; each job uses one source unless `combine`:
// then every source forms one identity). Options are checked by the same code as `faceweave swap`.
// Outputs go to `output_dir` (default <data dir>/results) as <target>-<source>.<ext>.
struct JobSubmitRequest {
  std::vector<std::string> sources;  // paths (globs are expanded by the caller)
  std::vector<std::string> targets;
  bool combine = false;
  std::string output_dir;
  std::string output_format;  // empty: the target's
  SwapOptions options;
  VideoOptions video;
  std::string options_json;  // when set: the options as the API takes them (replaces options and video)
  // The defaults `faceweave swap` would run with (docs/experiments.md): this profile's values and, when
  // `telemetry` records usage, each running experiment's arm for its user, for the options left unset.
  // Each job records its exposures under a run id of its own, which the job's events carry when it runs.
  const DefaultsProfile* defaults_profile = nullptr;
  Telemetry* telemetry = nullptr;
  // Options (as the API names them: color_match) the user set by a flag, also when the value equals the
  // built-in default (a profile's or an arm's default must not replace what the user asked for).
  std::vector<std::string> given;
};
Result<std::vector<JobView>> submit_jobs(const JobQueueLocation& queue, const JobSubmitRequest& request);
Result<std::vector<JobView>> list_jobs(const JobQueueLocation& queue, const std::string& status, int limit);
Result<JobView> show_job(const JobQueueLocation& queue, const std::string& id);
Result<JobView> cancel_job(const JobQueueLocation& queue, const std::string& id);

}  // namespace faceweave
