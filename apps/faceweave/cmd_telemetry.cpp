// faceweave telemetry status | show [--last N] [--json] | export [--format ndjson|csv] | purge | forget
// --user ID, the global --telemetry, --telemetry-debug, --telemetry-sample, --telemetry-sampling and
// --data-dir flags, and the recording of every command run (docs/telemetry.md: command.run, command.option,
// error).
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "cli.h"
#include "faceweave/engine.h"

namespace faceweave::cli {
namespace {

// Options whose values come from a fixed list: only these values are ever recorded, and only when they
// are in the list. Every other option is recorded by name alone (never its value, which may be a path).
const std::map<std::string, std::set<std::string>>& recorded_values() {
  static const std::map<std::string, std::set<std::string>> kValues = {
      {"execution-provider", {"cpu", "cuda", "openvino", "opencl"}},
      {"blend", {"auto", "seamless", "affine", "laplacian"}},
      {"color-match", {"none", "reinhard", "histogram"}},
      {"face-selector-mode", {"many", "one", "reference"}},
      {"face-selector-order",
       {"left-right", "right-left", "top-bottom", "bottom-top", "small-large", "large-small", "best-worst",
        "worst-best"}},
      {"face-selector-gender", {"female", "male"}},
      {"face-enhancer", {"none", "detail", "gfpgan_1.4"}},
      {"face-swapper-model", {"classic", "inswapper_128", "inswapper_128_fp16"}},
      {"face-swapper-pixel-boost", {"128x128", "256x256", "384x384", "512x512", "768x768", "1024x1024"}},
      {"face-mask-types", {"box", "area"}},
      {"frame-enhancer", {"none", "fsrcnn_x2", "fsrcnn_x4", "espcn_x2", "espcn_x4"}},
      {"face-detector-model", {"fr_detect", "yunet_2022mar", "scrfd_2.5g"}},
      {"face-landmarker-model", {"fr_landmark", "dlib_68", "2dfan4"}},
      {"processors", {"face_swapper", "face_enhancer", "frame_enhancer", "face_debugger"}},
      {"keep-mouth-interior", {"true", "false"}},
      {"watermark", {"true", "false"}},  // --no-watermark: a switched-off default (docs/provenance.md)
      {"provenance", {"true", "false"}},
      {"output-video-encoder", {"libx264", "libx265", "libvpx-vp9"}},
      {"output-video-preset",
       {"ultrafast", "superfast", "veryfast", "faster", "fast", "medium", "slow", "slower", "veryslow"}},
      {"progress", {"auto", "terminal", "json", "none"}},
      {"format", {"ndjson", "csv"}},
  };
  return kValues;
}

// Options whose value is a plain number: the number is recorded.
const std::set<std::string>& recorded_numbers() {
  static const std::set<std::string> kNumbers = {
      "face-detector-score",     "identity-strength",      "face-mask-blur",
      "face-selector-age-start", "face-selector-age-end",  "reference-face-position",
      "reference-face-distance", "face-enhancer-blend",    "frame-enhancer-blend",
      "output-image-quality",    "output-video-quality",   "output-video-fps",
      "output-video-scale",      "output-audio-volume",    "trim-frame-start",
      "trim-frame-end",          "execution-thread-count", "face-swapper-weight",
      "face-detector-interval"};
  return kNumbers;
}

// Flags about telemetry itself are not usage of faceweave; paths and output formats are inputs and outputs,
// not options: none of them is recorded as command.option or counted in `changed`.
bool is_telemetry_flag(const std::string& name) {
  static const std::set<std::string> kInputOutput = {
      "source", "target", "output", "json", "debug-out", "models-dir", "reference-face-image"};
  return name.rfind("telemetry", 0) == 0 || name == "data-dir" || name == "help" || kInputOutput.count(name);
}

std::string word(std::string name) {
  for (char& c : name)
    if (c == '-') c = '_';
  return name;
}

std::optional<double> as_number(const std::string& s) {
  if (s.empty()) return std::nullopt;
  char* end = nullptr;
  errno = 0;
  double v = std::strtod(s.c_str(), &end);
  if (errno != 0 || end != s.c_str() + s.size()) return std::nullopt;
  return v;
}

StatusCode status_for_exit(int code) {
  switch (code) {
    case 0:
      return StatusCode::kOk;
    case 2:
      return StatusCode::kInvalidArgument;
    case 3:
      return StatusCode::kNotFound;
    case 4:
      return StatusCode::kInvalidInput;
    case 5:
      return StatusCode::kUnsupported;
    case 6:
      return StatusCode::kModelError;
    case 7:
      return StatusCode::kPermissionDenied;
    case 8:
      return StatusCode::kIoError;
    case 9:
      return StatusCode::kNoFace;
    case 130:
      return StatusCode::kCancelled;
    default:
      return StatusCode::kInternal;
  }
}

struct ChangedOption {
  std::string name;  // as on the command line, without dashes: face-detector-score
  std::vector<std::string> values;
};

// "[a,b]" and "a b" both become "a b", so a vector's default compares with what was typed.
std::string normalised(std::string s) {
  std::string out;
  for (char c : s) {
    if (c == '[' || c == ']') continue;
    out += c == ',' ? ' ' : c;
  }
  return out;
}

// Options of `app` given on the command line with a value other than their default.
void collect_changed(CLI::App* app, const std::map<const CLI::Option*, std::string>& defaults,
                     std::vector<ChangedOption>* out) {
  for (CLI::Option* opt : app->get_options()) {
    if (opt->get_lnames().empty() || opt->count() == 0) continue;
    const std::string& name = opt->get_lnames().front();
    if (is_telemetry_flag(name)) continue;
    const auto& results = opt->results();
    std::string given;
    for (const auto& r : results) given += (given.empty() ? "" : " ") + r;
    auto d = defaults.find(opt);
    if (d != defaults.end()) {
      std::string def = normalised(d->second);
      auto a = as_number(given), b = as_number(def);
      if (given == def || (a && b && *a == *b) || (def == "false" && given == "0") ||
          (def == "true" && given == "1"))
        continue;
    }
    out->push_back({name, results});
  }
}

// The value each option's variable holds before parsing (its default), for every option of every command.
void capture_defaults(CLI::App* app, std::map<const CLI::Option*, std::string>* defaults) {
  for (CLI::Option* opt : app->get_options()) {
    // capture_default_str() reads the bound variable; the option's own help text is left as it was.
    std::string shown = opt->get_default_str();
    opt->capture_default_str();
    (*defaults)[opt] = opt->get_default_str();
    opt->default_str(shown);
  }
  for (CLI::App* sub : app->get_subcommands({})) capture_defaults(sub, defaults);
}

std::string utc_time(int64_t ms) {
  std::time_t t = std::time_t(ms / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S", &tm);
  return buf;
}

std::string human_bytes(uint64_t b) {
  std::ostringstream out;
  out << std::fixed << std::setprecision(1);
  if (b >= (1u << 20))
    out << double(b) / double(1u << 20) << " MiB";
  else if (b >= 1024)
    out << double(b) / 1024.0 << " KiB";
  else
    out << b << " bytes";
  return out.str();
}

struct TelemetryArgs {
  size_t last = 20;
  bool json = false;
  std::string format = "ndjson";
  std::string output;
  std::string user;
};

// Opens the store; `missing` is set (and ok returned) when nothing was stored yet.
Result<std::unique_ptr<TelemetryStore>> open_store(const GlobalOptions& global, bool* missing) {
  auto store = TelemetryStore::open(resolve_data_dir(global.telemetry_options.data_dir));
  *missing = !store && store.status().code() == StatusCode::kNotFound;
  return store;
}

int run_status(const GlobalOptions& global, const TelemetryArgs& args) {
  auto consent = resolve_telemetry_consent(global.telemetry_options.consent);
  if (!consent) return report(consent.status());
  std::string data_dir = resolve_data_dir(global.telemetry_options.data_dir);
  auto pseudonym = telemetry_pseudonym(data_dir);
  bool missing = false;
  auto store = open_store(global, &missing);
  Result<TelemetryInfo> info = missing ? Result<TelemetryInfo>(TelemetryInfo{})
                                       : (store ? (*store)->info() : Result<TelemetryInfo>(store.status()));
  if (!missing && !info) return report(info.status());

  if (args.json) {
    nlohmann::ordered_json j;
    j["level"] = telemetry_consent_name(consent->level);
    j["level_source"] = consent->source;
    j["data_dir"] = data_dir;
    j["user"] = pseudonym ? nlohmann::ordered_json(*pseudonym) : nlohmann::ordered_json();
    j["database"] = {{"path", (std::filesystem::path(data_dir) / "telemetry" / "events.db").string()},
                     {"exists", !missing}};
    if (!missing) {
      j["database"]["bytes"] = info->database_bytes;
      j["database"]["schema_version"] = info->schema_version;
      j["events"] = info->events;
      j["users"] = info->users;
      j["sessions"] = info->sessions;
      j["oldest_ms"] = info->oldest_ms ? nlohmann::ordered_json(*info->oldest_ms) : nlohmann::ordered_json();
      j["newest_ms"] = info->newest_ms ? nlohmann::ordered_json(*info->newest_ms) : nlohmann::ordered_json();
      j["events_by_name"] = info->events_by_name;
      j["archives"] = {{"files", info->archive_files}, {"bytes", info->archive_bytes}};
    } else {
      j["events"] = 0;
    }
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::cout << "level:     " << telemetry_consent_name(consent->level) << " (" << consent->source << ")\n";
  std::cout << "data dir:  " << data_dir << "\n";
  if (pseudonym) std::cout << "you:       " << *pseudonym << " (your pseudonym)\n";
  if (missing) {
    std::cout << "database:  none yet (nothing has been recorded)\n";
    return 0;
  }
  std::cout << "database:  " << info->database_path << " (" << human_bytes(info->database_bytes)
            << ", schema " << info->schema_version << ")\n";
  std::cout << "events:    " << info->events;
  if (info->oldest_ms)
    std::cout << " from " << utc_time(*info->oldest_ms) << " to " << utc_time(*info->newest_ms) << " UTC";
  std::cout << "\n";
  std::cout << "users:     " << info->users << ", sessions: " << info->sessions << "\n";
  std::cout << "archives:  " << info->archive_files << " file(s), " << human_bytes(info->archive_bytes)
            << "\n";
  for (const auto& [name, n] : info->events_by_name)
    std::cout << "  " << std::left << std::setw(20) << name << n << "\n";
  std::cout
      << "turn off with --telemetry off or FACEWEAVE_TELEMETRY=off; erase with `faceweave telemetry purge`\n";
  return 0;
}

int run_show(const GlobalOptions& global, const TelemetryArgs& args) {
  bool missing = false;
  auto store = open_store(global, &missing);
  if (missing) {
    std::cout << (args.json ? "[]\n" : "no telemetry stored yet\n");
    return 0;
  }
  if (!store) return report(store.status());
  auto rows = (*store)->last(args.last);
  if (!rows) return report(rows.status());
  if (args.json) {
    nlohmann::ordered_json out = nlohmann::ordered_json::array();
    for (const auto& r : *rows) out.push_back(nlohmann::ordered_json::parse(telemetry_row_json(r)));
    std::cout << out.dump(2) << "\n";
    return 0;
  }
  std::cout << std::left << std::setw(8) << "ID" << std::setw(21) << "TIME (UTC)" << std::setw(19) << "EVENT"
            << std::setw(11) << "MS" << std::setw(14) << "OUTCOME"
            << "PROPS\n";
  for (const auto& r : *rows) {
    std::ostringstream ms;
    if (r.duration_ms) ms << std::fixed << std::setprecision(1) << *r.duration_ms;
    std::cout << std::setw(8) << r.id << std::setw(21) << utc_time(r.ts_ms) << std::setw(19) << r.event
              << std::setw(11) << ms.str() << std::setw(14) << r.outcome << r.props << "\n";
  }
  return 0;
}

int run_export(const GlobalOptions& global, const TelemetryArgs& args) {
  bool missing = false;
  auto store = open_store(global, &missing);
  if (!missing && !store) return report(store.status());
  std::ofstream file;
  std::ostream* out = &std::cout;
  if (!args.output.empty()) {
    file.open(args.output, std::ios::binary | std::ios::trunc);
    if (!file) return report(io_error("cannot write " + args.output));
    out = &file;
  }
  if (missing) {
    if (args.format == "csv")
      *out << "id,ts,event,user,session,app_version,duration_ms,outcome,sample_rate,props\n";
    return 0;
  }
  Status s = (*store)->export_events(*out, args.format);
  out->flush();
  if (s.is_ok() && !*out) s = io_error("cannot write the export (is the disk full?)");
  return report(s);
}

int run_purge(const GlobalOptions& global) {
  std::string data_dir = resolve_data_dir(global.telemetry_options.data_dir);
  int64_t events = 0;
  bool missing = false;
  if (auto store = open_store(global, &missing); store)
    if (auto info = (*store)->info(); info) events = info->events;
  Status s = purge_telemetry(data_dir);
  if (!s.is_ok()) return report(s);
  std::cout << "erased " << events << " event(s) and every archive in " << data_dir << "/telemetry\n";
  return 0;
}

int run_forget(const GlobalOptions& global, const TelemetryArgs& args) {
  bool missing = false;
  auto store = open_store(global, &missing);
  if (missing) {
    std::cout << "erased 0 event(s): nothing is stored\n";
    return 0;
  }
  if (!store) return report(store.status());
  auto removed = (*store)->forget(args.user);
  if (!removed) return report(removed.status());
  std::cout << "erased " << *removed << " event(s) of that user\n";
  return 0;
}

}  // namespace

void add_telemetry_flags(CLI::App& app, GlobalOptions& global) {
  auto& t = global.telemetry_options;
  app.add_option("--telemetry", t.consent,
                 "Telemetry level: off | errors | usage | all (env FACEWEAVE_TELEMETRY; default usage)")
      ->check(CLI::IsMember({"off", "errors", "usage", "all"}));
  app.add_flag("--telemetry-debug", global.telemetry_debug,
               "Print each telemetry event to stderr exactly as stored");
  app.add_option("--telemetry-sample", t.sample_rate, "Share of runs (or users, or events) kept")
      ->check(CLI::Range(0.000001, 1.0));
  app.add_option("--telemetry-sampling", t.sampling,
                 "run (a run's events are kept together) | cohort (a user is always or never sampled) | "
                 "probabilistic (each event alone)")
      ->check(CLI::IsMember({"run", "cohort", "probabilistic"}));
  app.add_option(
      "--data-dir", t.data_dir,
      "Folder for telemetry and other data (env FACEWEAVE_DATA_DIR; default ~/.local/share/faceweave)");
}

void add_telemetry_command(CLI::App& app, GlobalOptions& global, int& exit_code) {
  static TelemetryArgs args;
  auto* cmd =
      app.add_subcommand("telemetry", "See, export and erase the usage telemetry stored on this computer");
  cmd->require_subcommand(1);

  auto* status =
      cmd->add_subcommand("status", "Level, where events are stored, how many, and your pseudonym");
  status->add_flag("--json", args.json, "Print JSON");
  status->callback([&global, &exit_code] { exit_code = run_status(global, args); });

  auto* show = cmd->add_subcommand("show", "The newest events, exactly as stored");
  show->add_option("--last", args.last, "How many events")
      ->check(CLI::Range(1, 1000000))
      ->capture_default_str();
  show->add_flag("--json", args.json, "Print a JSON array");
  show->callback([&global, &exit_code] { exit_code = run_show(global, args); });

  auto* exp = cmd->add_subcommand("export", "Every stored event (archives excluded) as NDJSON or CSV");
  exp->add_option("--format", args.format, "ndjson | csv")
      ->check(CLI::IsMember({"ndjson", "csv"}))
      ->capture_default_str();
  exp->add_option("-o,--output", args.output, "Write to this file instead of standard output");
  exp->callback([&global, &exit_code] { exit_code = run_export(global, args); });

  auto* purge =
      cmd->add_subcommand("purge", "Erase every stored event and archive (the pseudonym secret stays)");
  purge->callback([&global, &exit_code] { exit_code = run_purge(global); });

  auto* forget = cmd->add_subcommand("forget", "Erase one user's events, sessions and archived lines");
  forget
      ->add_option("--user", args.user,
                   "A pseudonym (64 hex digits, see `telemetry status`) or a raw user id")
      ->required();
  forget->callback([&global, &exit_code] { exit_code = run_forget(global, args); });
}

void note_provider(const GlobalOptions& global, const ProviderInfo& provider) {
  global.provider_used = provider.used;
  global.provider_requested = provider.requested;
  global.provider_fallback = !provider.fallback_reason.empty() && provider.requested != provider.used;
}

CommandTelemetry::CommandTelemetry(CLI::App& app, GlobalOptions& global) : app_(app), global_(global) {
  capture_defaults(&app, &defaults_);
  // Runs once every flag is parsed and before any sub-command's callback, so the command can record
  // (stage timings, fallbacks) through global.telemetry while it runs.
  app.parse_complete_callback([this] { start(); });
}

void CommandTelemetry::start() {
  auto subs = app_.get_subcommands();
  // `faceweave telemetry ...` and `faceweave insights ...` read, analyse and erase what is stored: they are
  // not usage, and recording them would change what they show (and create a database to analyse).
  if (subs.empty() || subs.front()->get_name() == "telemetry" || subs.front()->get_name() == "insights" ||
      subs.front()->get_name() == "experiments")
    return;
  TelemetryOptions options = global_.telemetry_options;
  if (global_.telemetry_debug) {
    options.debug_sink = [](std::string_view line) {
      static std::mutex m;
      std::lock_guard lock(m);
      std::cerr << "telemetry: " << line << "\n";
    };
  }
  auto t = Telemetry::create(options);
  if (!t) {
    // Invalid telemetry settings (FACEWEAVE_TELEMETRY=maybe) must not stop the command.
    std::cerr << "faceweave: warning: telemetry is off for this run: " << t.status().message() << "\n";
    return;
  }
  global_.telemetry = std::move(*t);
  run_ = std::make_unique<TelemetryRun>();
  if (!global_.telemetry->first_run_notice().empty())
    std::cerr << "faceweave: " << global_.telemetry->first_run_notice() << "\n";
  start_ = std::chrono::steady_clock::now();
}

void CommandTelemetry::finish(int exit_code) {
  Telemetry* t = global_.telemetry.get();
  if (!t) return;
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count();
  std::string command;
  std::vector<ChangedOption> changed;
  collect_changed(&app_, defaults_, &changed);
  for (CLI::App* sub = &app_; !sub->get_subcommands().empty();) {
    sub = sub->get_subcommands().front();
    command += (command.empty() ? "" : "_") + word(sub->get_name());
    collect_changed(sub, defaults_, &changed);
  }
  StatusCode outcome = status_for_exit(exit_code);
  const std::string& used = global_.provider_used;
  const std::string& requested = global_.provider_requested;
  const bool fallback = global_.provider_fallback;
  t->record_command(command, outcome, ms, exit_code, int(changed.size()), "cli", used, requested, fallback);
  // Recorded here, after the command, so a fallback run that failed is counted like one that succeeded.
  if (fallback) t->record_provider_fallback(requested, used);
  for (const auto& c : changed) {
    const std::string option = word(c.name);
    auto listed = recorded_values().find(c.name);
    bool recorded = false;
    if (listed != recorded_values().end()) {
      for (const auto& v : c.values) {
        if (!listed->second.count(v)) continue;
        // Stored values are words ([a-z0-9_-]): a model name such as gfpgan_1.4 is kept as gfpgan_1_4.
        std::string value = v;
        std::replace(value.begin(), value.end(), '.', '_');
        t->record_option(command, option, value);
        recorded = true;
      }
    } else if (recorded_numbers().count(c.name) && c.values.size() == 1) {
      if (auto n = as_number(c.values.front())) {
        t->record_option(command, option, *n);
        recorded = true;
      }
    }
    if (!recorded) t->record_option(command, option);
  }
  if (outcome != StatusCode::kOk) t->record_error(command, outcome, "cli", requested, used, fallback);
  // Destroying it commits what is queued, so --telemetry-debug lines come out before the process exits.
  global_.telemetry.reset();
  run_.reset();
}

}  // namespace faceweave::cli
