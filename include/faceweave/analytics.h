// Usage analytics over the telemetry events database (docs/analytics.md).
//
// Rollups: opening a database installs (idempotently, versioned by the meta row `analytics_schema`) a few
// small tables next to the events: per day (and, for command runs, per hour), event, version, platform and
// key property (counts re-weighted by 1/sample_rate, sums and counts of durations), a log-spaced histogram
// of per-frame stage times per day, per-user state and per-cohort-day aggregates for funnel, retention and
// switched-off defaults. They are not touched by the telemetry writer: refresh() folds the events and
// sessions stored since the last fold (an id watermark in meta) into them, and every view folds first, so
// it answers with up-to-date numbers from the rollups alone (never scanning raw events) and stays fast
// with millions of events. rebuild() recomputes them from the raw events.
//
// Views return an InsightsTable: named columns, rows of JSON values, a summary object and notes; the CLI
// prints it as a text table, JSON or CSV, and a server can return to_json() as is.
//
// Thread contract: one Analytics belongs to one thread at a time (a server wraps it in a mutex).
//
//   auto a = Analytics::open(resolve_data_dir(""));      // NotFound when telemetry never stored anything
//   InsightsFilter f; f.from = "2025-05-01"; f.to = "2025-05-31";
//   auto t = (*a)->view("latency", f);                    // or feature_usage(f), funnel(f), ...
//   std::cout << t->to_text();
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "faceweave/status.h"

namespace faceweave {

namespace telemetry {
class Database;
}

// Which events a view looks at. Dates are ISO (YYYY-MM-DD, UTC), both inclusive; empty means open-ended.
struct InsightsFilter {
  std::string from;
  std::string to;
  std::string version;   // app_version; empty: every version
  std::string platform;  // coarse platform of the session ("linux-x86_64", "web", see platforms()); empty:
                         // every platform; a value outside the allow-list is refused
  // k-anonymity of the per-user views (defaults, funnel, retention): a cell that counts fewer than k users
  // (weighted by 1/sample_rate) is shown as "< k" and its shares as null. 1 shows every cell.
  int k = kDefaultK;
  static constexpr int kDefaultK = 5;
  std::string media;  // latency: only stage times of "image" or "video" runs; empty: both
  // latency: "option=value" compares the stage times of runs that set that option value with the others
  // (runs that carry a run id); empty: the plain latency view
  std::string with;
  // latency: group the stage times by "resolution" (the output's, the default; empty means it) or by
  // "input" (the target's resolution as read, before scaling or super-resolution). ab: compare two app
  // versions ("version", the default; empty means it) or two defaults profiles ("profile")
  std::string by;
};

struct InsightsTable {
  std::string view;
  std::string title;                                  // one line: what the table shows
  std::vector<std::string> columns;                   // names of the row fields
  std::vector<nlohmann::json> rows;                   // each an array with one value per column
  nlohmann::json summary = nlohmann::json::object();  // view-level numbers (totals, test statistics)
  std::vector<std::string> notes;                     // empty states, caveats

  nlohmann::json to_json() const;  // {"view","title","columns","rows":[{col:value}],"summary","notes"}
  std::string to_csv() const;      // header line, then one line per row
  std::string to_text() const;     // aligned columns for a terminal, then the summary and notes
};

// The raw event explorer (Analytics::events, `faceweave insights events`, GET /api/insights/events).
struct EventQuery {
  std::string event;  // an event name (command.run); empty: every event
  // Property filters, all of which must hold: key (a property name) = value, compared as text; booleans
  // match true/false.
  std::vector<std::pair<std::string, std::string>> props;
  std::string from, to;  // ISO days (UTC), inclusive; empty: open-ended
  int64_t limit = 50;    // rows per page, 1..1000
  int64_t offset = 0;    // rows skipped (newest first)
};

// A/B comparison settings (view "ab").
struct AbOptions {
  // see ab_metrics(), or OPTION=VALUE: the share of swap runs that set the option to the value
  // (color_match=none; `(number)` for a numeric option); by profile only error_rate and OPTION=VALUE
  std::string metric = "error_rate";
  // app versions (or defaults profiles with InsightsFilter::by "profile"; `(none)` is the runs without a
  // profile); empty: the two with the most swap runs
  std::string a, b;
  double alpha = 0.05;
  double power = 0.8;
  double mde = 0;                 // minimum detectable difference (absolute) for the sample-size
                                  // calculator; 0: 20% of the baseline rate
  double min_sample = 100;        // fewer trials than this in an arm: no verdict
  double expected_share_a = 0.5;  // the planned share of units in arm a (sample-ratio-mismatch check)
};

// --- statistics (exposed for tests and for the server)

struct TwoProportionResult {
  double rate_a = 0, rate_b = 0;
  double difference = 0;           // rate_b - rate_a
  double ci_low = 0, ci_high = 0;  // (1 - alpha) Wald interval of the difference (unpooled)
  double z = 0;                    // pooled two-proportion z statistic
  double p_value = 1;              // two-sided
};
TwoProportionResult two_proportion_test(double successes_a, double trials_a, double successes_b,
                                        double trials_b, double alpha = 0.05);
// Arm b against arm a, the statistics every A/B reports (the version and profile A/B through
// two_proportion_test, the experiment view per arm against its control): the difference rate_b - rate_a,
// its (1 - alpha) Wald interval with standard error sqrt(variance), and z = difference /
// sqrt(null_variance) (the pooled variance under "no difference"; the same variance when there is none)
// with its two-sided p-value (1 and z = 0 when null_variance is 0).
struct ArmComparison {
  double difference = 0, ci_low = 0, ci_high = 0, z = 0, p_value = 1;
};
ArmComparison compare_arms(double rate_a, double rate_b, double variance, double null_variance,
                           double alpha = 0.05);
// Standard normal CDF and quantile.
double normal_cdf(double z);
double normal_quantile(double p);
// Chi-square goodness of fit (1 degree of freedom) of the observed split against the planned one; returns
// {chi_square, p_value}. A small p (< 0.001 by convention) means a sample-ratio mismatch.
std::pair<double, double> sample_ratio_check(double units_a, double units_b, double expected_share_a);
// Units per arm needed to detect p1 -> p2 with a two-sided test at `alpha` with `power` (normal
// approximation, no continuity correction).
double sample_size_per_arm(double p1, double p2, double alpha = 0.05, double power = 0.8);

class Analytics {
 public:
  // Opens <data dir>/telemetry/events.db (NotFound when there is none), installs or upgrades the rollups
  // (a new install rebuilds them from the raw events once).
  static Result<std::unique_ptr<Analytics>> open(const std::string& data_dir);
  static Result<std::unique_ptr<Analytics>> open_database(const std::string& path);
  ~Analytics();
  Analytics(const Analytics&) = delete;
  Analytics& operator=(const Analytics&) = delete;

  // Recomputes every rollup from the raw events (one transaction). Returns the number of events read.
  Result<int64_t> rebuild();
  // Folds the events and sessions stored since the last fold into the rollups (one BEGIN IMMEDIATE
  // transaction; safe when several processes fold at once). Every view calls it first; when another
  // process holds the write lock past the busy timeout, view() answers from the rollups as they are, with
  // a note saying so.
  Status refresh();

  // The views by name: usage, heatmap, actions, errors, latency, defaults, funnel, retention, ab, users.
  static const std::vector<std::string>& views();
  static const std::vector<std::string>& ab_metrics();
  // Ok when `metric` is one of ab_metrics() or OPTION=VALUE (a usage share); invalid_argument naming the
  // choices otherwise. `by`: "version" (or empty) or "profile" (which takes error_rate and OPTION=VALUE).
  static Status check_ab_metric(const std::string& metric, const std::string& by = "version");
  Result<InsightsTable> view(std::string_view name, const InsightsFilter& filter, const AbOptions& ab = {},
                             int weeks = 8);

  Result<InsightsTable> feature_usage(const InsightsFilter& f);  // share of swap runs per option value/day
  Result<InsightsTable> heatmap(const InsightsFilter& f);        // swap runs, weekday x hour of day (UTC)
  Result<InsightsTable> actions(const InsightsFilter& f);        // action x option
  Result<InsightsTable> errors(const InsightsFilter& f);         // errors per run per day, code, version
  Result<InsightsTable> latency(const InsightsFilter& f);        // stage share, p50/p95 by resolution
  Result<InsightsTable> defaults_off(const InsightsFilter& f);   // defaults users switched off
  Result<InsightsTable> funnel(const InsightsFilter& f);         // upload -> preview -> run -> download
  Result<InsightsTable> retention(const InsightsFilter& f, int weeks = 8);
  Result<InsightsTable> ab(const InsightsFilter& f, const AbOptions& options);
  // Distinct active users per day and over the whole range (HyperLogLog sketches per day, src/analytics
  // sketch.h; relative standard error 0.81%).
  Result<InsightsTable> active_users(const InsightsFilter& f);

  // Stored events matching `q`, newest first, one page (columns id, time, event, version, platform, props,
  // duration_ms, outcome, sample_rate; summary matching, limit, offset, next_offset). Reads the raw events,
  // never the pseudonym or session. Invalid filters are invalid_argument.
  Result<InsightsTable> events(const EventQuery& q);

  // The app versions that have events (for empty-state messages and the dashboard's filter).
  Result<std::vector<std::string>> versions();
  // The platforms that have sessions ("unknown" for sessions stored before platforms were recorded).
  Result<std::vector<std::string>> platforms();
  // The defaults profiles with swap runs ("(none)" for runs without one), for the A/B by profile.
  Result<std::vector<std::string>> profiles();
  // Every value the platform filter accepts.
  static const std::vector<std::string>& known_platforms();

  telemetry::Database& database() { return *db_; }

 private:
  Analytics() = default;
  struct Range;
  Result<Range> range(const InsightsFilter& f);
  Result<InsightsTable> latency_with(const InsightsFilter& f, const Range& r);  // views_latency_with.cpp
  Result<InsightsTable> dispatch(std::string_view name, const InsightsFilter& f, const AbOptions& ab,
                                 int weeks);
  Status install();
  std::unique_ptr<telemetry::Database> db_;
  bool stale_ = false;  // the last view could not fold (another process held the write lock)
};

// Synthetic event history for demos, tests and benchmarks (faceweave telemetry simulate).
struct SimulateOptions {
  std::string data_dir;
  int users = 1000;
  int days = 30;
  uint64_t seed = 1;
  std::string end;         // last simulated day, YYYY-MM-DD (UTC); empty: today
  double sample_rate = 1;  // cohort sampling: keep this share of users, stored on each row
};
struct SimulateReport {
  int64_t users = 0, sessions = 0, events = 0;
  double insert_seconds = 0, rollup_seconds = 0;  // rollup_seconds: folding the new history in
  std::string database_path;
};
// Appends the history to the data dir's events database (created when missing) in one transaction and
// refreshes the rollups. Deterministic for a seed and end day.
Result<SimulateReport> simulate_telemetry(const SimulateOptions& options);

// Days since 1970-01-01 of an ISO date, or invalid_argument naming `what`.
Result<int64_t> parse_iso_day(std::string_view date, std::string_view what);
std::string iso_day(int64_t day);

}  // namespace faceweave
