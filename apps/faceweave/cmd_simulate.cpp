// faceweave telemetry simulate --users N --days D [--seed S]: a synthetic event history in the data dir's
// events database, for demos, tests and benchmarks (docs/analytics.md).
#include <cstdio>
#include <iostream>

#include "cli.h"
#include "faceweave/analytics.h"

namespace faceweave::cli {

void add_simulate_command(CLI::App& app, GlobalOptions& global, int& exit_code) {
  CLI::App* telemetry = app.get_subcommand("telemetry");
  auto o = std::make_shared<SimulateOptions>();
  CLI::App* cmd = telemetry->add_subcommand(
      "simulate", "Write a realistic synthetic event history (two versions, web and CLI users, errors)");
  cmd->add_option("--users", o->users, "Users to simulate")->capture_default_str();
  cmd->add_option("--days", o->days, "Days of history, ending on --end")->capture_default_str();
  cmd->add_option("--seed", o->seed, "Random seed: the same seed and --end give the same history")
      ->capture_default_str();
  cmd->add_option("--end", o->end, "Last simulated day, YYYY-MM-DD (default: today, UTC)");
  cmd->add_option("--sample-rate", o->sample_rate,
                  "Cohort sampling: share of users kept (stored on each row)")
      ->capture_default_str();
  cmd->callback([o, &global, &exit_code]() {
    o->data_dir = resolve_data_dir(global.telemetry_options.data_dir);
    auto r = simulate_telemetry(*o);
    if (!r) {
      exit_code = report(r.status());
      return;
    }
    std::printf(
        "simulated %lld users, %lld sessions, %lld events into %s (insert %.2f s, rollup fold %.2f s)\n",
        (long long)r->users, (long long)r->sessions, (long long)r->events, r->database_path.c_str(),
        r->insert_seconds, r->rollup_seconds);
  });
}

}  // namespace faceweave::cli
