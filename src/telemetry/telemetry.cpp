// The public Telemetry facade: option checks, consent, the data dir, the pseudonym, the session, the
// first-run notice, and the record_* helpers over Engine::emit.
#include "faceweave/telemetry.h"

#include <cmath>
#include <cstdlib>
#include <optional>
#include <span>

#include "core/log.h"
#include "telemetry/engine.h"
#include "telemetry/pseudonymiser.h"
#include "telemetry/retention.h"
#include "telemetry/sqlite_sink.h"

#ifndef FACEWEAVE_VERSION
#define FACEWEAVE_VERSION "0.0.0"
#endif

namespace faceweave {

const char* telemetry_consent_name(TelemetryConsent consent) {
  switch (consent) {
    case TelemetryConsent::kOff:
      return "off";
    case TelemetryConsent::kErrors:
      return "errors";
    case TelemetryConsent::kUsage:
      return "usage";
    case TelemetryConsent::kAll:
      return "all";
  }
  return "off";
}

Result<TelemetryConsent> parse_telemetry_consent(std::string_view name) {
  // The usual ways of saying no in an environment variable all mean off.
  if (name == "off" || name == "0" || name == "false" || name == "no" || name == "none")
    return TelemetryConsent::kOff;
  if (name == "errors" || name == "error") return TelemetryConsent::kErrors;
  if (name == "usage" || name == "on" || name == "1" || name == "true") return TelemetryConsent::kUsage;
  if (name == "all") return TelemetryConsent::kAll;
  return invalid_argument("unknown telemetry level '" + std::string(name.substr(0, 40)) +
                          "' (use off, errors, usage or all)");
}

Result<TelemetryConsentChoice> resolve_telemetry_consent(std::string_view flag) {
  if (!flag.empty()) {
    FW_ASSIGN_OR_RETURN(auto level, parse_telemetry_consent(flag));
    return TelemetryConsentChoice{level, "--telemetry"};
  }
  if (const char* env = std::getenv("FACEWEAVE_TELEMETRY"); env && *env) {
    auto level = parse_telemetry_consent(env);
    if (!level) return invalid_argument("FACEWEAVE_TELEMETRY: " + level.status().message());
    return TelemetryConsentChoice{*level, "FACEWEAVE_TELEMETRY"};
  }
  // https://consoledonottrack.com: one variable to opt out of every tool's telemetry.
  if (const char* dnt = std::getenv("DO_NOT_TRACK"); dnt && *dnt && std::string_view(dnt) != "0")
    return TelemetryConsentChoice{TelemetryConsent::kOff, "DO_NOT_TRACK"};
  return TelemetryConsentChoice{TelemetryConsent::kUsage, "default"};
}

namespace telemetry {

bool consent_allows(TelemetryConsent consent, Category category) {
  switch (category) {
    case Category::kError:
      return consent >= TelemetryConsent::kErrors;
    case Category::kUsage:
      return consent >= TelemetryConsent::kUsage;
    case Category::kDiagnostic:
      return consent >= TelemetryConsent::kAll;
  }
  return false;
}

Engine::Engine(TelemetryConsent consent, Sampler sampler, Paths paths, std::string user,
               std::string app_version, SessionState session, std::unique_ptr<Recorder> recorder)
    : consent_(consent),
      sampler_(sampler),
      paths_(std::move(paths)),
      user_(std::move(user)),
      app_version_(std::move(app_version)),
      session_id_(session.id),
      last_activity_ms_(session.last_activity_ms),
      recorder_(std::move(recorder)) {
  for (size_t i = 0; i < kEventKindCount; ++i)
    allowed_[i] = consent_allows(consent_, event_spec(EventKind(i)).category);
}

Engine::~Engine() {
  recorder_.reset();
  std::lock_guard lock(session_mutex_);
  // The next run continues this session if it starts within 30 minutes of the last event.
  (void)save_session(paths_.session, {session_id_, last_activity_ms_.load(), false});
}

uint16_t Engine::rotate_session(int64_t now_ms) noexcept {
  std::lock_guard lock(session_mutex_);
  // Another thread may have rotated while this one waited.
  if (now_ms - last_activity_ms_.load() < kSessionIdleMs) return identity_.load();
  try {
    std::string id = random_hex(16);
    auto slot = recorder_->add_identity({user_, id, app_version_, build_platform()});
    if (slot) {
      session_id_ = id;
      identity_.store(*slot);
    }
  } catch (...) {
    // Out of memory: keep the old session rather than lose the event.
  }
  last_activity_ms_.store(now_ms);
  return identity_.load();
}

Result<uint16_t> Engine::client_identity(const std::string& pseudonym, const std::string& platform,
                                         int64_t now_ms) {
  std::lock_guard lock(session_mutex_);
  const std::string key = platform + " " + pseudonym;
  auto it = clients_.find(key);
  if (it != clients_.end() && now_ms - it->second.last_ms < kSessionIdleMs) {
    it->second.last_ms = now_ms;
    return it->second.slot;
  }
  FW_ASSIGN_OR_RETURN(uint16_t slot,
                      recorder_->add_identity({pseudonym, random_hex(16), app_version_, platform}));
  clients_[key] = {slot, now_ms};
  return slot;
}

std::string Engine::session() const {
  std::lock_guard lock(session_mutex_);
  return session_id_;
}

TelemetryStats Engine::stats() const {
  TelemetryStats s;
  s.committed = recorder_->committed();
  s.dropped = recorder_->dropped();
  s.failed = recorder_->failed();
  s.sampled_out = sampled_out_.load(std::memory_order_relaxed);
  s.rejected = rejected_.load(std::memory_order_relaxed);
  return s;
}

namespace {

Status check_options(const TelemetryOptions& o) {
  if (!(o.sample_rate > 0.0 && o.sample_rate <= 1.0))
    return invalid_argument("the telemetry sample rate must be in (0, 1], not " +
                            std::to_string(o.sample_rate));
  if (o.sampling != "run" && o.sampling != "cohort" && o.sampling != "probabilistic")
    return invalid_argument("unknown telemetry sampling '" + o.sampling +
                            "' (use run, cohort or probabilistic)");
  FW_RETURN_IF_ERROR(parse_retention_action(o.retention).status());
  if (o.retention_days < 0) return invalid_argument("telemetry retention days cannot be negative");
  if (o.app_version.size() > 32) return invalid_argument("the app version is longer than 32 bytes");
  for (char c : o.app_version) {
    bool ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '.' ||
              c == '+' || c == '-';
    if (!ok) return invalid_argument("the app version may only hold [0-9A-Za-z.+-]");
  }
  if (!o.defaults_profile.empty() &&
      (o.defaults_profile.size() > kMaxWordLength || !is_word(o.defaults_profile)))
    return invalid_argument("the defaults profile tag must be a word of [a-z0-9_-], at most 24 bytes");
  if (o.queue_capacity < 256 || o.queue_capacity > (1u << 24))
    return invalid_argument("the telemetry queue capacity must be between 256 and 16777216 events");
  if (o.batch_size < 1 || o.batch_size > (1u << 20))
    return invalid_argument("the telemetry batch size must be between 1 and 1048576 events");
  if (o.flush_interval_ms < 1) return invalid_argument("the telemetry flush interval must be at least 1 ms");
  if (o.busy_timeout_ms < 0) return invalid_argument("the telemetry busy timeout cannot be negative");
  return Status::ok();
}

std::string notice_text(TelemetryConsent consent, const std::string& database, const std::string& source) {
  std::string how = source == "default" ? ", the default" : ", from " + source;
  return std::string("faceweave records usage telemetry (level ") + telemetry_consent_name(consent) + how +
         ") on this computer only: the commands and options you use, how long each processing stage takes, "
         "face counts and error codes, under a pseudonym. It never records file names, paths, image content, "
         "IP addresses or host names, and nothing is sent anywhere. Events are stored in " +
         database +
         ". See them with `faceweave telemetry show`, erase them with `faceweave telemetry purge`, and turn "
         "telemetry off with `--telemetry off` or FACEWEAVE_TELEMETRY=off (details: docs/privacy.md). This "
         "notice is shown once.";
}

}  // namespace
}  // namespace telemetry

using telemetry::EventBuilder;
using telemetry::EventKind;

Result<std::unique_ptr<Telemetry>> Telemetry::create(const TelemetryOptions& options) {
  FW_ASSIGN_OR_RETURN(TelemetryConsentChoice choice, resolve_telemetry_consent(options.consent));
  FW_RETURN_IF_ERROR(telemetry::check_options(options));
  std::unique_ptr<Telemetry> t(new Telemetry());
  t->consent_ = choice.level;
  t->data_dir_ = resolve_data_dir(options.data_dir);
  telemetry::Paths paths = telemetry::telemetry_paths(t->data_dir_);
  t->database_path_ = paths.database;
  // Off means off: not even the folder is created.
  if (choice.level == TelemetryConsent::kOff) return t;

  auto disable = [&t](Status s) {
    core::log_warning("telemetry is off for this run: " + s.message());
    t->setup_status_ = std::move(s);
    return std::move(t);
  };
  if (Status s = telemetry::make_private_dirs(paths.dir); !s.is_ok()) return disable(s);
  auto pseudonymiser = telemetry::Pseudonymiser::load_or_create(paths.secret);
  if (!pseudonymiser) return disable(pseudonymiser.status());
  t->client_pseudonyms_ = std::make_shared<const telemetry::Pseudonymiser>(*pseudonymiser);
  t->defaults_profile_ = options.defaults_profile;
  t->user_ = pseudonymiser->pseudonym(options.user_id.empty() ? telemetry::local_user_id() : options.user_id);
  // One session file per user: another user of the same data dir must not continue this user's session.
  paths.session += "-" + t->user_.substr(0, 16);

  if (!telemetry::file_exists(paths.notice)) {
    t->notice_ = telemetry::notice_text(choice.level, paths.database, choice.source);
    (void)telemetry::write_file_atomic(paths.notice, "1\n", 0600);
  }

  const int64_t now = telemetry::unix_ms();
  telemetry::SessionState session = telemetry::resume_or_start_session(paths.session, now);
  session.last_activity_ms = now;
  (void)telemetry::save_session(paths.session, session);

  auto sink = telemetry::SqliteSink::open(
      paths.database,
      {.create = true, .busy_timeout_ms = options.busy_timeout_ms, .sync_full = options.sync_full});
  if (!sink) return disable(sink.status());

  telemetry::RecorderOptions ro;
  ro.queue_capacity = options.queue_capacity;
  ro.batch_size = options.batch_size;
  ro.flush_interval_ms = options.flush_interval_ms;
  ro.debug_sink = options.debug_sink;
  auto action = *telemetry::parse_retention_action(options.retention);
  ro.startup_task = [paths, days = options.retention_days, action,
                     busy = options.busy_timeout_ms](const std::atomic<bool>& stop) {
    telemetry::run_retention_if_due(paths, days, action, busy, &stop);
  };
  const std::string version = options.app_version.empty() ? FACEWEAVE_VERSION : options.app_version;
  auto recorder = telemetry::Recorder::create(ro, std::move(*sink),
                                              {t->user_, session.id, version, telemetry::build_platform()});
  if (!recorder) return disable(recorder.status());
  telemetry::SamplingMode mode = options.sampling == "cohort" ? telemetry::SamplingMode::kCohort
                                 : options.sampling == "probabilistic"
                                     ? telemetry::SamplingMode::kProbabilistic
                                     : telemetry::SamplingMode::kRun;
  telemetry::Sampler sampler(options.sample_rate, mode, t->user_);
  t->engine_ = std::make_unique<telemetry::Engine>(choice.level, sampler, paths, t->user_, version, session,
                                                   std::move(*recorder));
  return t;
}

Telemetry::~Telemetry() = default;

bool Telemetry::enabled() const {
  return engine_ && !engine_->recorder().disabled();
}

Status Telemetry::health() const {
  if (!setup_status_.is_ok()) return setup_status_;
  return engine_ ? engine_->recorder().health() : Status::ok();
}

std::string Telemetry::session() const {
  return engine_ ? engine_->session() : std::string();
}

TelemetryStats Telemetry::stats() const {
  return engine_ ? engine_->stats() : TelemetryStats{};
}

Status Telemetry::flush() {
  if (!engine_) return health();
  return engine_->recorder().flush();
}

void Telemetry::record_command(std::string_view command, StatusCode outcome, double duration_ms,
                               int exit_code, int changed, std::string_view surface,
                               std::string_view provider, std::string_view requested, bool fallback) {
  if (!engine_) return;
  engine_->emit(EventKind::kCommandRun, [&](EventBuilder& b) {
    b.set_text("surface", surface)
        .set_text("command", command)
        .set_int("exit_code", exit_code)
        .set_int("changed", changed)
        .duration(duration_ms)
        .outcome(outcome);
    if (!provider.empty()) b.set_text("provider", provider);
    if (!requested.empty()) b.set_text("requested", requested).set_bool("fallback", fallback);
    if (!defaults_profile_.empty()) b.set_text("profile", defaults_profile_);
  });
}

void Telemetry::record_option(std::string_view command, std::string_view option, std::string_view value) {
  if (!engine_) return;
  engine_->emit(EventKind::kCommandOption, [&](EventBuilder& b) {
    b.set_text("command", command).set_text("option", option);
    if (!value.empty()) b.set_text("value", value);
  });
}

void Telemetry::record_option(std::string_view command, std::string_view option, double number) {
  if (!engine_) return;
  engine_->emit(EventKind::kCommandOption, [&](EventBuilder& b) {
    b.set_text("command", command).set_text("option", option).set_real("number", number);
  });
}

void Telemetry::record_stage(std::string_view stage, double total_ms, int width, int height, int frames,
                             std::string_view media, int input_width, int input_height) {
  if (!engine_) return;
  // Per-frame and per-stage events are the frequent ones: their keys are looked up once, not per call.
  static const int kStage = telemetry::prop_index(EventKind::kStageTiming, "stage");
  static const int kResolution = telemetry::prop_index(EventKind::kStageTiming, "resolution");
  static const int kFrames = telemetry::prop_index(EventKind::kStageTiming, "frames");
  static const int kMedia = telemetry::prop_index(EventKind::kStageTiming, "media");
  static const int kInput = telemetry::prop_index(EventKind::kStageTiming, "input");
  engine_->emit(EventKind::kStageTiming, [&](EventBuilder& b) {
    b.set_text_at(kStage, stage)
        .set_text_at(kResolution, telemetry::resolution_bucket(width, height))
        .set_int_at(kFrames, frames)
        .set_text_at(kMedia, media)
        .duration(total_ms);
    if (input_width > 0 && input_height > 0)
      b.set_text_at(kInput, telemetry::resolution_bucket(input_width, input_height));
  });
}

void Telemetry::record_stages(const std::map<std::string, double>& ms_by_stage, int width, int height,
                              int frames, std::string_view media, int input_width, int input_height) {
  if (!engine_) return;
  for (const auto& [stage, ms] : ms_by_stage)
    record_stage(stage, ms, width, height, frames, media, input_width, input_height);
}

void Telemetry::record_stages(const std::vector<std::pair<std::string, double>>& ms_by_stage, int width,
                              int height, int frames, std::string_view media, int input_width,
                              int input_height) {
  if (!engine_) return;
  for (const auto& [stage, ms] : ms_by_stage)
    record_stage(stage, ms, width, height, frames, media, input_width, input_height);
}

void Telemetry::record_frame_stage(std::string_view stage, double ms, int width, int height, int64_t frame) {
  if (!engine_) return;
  static const int kStage = telemetry::prop_index(EventKind::kFrameTiming, "stage");
  static const int kResolution = telemetry::prop_index(EventKind::kFrameTiming, "resolution");
  static const int kFrame = telemetry::prop_index(EventKind::kFrameTiming, "frame");
  engine_->emit(EventKind::kFrameTiming, [&](EventBuilder& b) {
    b.set_text_at(kStage, stage)
        .set_text_at(kResolution, telemetry::resolution_bucket(width, height))
        .set_int_at(kFrame, frame)
        .duration(ms);
  });
}

void Telemetry::record_error(std::string_view where, StatusCode code, std::string_view surface,
                             std::string_view requested, std::string_view provider, bool fallback) {
  if (!engine_) return;
  engine_->emit(EventKind::kError, [&](EventBuilder& b) {
    b.set_text("where", where).set_text("surface", surface).outcome(code);
    if (!requested.empty()) b.set_text("requested", requested).set_bool("fallback", fallback);
    if (!provider.empty()) b.set_text("provider", provider);
  });
}

void Telemetry::record_provider_fallback(std::string_view requested, std::string_view used,
                                         std::string_view model) {
  if (!engine_) return;
  engine_->emit(EventKind::kProviderFallback, [&](EventBuilder& b) {
    b.set_text("requested", requested).set_text("used", used);
    if (!model.empty()) b.set_text("model", model);
  });
}

void Telemetry::record_model_load(std::string_view model, double ms, std::string_view provider, bool cached) {
  if (!engine_) return;
  engine_->emit(EventKind::kModelLoad, [&](EventBuilder& b) {
    b.set_text("model", model).set_text("provider", provider).set_bool("cached", cached).duration(ms);
  });
}

void Telemetry::record_faces(std::string_view role, int detected, int selected, int width, int height) {
  if (!engine_) return;
  engine_->emit(EventKind::kFaceCount, [&](EventBuilder& b) {
    b.set_text("role", role)
        .set_int("detected", detected)
        .set_int("selected", selected)
        .set_text("resolution", telemetry::resolution_bucket(width, height));
  });
}

namespace {

// Checks an event against the allow-list and builds it; `b` holds the event when the Status is ok.
Status build_event(std::string_view event, std::span<const TelemetryProp> props, double duration_ms,
                   StatusCode outcome, std::optional<EventBuilder>& b) {
  EventKind kind = telemetry::event_kind_from_name(event);
  if (kind == EventKind::kCount) {
    std::string allowed;
    for (size_t i = 0; i < telemetry::kEventKindCount; ++i)
      allowed += (i ? ", " : "") + std::string(telemetry::event_spec(EventKind(i)).name);
    return invalid_argument("unknown telemetry event '" + std::string(event.substr(0, 40)) +
                            "' (allowed: " + allowed + ")");
  }
  b.emplace(kind);
  for (const auto& p : props) {
    switch (p.type) {
      case TelemetryProp::Type::kInt:
        b->set_int(p.key, p.i);
        break;
      case TelemetryProp::Type::kReal:
        b->set_real(p.key, p.d);
        break;
      case TelemetryProp::Type::kBool:
        b->set_bool(p.key, p.i != 0);
        break;
      case TelemetryProp::Type::kText:
        b->set_text(p.key, p.text);
        break;
    }
  }
  b->duration(duration_ms).outcome(outcome);
  return b->ok() ? Status::ok() : b->status();
}

}  // namespace

Status Telemetry::record(std::string_view event, std::initializer_list<TelemetryProp> props,
                         double duration_ms, StatusCode outcome) {
  return record(event, std::span<const TelemetryProp>(props.begin(), props.size()), duration_ms, outcome);
}

Status Telemetry::record(std::string_view event, std::span<const TelemetryProp> props, double duration_ms,
                         StatusCode outcome) {
  // Checked even when consent or sampling leaves the event out, so a bad call shows up in every run.
  std::optional<EventBuilder> b;
  Status s = build_event(event, props, duration_ms, outcome, b);
  if (!s.is_ok()) {
    if (engine_) engine_->note_rejected();
    return s;
  }
  if (engine_) engine_->submit(*b);
  return Status::ok();
}

Status Telemetry::record_client(std::string_view client, std::string_view event,
                                std::span<const TelemetryProp> props) {
  if (client.size() < 8 || client.size() > 64)
    return invalid_argument("client must be a random id of 8 to 64 characters");
  std::optional<EventBuilder> b;
  Status s = build_event(event, props, std::numeric_limits<double>::quiet_NaN(), StatusCode::kOk, b);
  if (!s.is_ok()) {
    if (engine_) engine_->note_rejected();
    return s;
  }
  if (engine_ && client_pseudonyms_)
    engine_->submit_for(b->event(), client_pseudonyms_->pseudonym("client:" + std::string(client)));
  return Status::ok();
}

}  // namespace faceweave

namespace faceweave {

std::string Telemetry::client_pseudonym(std::string_view client) const {
  if (!client_pseudonyms_ || client.size() < 8 || client.size() > 64) return {};
  return client_pseudonyms_->pseudonym("client:" + std::string(client));
}

}  // namespace faceweave
