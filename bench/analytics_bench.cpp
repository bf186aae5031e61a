// Analytics at scale (docs/benchmarks.md "Analytics"): a simulated history of ~10 M events in a temporary
// data dir, then for every view the p50/p95 of what the HTTP endpoint does (view() + to_json().dump()) on
// a 30-day range, side by side with the same question as a plain GROUP BY over the raw events; and the
// rollup fold's cost next to telemetry ingest (the writer, without and with folding). The read ratio is also
// given with the fold's amortised share (a rebuild measures the fold; an hour of events per refresh).
//
//   analytics_bench [--users 230000] [--days 30] [--runs 20] [--raw-runs 3] [--ingest 1000000]
//                   [--data-dir DIR (kept; default a temp dir, removed)]
//
// Prints a Markdown report on stdout, progress on stderr.
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "analytics/internal.h"
#include "faceweave/analytics.h"
#include "telemetry/event.h"
#include "telemetry/paths.h"
#include "telemetry/recorder.h"
#include "telemetry/sqlite_sink.h"

using namespace faceweave;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
}

double quantile(std::vector<double> v, double q) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = size_t(std::ceil(q * double(v.size()))) - 1;
  return v[std::min(i, v.size() - 1)];
}

[[noreturn]] void die(const Status& s) {
  std::fprintf(stderr, "analytics_bench: %s\n", s.to_string().c_str());
  std::exit(1);
}

// The same question as each view, asked of the raw events with one GROUP BY (json_extract on props); the
// per-user views count the same cohorts (users whose first session falls in the range).
struct RawQuery {
  const char* view;
  std::string sql;
};

std::vector<RawQuery> raw_queries() {
  const std::string in_range = " e.ts BETWEEN :t0 AND :t1 ";
  const std::string first =
      "(SELECT user, min(started_ms) AS f FROM sessions GROUP BY user HAVING f BETWEEN :t0 AND :t1)";
  // The cohort's users, built once (an ephemeral index) rather than joined per event.
  const std::string cohort =
      " IN (SELECT user FROM sessions GROUP BY user HAVING min(started_ms) BETWEEN :t0 AND :t1)";
  return {
      {"usage",
       "SELECT e.ts / 86400000 AS d, json_extract(e.props, '$.option') AS o, json_extract(e.props, "
       "'$.value') "
       "AS v, sum(1.0 / e.sample_rate) FROM events e WHERE e.event = @OPT@ AND" +
           in_range + "AND json_extract(e.props, '$.command') = 'swap' GROUP BY d, o, v"},
      {"heatmap",
       "SELECT (e.ts / 86400000 + 3) % 7 AS wd, e.ts / 3600000 % 24 AS h, sum(1.0 / e.sample_rate) FROM "
       "events e WHERE e.event = @RUN@ AND" +
           in_range + "AND json_extract(e.props, '$.command') = 'swap' GROUP BY wd, h"},
      {"actions",
       "SELECT CASE e.event WHEN @UI@ THEN json_extract(e.props, '$.action') ELSE 'set' END AS a, "
       "coalesce(json_extract(e.props, '$.control'), json_extract(e.props, '$.option')) AS o, sum(1.0 / "
       "e.sample_rate) FROM events e WHERE e.event IN (@UI@, @OPT@) AND" +
           in_range + "GROUP BY a, o"},
      {"errors",
       "SELECT e.ts / 86400000 AS d, s.app_version, json_extract(e.props, '$.provider') AS p, e.outcome, "
       "sum(1.0 / e.sample_rate) FROM events e JOIN sessions s ON s.id = e.session WHERE e.event = @RUN@ "
       "AND" +
           in_range +
           "AND json_extract(e.props, '$.command') = 'swap' GROUP BY d, s.app_version, p, e.outcome"},
      {"latency",
       "SELECT json_extract(e.props, '$.resolution') AS r, json_extract(e.props, '$.stage') AS st, "
       "sum(e.duration_ms / e.sample_rate), sum(1.0 / e.sample_rate) FROM events e WHERE e.event = @STAGE@ "
       "AND" +
           in_range + "GROUP BY r, st"},
      {"defaults",
       "SELECT o, v, sum(w) FROM (SELECT DISTINCT s.user, replace(coalesce(json_extract(e.props, "
       "'$.option'), json_extract(e.props, '$.control')), '-', '_') AS o, json_extract(e.props, '$.value') "
       "AS v, 1.0 / e.sample_rate AS w FROM events e JOIN sessions s ON s.id = e.session WHERE e.event IN "
       "(@OPT@, @UI@) AND s.user" +
           cohort + ") GROUP BY o, v"},
      {"funnel",
       "SELECT sum(w * up), sum(w * (up AND pv)), sum(w * (up AND pv AND ru)), sum(w * (up AND pv AND ru AND "
       "dl)) FROM (SELECT s.user, max(1.0 / e.sample_rate) AS w, max(json_extract(e.props, '$.action') = "
       "'upload') AS up, max(json_extract(e.props, '$.action') = 'preview') AS pv, "
       "max(json_extract(e.props, '$.action') = 'run') AS ru, max(json_extract(e.props, '$.action') = "
       "'download') AS dl FROM events e JOIN sessions s ON s.id = e.session WHERE e.event = @UI@ AND s.user" +
           cohort + " GROUP BY s.user)"},
      {"retention",
       "SELECT wk, sum(w) FROM (SELECT DISTINCT s.user, (e.ts / 86400000 - f.f / 86400000) / 7 AS wk, 1.0 / "
       "e.sample_rate AS w FROM events e JOIN sessions s ON s.id = e.session JOIN " +
           first + " f ON f.user = s.user WHERE e.event IN (@RUN@, @UI@, @PAGE@, @OPT@)) GROUP BY wk"},
      {"ab",
       "SELECT s.app_version, sum(CASE WHEN e.outcome != @OK@ THEN 1.0 / e.sample_rate ELSE 0 END), sum(1.0 "
       "/ e.sample_rate) FROM events e JOIN sessions s ON s.id = e.session WHERE e.event = @RUN@ AND" +
           in_range + "AND json_extract(e.props, '$.command') = 'swap' GROUP BY s.app_version"},
      // Distinct active users per day and over the range (the users view's HyperLogLog answers).
      {"users",
       "SELECT e.ts / 86400000, count(DISTINCT s.user) FROM events e JOIN sessions s ON s.id = e.session "
       "WHERE "
       "e.event IN (@RUN@, @UI@, @PAGE@, @OPT@) AND" +
           in_range +
           "GROUP BY 1 UNION ALL SELECT -1, count(DISTINCT s.user) FROM events e JOIN sessions s ON "
           "s.id = e.session WHERE e.event IN (@RUN@, @UI@, @PAGE@, @OPT@) AND" +
           in_range},
  };
}

// Telemetry ingest through the real writer (recorder + SQLite sink, 8192-event batches) of a swap-run
// shaped mix; returns events/s. With `analytics` the rollups are installed first.
telemetry::Event make_event(telemetry::EventKind kind, int i) {
  telemetry::EventBuilder b(kind);
  switch (kind) {
    case telemetry::EventKind::kStageTiming:
      b.set_text("stage", i % 3 ? "detect" : "enhance")
          .set_text("resolution", i % 2 ? "1080p" : "4k")
          .set_int("frames", 1 + i % 7)
          .set_text("media", "video");
      b.duration(7.25 + i % 13);
      break;
    case telemetry::EventKind::kCommandOption:
      b.set_text("command", "swap")
          .set_text("option", "color_match")
          .set_text("value", i % 2 ? "none" : "histogram");
      break;
    default:
      b.set_text("surface", "cli").set_text("command", "swap").set_int("exit_code", 0).set_int("changed", 1);
      b.duration(300);
      break;
  }
  telemetry::Event e = b.event();
  e.ts_ms = telemetry::unix_ms();
  return e;
}

struct IngestResult {
  double ingest_per_s = 0;
  double fold_per_s = 0;  // 0 when not folded
};

IngestResult ingest(size_t n, bool analytics) {
  std::string t = (std::filesystem::temp_directory_path() / "faceweave-ingest-XXXXXX").string();
  std::string dir = ::mkdtemp(t.data());
  auto paths = telemetry::telemetry_paths(dir);
  (void)telemetry::make_private_dirs(paths.dir);
  auto sink = telemetry::SqliteSink::open(paths.database, {});
  if (!sink) die(sink.status());
  std::unique_ptr<Analytics> a;
  if (analytics) {
    auto opened = Analytics::open_database(paths.database);
    if (!opened) die(opened.status());
    a = std::move(*opened);
  }
  telemetry::RecorderOptions o;
  o.queue_capacity = 1 << 18;
  o.batch_size = 8192;
  auto r = telemetry::Recorder::create(o, std::move(*sink),
                                       {std::string(64, 'a'), std::string(32, 'b'), "0.1.0", "linux-x86_64"});
  if (!r) die(r.status());
  std::vector<telemetry::Event> events;
  for (int i = 0; i < 64; ++i) {
    telemetry::EventKind k = telemetry::EventKind::kStageTiming;
    if (i % 11 == 9) k = telemetry::EventKind::kCommandOption;
    if (i % 11 == 10) k = telemetry::EventKind::kCommandRun;
    events.push_back(make_event(k, i));
  }
  IngestResult out;
  auto start = Clock::now();
  for (size_t i = 0; i < n; ++i) {
    telemetry::Event& e = events[i % events.size()];
    if ((i & 1023) == 0) e.ts_ms = telemetry::unix_ms();
    while (!(*r)->try_record(e)) std::this_thread::sleep_for(std::chrono::microseconds(20));
  }
  if (!(*r)->flush().is_ok()) die(internal_error("flush failed"));
  out.ingest_per_s = double(n) / (ms_since(start) / 1000);
  if (a) {
    auto f0 = Clock::now();
    Status s = a->refresh();
    if (!s.is_ok()) die(s);
    out.fold_per_s = double(n) / (ms_since(f0) / 1000);
  }
  r->reset();
  a.reset();
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  int users = 230000, days = 30, runs = 20, raw_runs = 3;
  size_t ingest_n = 1'000'000;
  std::string data_dir;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    if (k == "--users")
      users = std::atoi(argv[i + 1]);
    else if (k == "--days")
      days = std::atoi(argv[i + 1]);
    else if (k == "--runs")
      runs = std::atoi(argv[i + 1]);
    else if (k == "--raw-runs")
      raw_runs = std::atoi(argv[i + 1]);
    else if (k == "--ingest")
      ingest_n = size_t(std::atoll(argv[i + 1]));
    else if (k == "--data-dir")
      data_dir = argv[i + 1];
    else {
      std::fprintf(stderr, "analytics_bench: unknown option %s\n", k.c_str());
      return 2;
    }
  }
  bool temp = data_dir.empty();
  if (temp) {
    std::string t = (std::filesystem::temp_directory_path() / "faceweave-analytics-bench-XXXXXX").string();
    data_dir = ::mkdtemp(t.data());
  }
  const std::string end = "2025-05-31";
  const int64_t end_day = *parse_iso_day(end, "end");

  // 1. The history (skipped when the data dir already has one, e.g. a kept --data-dir).
  auto paths = telemetry::telemetry_paths(data_dir);
  SimulateReport sim;
  if (!telemetry::file_exists(paths.database)) {
    std::fprintf(stderr, "simulating %d users over %d days into %s ...\n", users, days, data_dir.c_str());
    SimulateOptions so;
    so.data_dir = data_dir;
    so.users = users;
    so.days = days;
    so.end = end;
    auto r = simulate_telemetry(so);
    if (!r) die(r.status());
    sim = *r;
  }
  auto opened = Analytics::open(data_dir);
  if (!opened) die(opened.status());
  Analytics& a = **opened;
  int64_t events = 0;
  {
    auto q = analytics::Query::make(a.database(), "SELECT count(*) FROM events");
    if (!q) die(q.status());
    (void)q->each([&](sqlite3_stmt* s) { events = sqlite3_column_int64(s, 0); });
  }

  // 2. Every view on a 30-day range: what GET /api/insights/<view> does, `runs` times.
  InsightsFilter f;
  f.from = iso_day(end_day - 29);
  f.to = end;
  struct Row {
    std::string view;
    double p50 = 0, p95 = 0, raw = 0;
    size_t rows = 0;
  };
  std::vector<Row> table;
  for (const std::string& v : Analytics::views()) {
    std::fprintf(stderr, "view %s ...\n", v.c_str());
    Row row{v};
    std::vector<double> t;
    for (int i = 0; i < runs + 1; ++i) {
      auto t0 = Clock::now();
      auto r = a.view(v, f);
      if (!r) die(r.status());
      std::string body = r->to_json().dump();
      if (i > 0) t.push_back(ms_since(t0));  // the first run warms the page cache
      row.rows = r->rows.size();
      if (body.empty()) return 1;
    }
    row.p50 = quantile(t, 0.5);
    row.p95 = quantile(t, 0.95);
    table.push_back(row);
  }
  // 3. The same questions as plain GROUP BYs over the raw events.
  for (const RawQuery& rq : raw_queries()) {
    std::fprintf(stderr, "raw %s ...\n", rq.view);
    auto q = analytics::Query::make(a.database(), rq.sql);
    if (!q) die(q.status());
    std::vector<double> t;
    for (int i = 0; i < raw_runs; ++i) {
      q->bind(":t0", (end_day - 29) * analytics::kMsPerDay)
          .bind(":t1", (end_day + 1) * analytics::kMsPerDay - 1);
      auto t0 = Clock::now();
      size_t n = 0;
      Status s = q->each([&](sqlite3_stmt*) { ++n; });
      if (!s.is_ok()) die(s);
      t.push_back(ms_since(t0));
    }
    for (Row& r : table)
      if (r.view == rq.view) r.raw = quantile(t, 0.5);
  }
  // 4. The fold the rollups need, measured here (a rebuild folds the whole history once), so the read ratio
  // can carry its share: at steady state every event is folded once; with the dashboard read once an hour,
  // an hour of events is folded per refresh, shared by its views.
  std::fprintf(stderr, "rebuild (fold the whole history) ...\n");
  auto r0 = Clock::now();
  if (auto n = a.rebuild(); !n) die(n.status());
  const double rebuild_ms = ms_since(r0);
  const double fold_events_per_ms = double(events) / rebuild_ms;
  const double events_per_hour = double(events) / (double(days) * 24);
  const double fold_per_refresh_ms = events_per_hour / fold_events_per_ms;
  const double fold_per_view_ms = fold_per_refresh_ms / double(table.size());
  double saved_per_refresh = 0;
  for (const Row& r : table) saved_per_refresh += std::max(0.0, r.raw - r.p95);
  // 5. Fold cost against ingest.
  std::fprintf(stderr, "ingest %zu events without and with the rollups ...\n", ingest_n);
  IngestResult plain = ingest(ingest_n, false);
  IngestResult folded = ingest(ingest_n, true);

  std::printf(
      "%lld events (%lld users, %lld sessions; simulate: insert %.1f s, fold %.1f s = %.0f events/s)\n\n",
      (long long)events, (long long)sim.users, (long long)sim.sessions, sim.insert_seconds,
      sim.rollup_seconds, sim.rollup_seconds > 0 ? double(sim.events) / sim.rollup_seconds : 0.0);
  std::printf(
      "| view | rows | p50 ms | p95 ms (%d runs) | raw GROUP BY ms (median of %d) | raw / p95 | raw / (p95 + "
      "amortised fold) |\n",
      runs, raw_runs);
  std::printf("|---|---|---|---|---|---|---|\n");
  for (const Row& r : table)
    std::printf("| %s | %zu | %.1f | %.1f | %.0f | %.0fx | %.0fx |\n", r.view.c_str(), r.rows, r.p50, r.p95,
                r.raw, r.p95 > 0 ? r.raw / r.p95 : 0.0, r.raw > 0 ? r.raw / (r.p95 + fold_per_view_ms) : 0.0);
  std::printf(
      "\nThe fold the rollups need: the whole history (%lld events) in %.1f s (%.0f events/s, a one-off "
      "`insights rebuild`); at steady state an hour of events (%.0f) folds in %.1f ms, %.2f ms per view when "
      "the dashboard's %zu views are read once an hour (the last column). Even counting the whole one-off "
      "fold, the rollups are ahead after %.0f dashboard refreshes (fold / the time each refresh saves).\n\n",
      (long long)events, rebuild_ms / 1000, fold_events_per_ms * 1000, events_per_hour, fold_per_refresh_ms,
      fold_per_view_ms, table.size(),
      saved_per_refresh > 0 ? std::ceil(rebuild_ms / saved_per_refresh) : 0.0);
  double with_fold = 1.0 / (1.0 / folded.ingest_per_s + 1.0 / folded.fold_per_s);
  std::printf("\nIngest through the telemetry writer, %zu swap-run shaped events (8192-event batches):\n\n",
              ingest_n);
  std::printf("| | events/s |\n|---|---|\n");
  std::printf("| ingest, no analytics | %.0f |\n", plain.ingest_per_s);
  std::printf("| ingest, analytics installed (no triggers) | %.0f (%.1f%%) |\n", folded.ingest_per_s,
              100.0 * folded.ingest_per_s / plain.ingest_per_s);
  std::printf("| fold of those events into the rollups | %.0f |\n", folded.fold_per_s);
  std::printf("| ingest + fold, end to end | %.0f (fold = %.1f%% of the combined time) |\n", with_fold,
              100.0 * with_fold / folded.fold_per_s);
  opened->reset();
  if (temp) {
    std::error_code ec;
    std::filesystem::remove_all(data_dir, ec);
  }
  return 0;
}
