// The server's own counters for GET /metrics, in the Prometheus text exposition format 0.0.4 (docs/api.md,
// docs/analytics.md "Prometheus and Grafana"). One process-wide registry: every value counts from the start
// of this process (a restart starts again from zero, which Prometheus' rate() and increase() expect), and
// nothing is stored. Recording takes one short mutex and never allocates more than a new label set's entry,
// so it is cheap next to a swap run or an HTTP request; it is safe from any thread.
//
// What the registry holds is recorded where it happens (job_runner.cpp, api.cpp); what already lives
// elsewhere (jobs queued and running in the job store, the telemetry writer's counters) is read when
// /metrics is scraped.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "faceweave/status.h"
#include "faceweave/telemetry.h"
#include "fleet/fleet_views.h"

namespace faceweave::server {

struct HttpResponse;
class JobStore;

// A Prometheus label value: backslash, double quote and line feed escaped as the text format requires.
std::string prometheus_label_value(std::string_view value);
// A sample value: the shortest decimal that reads back as the same double; NaN, +Inf, -Inf spelled out.
std::string prometheus_number(double value);

class Metrics {
 public:
  // Upper bounds (seconds) of the duration histograms' buckets; +Inf follows them.
  static constexpr std::array<double, 20> kBuckets = {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
                                                      0.25,  0.5,    1,     2.5,  5,     10,   25,
                                                      50,    100,    250,   500,  1000,  3600};

  // The registry of this process.
  static Metrics& global();
  Metrics();

  // A finished swap: `kind` is "job" or "preview", `media` "image" or "video". kOk counts as done,
  // kCancelled as cancelled, anything else as failed (and in run errors by its code). `stage_ms` are the
  // run's per-stage totals (SwapReport::stage_ms), each observed once in its stage's histogram.
  void record_run(std::string_view kind, std::string_view media, StatusCode outcome, double seconds,
                  const std::vector<std::pair<std::string, double>>* stage_ms = nullptr);
  // An error answer of the API (Api::error): its HTTP status and code.
  void record_http_error(int status, std::string_view code);
  // An upload that was kept ("image" or "video") and its size.
  void record_upload(std::string_view kind, int64_t bytes);
  // One POST /api/events batch: events accepted into telemetry and refused by the checks.
  void record_client_events(int64_t accepted, int64_t rejected);
  // One POST /api/events batch refused with 429.
  void record_client_rate_limited();

  // What is read at scrape time.
  struct Snapshot {
    std::string version;
    std::optional<std::pair<int64_t, int64_t>> jobs;  // queued, running (none when the store failed)
    bool telemetry_enabled = false;
    std::optional<TelemetryStats> telemetry;  // none without a Telemetry
    // A fleet node: every node's telemetry from PostgreSQL's rollups (fleet_views.h); fleet_up false when
    // the database did not answer.
    bool fleet_node = false, fleet_up = false;
    fleet::FleetMetrics fleet;
  };
  // The whole exposition: every family with its # HELP and # TYPE lines.
  std::string render(const Snapshot& snapshot) const;

  double start_time_seconds() const { return start_time_s_; }

 private:
  struct Histogram {
    std::array<uint64_t, kBuckets.size()> counts{};  // per bucket, not cumulative (render sums them)
    uint64_t count = 0;
    double sum = 0;
    void observe(double seconds);
  };
  using Labels = std::vector<std::pair<std::string, std::string>>;

  double start_time_s_;
  mutable std::mutex mutex_;
  std::map<Labels, uint64_t> runs_;            // kind, media, outcome
  std::map<Labels, uint64_t> run_errors_;      // kind, code
  std::map<Labels, Histogram> run_seconds_;    // kind, media
  std::map<Labels, Histogram> stage_seconds_;  // stage, media
  std::map<Labels, uint64_t> http_errors_;     // status, code
  std::map<Labels, uint64_t> uploads_;         // kind
  uint64_t upload_bytes_ = 0;
  uint64_t client_accepted_ = 0, client_rejected_ = 0, client_rate_limited_ = 0;
};

// GET /metrics: the global registry with the job store's counts and the telemetry writer's counters.
// With a fleet database URL, the fleet's families (faceweave_fleet_*) come from PostgreSQL.
HttpResponse metrics_response(JobStore& jobs, const Telemetry* telemetry, const std::string& version,
                              const std::string& fleet_database_url = "");

}  // namespace faceweave::server
