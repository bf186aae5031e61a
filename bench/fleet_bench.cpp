// The fleet on a real PostgreSQL (docs/fleet.md), as a Markdown report for docs/benchmarks.md:
// - job claims: empty jobs through the queue (claim + finish) with 1 and 4 workers, each on its own
//   connection; claim latency p50/p99;
// - event shipping (ship_events: COPY and the watermark in one transaction per batch) against
//   a raw COPY of the same rows into the same table (partitioned by day).
// Usage: eval "$(scripts/start-postgres.sh)"; build/release/bench/fleet_bench "$FACEWEAVE_DATABASE_URL"
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "faceweave/analytics.h"
#include "fleet/event_shipper.h"
#include "pg/connection.h"
#include "server/pg_job_store.h"

namespace fs = std::filesystem;
using namespace faceweave;
using Clock = std::chrono::steady_clock;

namespace {

double ms_since(Clock::time_point t) {
  return std::chrono::duration<double, std::milli>(Clock::now() - t).count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, size_t(p * double(v.size())))];
}

void claims(const std::string& url, int workers, int jobs) {
  auto api = server::PgJobStore::open({url, "api", 30, 3});
  if (!api) return void(std::fprintf(stderr, "%s\n", api.status().message().c_str()));
  (void)(*api)->requeue_interrupted();
  for (int i = 0; i < jobs; ++i) (void)(*api)->submit({{"n", i}}, "image");
  std::mutex mutex;
  std::vector<double> latencies;
  const auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w)
    threads.emplace_back([&, w] {
      auto store = server::PgJobStore::open({url, "w" + std::to_string(w), 30, 3});
      if (!store) return;
      std::vector<double> mine;
      while (true) {
        const auto t = Clock::now();
        auto job = (*store)->claim();
        if (!job || !job->has_value()) break;
        mine.push_back(ms_since(t));
        (void)(*store)->finish(**job, "done", "", "", nlohmann::json::object(), nlohmann::json::object());
      }
      std::lock_guard lock(mutex);
      latencies.insert(latencies.end(), mine.begin(), mine.end());
    });
  for (auto& t : threads) t.join();
  const double seconds = ms_since(start) / 1000;
  std::printf("| %d | %d | %.0f | %.2f | %.2f |\n", workers, int(latencies.size()),
              double(latencies.size()) / seconds, percentile(latencies, 0.5), percentile(latencies, 0.99));
}

// The same rows as ship_events sends, in COPY's text format, read from the local database.
std::string copy_rows(const std::string& events_db, int64_t* rows) {
  sqlite3* db = nullptr;
  sqlite3_open_v2(events_db.c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* s = nullptr;
  sqlite3_prepare_v2(db,
                     "SELECT 'raw', id, ts, event, user, session, app_version, platform, props, duration_ms, "
                     "outcome, sample_rate FROM events_view ORDER BY id",
                     -1, &s, nullptr);
  std::string out;
  *rows = 0;
  while (sqlite3_step(s) == SQLITE_ROW) {
    for (int c = 0; c < 12; ++c) {
      if (c) out += '\t';
      const unsigned char* t = sqlite3_column_text(s, c);
      if (!t) {
        out += "\\N";
        continue;
      }
      for (const unsigned char* p = t; *p; ++p) {
        if (*p == '\\' || *p == '\t' || *p == '\n' || *p == '\r') out += '\\';
        out += *p == '\t' ? 't' : *p == '\n' ? 'n' : *p == '\r' ? 'r' : char(*p);
      }
    }
    out += '\n';
    ++*rows;
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: fleet_bench postgres://... [users]\n");
    return 2;
  }
  const std::string url = argv[1];
  const int users = argc > 2 ? std::atoi(argv[2]) : 2000;
  auto conn = pg::Connection::connect(url, "fleet_bench");
  if (!conn) return std::fprintf(stderr, "%s\n", conn.status().message().c_str()), 1;
  (void)(*conn)->exec_script("DROP TABLE IF EXISTS faceweave_jobs, faceweave_events, faceweave_nodes");

  std::printf("### Job claims (empty jobs: claim + finish, one connection per worker)\n\n");
  std::printf("| workers | jobs | jobs/s | claim p50 ms | claim p99 ms |\n|---|---|---|---|---|\n");
  claims(url, 1, 2000);
  claims(url, 4, 4000);

  const fs::path dir = fs::temp_directory_path() / "faceweave-fleet-bench";
  fs::remove_all(dir);
  SimulateOptions sim;
  sim.data_dir = dir.string();
  sim.users = users;
  sim.days = 30;
  sim.end = "2026-12-01";
  auto simulated = simulate_telemetry(sim);
  if (!simulated) return std::fprintf(stderr, "%s\n", simulated.status().message().c_str()), 1;
  const std::string events_db = simulated->database_path;

  fleet::ShipOptions ship;
  ship.events_db = events_db;
  ship.database_url = url;
  ship.node_id = "bench";
  (void)fleet::ensure_events_schema(url);
  auto t = Clock::now();
  auto shipped = fleet::ship_events(ship);
  const double ship_ms = ms_since(t);
  if (!shipped) return std::fprintf(stderr, "%s\n", shipped.status().message().c_str()), 1;

  // The baseline: the same rows by one COPY into the same (partitioned) table, emptied first; its day
  // partitions exist already.
  (void)(*conn)->exec_script("TRUNCATE faceweave_events");
  t = Clock::now();
  int64_t rows = 0;
  const std::string data = copy_rows(events_db, &rows);
  Status copied = (*conn)->copy_in(
      "COPY faceweave_events (node_id, seq, ts, event, user_hash, session, app_version, platform, props, "
      "duration_ms, "
      "outcome, sample_rate) FROM STDIN",
      data);
  const double raw_ms = ms_since(t);
  if (!copied.is_ok()) return std::fprintf(stderr, "%s\n", copied.message().c_str()), 1;

  std::printf("\n### Event shipping (%lld events of %d simulated users)\n\n", (long long)shipped->shipped,
              users);
  std::printf("| path | ms | events/s | ratio |\n|---|---|---|---|\n");
  std::printf("| raw COPY of the same rows into the same table | %.0f | %.0f | 1.00 |\n", raw_ms,
              double(rows) / raw_ms * 1000);
  std::printf(
      "| ship_events (batches of 5000: COPY and watermark in one transaction) | %.0f | %.0f | %.2f |\n",
      ship_ms, double(shipped->shipped) / ship_ms * 1000, raw_ms / ship_ms);
  fs::remove_all(dir);
  return 0;
}
