#include "server/metrics.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>

#include "pg/connection.h"
#include "server/api.h"
#include "server/job_store.h"

namespace faceweave::server {
namespace {

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Taken while the program's static objects are set up: the start of the process, as far as it matters.
const double kProcessStart = now_seconds();

std::string outcome_name(StatusCode code) {
  if (code == StatusCode::kOk) return "done";
  if (code == StatusCode::kCancelled) return "cancelled";
  return "failed";
}

class Writer {
 public:
  void family(std::string_view name, std::string_view type, std::string_view help) {
    out_ += "# HELP ";
    out_ += name;
    out_ += ' ';
    for (char c : help) {  // HELP text escapes backslash and line feed (not quotes)
      if (c == '\\') {
        out_ += "\\\\";
      } else if (c == '\n') {
        out_ += "\\n";
      } else {
        out_ += c;
      }
    }
    out_ += "\n# TYPE ";
    out_ += name;
    out_ += ' ';
    out_ += type;
    out_ += '\n';
  }

  void sample(std::string_view name, const std::vector<std::pair<std::string, std::string>>& labels,
              double value) {
    out_ += name;
    if (!labels.empty()) {
      out_ += '{';
      for (size_t i = 0; i < labels.size(); ++i) {
        if (i) out_ += ',';
        out_ += labels[i].first;
        out_ += "=\"";
        out_ += prometheus_label_value(labels[i].second);
        out_ += '"';
      }
      out_ += '}';
    }
    out_ += ' ';
    out_ += prometheus_number(value);
    out_ += '\n';
  }

  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

template <typename Map>
void counters(Writer& w, std::string_view name, std::string_view help, const Map& values) {
  w.family(name, "counter", help);
  for (const auto& [labels, v] : values) w.sample(name, labels, double(v));
}

}  // namespace

std::string prometheus_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
  return out;
}

std::string prometheus_number(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buf[32];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  return ec == std::errc() ? std::string(buf, end) : std::to_string(value);
}

void Metrics::Histogram::observe(double seconds) {
  for (size_t i = 0; i < kBuckets.size(); ++i) {
    if (seconds <= kBuckets[i]) {
      ++counts[i];
      break;
    }
  }
  ++count;  // above the last bound: only in +Inf, which is the count
  sum += seconds;
}

Metrics& Metrics::global() {
  static Metrics metrics;
  return metrics;
}

Metrics::Metrics() : start_time_s_(kProcessStart) {
  // Every run series exists from the start with 0, so rate() and alerts see the first increase.
  for (const char* media : {"image", "video"})
    for (const char* outcome : {"done", "failed", "cancelled"})
      runs_[{{"kind", "job"}, {"media", media}, {"outcome", outcome}}] = 0;
  for (const char* outcome : {"done", "failed"})
    runs_[{{"kind", "preview"}, {"media", "image"}, {"outcome", outcome}}] = 0;
  for (const char* kind : {"image", "video"}) uploads_[{{"kind", kind}}] = 0;
}

void Metrics::record_run(std::string_view kind, std::string_view media, StatusCode outcome, double seconds,
                         const std::vector<std::pair<std::string, double>>* stage_ms) {
  const std::string k(kind), m(media);
  std::lock_guard lock(mutex_);
  ++runs_[{{"kind", k}, {"media", m}, {"outcome", outcome_name(outcome)}}];
  if (outcome != StatusCode::kOk && outcome != StatusCode::kCancelled)
    ++run_errors_[{{"kind", k}, {"code", status_code_name(outcome)}}];
  run_seconds_[{{"kind", k}, {"media", m}}].observe(seconds);
  if (stage_ms)
    for (const auto& [stage, ms] : *stage_ms)
      stage_seconds_[{{"stage", stage}, {"media", m}}].observe(ms / 1000);
}

void Metrics::record_http_error(int status, std::string_view code) {
  std::lock_guard lock(mutex_);
  ++http_errors_[{{"status", std::to_string(status)}, {"code", std::string(code)}}];
}

void Metrics::record_upload(std::string_view kind, int64_t bytes) {
  std::lock_guard lock(mutex_);
  ++uploads_[{{"kind", std::string(kind)}}];
  upload_bytes_ += uint64_t(std::max<int64_t>(0, bytes));
}

void Metrics::record_client_events(int64_t accepted, int64_t rejected) {
  std::lock_guard lock(mutex_);
  client_accepted_ += uint64_t(std::max<int64_t>(0, accepted));
  client_rejected_ += uint64_t(std::max<int64_t>(0, rejected));
}

void Metrics::record_client_rate_limited() {
  std::lock_guard lock(mutex_);
  ++client_rate_limited_;
}

std::string Metrics::render(const Snapshot& snap) const {
  Writer w;
  w.family("faceweave_build_info", "gauge", "Always 1; the version of this faceweave server as a label.");
  w.sample("faceweave_build_info", {{"version", snap.version}}, 1);
  w.family("process_start_time_seconds", "gauge",
           "Start time of the process since the Unix epoch in seconds.");
  w.sample("process_start_time_seconds", {}, start_time_s_);

  if (snap.jobs) {
    w.family("faceweave_jobs_queued", "gauge", "Jobs waiting in the job store of this data dir.");
    w.sample("faceweave_jobs_queued", {}, double(snap.jobs->first));
    w.family("faceweave_jobs_running", "gauge", "Jobs running now.");
    w.sample("faceweave_jobs_running", {}, double(snap.jobs->second));
  }

  std::lock_guard lock(mutex_);
  counters(w, "faceweave_runs_total",
           "Swap runs finished by this process: jobs and previews, by target media and outcome.", runs_);
  counters(w, "faceweave_run_errors_total", "Failed swap runs by status code.", run_errors_);
  auto histograms = [&w](std::string_view name, std::string_view help,
                         const std::map<Labels, Histogram>& hs) {
    w.family(name, "histogram", help);
    const std::string bucket = std::string(name) + "_bucket";
    for (const auto& [labels, h] : hs) {
      Labels with_le = labels;
      with_le.emplace_back("le", "");
      uint64_t cumulative = 0;
      for (size_t i = 0; i < kBuckets.size(); ++i) {
        cumulative += h.counts[i];
        with_le.back().second = prometheus_number(kBuckets[i]);
        w.sample(bucket, with_le, double(cumulative));
      }
      with_le.back().second = "+Inf";
      w.sample(bucket, with_le, double(h.count));
      w.sample(std::string(name) + "_sum", labels, h.sum);
      w.sample(std::string(name) + "_count", labels, double(h.count));
    }
  };
  histograms("faceweave_run_duration_seconds",
             "Wall time of swap runs (jobs and previews), whatever their outcome.", run_seconds_);
  histograms("faceweave_stage_duration_seconds",
             "Time of one pipeline stage in one successful run (for a video, over all its frames).",
             stage_seconds_);
  counters(w, "faceweave_http_errors_total", "Error answers of the API by HTTP status and error code.",
           http_errors_);
  counters(w, "faceweave_uploads_total", "Uploads kept, by kind.", uploads_);
  w.family("faceweave_upload_bytes_total", "counter", "Bytes of the uploads kept.");
  w.sample("faceweave_upload_bytes_total", {}, double(upload_bytes_));
  w.family("faceweave_client_events_total", "counter",
           "Browser events sent to /api/events: accepted into telemetry or rejected by its checks.");
  w.sample("faceweave_client_events_total", {{"result", "accepted"}}, double(client_accepted_));
  w.sample("faceweave_client_events_total", {{"result", "rejected"}}, double(client_rejected_));
  w.family("faceweave_client_event_batches_rate_limited_total", "counter",
           "Batches refused by /api/events with 429 (too many from one client).");
  w.sample("faceweave_client_event_batches_rate_limited_total", {}, double(client_rate_limited_));

  w.family("faceweave_telemetry_enabled", "gauge",
           "1 when telemetry events are being stored, 0 when consent is off or its database failed.");
  w.sample("faceweave_telemetry_enabled", {}, snap.telemetry_enabled ? 1 : 0);
  if (snap.telemetry) {
    const TelemetryStats& t = *snap.telemetry;
    w.family("faceweave_telemetry_events_total", "counter",
             "Telemetry events of this process: committed to the database, dropped because the queue was "
             "full, rejected by the allow-list, sampled out, or lost to a database failure.");
    const std::pair<const char*, uint64_t> results[] = {{"committed", t.committed},
                                                        {"dropped", t.dropped},
                                                        {"rejected", t.rejected},
                                                        {"sampled_out", t.sampled_out},
                                                        {"failed", t.failed}};
    for (const auto& [result, n] : results)
      w.sample("faceweave_telemetry_events_total", {{"result", result}}, double(n));
  }
  if (snap.fleet_node) {
    w.family(
        "faceweave_fleet_up", "gauge",
        "1 when the fleet's PostgreSQL answered this scrape (the faceweave_fleet_* families come from it).");
    w.sample("faceweave_fleet_up", {}, snap.fleet_up ? 1 : 0);
  }
  if (snap.fleet_up) {
    const fleet::FleetMetrics& f = snap.fleet;
    w.family("faceweave_fleet_nodes", "gauge", "Nodes that have shipped telemetry to the fleet's database.");
    w.sample("faceweave_fleet_nodes", {}, double(f.nodes));
    w.family("faceweave_fleet_events_total", "counter",
             "Telemetry events of every node stored in the fleet's database, by event (whatever retention "
             "dropped included).");
    for (const auto& [event, n] : f.events)
      w.sample("faceweave_fleet_events_total", {{"event", event}}, double(n));
    w.family("faceweave_fleet_users", "gauge",
             "Distinct users of the fleet over the last 1, 7 and 30 days (UTC, today included): HyperLogLog "
             "sketches (method hll) or, without the extension, an exact count (method exact).");
    for (const auto& [days, n] : f.users)
      w.sample("faceweave_fleet_users",
               {{"window", std::to_string(days) + "d"}, {"method", f.exact_users ? "exact" : "hll"}}, n);
  }
  return w.take();
}

namespace {
// One connection for the scrapes of a fleet node (a scrape every few seconds at most).
Result<fleet::FleetMetrics> read_fleet_metrics(const std::string& url) {
  static std::mutex mutex;
  static std::unique_ptr<pg::Connection> conn;
  std::lock_guard lock(mutex);
  if (!conn) {
    auto c = pg::Connection::connect(url, "faceweave metrics");
    if (!c) return c.status();
    conn = std::move(*c);
  }
  return fleet::fleet_metrics(*conn);
}
}  // namespace

HttpResponse metrics_response(JobStore& jobs, const Telemetry* telemetry, const std::string& version,
                              const std::string& fleet_database_url) {
  Metrics::Snapshot snap;
  snap.version = version;
  if (auto counts = jobs.counts()) snap.jobs = *counts;
  if (telemetry) {
    snap.telemetry_enabled = telemetry->enabled();
    snap.telemetry = telemetry->stats();
  }
  if (!fleet_database_url.empty()) {
    snap.fleet_node = true;
    auto f = read_fleet_metrics(fleet_database_url);
    snap.fleet_up = bool(f);
    if (f) snap.fleet = std::move(*f);
  }
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4; charset=utf-8";
  r.body = Metrics::global().render(snap);
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace faceweave::server
