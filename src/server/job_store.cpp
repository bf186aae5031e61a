#include "server/job_store.h"

#include <unistd.h>

#include <chrono>
#include <cmath>
#include <ctime>
#include <filesystem>

#include "server/json_input.h"
#include "server/pg_job_store.h"
#include "server/sqlite_job_store.h"

namespace faceweave::server {
namespace {
using nlohmann::json;
namespace fs = std::filesystem;

std::string iso_time(int64_t ms) {
  if (ms <= 0) return "";
  std::time_t t = ms / 1000;
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace

int64_t JobStore::now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<std::unique_ptr<JobStore>> JobStore::open(const std::string& path) {
  FW_ASSIGN_OR_RETURN(auto store, SqliteJobStore::open(path));
  return std::unique_ptr<JobStore>(std::move(store));
}

Result<std::unique_ptr<JobStore>> open_job_store(const JobStoreConfig& config) {
  if (config.database_url.empty()) return JobStore::open((fs::path(config.data_dir) / "jobs.db").string());
  PgJobStoreOptions options;
  options.url = config.database_url;
  options.lease_seconds = config.lease_seconds;
  options.max_attempts = config.max_attempts;
  options.worker_name = config.worker_name;
  if (options.worker_name.empty()) {
    char host[256] = "";
    ::gethostname(host, sizeof host - 1);
    options.worker_name = std::string(host) + ":" + std::to_string(::getpid());
  }
  FW_ASSIGN_OR_RETURN(auto store, PgJobStore::open(options));
  return std::unique_ptr<JobStore>(std::move(store));
}

// A stored column as JSON (capped like every outside input: an older version stored requests unchecked);
// `fallback` when the column is empty, discarded when it does not parse.
json stored_job_json(const std::string& text, json fallback) {
  if (text.empty()) return fallback;
  auto parsed = parse_json_input(text, "a stored job");
  return parsed ? std::move(parsed).value() : json(json::value_t::discarded);
}

void remove_partial_output(const JobRecord& job) {
  const std::string output = job.request.value("output", std::string());
  if (output.empty()) return;
  // The image writer's temporary file sits beside the output (<output>.partial), the video writer's is
  // hidden (.<name>.partial); both are renamed into place only when complete.
  const fs::path out(output);
  std::error_code ec;
  fs::remove(fs::path(output + ".partial"), ec);
  fs::remove(out.parent_path() / ("." + out.filename().string() + ".partial"), ec);
}

json job_json(const JobRecord& j) {
  auto time_or_null = [](int64_t ms) { return ms > 0 ? json(iso_time(ms)) : json(nullptr); };
  json out{{"id", j.id},
           {"status", j.status},
           {"kind", j.kind},
           {"progress", std::round(j.progress * 1000) / 1000},
           {"created_at", time_or_null(j.created_ms)},
           {"started_at", time_or_null(j.started_ms)},
           {"finished_at", time_or_null(j.finished_ms)},
           {"attempts", j.attempts},
           {"sources", j.request.value("source_ids", j.request.value("sources", json::array()))},
           {"target", j.request.value("target_id", j.request.value("target", std::string()))},
           {"options", j.request.value("options", json::object())},
           {"origin", j.request.value("origin", std::string("api"))},
           {"timings", j.timings},
           {"error", j.error_code.empty() ? json(nullptr)
                                          : json{{"code", j.error_code}, {"message", j.error_message}}},
           {"result", nullptr}};
  if (j.kind == "video") {
    out["frames_done"] = j.frames_done;
    out["frames_total"] = j.frames_total;
    out["fps"] = std::round(j.fps * 100) / 100;
    out["eta_s"] = std::round(j.eta_s * 10) / 10;
  }
  if (j.status == "done" && j.result.is_object()) {
    out["result"] = j.result;
    out["result"]["url"] = "/api/jobs/" + j.id + "/result";
  }
  return out;
}

}  // namespace faceweave::server
