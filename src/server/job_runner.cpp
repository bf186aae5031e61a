#include "server/job_runner.h"

#include <pthread.h>

#include <chrono>
#include <filesystem>

#include "core/log.h"
#include "server/metrics.h"
#include "server/options_json.h"
#include "server/run_defaults.h"

namespace faceweave::server {
namespace {
using nlohmann::json;
using Clock = std::chrono::steady_clock;

// The job's options in telemetry, as the CLI records a swap's changed flags.
void record_options(Telemetry* t, const json& options) {
  if (!t || !options.is_object()) return;
  for (const auto& [key, v] : options.items()) {
    if (v.is_number()) {
      t->record_option("swap", key, v.get<double>());
    } else if (v.is_boolean()) {
      t->record_option("swap", key, v.get<bool>() ? "true" : "false");
    } else if (v.is_array() && !v.empty() && v[0].is_string()) {
      for (const auto& e : v) t->record_option("swap", key, e.get<std::string>());
    } else if (v.is_string() && key != "reference_face_image") {
      t->record_option("swap", key, v.get<std::string>());
    } else {
      t->record_option("swap", key);
    }
  }
}

}  // namespace

JobRunner::JobRunner(JobStore& store, const Engine& engine, const UploadStore& uploads, Telemetry* telemetry,
                     int max_concurrent)
    : store_(store),
      engine_(engine),
      uploads_(uploads),
      telemetry_(telemetry),
      max_concurrent_(max_concurrent) {}

JobRunner::~JobRunner() {
  stop();
}

void JobRunner::start() {
  watching_ = store_.watch([this] { wake(); });
  for (int i = 0; i < max_concurrent_; ++i) threads_.emplace_back([this] { loop(); });
  heartbeat_ = std::thread([this] { heartbeat_loop(); });
}

void JobRunner::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && threads_.empty()) return;
    stopping_ = true;
    for (auto& [id, r] : running_) r->cancel->store(true);
  }
  cv_.notify_all();
  store_.stop_watching();  // the store's listener calls wake() on this runner
  for (auto& t : threads_) t.join();
  threads_.clear();
  if (heartbeat_.joinable()) heartbeat_.join();
}

int JobRunner::drain(int timeout_ms) {
  std::unique_lock lock(mutex_);
  draining_ = true;
  cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [this] { return running_.empty(); });
  return int(running_.size());
}

void JobRunner::wake() {
  {
    std::lock_guard lock(mutex_);
    woken_ = true;
  }
  cv_.notify_all();
}

bool JobRunner::cancel(const std::string& id) {
  {
    std::lock_guard lock(mutex_);
    auto it = running_.find(id);
    if (it == running_.end()) return false;
    it->second->cancel->store(true);
  }
  if (test_hook) test_hook(id, "cancelled");
  return true;
}

void JobRunner::wait_stopped(const std::string& id, int timeout_ms) {
  std::unique_lock lock(mutex_);
  cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return running_.count(id) == 0; });
}

void JobRunner::loop() {
  // Named, so `top -H`, profilers and bench/fleet_workers.sh tell a job's own thread from OpenCV's pool.
  pthread_setname_np(pthread_self(), "fw-job");
  while (true) {
    {
      std::unique_lock lock(mutex_);
      if (stopping_) return;
      if (draining_) {  // no new claims: wait for stop()
        cv_.wait(lock, [this] { return stopping_; });
        return;
      }
    }
    auto claimed = store_.claim();
    if (!claimed) {
      core::log_error("job queue: " + claimed.status().message());
    } else if (claimed->has_value()) {
      run(std::move(**claimed));
      continue;
    }
    // Nothing queued: wait for a submission here, or poll (jobs also arrive from `faceweave jobs submit`).
    // A store that announces new jobs (PostgreSQL's NOTIFY) wakes us; the slower poll then only catches
    // what a lost notification or an expired lease left.
    std::unique_lock lock(mutex_);
    cv_.wait_for(lock, std::chrono::seconds(watching_ ? 5 : 1), [this] { return stopping_ || woken_; });
    woken_ = false;
  }
}

void JobRunner::heartbeat_loop() {
  pthread_setname_np(pthread_self(), "fw-heartbeat");
  const auto interval = std::chrono::milliseconds(store_.heartbeat_ms());
  // Past two thirds of a lease without a renewal the job stops here: the lease runs out on the database's
  // clock a third of a lease later, and only then may another worker take the job.
  const auto fence = std::chrono::milliseconds(store_.lease_ms() * 2 / 3);
  while (true) {
    std::vector<std::shared_ptr<Running>> jobs;
    {
      std::unique_lock lock(mutex_);
      cv_.wait_for(lock, interval, [this] { return stopping_; });
      if (stopping_) return;
      for (auto& [id, r] : running_) jobs.push_back(r);
    }
    for (auto& r : jobs) {
      if (r->lease_lost) continue;
      auto state = store_.heartbeat(r->job);
      const auto now = Clock::now();
      if (state && state->owned) {
        r->renewed = now;
        if (state->cancel_requested) r->cancel->store(true);
      } else if (state || (store_.lease_ms() > 0 && now - r->renewed > fence)) {
        core::log_warning("job " + r->job.id + ": " +
                          (state ? std::string("its lease was taken over")
                                 : "the lease could not be renewed (" + state.status().message() + ")") +
                          "; stopping it here so it never runs twice");
        r->lease_lost = true;
        r->cancel->store(true);
      }
    }
  }
}

void JobRunner::run(JobRecord job) {
  auto running = std::make_shared<Running>();
  running->job = job;
  running->cancel = std::make_shared<std::atomic<bool>>(job.cancel_requested);
  running->renewed = Clock::now();
  auto cancel = running->cancel;
  {
    std::lock_guard lock(mutex_);
    running_[job.id] = running;
  }
  // An earlier attempt that died half-way may have left its temporary output.
  if (job.attempts > 1) remove_partial_output(job);
  if (on_change) on_change(job.id);
  const auto started = Clock::now();
  const json& req = job.request;
  SwapRequest request;
  Status status;
  JobOptions options;
  FieldError field_error;
  // The defaults resolved at submission (profile, experiment arms), then the user's own options.
  const bool parsed = parse_job_options(
      merged_options(req.value("defaults", json::object()), req.value("options", json::object())), options,
      field_error, [this](const std::string& ref) -> Result<std::string> {
        if (is_upload_id(ref)) {
          FW_ASSIGN_OR_RETURN(auto u, uploads_.get(ref));
          return u.path;
        }
        return ref;  // a path given to `faceweave jobs submit`
      });
  if (!parsed) status = field_error.status;
  request.sources = req.value("sources", std::vector<std::string>{});
  request.target = req.value("target", std::string());
  request.output = req.value("output", std::string());
  request.options = options.swap;
  request.video = options.video;
  request.cancel = cancel.get();
  auto last_write = std::make_shared<Clock::time_point>();
  // Cancellation from another process (`faceweave jobs cancel`) arrives through the heartbeat.
  request.on_progress = [this, &job, last_write](const VideoProgressInfo& p) {
    const auto now = Clock::now();
    const bool last = p.frames_total > 0 && p.frames_done >= p.frames_total;
    if (now - *last_write < std::chrono::milliseconds(500) && !last) return;
    *last_write = now;
    JobProgress jp{p.frames_total > 0 ? std::min(1.0, double(p.frames_done) / double(p.frames_total)) : 0,
                   p.frames_done, p.frames_total, p.fps, p.eta_s};
    (void)store_.update_progress(job, jp);
    if (on_change) on_change(job.id);
  };
  if (test_hook) test_hook(job.id, "starting");
  // A cancel that reached the job before the engine started wins (an image swap does not look at the flag).
  if (status.is_ok() && cancel->load())
    status = Status(StatusCode::kCancelled, "cancelled before it started");
  Result<SwapReport> report = status.is_ok() ? engine_.swap(request) : Result<SwapReport>(status);
  if (test_hook) test_hook(job.id, "finishing");
  const double ms = std::chrono::duration<double, std::milli>(Clock::now() - started).count();
  bool shutting_down;
  {
    std::lock_guard lock(mutex_);
    shutting_down = stopping_;
  }
  json timings = json::object();
  json result;
  std::string final_status = "done", code, message;
  if (report) {
    for (const auto& [stage, v] : report->stage_ms) timings[stage] = std::round(v * 10) / 10;
    std::error_code ec;
    result = {{"bytes", int64_t(std::filesystem::file_size(request.output, ec))},
              {"faces_swapped", report->faces_swapped},
              {"width", report->output_width},
              {"height", report->output_height},
              {"format", std::filesystem::path(request.output).extension().string().substr(1)}};
    if (report->video) {
      result["frames"] = report->frames;
      result["frames_without_face"] = report->frames_without_face;
      result["audio"] = report->audio;
    }
    if (!report->warning.empty()) result["warning"] = report->warning;
    if (req.value("origin", std::string()) == "cli") result["output"] = request.output;
  } else if (report.status().code() == StatusCode::kCancelled) {
    final_status = "cancelled";
  } else {
    final_status = "failed";
    code = status_code_name(report.status().code());
    message = report.status().message();
  }
  if (running->lease_lost.load()) {
    // Another attempt owns the job now: its outcome is the one that counts.
    remove_partial_output(job);
  } else if (final_status == "cancelled" && shutting_down && !job.cancel_requested) {
    // The runner stops: the job runs again at the next start, or on another worker.
    if (Status s = store_.release(job); !s.is_ok()) core::log_error("job " + job.id + ": " + s.message());
  } else {
    if (Status s = store_.finish(job, final_status, code, message, timings, result); !s.is_ok())
      core::log_error("job " + job.id + ": " + s.message());
    Metrics::global().record_run("job", job.kind, report ? StatusCode::kOk : report.status().code(),
                                 ms / 1000, report ? &report->stage_ms : nullptr);
    if (Telemetry* t = telemetry_) {
      // Joins this job's events, and samples them together: the run its exposures were recorded under at
      // submission, and the submitter's (a browser user's pseudonym and platform) when it was not the
      // server's own user.
      TelemetryRun run(req.value("run", std::string()), req.value("user", std::string()),
                       req.value("platform", std::string()));
      const StatusCode outcome = report ? StatusCode::kOk : report.status().code();
      const ProviderInfo& p = engine_.provider();
      const bool fallback = !p.fallback_reason.empty() && p.requested != p.used;
      record_options(t, req.value("options", json::object()));
      t->record_command("swap", outcome, ms, 0, int(req.value("options", json::object()).size()), "api",
                        p.used, p.requested, fallback);
      if (fallback) t->record_provider_fallback(p.requested, p.used);
      if (report) {
        t->record_stages(report->stage_ms, report->output_width, report->output_height,
                         report->video ? int(report->frames) : 1, report->video ? "video" : "image",
                         report->input_width, report->input_height);
      } else if (outcome != StatusCode::kCancelled) {
        t->record_error("swap", outcome, "api", p.requested, p.used, fallback);
      }
    }
  }
  {
    std::lock_guard lock(mutex_);
    running_.erase(job.id);
  }
  cv_.notify_all();
  if (on_change) on_change(job.id);
}

}  // namespace faceweave::server
