// faceweave worker --database-url postgres://... [--media-dir DIR] [--concurrency 1]: runs the jobs of a
// queue shared by a fleet (docs/fleet.md).
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "cli.h"
#include "faceweave/fleet.h"
#include "faceweave/server.h"

namespace faceweave::cli {
namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_worker_stop_signal(int) {
  g_stop.store(true);
  interrupt_fleet_connections();  // a connection attempt to the fleet's database gives up
}

}  // namespace

std::string database_url_or_env(const std::string& flag) {
  if (!flag.empty()) return flag;
  const char* env = std::getenv("FACEWEAVE_DATABASE_URL");
  return env ? env : "";
}

void add_database_url_option(CLI::App* cmd, std::string& url) {
  cmd->add_option(
      "--database-url", url,
      "PostgreSQL for a fleet: postgres://user:password@host:5432/db (env FACEWEAVE_DATABASE_URL; "
      "default: the local SQLite files)");
}

void add_worker_command(CLI::App& app, GlobalOptions& global, int& exit_code) {
  static WorkerOptions o;
  auto* cmd =
      app.add_subcommand("worker", "Run the jobs of a queue on PostgreSQL shared by a fleet (docs/fleet.md)");
  add_database_url_option(cmd, o.database_url);
  cmd->add_option("--media-dir", o.media_dir,
                  "The folder every node mounts for uploads and results (default: the data dir)");
  cmd->add_option("--concurrency", o.concurrency, "Jobs run at once")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  cmd->add_option("--threads", o.threads,
                  "Cores one job may use (0: all); with several workers on one machine, cores / workers")
      ->capture_default_str()
      ->check(CLI::Range(0, 256));
  cmd->add_option("--name", o.name, "This worker's name in job listings (default: host:pid)");
  cmd->add_option("--lease-seconds", o.lease_seconds,
                  "A job whose worker stops renewing its lease for this long goes to another worker")
      ->capture_default_str()
      ->check(CLI::Range(3, 3600));
  cmd->add_option("--max-attempts", o.max_attempts, "Runs a job may get before it fails (queued here)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100));
  // faceweave telemetry ship: this node's events to the fleet's database, now (serve and worker also ship
  // every few seconds).
  if (CLI::App* telemetry = app.get_subcommand("telemetry")) {
    static std::string ship_url;
    static int retention_days = 0;
    auto* ship =
        telemetry->add_subcommand("ship", "Copy this node's events to the fleet's PostgreSQL (exactly once)");
    add_database_url_option(ship, ship_url);
    ship->add_option("--retention-days", retention_days,
                     "Then drop the fleet's day partitions older than this many days (0 keeps them all)")
        ->capture_default_str()
        ->check(CLI::Range(0, 100000));
    ship->callback([&global, &exit_code] {
      auto shipped =
          ship_telemetry(global.telemetry_options.data_dir, database_url_or_env(ship_url), retention_days);
      if (!shipped) return void(exit_code = report(shipped.status()));
      std::printf("shipped %lld event(s) of node %s (up to event %lld)\n", (long long)shipped->shipped,
                  shipped->node_id.c_str(), (long long)shipped->shipped_seq);
      if (shipped->partitions_dropped > 0)
        std::printf("dropped %d day partition(s) older than %d days\n", shipped->partitions_dropped,
                    retention_days);
    });
  }
  cmd->callback([&global, &exit_code] {
    WorkerOptions options = o;
    options.database_url = database_url_or_env(o.database_url);
    options.engine = global.engine;
    options.data_dir = global.telemetry_options.data_dir;
    options.on_ready = [] {
      std::printf("faceweave: worker waiting for jobs (Ctrl-C stops; running jobs go back to the queue)\n");
      std::fflush(stdout);
    };
    g_stop.store(false);
    auto previous_int = std::signal(SIGINT, on_worker_stop_signal);
    auto previous_term = std::signal(SIGTERM, on_worker_stop_signal);
    Status s = run_worker(options, global.telemetry.get(), &g_stop);
    std::signal(SIGINT, previous_int);
    std::signal(SIGTERM, previous_term);
    exit_code = report(s);
  });
}

}  // namespace faceweave::cli
