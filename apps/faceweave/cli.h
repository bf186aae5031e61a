// Shared pieces of the faceweave command line: global options, the one place where a Status becomes an
// exit code and a message, and the sub-command registrations (one file each).
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>

#include <CLI/CLI.hpp>

#include "faceweave/engine.h"
#include "faceweave/experiments.h"
#include "faceweave/options.h"
#include "faceweave/status.h"
#include "faceweave/telemetry.h"

namespace faceweave::cli {

struct GlobalOptions {
  EngineOptions engine;
  bool verbose = false;
  TelemetryOptions telemetry_options;  // --telemetry, --telemetry-sample, --data-dir, ...
  bool telemetry_debug = false;
  // Set once the flags are parsed, before the sub-command runs (null for `faceweave telemetry ...`, and when
  // the telemetry settings are invalid). Commands record stage timings, fallbacks and face counts through it.
  std::unique_ptr<Telemetry> telemetry;
  // The execution provider that served the command (the engine's resolution, after any fallback), the one
  // requested, and whether it fell back; empty when no engine was made. Set by the command (note_provider),
  // recorded with command.run, error and provider.fallback whether the command succeeds or fails.
  mutable std::string provider_used;
  mutable std::string provider_requested;
  mutable bool provider_fallback = false;
  // --defaults-profile / FACEWEAVE_DEFAULTS (docs/experiments.md): loaded while the flags are parsed.
  std::string defaults_profile_path;
  std::optional<DefaultsProfile> defaults_profile;
};

// Notes the engine's execution provider (requested, used, fallback) for the command's telemetry.
void note_provider(const GlobalOptions& global, const ProviderInfo& provider);

// Exit codes (docs/cli.md): 0 ok, 1 internal, 2 invalid argument, 3 not found, 4 invalid input,
// 5 unsupported, 6 model error, 7 permission denied, 8 I/O error, 9 no face, 130 cancelled.
int exit_code_for(const Status& status);
// Prints "faceweave: error: <message>" to stderr and returns the exit code.
int report(const Status& status);

void add_models_command(CLI::App& app, GlobalOptions& global, int& exit_code);
void add_analyse_command(CLI::App& app, GlobalOptions& global, int& exit_code);
void add_swap_command(CLI::App& app, GlobalOptions& global, int& exit_code);
void add_telemetry_command(CLI::App& app, GlobalOptions& global, int& exit_code);
void add_serve_command(CLI::App& app, GlobalOptions& global, int& exit_code);
void add_jobs_command(CLI::App& app, GlobalOptions& global, int& exit_code);
void add_insights_command(CLI::App& app, GlobalOptions& global, int& exit_code);
void add_simulate_command(CLI::App& app, GlobalOptions& global, int& exit_code);
// `completions bash|zsh` and `man`, generated from `app` as it stands when they run.
void add_completions_command(CLI::App& app, GlobalOptions& global, int& exit_code);
void add_inspect_command(CLI::App& app, GlobalOptions& global, int& exit_code);
void add_telemetry_flags(CLI::App& app, GlobalOptions& global);
// Experiments on defaults and the defaults profile (cmd_experiments.cpp, run_defaults.cpp).
void add_experiments_command(CLI::App& app, GlobalOptions& global, int& exit_code);
void add_defaults_profile_flag(CLI::App& app, GlobalOptions& global);
// Gives the swap flags of `cmd` that the user left out the profile's and the running experiments' defaults,
// and records the experiments' exposures in the command's run.
Status apply_run_defaults(CLI::App* cmd, const GlobalOptions& global);
// `faceweave insights recommend [--json]`.
int run_recommend(const std::string& data_dir, int k, bool as_json);
// A fleet (docs/fleet.md): `faceweave worker`, and --database-url on serve, jobs and insights.
void add_worker_command(CLI::App& app, GlobalOptions& global, int& exit_code);
void add_database_url_option(CLI::App* cmd, std::string& url);
// The flag's value, else FACEWEAVE_DATABASE_URL, else "" (the local SQLite files).
std::string database_url_or_env(const std::string& flag);

// Creates global.telemetry when parsing completes and records the command run (command.run, one
// command.option per option changed from its default, error) when finish() is called.
class CommandTelemetry {
 public:
  CommandTelemetry(CLI::App& app, GlobalOptions& global);
  void finish(int exit_code);

 private:
  void start();
  CLI::App& app_;
  GlobalOptions& global_;
  std::chrono::steady_clock::time_point start_{};
  std::unique_ptr<TelemetryRun> run_;  // the command's run id on this thread, from start() to finish()
  std::map<const CLI::Option*, std::string> defaults_;  // each option's value before parsing
};

}  // namespace faceweave::cli
