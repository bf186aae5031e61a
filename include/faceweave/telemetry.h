// Privacy-safe usage telemetry, stored locally (docs/telemetry.md lists every event and field;
// docs/privacy.md says what is and is never stored).
//
// A host (the CLI, later the server) creates one Telemetry per process from TelemetryOptions and calls the
// record_* methods. Recording never blocks, never throws and does no I/O on the caller's thread: the event is
// validated against an allow-list, stamped and copied into a bounded lock-free queue; a writer thread commits
// batches into SQLite (<data dir>/telemetry/events.db). When the queue is full the event is dropped and
// counted. When consent is `off` nothing is created on disk. When the database cannot be used (damaged,
// locked, read-only) the host keeps working: the Telemetry becomes disabled, health() says why, and one
// warning goes to the log sink.
//
// What can be stored is fixed by design: event names and property keys come from an allow-list, values are
// numbers, booleans, values of a listed enum, or words of [a-z0-9_-] (at most 24 bytes, longer ones are
// truncated). So a path, a file name with its extension, a host name, an IP address, an e-mail address or
// a user agent is rejected before it reaches the queue. The user is stored only as
// HMAC-SHA256(per-install secret, local user id); the secret lives in its own 0600 file.
//
// Thread contract: every record_* method and flush() may be called from any thread at any time; create()
// and the destructor (which flushes and stops the writer) from one thread.
//
//   TelemetryOptions o;                       // data dir and consent from flags or the environment
//   auto t = Telemetry::create(o);            // fails only for invalid options
//   if (!(*t)->first_run_notice().empty()) std::cerr << (*t)->first_run_notice() << "\n";
//   (*t)->record_stage("detect", 7.9, 1920, 1080);
//   (*t)->record_command("swap", StatusCode::kOk, 812.0, 0, /*changed=*/2);
#pragma once

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <iosfwd>
#include <limits>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "faceweave/status.h"

namespace faceweave {

// What is recorded (each level includes the ones before it):
//   off     nothing; no file is created
//   errors  error, provider.fallback, telemetry.dropped
//   usage   + command.run, command.option, stage.timing, face.count, ui.action   (the default)
//   all     + model.load, frame.timing (per-frame diagnostics)
enum class TelemetryConsent { kOff, kErrors, kUsage, kAll };
const char* telemetry_consent_name(TelemetryConsent consent);
Result<TelemetryConsent> parse_telemetry_consent(std::string_view name);

struct TelemetryConsentChoice {
  TelemetryConsent level = TelemetryConsent::kUsage;
  std::string source;  // "--telemetry", "FACEWEAVE_TELEMETRY", "DO_NOT_TRACK" or "default"
};
// The effective level: `flag` when not empty, else FACEWEAVE_TELEMETRY, else off when DO_NOT_TRACK=1,
// else usage. An unknown name is an invalid_argument that lists the levels.
Result<TelemetryConsentChoice> resolve_telemetry_consent(std::string_view flag);

// `flag` when not empty, else FACEWEAVE_DATA_DIR, else $XDG_DATA_HOME/faceweave, else
// ~/.local/share/faceweave. Only computes the path; creates nothing.
std::string resolve_data_dir(std::string_view flag);

struct TelemetryOptions {
  std::string data_dir;      // see resolve_data_dir
  std::string consent;       // off | errors | usage | all; empty: see resolve_telemetry_consent
  double sample_rate = 1.0;  // (0, 1]: share of runs (run), users (cohort) or events (probabilistic) kept
  // run: a run's events are kept or dropped together (events outside a run: per user); cohort: a user is
  // always or never sampled; probabilistic: each event alone (biases per-run ratios: diagnostics only).
  std::string sampling = "run";
  std::string app_version;  // empty: this build's version; [0-9A-Za-z.+-], at most 32 bytes
  std::string user_id;      // raw id to pseudonymise; empty: FACEWEAVE_TELEMETRY_USER, else the
                            // local OS user ("uid:<n>")
  // The defaults profile in effect ("<id>-v<version>", docs/experiments.md), recorded on command.run.
  std::string defaults_profile;
  int retention_days = 90;            // older events leave the database at start-up; 0 keeps them all
  std::string retention = "archive";  // archive (zstd-compressed NDJSON in the data dir) | delete
  // --telemetry-debug: receives each event exactly as stored, one JSON line, from the writer thread, right
  // after its batch commits. Must be thread-safe with the host's other output.
  std::function<void(std::string_view)> debug_sink;

  // Engine tuning; the defaults suit the CLI and the server.
  size_t queue_capacity = 16384;  // events waiting for the writer (320 bytes each, allocated up front)
  size_t batch_size = 8192;       // most events per transaction
  int flush_interval_ms = 250;    // longest an event waits in memory before its batch commits
  int busy_timeout_ms = 2000;     // how long a write waits for another process's lock before giving up
  bool sync_full = false;         // synchronous=FULL: commits also survive power loss, not only a crash
};

// One property of Telemetry::record(): a number, a boolean or a word/enum value.
struct TelemetryProp {
  enum class Type { kInt, kReal, kBool, kText };
  TelemetryProp(std::string_view k, int v) : key(k), type(Type::kInt), i(v) {}
  TelemetryProp(std::string_view k, long v) : key(k), type(Type::kInt), i(v) {}
  TelemetryProp(std::string_view k, long long v) : key(k), type(Type::kInt), i(v) {}
  TelemetryProp(std::string_view k, double v) : key(k), type(Type::kReal), d(v) {}
  TelemetryProp(std::string_view k, bool v) : key(k), type(Type::kBool), i(v) {}
  TelemetryProp(std::string_view k, std::string_view v) : key(k), type(Type::kText), text(v) {}
  TelemetryProp(std::string_view k, const char* v) : key(k), type(Type::kText), text(v) {}

  std::string_view key;
  Type type;
  int64_t i = 0;
  double d = 0;
  std::string_view text;
};

struct TelemetryStats {
  uint64_t committed = 0;    // events stored
  uint64_t dropped = 0;      // lost because the queue was full
  uint64_t rejected = 0;     // refused by the allow-list (unknown event or property, bad value)
  uint64_t sampled_out = 0;  // left out by sampling
  uint64_t failed = 0;       // lost because the database failed
};

namespace telemetry {
class Engine;  // the recorder, its writer thread and its sink (src/telemetry)
class Pseudonymiser;
class Database;  // an open events database (src/telemetry)
}  // namespace telemetry

class Telemetry {
 public:
  // Fails only when an option is invalid (an unknown consent level, a sample rate outside (0, 1], ...).
  // Storage problems leave a working, disabled Telemetry: see health().
  static Result<std::unique_ptr<Telemetry>> create(const TelemetryOptions& options);
  ~Telemetry();  // commits what is queued, then stops the writer
  Telemetry(const Telemetry&) = delete;
  Telemetry& operator=(const Telemetry&) = delete;

  // Whether events are being stored: false with consent off, or when storage failed (health() says why).
  bool enabled() const;
  TelemetryConsent consent() const { return consent_; }
  // Ok, or why telemetry stopped (the database is damaged, locked, read-only...). The message names the
  // file and the fix.
  Status health() const;
  // Non-empty on the first run with telemetry on: what is stored, where, and how to turn it off. The host
  // shows it once (the library never prints).
  const std::string& first_run_notice() const { return notice_; }
  const std::string& data_dir() const { return data_dir_; }
  const std::string& database_path() const { return database_path_; }
  // This install's pseudonym for the user (64 hex digits); empty with consent off.
  const std::string& user() const { return user_; }
  std::string session() const;  // the current session id (a new one after 30 minutes idle)
  TelemetryStats stats() const;

  // --- recording: never blocks, never throws; a no-op when disabled or when consent leaves the event out.
  // A value outside the allow-list rejects the whole event (counted in stats().rejected).

  // A command finished: a CLI sub-command ("swap", "analyse", "models_list"), or an API call (surface
  // "api"). `changed` counts its options set to something other than their default; `provider` is the
  // execution provider that served it (cpu, cuda, openvino, opencl), empty when it ran no model.
  // `requested` is the provider asked for and `fallback` whether it was unavailable, so `provider` ran
  // instead. The options' defaults_profile, when set, is recorded as `profile`.
  void record_command(std::string_view command, StatusCode outcome, double duration_ms, int exit_code = 0,
                      int changed = 0, std::string_view surface = "cli", std::string_view provider = {},
                      std::string_view requested = {}, bool fallback = false);
  // One option of `command` differs from its default. Give `value` only for options whose values come
  // from a fixed list (blend "laplacian"); never a path or free text (a value that is not a word is
  // rejected). Numeric options pass their number.
  void record_option(std::string_view command, std::string_view option, std::string_view value = {});
  void record_option(std::string_view command, std::string_view option, double number);
  // Total wall time of one processing stage (decode, detect, landmarks, embed, swap, blend, colour_match,
  // enhance, encode, ...) over `frames` output frames of width x height; `media` is "image" or "video".
  // input_width x input_height is the target's frame as read (before any scaling or super-resolution),
  // stored like the output's as a resolution bucket only (`input`); 0 leaves it out.
  void record_stage(std::string_view stage, double total_ms, int width, int height, int frames = 1,
                    std::string_view media = "image", int input_width = 0, int input_height = 0);
  // The same for every entry of a per-stage map (as core::StageTimings::stages() gives).
  void record_stages(const std::map<std::string, double>& ms_by_stage, int width, int height, int frames = 1,
                     std::string_view media = "image", int input_width = 0, int input_height = 0);
  // The same for a list of (stage, ms) pairs, as SwapReport::stage_ms gives.
  void record_stages(const std::vector<std::pair<std::string, double>>& ms_by_stage, int width, int height,
                     int frames = 1, std::string_view media = "image", int input_width = 0,
                     int input_height = 0);
  // One frame's time in one stage (consent `all` only: per-frame diagnostics for videos).
  void record_frame_stage(std::string_view stage, double ms, int width, int height, int64_t frame);
  // A failure: `where` is the command or stage ("swap", "decode"), `code` its Status code.
  // `requested`/`provider`/`fallback`: the execution provider asked for, the one used, and whether it fell
  // back (empty when no model ran).
  void record_error(std::string_view where, StatusCode code, std::string_view surface = "cli",
                    std::string_view requested = {}, std::string_view provider = {}, bool fallback = false);
  // The requested execution provider was not available and `used` ran instead.
  void record_provider_fallback(std::string_view requested, std::string_view used,
                                std::string_view model = {});
  // A model took `ms` to load (consent `all`); `model` is its manifest name.
  void record_model_load(std::string_view model, double ms, std::string_view provider = "cpu",
                         bool cached = false);
  // Faces found in a source, target or reference image (role) and how many were selected for swapping.
  void record_faces(std::string_view role, int detected, int selected, int width, int height);
  // Any allowed event by name (docs/telemetry.md), e.g. record("ui.action", {{"control", "blend"},
  // {"action", "change"}, {"value", "laplacian"}}). Returns why an event or property was rejected.
  Status record(std::string_view event, std::initializer_list<TelemetryProp> props,
                double duration_ms = std::numeric_limits<double>::quiet_NaN(),
                StatusCode outcome = StatusCode::kOk);
  Status record(std::string_view event, std::span<const TelemetryProp> props,
                double duration_ms = std::numeric_limits<double>::quiet_NaN(),
                StatusCode outcome = StatusCode::kOk);
  // An event of another user of this process: a browser client of the server. `client` is the client's
  // own random id; it is stored only as a pseudonym under this install's secret (like the local user), with
  // sessions of its own. Checked against the allow-list like record().
  Status record_client(std::string_view client, std::string_view event, std::span<const TelemetryProp> props);
  // The pseudonym record_client stores for `client` (empty with consent off or an id of the wrong length):
  // what assigns a browser user to an experiment's arm (docs/experiments.md).
  std::string client_pseudonym(std::string_view client) const;

  // Waits until every event recorded before the call is committed (or failed). Returns health().
  Status flush();

  // Internal: the engine under this facade (tests and benchmarks); null with consent off.
  telemetry::Engine* engine() { return engine_.get(); }

 private:
  Telemetry() = default;

  TelemetryConsent consent_ = TelemetryConsent::kOff;
  std::string data_dir_;
  std::string database_path_;
  std::string notice_;
  std::string user_;
  std::string defaults_profile_;
  Status setup_status_;
  std::shared_ptr<const telemetry::Pseudonymiser> client_pseudonyms_;
  std::unique_ptr<telemetry::Engine> engine_;
};

// One run of a command (a CLI sub-command, an API job or preview). While it lives, every event recorded on
// this thread carries its id as the `run` property, so a run's options, stage timings, faces, fallbacks
// and errors join to its command.run; and sampling (mode `run`, the default) keeps or drops the run's
// events together. Runs nest: the destructor restores the thread's previous run.
class TelemetryRun {
 public:
  TelemetryRun();                              // a new random id (16 hex digits)
  explicit TelemetryRun(std::string_view id);  // this id (16 hex digits; anything else gets a new one)
  // Another user's run on this thread: a job a browser client submitted, run by the server's job thread.
  // Every event recorded on the thread while it lives is stored under `user` (that user's pseudonym, as
  // Telemetry::client_pseudonym gives it; 64 hex digits) in a session of `platform` ("web"; empty or not a
  // coarse platform means it) of its own, and sampled by the run like the host's runs (by `user` in cohort
  // sampling). A `user` that is not a pseudonym leaves the run the host's.
  TelemetryRun(std::string_view id, std::string_view user, std::string_view platform);
  ~TelemetryRun();
  TelemetryRun(const TelemetryRun&) = delete;
  TelemetryRun& operator=(const TelemetryRun&) = delete;
  const std::string& id() const { return id_; }
  // The id of this thread's current run; empty outside a run.
  static std::string current();

 private:
  std::string id_;
  std::string user_, platform_;
  std::string previous_id_;
  double previous_position_ = -1;
  const std::string* previous_user_ = nullptr;
  const std::string* previous_platform_ = nullptr;
};

// --- reading and erasing what was stored (faceweave telemetry ...)

// One stored event, as `show`, `export` and --telemetry-debug print it.
struct TelemetryEventRow {
  int64_t id = 0;
  int64_t ts_ms = 0;
  std::string event;
  std::string user;     // pseudonym
  std::string session;  // random id
  std::string app_version;
  std::string props;  // a JSON object, exactly as stored
  std::optional<double> duration_ms;
  std::string outcome;  // "ok" or a status code name ("invalid_input", ...)
  double sample_rate = 1;
};
// {"id":1,"ts":...,"event":"...","user":"...","session":"...","app_version":"...","props":{...},
//  "duration_ms":...,"outcome":"ok","sample_rate":1} on one line: the NDJSON export and archive format.
std::string telemetry_row_json(const TelemetryEventRow& row);

struct TelemetryInfo {
  std::string data_dir;
  std::string database_path;
  bool database_exists = false;
  uint64_t database_bytes = 0;  // the database and its write-ahead log
  int schema_version = 0;
  int64_t events = 0;
  int64_t users = 0;
  int64_t sessions = 0;
  std::optional<int64_t> oldest_ms, newest_ms;
  std::map<std::string, int64_t> events_by_name;
  int archive_files = 0;
  uint64_t archive_bytes = 0;
};

struct TelemetryRetentionReport {
  int64_t moved = 0;    // events written to an archive and removed
  int64_t deleted = 0;  // events removed without an archive
  std::string archive_path;
};

// The events database of a data dir, opened for reading and erasure. One thread at a time.
class TelemetryStore {
 public:
  // NotFound when the data dir has no events database; a clear error when it is damaged or locked.
  static Result<std::unique_ptr<TelemetryStore>> open(const std::string& data_dir,
                                                      int busy_timeout_ms = 2000);
  ~TelemetryStore();

  Result<TelemetryInfo> info();
  // The newest `n` events, oldest first.
  Result<std::vector<TelemetryEventRow>> last(size_t n);
  // Every event in id order (archived events are not included).
  Status for_each(const std::function<void(const TelemetryEventRow&)>& fn);
  // ndjson: one telemetry_row_json line per event; csv: a header line, then one line per event.
  Status export_events(std::ostream& out, std::string_view format);
  // Erases one user's events, sessions and archived lines. `user` is a pseudonym (64 hex digits) or the
  // raw id it was made from (hashed with this install's secret). Returns the number of events erased.
  Result<int64_t> forget(std::string_view user);
  // Moves (action "archive") or deletes (action "delete") events older than `days` days before `now_ms`.
  Result<TelemetryRetentionReport> apply_retention(int days, std::string_view action, int64_t now_ms);

 private:
  TelemetryStore() = default;
  std::string data_dir_;
  std::unique_ptr<telemetry::Database> db_;
};

// Erases every stored event, session and archive of the data dir, and the database files themselves,
// even when the database is damaged. The pseudonym secret stays, so ids stay stable.
Status purge_telemetry(const std::string& data_dir);

// The pseudonym `user_id` gets in this data dir (empty id: the local OS user); NotFound when the install has
// no secret yet (telemetry never ran). Creates nothing.
Result<std::string> telemetry_pseudonym(const std::string& data_dir, std::string_view user_id = {});

}  // namespace faceweave
