// faceweave serve [--host 127.0.0.1] [--port 7860] [--token T | --token-file PATH] [--allowed-host NAME]
// [--max-concurrent-jobs 1] [--drain-seconds 8] ...
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <mutex>

#include "cli.h"
#include "faceweave/fleet.h"
#include "faceweave/server.h"

namespace faceweave::cli {
namespace {

std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) {
  g_stop.store(true);
  interrupt_fleet_connections();  // a connection attempt to the fleet's database gives up
}

struct ServeArgs {
  ServeOptions options;
  std::string token_file;
  double max_image_mb = 50;
  double max_video_mb = 2048;
  double max_image_megapixels = 50;
  double decode_budget_megapixels = 150;
  bool quiet = false;
};

// A token kept in a file (a Docker or Kubernetes secret): its first line, without surrounding blanks.
Result<std::string> read_token_file(const std::string& path) {
  std::ifstream in(path);
  if (!in)
    return invalid_argument("cannot read the token file " + path +
                            "; check the path (FACEWEAVE_TOKEN_FILE or --token-file) and that the secret is "
                            "mounted there and readable by this user");
  std::string token;
  std::getline(in, token);
  const auto first = token.find_first_not_of(" \t\r\n");
  const auto last = token.find_last_not_of(" \t\r\n");
  token = first == std::string::npos ? "" : token.substr(first, last - first + 1);
  if (token.empty())
    return invalid_argument("the token file " + path + " is empty; put the token on its first line");
  return token;
}

int run(GlobalOptions& global, ServeArgs& args) {
  ServeOptions o = args.options;
  o.engine = global.engine;
  o.data_dir = global.telemetry_options.data_dir;
  o.defaults_profile = global.defaults_profile;
  // --token, --token-file, FACEWEAVE_TOKEN, FACEWEAVE_TOKEN_FILE: the first one given wins.
  std::string token_file = args.token_file;
  if (o.token.empty() && token_file.empty()) {
    if (const char* env = std::getenv("FACEWEAVE_TOKEN"); env && *env) {
      o.token = env;
    } else if (const char* file = std::getenv("FACEWEAVE_TOKEN_FILE"); file && *file) {
      token_file = file;
    }
  }
  if (o.token.empty() && !token_file.empty()) {
    auto token = read_token_file(token_file);
    if (!token) return report(token.status());
    o.token = *token;
  }
  o.database_url = database_url_or_env(o.database_url);
  if (!(args.max_image_mb > 0) || !(args.max_video_mb > 0))
    return report(invalid_argument("--max-image-mb and --max-video-mb must be above 0"));
  o.max_image_bytes = int64_t(args.max_image_mb * (1 << 20));
  o.max_video_bytes = int64_t(args.max_video_mb * (1 << 20));
  if (!(args.max_image_megapixels > 0) || !(args.decode_budget_megapixels > 0))
    return report(invalid_argument("--max-image-megapixels and --decode-budget-megapixels must be above 0"));
  o.max_image_pixels = int64_t(args.max_image_megapixels * 1e6);
  o.decode_budget_pixels = int64_t(args.decode_budget_megapixels * 1e6);
  o.on_listening = [](const std::string& url) {
    std::printf("faceweave: serving on %s (Ctrl-C stops)\n", url.c_str());
    std::fflush(stdout);
  };
  // A line per page, upload, preview, job and download, so the terminal shows that it works.
  if (!args.quiet)
    o.on_request = [](const std::string& line) {
      static std::mutex mutex;
      std::lock_guard lock(mutex);
      std::time_t now = std::time(nullptr);
      char at[16];
      std::strftime(at, sizeof at, "%H:%M:%S", std::localtime(&now));
      std::printf("%s %s\n", at, line.c_str());
      std::fflush(stdout);
    };
  g_stop.store(false);
  auto previous_int = std::signal(SIGINT, on_stop_signal);
  auto previous_term = std::signal(SIGTERM, on_stop_signal);
  Status s = serve(o, global.telemetry.get(), &g_stop);
  std::signal(SIGINT, previous_int);
  std::signal(SIGTERM, previous_term);
  return report(s);
}

}  // namespace

void add_serve_command(CLI::App& app, GlobalOptions& global, int& exit_code) {
  static ServeArgs args;
  ServeOptions& o = args.options;
  auto* cmd = app.add_subcommand("serve", "Serve the REST API, the web UI and the job queue (docs/api.md)");
  cmd->add_option("--host", o.host, "Address to bind; anything but loopback requires --token or --token-file")
      ->capture_default_str();
  cmd->add_option("--port", o.port, "Port (0: any free port)")
      ->capture_default_str()
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--token", o.token, "Token every API call must carry (env FACEWEAVE_TOKEN)");
  cmd->add_option("--token-file", args.token_file,
                  "File whose first line is the token, e.g. a mounted secret (env FACEWEAVE_TOKEN_FILE)")
      ->excludes(cmd->get_option("--token"));
  cmd->add_option("--allowed-host", o.allowed_hosts,
                  "Another name the server is reached by (repeatable); requests for other Host names get 421")
      ->allow_extra_args(false);
  cmd->add_option("--max-concurrent-jobs", o.max_concurrent_jobs,
                  "Jobs run at once (0 with --database-url: workers run them)")
      ->capture_default_str()
      ->check(CLI::Range(0, 64));
  cmd->add_option("--web-dir", o.web_dir, "Folder of the web UI (default: the one this build made)");
  cmd->add_flag("-q,--quiet", args.quiet, "No line per request (pages, uploads, previews, jobs, downloads)");
  cmd->add_option("--upload-retention-hours", o.upload_retention_hours, "Uploads are deleted after this long")
      ->capture_default_str();
  cmd->add_option("--events-per-second", o.events_per_second,
                  "Browser event batches each client address may send a second (bursts of twice that)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  cmd->add_option(
         "--drain-seconds", o.drain_seconds,
         "On SIGTERM or Ctrl-C: refuse new jobs and give running ones this long to finish (the rest are "
         "queued again)")
      ->capture_default_str()
      ->check(CLI::Range(0, 3600));
  cmd->add_option("--max-image-mb", args.max_image_mb, "Largest image upload")->capture_default_str();
  cmd->add_option("--max-video-mb", args.max_video_mb, "Largest video upload")->capture_default_str();
  cmd->add_option("--max-image-megapixels", args.max_image_megapixels,
                  "Largest image upload in pixels (width x height, millions)")
      ->capture_default_str();
  cmd->add_option("--decode-budget-megapixels", args.decode_budget_megapixels,
                  "Pixels (millions) decoded at once across all requests; more decodes wait")
      ->capture_default_str();
  add_database_url_option(cmd, o.database_url);
  cmd->add_option(
      "--media-dir", o.media_dir,
      "Uploads and results go here, a folder every node of a fleet mounts (default: the data dir)");
  cmd->add_option("--fleet-retention-days", o.fleet_retention_days,
                  "With --database-url: drop the fleet's telemetry events older than this many days (whole "
                  "days; 0 keeps them all; the daily rollups stay)")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  cmd->callback([&global, &exit_code] { exit_code = run(global, args); });
}

}  // namespace faceweave::cli
