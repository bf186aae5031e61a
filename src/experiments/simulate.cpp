// A synthetic experiment for demos and tests (`faceweave experiments simulate`): users assigned by the real
// keyed hash, runs with their exposure and command.run written straight into the events database (the same
// tables and JSON the telemetry writer produces), with a known true effect (docs/experiments.md).
#include <sqlite3.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <random>

#include "experiments/simulate.h"
#include "faceweave/analytics.h"
#include "telemetry/database.h"

namespace faceweave {

namespace {

constexpr int64_t kMsPerDay = 86'400'000;

class Rng {
 public:
  explicit Rng(uint64_t seed) : g_(seed) {}
  double uniform() { return double(g_() >> 11) * 0x1.0p-53; }
  bool chance(double p) { return uniform() < p; }
  double normal() {
    const double u1 = std::max(uniform(), 1e-300), u2 = uniform();
    return std::sqrt(-2 * std::log(u1)) * std::cos(2 * M_PI * u2);
  }
  std::string hex(size_t n) {
    static const char* kHex = "0123456789abcdef";
    std::string s(n, '0');
    for (auto& c : s) c = kHex[g_() & 15];
    return s;
  }

 private:
  std::mt19937_64 g_;
};

Status step(telemetry::Database& db, sqlite3_stmt* s) {
  const int rc = sqlite3_step(s);
  sqlite3_reset(s);
  return rc == SQLITE_DONE ? Status::ok() : db.error(rc, "cannot write the simulated experiment");
}

}  // namespace

Result<ExperimentSimReport> simulate_experiment(const ExperimentSimOptions& o) {
  if (o.users < 1 || o.users > 1'000'000) return invalid_argument("--users must be from 1 to 1000000");
  if (o.days < 1 || o.days > 365) return invalid_argument("--days must be from 1 to 365");
  if (!(o.base_rate >= 0 && o.base_rate <= 1) ||
      !(o.base_rate + o.effect >= 0 && o.base_rate + o.effect <= 1))
    return invalid_argument("--base-rate and --base-rate + --effect must lie in [0, 1]");
  Experiment e = o.experiment;
  FW_RETURN_IF_ERROR(validate_experiment(e));
  if (e.metric != "explicit_rate" && e.metric != "error_rate")
    return invalid_argument("the simulator models --metric explicit_rate or error_rate");
  int64_t end_day = 0;
  if (o.end.empty()) {
    end_day = int64_t(std::time(nullptr)) / 86400;
  } else {
    FW_ASSIGN_OR_RETURN(end_day, parse_iso_day(o.end, "--end"));
  }
  const int64_t first_day = end_day - o.days + 1;
  FW_ASSIGN_OR_RETURN(auto store, ExperimentStore::open(o.data_dir, true));
  FW_RETURN_IF_ERROR(store->create(e));
  telemetry::Database& db = store->database();
  FW_RETURN_IF_ERROR(db.exec("BEGIN IMMEDIATE"));
  ExperimentSimReport report;
  Status s = [&]() -> Status {
    FW_ASSIGN_OR_RETURN(telemetry::Statement when,
                        db.prepare("UPDATE experiments SET created_ms = ? WHERE name = ?"));
    sqlite3_bind_int64(when.get(), 1, first_day * kMsPerDay);
    sqlite3_bind_text(when.get(), 2, e.name.c_str(), -1, SQLITE_TRANSIENT);
    FW_RETURN_IF_ERROR(step(db, when.get()));
    FW_ASSIGN_OR_RETURN(telemetry::Statement session,
                        db.prepare("INSERT INTO sessions(session, user, app_version, started_ms, platform) "
                                   "VALUES (?, ?, ?, ?, 'linux-x86_64')"));
    FW_ASSIGN_OR_RETURN(telemetry::Statement event,
                        db.prepare("INSERT INTO events(id, ts, event, session, duration_ms, outcome, "
                                   "sample_rate, props) VALUES (?, ?, ?, ?, ?, ?, 1, ?)"));
    FW_ASSIGN_OR_RETURN(int64_t next_id, db.last_event_id());
    Rng rng(o.seed * 0x9E3779B97F4A7C15ull + 17);
    ExperimentSimReport& r = report;
    const std::string arm_other = e.arms.size() > 1 ? e.arms[1] : e.arms[0];
    for (int u = 0; u < o.users; ++u) {
      const std::string user = rng.hex(64);
      const size_t arm = experiment_arm(e, user);
      // Each user's own propensity around the arm's rate: runs of one user are correlated, as in real data.
      const double rate = o.base_rate + (arm > 0 ? o.effect : 0);
      const double own = std::clamp(rate + o.user_spread * rng.normal(), 0.0, 1.0);
      const int64_t start = first_day + int64_t(rng.uniform() * o.days);
      bool any = false;
      for (int64_t day = start; day <= end_day; ++day) {
        if (day != start && !rng.chance(o.return_rate)) continue;
        const int64_t session_ms = day * kMsPerDay + int64_t(rng.uniform() * (kMsPerDay - 3'600'000));
        sqlite3_bind_text(session.get(), 1, rng.hex(32).c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_text(session.get(), 2, user.c_str(), -1, SQLITE_TRANSIENT);
        // Users alternate between the two versions `telemetry simulate` writes, so adding an experiment to
        // its history leaves the version split (its A/B view's sample-ratio check) as it was.
        const std::string version = o.app_version.empty() ? (u % 2 ? "0.2.0" : "0.1.0") : o.app_version;
        sqlite3_bind_text(session.get(), 3, version.c_str(), -1, SQLITE_TRANSIENT);
        sqlite3_bind_int64(session.get(), 4, session_ms);
        FW_RETURN_IF_ERROR(step(db, session.get()));
        const int64_t session_id = sqlite3_last_insert_rowid(db.handle());
        ++r.sessions;
        any = true;
        const int runs = 1 + int(rng.uniform() * 3);
        for (int i = 0; i < runs; ++i) {
          const std::string run = rng.hex(16);
          const int64_t ts = session_ms + i * 60'000;
          const bool hit = rng.chance(own);
          const bool is_explicit = e.metric == "explicit_rate" ? hit : rng.chance(0.1);
          const bool failed = e.metric == "error_rate" ? hit : rng.chance(o.error_rate);
          const std::string arm_value = arm_word(e.arms[arm]);
          const std::string value = is_explicit ? arm_word(arm == 0 ? arm_other : e.arms[0]) : arm_value;
          nlohmann::json exposure{{"experiment", e.name},
                                  {"arm", arm_value},
                                  {"value", value},
                                  {"explicit", is_explicit},
                                  {"run", run}};
          nlohmann::json command{{"surface", "cli"},
                                 {"command", "swap"},
                                 {"exit_code", failed ? 9 : 0},
                                 {"changed", is_explicit ? 1 : 0},
                                 {"provider", "cpu"},
                                 {"run", run}};
          const double ms = o.run_ms * std::exp(0.3 * rng.normal());
          struct Row {
            telemetry::EventKind kind;
            int64_t ts;
            double ms;
            StatusCode outcome;
            std::string props;
          };
          const Row rows[] = {
              {telemetry::EventKind::kExperimentExposure, ts, NAN, StatusCode::kOk, exposure.dump()},
              {telemetry::EventKind::kCommandRun, ts + int64_t(ms), ms,
               failed ? StatusCode::kNoFace : StatusCode::kOk, command.dump()}};
          for (const Row& row : rows) {
            sqlite3_bind_int64(event.get(), 1, ++next_id);
            sqlite3_bind_int64(event.get(), 2, row.ts);
            sqlite3_bind_int64(event.get(), 3, db.event_id(row.kind));
            sqlite3_bind_int64(event.get(), 4, session_id);
            if (std::isnan(row.ms))
              sqlite3_bind_null(event.get(), 5);
            else
              sqlite3_bind_double(event.get(), 5, row.ms);
            sqlite3_bind_int64(event.get(), 6, db.outcome_id(row.outcome));
            sqlite3_bind_text(event.get(), 7, row.props.c_str(), -1, SQLITE_TRANSIENT);
            FW_RETURN_IF_ERROR(step(db, event.get()));
            ++r.events;
          }
          ++r.runs;
        }
      }
      r.users += any;
    }
    FW_RETURN_IF_ERROR(db.exec("UPDATE meta SET value = max(value, " + std::to_string(next_id) +
                               ") WHERE key = 'last_event_id'"));
    return Status::ok();
  }();
  if (s.is_ok()) s = db.exec("COMMIT");
  if (!s.is_ok()) {
    sqlite3_exec(db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    return s;
  }
  return report;
}

}  // namespace faceweave
