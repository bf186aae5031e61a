#include <iostream>
#include <mutex>

#include "cli.h"
#include "cli_messages.h"
#include "cmd_share.h"
#include "core/allocator.h"
#include "faceweave/log.h"

namespace faceweave::cli {

int exit_code_for(const Status& status) {
  switch (status.code()) {
    case StatusCode::kOk:
      return 0;
    case StatusCode::kInvalidArgument:
      return 2;
    case StatusCode::kNotFound:
      return 3;
    case StatusCode::kInvalidInput:
      return 4;
    case StatusCode::kUnsupported:
      return 5;
    case StatusCode::kModelError:
      return 6;
    case StatusCode::kPermissionDenied:
      return 7;
    case StatusCode::kIoError:
      return 8;
    case StatusCode::kNoFace:
      return 9;
    case StatusCode::kCancelled:
      return 130;
    case StatusCode::kInternal:
      return 1;
  }
  return 1;
}

int report(const Status& status) {
  if (!status.is_ok()) std::cerr << "faceweave: error: " << in_cli_words(status.message()) << "\n";
  return exit_code_for(status);
}

}  // namespace faceweave::cli

int main(int argc, char** argv) {
  using namespace faceweave;
  core::tune_allocator();
  // Named, so usage lines say `faceweave` however the binary was started (not its path).
  CLI::App app{"faceweave: face swapping for images and videos, with privacy-safe usage analytics",
               "faceweave"};
  app.require_subcommand(1);
  app.set_version_flag("--version", std::string("faceweave ") + FACEWEAVE_VERSION,
                       "Print the version and exit");
  cli::GlobalOptions global;
  app.add_option("--models-dir", global.engine.models_dir,
                 "Folder with the model files (env FACEWEAVE_MODELS_DIR)");
  app.add_option("--execution-provider", global.engine.execution_provider,
                 "Inference provider; falls back to cpu with a warning when unavailable")
      ->check(CLI::IsMember({"cpu", "cuda", "openvino", "opencl"}));
  app.add_flag("-v,--verbose", global.verbose, "Print informational messages");
  cli::add_telemetry_flags(app, global);
  cli::add_defaults_profile_flag(app, global);

  int exit_code = 0;
  cli::set_message_app(&app);
  cli::add_models_command(app, global, exit_code);
  cli::add_analyse_command(app, global, exit_code);
  cli::add_swap_command(app, global, exit_code);
  cli::add_inspect_command(app, global, exit_code);
  cli::add_telemetry_command(app, global, exit_code);
  cli::add_simulate_command(app, global, exit_code);
  cli::add_share_command(app, global, exit_code);
  cli::add_insights_command(app, global, exit_code);
  cli::add_experiments_command(app, global, exit_code);
  cli::add_serve_command(app, global, exit_code);
  cli::add_jobs_command(app, global, exit_code);
  cli::add_worker_command(app, global, exit_code);
  cli::add_completions_command(app, global, exit_code);
  cli::CommandTelemetry telemetry(app, global);

  static std::mutex log_mutex;
  set_log_sink([&global](LogLevel level, std::string_view message) {
    if (level < LogLevel::kWarning && !global.verbose) return;
    std::lock_guard lock(log_mutex);
    std::cerr << "faceweave: " << log_level_name(level) << ": " << message << "\n";
  });

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // Help and version go out as CLI11 writes them; a parse error in the user's words (no float padding).
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "faceweave: error: " << cli::in_cli_words(e.what())
              << "\nRun with --help for more information.\n";
    return 2;
  }
  telemetry.finish(exit_code);
  return exit_code;
}
