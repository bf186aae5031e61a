// faceweave telemetry simulate: a realistic, deterministic synthetic history written straight into the events
// database (the same tables and JSON the telemetry writer produces) in one transaction of prepared 256-row
// INSERTs, then the rollup fold of the new rows (its own transaction), as the next view would do.
//
// The model: users split 50/50 between two app versions (0.1.0 and 0.2.0, an A/B test where 0.2.0 fails
// less often); about a third use the web UI (upload -> preview -> run -> download, with drop-off at each
// step), the rest the CLI. Users come back with a probability that decays over days since their first visit,
// fewer at weekends, mostly in working hours. Most first-time users switch skin-tone matching off
// (color_match none); stage times scale with resolution, and the frame enhancer grows fastest, so it
// dominates 4K runs; a quarter of the users asking for cuda have none, fall back to cpu and fail far more
// often.
#include <chrono>
#include <cmath>
#include <cstdio>
#include <limits>
#include <random>

#include "analytics/internal.h"
#include "telemetry/paths.h"

namespace faceweave {
namespace {

using analytics::kMsPerDay;

class Rng {
 public:
  explicit Rng(uint64_t seed) : g_(seed) {}
  double uniform() { return double(g_() >> 11) * 0x1.0p-53; }
  bool chance(double p) { return uniform() < p; }
  int range(int lo, int hi) { return lo + int(uniform() * (hi - lo + 1)); }
  double normal() {
    double u1 = std::max(uniform(), 1e-300), u2 = uniform();
    return std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
  }
  std::string hex(size_t n) {
    static const char* kHex = "0123456789abcdef";
    std::string s(n, '0');
    for (size_t i = 0; i < n; ++i) s[i] = kHex[g_() & 15];
    return s;
  }

 private:
  std::mt19937_64 g_;
};

struct Row {
  int64_t ts;
  int64_t event;
  int64_t session;
  double duration;  // NaN: none
  int64_t outcome;
  std::string props;
};

class Writer {
 public:
  static Result<std::unique_ptr<Writer>> make(telemetry::Database& db, double rate) {
    std::unique_ptr<Writer> w(new Writer());
    w->db_ = &db;
    w->rate_ = rate;
    std::string sql =
        "INSERT INTO events(id, ts, event, session, duration_ms, outcome, sample_rate, props) VALUES ";
    std::string one = "(?,?,?,?,?,?,?,?)";
    FW_ASSIGN_OR_RETURN(w->one_, db.prepare(sql + one));
    for (int i = 0; i < kChunk; ++i) sql += (i ? "," : "") + one;
    FW_ASSIGN_OR_RETURN(w->many_, db.prepare(sql));
    FW_ASSIGN_OR_RETURN(w->session_,
                        db.prepare("INSERT INTO sessions(session, user, app_version, started_ms, platform) "
                                   "VALUES (?, ?, ?, ?, ?)"));
    FW_ASSIGN_OR_RETURN(w->next_id_, db.last_event_id());
    ++w->next_id_;
    return w;
  }

  Result<int64_t> session(const std::string& id, const std::string& user, const std::string& version,
                          int64_t ms, const std::string& platform) {
    sqlite3_stmt* s = session_.get();
    sqlite3_bind_text(s, 1, id.data(), int(id.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 2, user.data(), int(user.size()), SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 3, version.data(), int(version.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 4, ms);
    sqlite3_bind_text(s, 5, platform.data(), int(platform.size()), SQLITE_TRANSIENT);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) return db_->error(rc, "simulate: cannot store a session");
    return sqlite3_last_insert_rowid(db_->handle());
  }

  Status add(Row row) {
    rows_.push_back(std::move(row));
    if (rows_.size() == size_t(kChunk)) return flush();
    return Status::ok();
  }

  Status flush() {
    size_t pos = 0;
    while (pos < rows_.size()) {
      bool many = rows_.size() - pos >= size_t(kChunk);
      sqlite3_stmt* st = many ? many_.get() : one_.get();
      size_t n = many ? size_t(kChunk) : 1;
      int p = 1;
      for (size_t r = pos; r < pos + n; ++r) {
        const Row& e = rows_[r];
        sqlite3_bind_int64(st, p++, next_id_++);
        sqlite3_bind_int64(st, p++, e.ts);
        sqlite3_bind_int64(st, p++, e.event);
        sqlite3_bind_int64(st, p++, e.session);
        if (std::isnan(e.duration))
          sqlite3_bind_null(st, p++);
        else
          sqlite3_bind_double(st, p++, e.duration);
        sqlite3_bind_int64(st, p++, e.outcome);
        sqlite3_bind_double(st, p++, rate_);
        sqlite3_bind_text(st, p++, e.props.data(), int(e.props.size()), SQLITE_STATIC);
      }
      int rc = sqlite3_step(st);
      sqlite3_reset(st);
      if (rc != SQLITE_DONE) return db_->error(rc, "simulate: cannot store events");
      pos += n;
      events_ += int64_t(n);
    }
    rows_.clear();
    return Status::ok();
  }

  int64_t last_id() const { return next_id_ - 1; }
  int64_t events() const { return events_; }

 private:
  static constexpr int kChunk = 256;
  Writer() = default;
  telemetry::Database* db_ = nullptr;
  double rate_ = 1;
  telemetry::Statement one_, many_, session_;
  int64_t next_id_ = 1;
  int64_t events_ = 0;
  std::vector<Row> rows_;
};

const double kNaN = std::numeric_limits<double>::quiet_NaN();

struct Sim {
  Rng rng;
  Writer& w;
  telemetry::Database& db;
  int64_t ev_run, ev_opt, ev_stage, ev_ui, ev_err, ev_page, ok, ev_fallback;

  Status option(int64_t ts, int64_t session, const std::string& opt, const std::string& value,
                bool number = false) {
    std::string props = "{\"command\":\"swap\",\"option\":\"" + opt + "\",";
    props += number ? "\"number\":" + value + "}" : "\"value\":\"" + value + "\"}";
    return w.add({ts, ev_opt, session, kNaN, ok, std::move(props)});
  }

  Status ui(int64_t ts, int64_t session, const std::string& control, const std::string& action,
            const std::string& value = {}) {
    std::string props = "{\"control\":\"" + control + "\",\"action\":\"" + action + "\"";
    if (!value.empty()) props += ",\"value\":\"" + value + "\"";
    props += "}";
    return w.add({ts, ev_ui, session, kNaN, ok, std::move(props)});
  }

  // One swap run: its options, stage timings, the command.run (and an error when it fails). Returns the
  // run's duration in ms (negative: it failed).
  // `requested`: the execution provider asked for; it differs from `provider` (the one used) when the
  // machine lacks it (cuda asked for, cpu used: a fallback).
  Result<double> run(int64_t ts, int64_t session, const std::string& surface, const std::string& version,
                     const std::string& provider, bool first_session, bool& color_off_done,
                     const std::string& requested) {
    const bool fallback = requested != provider;
    std::vector<std::pair<std::string, std::string>> opts;
    std::string color = "reinhard";
    if (color_off_done || rng.chance(first_session ? 0.72 : 0.3)) {
      color = "none";
      color_off_done = true;
    } else if (rng.chance(0.05)) {
      color = "histogram";
    }
    if (color != "reinhard") opts.push_back({"color_match", color});
    bool keep_mouth = !rng.chance(0.12);
    if (!keep_mouth) opts.push_back({"keep_mouth_interior", "false"});
    double m = rng.uniform();
    std::string mode = m < 0.25 ? "many" : (m < 0.35 ? "one" : "reference");
    if (mode != "reference") opts.push_back({"face_selector_mode", mode});
    double b = rng.uniform();
    std::string blend = b < 0.08 ? "laplacian" : (b < 0.12 ? "affine" : "auto");
    if (blend != "auto") opts.push_back({"blend", blend});
    double r = rng.uniform();
    const char* res = r < 0.2 ? "sd" : r < 0.45 ? "720p" : r < 0.78 ? "1080p" : r < 0.85 ? "1440p" : "4k";
    double scale = r < 0.2 ? 0.3 : r < 0.45 ? 0.5 : r < 0.78 ? 1.0 : r < 0.85 ? 1.7 : 4.0;
    // People who swap 4K footage reach for the enhancers more often: the face enhancer, and the frame
    // enhancer, whose cost grows fastest with resolution (it dominates 4K stage time).
    bool face_enh = rng.chance(scale >= 4 ? 0.5 : 0.3), frame_enh = rng.chance(scale >= 4 ? 0.45 : 0.05);
    if (face_enh || frame_enh) {
      opts.push_back({"processors", "face_swapper"});
      if (face_enh) opts.push_back({"processors", "face_enhancer"});
      if (frame_enh) opts.push_back({"processors", "frame_enhancer"});
    }
    if (face_enh && rng.chance(0.5)) opts.push_back({"face_enhancer", "detail"});
    int changed = int(opts.size());
    for (auto& [k, v] : opts) FW_RETURN_IF_ERROR(option(ts, session, k, v));
    if (rng.chance(0.15)) {
      FW_RETURN_IF_ERROR(option(ts, session, "identity_strength", rng.chance(0.5) ? "0.6" : "1", true));
      ++changed;
    }
    bool video = rng.chance(0.3);
    int frames = video ? rng.range(60, 900) : 1;
    // Failure: 0.1.0 fails more often than 0.2.0; a run that fell back from cuda to cpu fails far more often
    // (with the usual mix of codes).
    bool fails = rng.chance((version == "0.1.0" ? 0.07 : 0.045) + (provider == "cuda" ? 0.01 : 0) +
                            (fallback ? 0.25 : 0));
    std::vector<std::pair<const char*, double>> stages;
    auto add = [&](const char* name, double per_frame, double exponent = 1.0) {
      stages.push_back({name, per_frame * std::pow(scale, exponent)});
    };
    if (video) add("decode", 2.5);
    add("detect", 9);
    add("landmarks", 5);
    if (mode == "reference") add("embed", 7, 0.3);
    if (!fails) {
      add("warp", 4);
      if (color != "none") add("colour_match", 2.5);
      add("blend", blend == "affine" ? 1 : (blend == "laplacian" || video) ? 6 : 8);
      if (face_enh) add("enhance", 35, 1.6);
      if (frame_enh) add("frame_enhance", 60, 1.8);
      if (video) add("encode", 6);
    }
    double total = 40;
    const char* media = video ? "video" : "image";
    // The target's resolution: the output's, or half its size when the frame enhancer (x2) made it.
    const std::string_view out_res = res;
    const char* input = !frame_enh                                ? res
                        : out_res == "4k"                         ? "1080p"
                        : out_res == "1440p"                      ? "720p"
                        : out_res == "1080p" || out_res == "720p" ? "sd"
                                                                  : res;
    for (auto& [name, per_frame] : stages) {
      double ms = per_frame * frames * std::exp(0.25 * rng.normal());
      total += ms;
      std::string props = std::string("{\"stage\":\"") + name + "\",\"resolution\":\"" + res +
                          "\",\"frames\":" + std::to_string(frames) + ",\"media\":\"" + media +
                          "\",\"input\":\"" + input + "\"}";
      FW_RETURN_IF_ERROR(w.add({ts, ev_stage, session, std::round(ms * 1000) / 1000, ok, std::move(props)}));
    }
    StatusCode code = StatusCode::kOk;
    int exit_code = 0;
    if (fails) {
      double c = rng.uniform();
      code = c < 0.55   ? StatusCode::kNoFace
             : c < 0.75 ? StatusCode::kInvalidInput
             : c < 0.85 ? StatusCode::kModelError
             : c < 0.95 ? StatusCode::kIoError
                        : StatusCode::kInternal;
      exit_code = code == StatusCode::kNoFace         ? 9
                  : code == StatusCode::kInvalidInput ? 4
                  : code == StatusCode::kModelError   ? 6
                  : code == StatusCode::kIoError      ? 8
                                                      : 1;
    }
    int64_t outcome = db.outcome_id(code);
    const std::string providers = ",\"provider\":\"" + provider + "\",\"requested\":\"" + requested +
                                  "\",\"fallback\":" + (fallback ? "true" : "false");
    std::string props = "{\"surface\":\"" + surface +
                        "\",\"command\":\"swap\",\"exit_code\":" + std::to_string(exit_code) +
                        ",\"changed\":" + std::to_string(changed) + providers + "}";
    if (fallback)
      FW_RETURN_IF_ERROR(w.add({ts, ev_fallback, session, kNaN, ok,
                                "{\"requested\":\"" + requested + "\",\"used\":\"" + provider +
                                    "\",\"model\":\"inswapper_128\"}"}));
    FW_RETURN_IF_ERROR(w.add(
        {ts + int64_t(total), ev_run, session, std::round(total * 1000) / 1000, outcome, std::move(props)}));
    if (fails) {
      FW_RETURN_IF_ERROR(w.add({ts + int64_t(total), ev_err, session, kNaN, outcome,
                                "{\"where\":\"swap\",\"surface\":\"" + surface + "\"" + providers + "}"}));
      return -total;
    }
    return total;
  }
};

}  // namespace

Result<SimulateReport> simulate_telemetry(const SimulateOptions& o) {
  if (o.users < 1 || o.users > 10'000'000) return invalid_argument("--users must be between 1 and 10000000");
  if (o.days < 1 || o.days > 3650) return invalid_argument("--days must be between 1 and 3650");
  if (!(o.sample_rate > 0 && o.sample_rate <= 1)) return invalid_argument("--sample-rate must be in (0, 1]");
  if (o.data_dir.empty()) return invalid_argument("simulate needs a data dir");
  int64_t end_day = telemetry::unix_ms() / kMsPerDay;
  if (!o.end.empty()) {
    FW_ASSIGN_OR_RETURN(end_day, parse_iso_day(o.end, "--end"));
  }
  const int64_t start_day = end_day - o.days + 1;
  auto paths = telemetry::telemetry_paths(o.data_dir);
  FW_RETURN_IF_ERROR(telemetry::make_private_dirs(paths.dir));
  FW_ASSIGN_OR_RETURN(auto db, telemetry::Database::open(paths.database, {}));
  FW_RETURN_IF_ERROR(analytics::install_rollups(*db));

  SimulateReport report;
  report.database_path = paths.database;
  auto t0 = std::chrono::steady_clock::now();
  FW_RETURN_IF_ERROR(db->exec("BEGIN IMMEDIATE"));
  auto body = [&]() -> Status {
    FW_ASSIGN_OR_RETURN(auto writer, Writer::make(*db, o.sample_rate));
    using telemetry::EventKind;
    Sim sim{Rng(o.seed),
            *writer,
            *db,
            db->event_id(EventKind::kCommandRun),
            db->event_id(EventKind::kCommandOption),
            db->event_id(EventKind::kStageTiming),
            db->event_id(EventKind::kUiAction),
            db->event_id(EventKind::kError),
            db->event_id(EventKind::kUiPage),
            db->outcome_id(StatusCode::kOk),
            db->event_id(EventKind::kProviderFallback)};
    Rng& rng = sim.rng;
    for (int u = 0; u < o.users; ++u) {
      std::string user = rng.hex(64);
      bool kept = rng.uniform() < o.sample_rate;  // cohort sampling: a user is kept whole or not at all
      std::string version = rng.chance(0.5) ? "0.1.0" : "0.2.0";
      bool web = rng.chance(0.35);
      // Coarse platform per user (the web UI's sessions are "web"), execution provider per user.
      double pr = rng.uniform();
      std::string platform = web        ? "web"
                             : pr < 0.7 ? "linux-x86_64"
                             : pr < 0.9 ? "macos-arm64"
                                        : "windows-x86_64";
      std::string provider = rng.chance(0.4) && platform != "macos-arm64" ? "cuda" : "cpu";
      // A quarter of those asking for cuda have no usable CUDA: every run falls back to cpu.
      std::string requested = provider;
      if (provider == "cuda" && rng.chance(0.25)) provider = "cpu";
      int64_t first_day = start_day + int64_t(rng.uniform() * o.days);
      double loyalty = 0.2 + 0.6 * rng.uniform();
      bool first_session = true, color_off = false;
      int64_t last_end = 0;
      for (int64_t day = first_day; day <= end_day; ++day) {
        int weekday = int((day + 3) % 7);
        double p = 0.45 * loyalty * std::exp(-double(day - first_day) / 12.0) + 0.03 * loyalty;
        if (weekday >= 5) p *= 0.5;
        if (day != first_day && !rng.chance(p)) continue;
        int sessions = 1 + (rng.chance(0.25) ? 1 : 0);
        for (int si = 0; si < sessions; ++si) {
          int hour = rng.chance(0.75) ? rng.range(9, 18) : rng.range(0, 23);
          int64_t ts = std::max<int64_t>(last_end + 1800000, day * kMsPerDay + hour * int64_t(3600000) +
                                                                 rng.range(0, 3599) * int64_t(1000));
          std::string sid = rng.hex(32);
          int64_t session = 0;
          if (kept) {
            ++report.sessions;
            FW_ASSIGN_OR_RETURN(session, writer->session(sid, user, version, ts, platform));
          }
          // Cohort sampling: a user left out stores nothing (and draws nothing more).
          if (!kept) break;
          if (web) {
            FW_RETURN_IF_ERROR(
                writer->add({ts, sim.ev_page, session, kNaN, sim.ok, "{\"page\":\"workbench\"}"}));
            ts += rng.range(5, 60) * 1000;
            FW_RETURN_IF_ERROR(sim.ui(ts, session, "target", "upload"));
            bool preview = rng.chance(0.8);
            if (preview) {
              if (color_off || rng.chance(first_session ? 0.65 : 0.25)) {
                color_off = true;
                FW_RETURN_IF_ERROR(sim.ui(ts + 2000, session, "color_match", "change", "none"));
              }
              FW_RETURN_IF_ERROR(sim.ui(ts + 4000, session, "preview", "preview"));
              ts += rng.range(10, 120) * 1000;
              bool run = rng.chance(version == "0.2.0" ? 0.8 : 0.7);
              if (run) {
                FW_RETURN_IF_ERROR(sim.ui(ts, session, "run", "run"));
                FW_ASSIGN_OR_RETURN(double ms, sim.run(ts, session, "api", version, provider, first_session,
                                                       color_off, requested));
                ts += int64_t(std::fabs(ms)) + rng.range(5, 60) * 1000;
                if (ms > 0 && rng.chance(0.7)) FW_RETURN_IF_ERROR(sim.ui(ts, session, "result", "download"));
              }
            }
          } else {
            int runs = 1;
            while (runs < 6 && rng.chance(0.45)) ++runs;
            for (int r = 0; r < runs; ++r) {
              FW_ASSIGN_OR_RETURN(double ms, sim.run(ts, session, "cli", version, provider, first_session,
                                                     color_off, requested));
              ts += int64_t(std::fabs(ms)) + rng.range(20, 300) * 1000;
            }
          }
          last_end = ts;
          first_session = false;
        }
        if (!kept) break;
      }
      if (kept) ++report.users;
    }
    FW_RETURN_IF_ERROR(writer->flush());
    report.events = writer->events();
    FW_RETURN_IF_ERROR(db->exec("UPDATE meta SET value = max(value, " + std::to_string(writer->last_id()) +
                                ") WHERE key = 'last_event_id'"));
    return Status::ok();
  };
  Status s = body();
  if (s.is_ok()) s = db->exec("COMMIT");
  if (!s.is_ok()) {
    sqlite3_exec(db->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    return s;
  }
  report.insert_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // The rollups fold the new history in (their own transaction), as a later view() would.
  auto t1 = std::chrono::steady_clock::now();
  FW_RETURN_IF_ERROR(analytics::fold_rollups(*db).status());
  report.rollup_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t1).count();
  return report;
}

}  // namespace faceweave
