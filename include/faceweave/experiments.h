// Experiments on defaults and the defaults profile (docs/experiments.md): the loop that turns analytics into
// better defaults.
//
// A defaults profile is a versioned JSON file ({"id", "version", "defaults": {option: value}}) that the CLI,
// the API and the web UI load (--defaults-profile FILE, env FACEWEAVE_DEFAULTS): its values replace the
// built-in defaults of the swap options, an option the user sets still wins, and every command.run records
// the profile as `<id>-v<version>`.
//
// An experiment gives one swap option a different default per arm. A user is assigned by a keyed hash of
// their telemetry pseudonym and the experiment's name (HMAC-SHA256, key = name), so the arm is sticky with
// no state; a run takes that arm's value as the option's default (the user's own flag still wins) and
// records an `experiment.exposure` event with its run id. Experiments live in the telemetry database's
// `experiments` table; analyse_experiment() compares the arms (z-test, Wald CI, SRM check, an always-valid
// sequential test looked at daily, guardrails on error rate and run time) and says a verdict.
//
// Thread contract: ExperimentStore and analyse_experiment belong to one thread at a time; the free functions
// are thread-safe.
//
//   auto store = ExperimentStore::open(data_dir, /*create=*/true);
//   Experiment e; e.name = "cm-none"; e.option = "color_match"; e.arms = {"reinhard", "none"};
//   (*store)->create(e);
//   size_t arm = experiment_arm(e, pseudonym);  // the same every time for this user
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "faceweave/analytics.h"
#include "faceweave/status.h"

namespace faceweave {

class Telemetry;
namespace telemetry {
class Database;
}

// ---- defaults profile

struct DefaultsProfile {
  std::string id;           // [a-z0-9_-], 1..16 bytes
  int64_t version = 1;      // 1..999999
  nlohmann::json defaults;  // {option: value}: options as in the API (color_match), values string/number/bool
  std::string tag() const;  // "<id>-v<version>", what command.run records
};
// Reads and checks a profile file; a clear invalid_argument naming the file for anything wrong (unknown
// option, a value that is not a string, number or boolean, a bad id or version).
Result<DefaultsProfile> load_defaults_profile(const std::string& path);
// Writes it atomically (pretty JSON).
Status save_defaults_profile(const DefaultsProfile& profile, const std::string& path);
// `flag` when not empty, else FACEWEAVE_DEFAULTS, else none.
Result<std::optional<DefaultsProfile>> resolve_defaults_profile(const std::string& flag);
// The swap options a profile or an experiment may set, and the values an enumerated one takes (empty: a
// number or boolean option).
const std::vector<std::pair<std::string, std::vector<std::string>>>& experiment_options();
// An option value given as text ("none", "0.5", "true") as the JSON value the option takes.
nlohmann::json experiment_option_value(const std::string& option, const std::string& text);
// A default's value as the command line spells it ("none", "0.5", "true").
std::string default_value_text(const nlohmann::json& value);

// ---- experiments

struct Experiment {
  std::string name;                   // [a-z0-9_-], 1..24 bytes
  std::string option;                 // one of experiment_options()
  std::vector<std::string> arms;      // 2..8 values; arms[0] is the control
  std::vector<double> split;          // share per arm, sums to 1 (default: equal)
  std::string metric = "error_rate";  // see experiment_metrics(); also "<option>=<value>"
  std::string goal;                   // "increase" | "decrease" (default: by metric)
  double mde = 0.05;                  // the effect the sequential test is tuned for (absolute)
  double alpha = 0.05;
  double min_users = 100;          // fewer exposed users per arm: no verdict
  std::string status = "running";  // running | stopped
  int64_t created_ms = 0, stopped_ms = 0;
  std::string adopted;  // the arm adopted when stopped (empty: none)

  nlohmann::json to_json() const;
};
// Checks a new experiment's fields (name, option, arms against the option's values, split, metric, goal...).
Status validate_experiment(Experiment& e);
// The metrics an experiment may use besides "<option>=<value>" (share of runs with that value).
const std::vector<std::string>& experiment_metrics();
// The user's position in [0, 1): the first 8 bytes of HMAC-SHA256(key = experiment name, pseudonym).
double experiment_position(std::string_view experiment, std::string_view pseudonym);
// The arm index of a user: the position falls into the arm's slice of the split.
size_t experiment_arm(const Experiment& e, std::string_view pseudonym);
// An arm value as telemetry stores it (a word: '.' becomes '_').
std::string arm_word(std::string_view value);

class ExperimentStore {
 public:
  // The data dir's telemetry database; `create` makes it when missing (else NotFound).
  static Result<std::unique_ptr<ExperimentStore>> open(const std::string& data_dir, bool create);
  static Result<std::unique_ptr<ExperimentStore>> open_database(const std::string& path, bool create);
  ~ExperimentStore();
  Status create(Experiment e);                      // invalid_argument when it exists or is invalid
  Result<std::vector<Experiment>> list();           // by creation time
  Result<Experiment> get(const std::string& name);  // NotFound names the experiments there are
  Status stop(const std::string& name, const std::string& adopted_arm);
  telemetry::Database& database() { return *db_; }

 private:
  ExperimentStore() = default;
  std::unique_ptr<telemetry::Database> db_;
};
// The running experiments of a data dir; none (not an error) when it has no database yet.
Result<std::vector<Experiment>> running_experiments(const std::string& data_dir);

// ---- resolving a run's defaults

struct Exposure {
  std::string experiment, arm, value;  // value: what the run used
  bool explicit_value = false;         // the user set the option: the arm's default was not used
};
struct ResolvedDefaults {
  std::vector<std::pair<std::string, nlohmann::json>> defaults;  // option -> value, for unset options
  std::vector<Exposure> exposures;
};
// The defaults of one run: the profile's, then each running experiment's arm for `pseudonym` (empty: no
// experiment applies). `given(option)` returns the value the user set, if any. An experiment whose option
// another running experiment already set is skipped (the first created wins).
ResolvedDefaults resolve_defaults(const DefaultsProfile* profile, const std::vector<Experiment>& running,
                                  std::string_view pseudonym,
                                  const std::function<std::optional<std::string>(const std::string&)>& given);
// Records the exposures on `t` (in the caller's current TelemetryRun); `client`: a browser client's id, so
// the exposure counts for that user (record_client).
void record_exposures(Telemetry& t, const std::vector<Exposure>& exposures, std::string_view client = {});

// ---- analysis

struct ExperimentAnalysisOptions {
  std::string metric;  // empty: the experiment's
  int64_t today = -1;  // last day looked at (days since 1970); -1: the last day with exposures
  int k = 5;           // arms with fewer exposed users show "< k" instead of numbers
};
// Per arm: users, runs, metric, error rate, run time; per arm against the control: difference, Wald CI,
// z-test, the always-valid (mSPRT) p-value over daily looks, guardrails; SRM; a verdict.
Result<InsightsTable> analyse_experiment(telemetry::Database& db, const Experiment& e,
                                         const ExperimentAnalysisOptions& o = {});
// One line per experiment: name, option, arms, metric, status, users per arm, decision, winner, verdict.
Result<InsightsTable> experiments_overview(ExperimentStore& store, int k = 5);

// ---- sequential test (docs/experiments.md)

// Mixture SPRT for a difference `d` with variance `v` (normal approximation), mixing N(0, tau^2):
// Lambda = sqrt(v / (v + tau^2)) exp(d^2 tau^2 / (2 v (v + tau^2))). Johari, Koomen, Pekelis & Walsh,
// "Always Valid Inference: Continuous Monitoring of A/B Tests", Operations Research 70(3), 2022.
double msprt_likelihood_ratio(double d, double v, double tau);
// The always-valid p-value after a sequence of looks: min over looks of min(1, 1 / Lambda).
class AlwaysValidP {
 public:
  void look(double d, double v, double tau);
  double p() const { return p_; }

 private:
  double p_ = 1;
};

}  // namespace faceweave
