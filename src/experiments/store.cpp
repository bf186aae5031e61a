// Experiments: their definition and checks, the `experiments` table of the telemetry database, the keyed-hash
// assignment of users to arms, and a run's resolved defaults (docs/experiments.md).
#include <openssl/hmac.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

#include "experiments/internal.h"
#include "faceweave/telemetry.h"
#include "telemetry/database.h"
#include "telemetry/event.h"
#include "telemetry/paths.h"

namespace faceweave {

using nlohmann::json;

namespace {

int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string text(sqlite3_stmt* s, int i) {
  const unsigned char* t = sqlite3_column_text(s, i);
  return t ? reinterpret_cast<const char*>(t) : "";
}

}  // namespace

json Experiment::to_json() const {
  json j;
  j["name"] = name;
  j["option"] = option;
  j["arms"] = arms;
  j["split"] = split;
  j["metric"] = metric;
  j["goal"] = goal;
  j["mde"] = mde;
  j["alpha"] = alpha;
  j["min_users"] = min_users;
  j["status"] = status;
  j["created_ms"] = created_ms;
  j["stopped_ms"] = stopped_ms ? json(stopped_ms) : json(nullptr);
  j["adopted"] = adopted.empty() ? json(nullptr) : json(adopted);
  return j;
}

const std::vector<std::string>& experiment_metrics() {
  static const std::vector<std::string> kMetrics = {"error_rate", "explicit_rate", "run_time"};
  return kMetrics;
}

std::string arm_word(std::string_view value) {
  std::string w(value);
  std::replace(w.begin(), w.end(), '.', '_');
  if (w.size() > telemetry::kMaxWordLength) w.resize(telemetry::kMaxWordLength);
  return w;
}

Status validate_experiment(Experiment& e) {
  if (e.name.empty() || e.name.size() > 24 || !telemetry::is_word(e.name))
    return invalid_argument("the experiment name must be a word of [a-z0-9_-], 1 to 24 characters, not '" +
                            e.name.substr(0, 40) + "'");
  bool known = false;
  std::string list;
  for (const auto& [name, values] : experiment_options()) {
    known |= name == e.option;
    list += (list.empty() ? "" : ", ") + name;
  }
  std::replace(e.option.begin(), e.option.end(), '-', '_');
  known = false;
  for (const auto& [name, values] : experiment_options()) known |= name == e.option;
  if (!known)
    return invalid_argument("--option '" + e.option.substr(0, 40) +
                            "' cannot be experimented on (options: " + list + ")");
  if (e.arms.size() < 2 || e.arms.size() > 8)
    return invalid_argument("--arms needs 2 to 8 values, control first");
  std::set<std::string> words;
  for (const auto& a : e.arms) {
    FW_RETURN_IF_ERROR(experiments::check_option_value(e.option, a, "--arms: "));
    if (!words.insert(arm_word(a)).second) return invalid_argument("--arms lists '" + a + "' twice");
  }
  if (e.split.empty()) e.split.assign(e.arms.size(), 1.0 / double(e.arms.size()));
  if (e.split.size() != e.arms.size())
    return invalid_argument("--split needs one share per arm (" + std::to_string(e.arms.size()) +
                            "), like 50/50");
  double sum = 0;
  for (double s : e.split) {
    if (!(s > 0)) return invalid_argument("--split shares must be positive");
    sum += s;
  }
  for (double& s : e.split) s /= sum;  // 50/50 and 0.5/0.5 alike
  const auto& metrics = experiment_metrics();
  auto eq = e.metric.find('=');
  if (eq != std::string::npos) {
    std::string opt = e.metric.substr(0, eq), value = e.metric.substr(eq + 1);
    std::replace(opt.begin(), opt.end(), '-', '_');
    bool listed = false;
    for (const auto& [name, values] : experiment_options()) listed |= name == opt;
    if (!listed || value.empty())
      return invalid_argument("--metric " + e.metric.substr(0, 40) + ": OPTION=VALUE needs a swap option (" +
                              list + ")");
    e.metric = opt + "=" + arm_word(value);
  } else if (std::find(metrics.begin(), metrics.end(), e.metric) == metrics.end()) {
    return invalid_argument("unknown --metric '" + e.metric.substr(0, 40) +
                            "'; choose error_rate, explicit_rate, run_time or OPTION=VALUE (share of runs)");
  }
  if (e.goal.empty()) e.goal = eq != std::string::npos ? "increase" : "decrease";
  if (e.goal != "increase" && e.goal != "decrease")
    return invalid_argument("--goal must be increase or decrease");
  if (!(e.mde > 0)) return invalid_argument("--mde must be positive");
  if (!(e.alpha > 0 && e.alpha < 0.5)) return invalid_argument("--alpha must be in (0, 0.5)");
  if (!(e.min_users >= 1)) return invalid_argument("--min-users must be at least 1");
  return Status::ok();
}

namespace experiments {

Result<Experiment> experiment_from_json(const json& j) {
  Experiment e;
  try {
    e.name = j.at("name").get<std::string>();
    e.option = j.at("option").get<std::string>();
    e.arms = j.at("arms").get<std::vector<std::string>>();
    e.split = j.at("split").get<std::vector<double>>();
    e.metric = j.at("metric").get<std::string>();
    e.goal = j.at("goal").get<std::string>();
    e.mde = j.at("mde").get<double>();
    e.alpha = j.value("alpha", 0.05);
    e.min_users = j.value("min_users", 100.0);
  } catch (const json::exception& ex) {
    return invalid_input(std::string("a stored experiment is damaged: ") + ex.what());
  }
  return e;
}

}  // namespace experiments

double experiment_position(std::string_view experiment, std::string_view pseudonym) {
  uint8_t mac[32];
  unsigned int len = 0;
  HMAC(EVP_sha256(), experiment.data(), int(experiment.size()),
       reinterpret_cast<const uint8_t*>(pseudonym.data()), pseudonym.size(), mac, &len);
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v = (v << 8) | mac[i];
  return double(v >> 11) / double(uint64_t(1) << 53);
}

size_t experiment_arm(const Experiment& e, std::string_view pseudonym) {
  const double x = experiment_position(e.name, pseudonym);
  double edge = 0;
  for (size_t i = 0; i + 1 < e.arms.size(); ++i) {
    edge += i < e.split.size() ? e.split[i] : 0;
    if (x < edge) return i;
  }
  return e.arms.empty() ? 0 : e.arms.size() - 1;
}

ExperimentStore::~ExperimentStore() = default;

Result<std::unique_ptr<ExperimentStore>> ExperimentStore::open(const std::string& data_dir, bool create) {
  auto paths = telemetry::telemetry_paths(data_dir);
  if (create) {
    FW_RETURN_IF_ERROR(telemetry::make_private_dirs(paths.dir));
  } else if (!telemetry::file_exists(paths.database)) {
    return not_found("there is no telemetry database in " + data_dir +
                     " yet: create an experiment with `faceweave experiments create`");
  }
  return open_database(paths.database, create);
}

Result<std::unique_ptr<ExperimentStore>> ExperimentStore::open_database(const std::string& path,
                                                                        bool create) {
  std::unique_ptr<ExperimentStore> s(new ExperimentStore());
  telemetry::DatabaseOptions o;
  o.create = create;
  FW_ASSIGN_OR_RETURN(s->db_, telemetry::Database::open(path, o));
  return s;
}

Status ExperimentStore::create(Experiment e) {
  FW_RETURN_IF_ERROR(validate_experiment(e));
  e.status = "running";
  e.created_ms = now_ms();
  json spec = e.to_json();
  for (const char* k : {"status", "created_ms", "stopped_ms", "adopted"}) spec.erase(k);
  FW_ASSIGN_OR_RETURN(telemetry::Statement st,
                      db_->prepare("INSERT INTO experiments(name, spec, status, created_ms) VALUES (?, ?, "
                                   "'running', ?) ON CONFLICT(name) DO NOTHING"));
  const std::string body = spec.dump();
  sqlite3_bind_text(st.get(), 1, e.name.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st.get(), 2, body.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int64(st.get(), 3, e.created_ms);
  int rc = sqlite3_step(st.get());
  if (rc != SQLITE_DONE) return db_->error(rc, "cannot store the experiment");
  if (sqlite3_changes(db_->handle()) == 0)
    return invalid_argument("an experiment named " + e.name +
                            " exists already (`faceweave experiments show " + e.name +
                            "`); pick another name");
  return Status::ok();
}

Result<std::vector<Experiment>> ExperimentStore::list() {
  FW_ASSIGN_OR_RETURN(
      telemetry::Statement st,
      db_->prepare("SELECT spec, status, created_ms, coalesce(stopped_ms, 0), coalesce(adopted, "
                   "'') FROM experiments ORDER BY created_ms, name"));
  std::vector<Experiment> out;
  int rc;
  while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
    json spec = json::parse(text(st.get(), 0), nullptr, false);
    FW_ASSIGN_OR_RETURN(Experiment e, experiments::experiment_from_json(spec));
    e.status = text(st.get(), 1);
    e.created_ms = sqlite3_column_int64(st.get(), 2);
    e.stopped_ms = sqlite3_column_int64(st.get(), 3);
    e.adopted = text(st.get(), 4);
    out.push_back(std::move(e));
  }
  if (rc != SQLITE_DONE) return db_->error(rc, "cannot read the experiments");
  return out;
}

Result<Experiment> ExperimentStore::get(const std::string& name) {
  FW_ASSIGN_OR_RETURN(auto all, list());
  std::string names;
  for (auto& e : all) {
    if (e.name == name) return e;
    names += (names.empty() ? "" : ", ") + e.name;
  }
  return not_found("no experiment named '" + name.substr(0, 40) +
                   "' (experiments: " + (names.empty() ? "none yet" : names) + ")");
}

Status ExperimentStore::stop(const std::string& name, const std::string& adopted) {
  FW_ASSIGN_OR_RETURN(Experiment e, get(name));
  if (e.status != "running") return invalid_argument("experiment " + name + " is stopped already");
  if (!adopted.empty() && std::find(e.arms.begin(), e.arms.end(), adopted) == e.arms.end()) {
    std::string list;
    for (const auto& a : e.arms) list += (list.empty() ? "" : ", ") + a;
    return invalid_argument("--adopt " + adopted.substr(0, 40) + " is not an arm of " + name + " (" + list +
                            ")");
  }
  FW_ASSIGN_OR_RETURN(telemetry::Statement st,
                      db_->prepare("UPDATE experiments SET status = 'stopped', stopped_ms = ?, adopted = "
                                   "nullif(?, '') WHERE name = ? AND status = 'running'"));
  sqlite3_bind_int64(st.get(), 1, now_ms());
  sqlite3_bind_text(st.get(), 2, adopted.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st.get(), 3, name.c_str(), -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step(st.get());
  if (rc != SQLITE_DONE) return db_->error(rc, "cannot stop the experiment");
  return Status::ok();
}

Result<std::vector<Experiment>> running_experiments(const std::string& data_dir) {
  auto store = ExperimentStore::open(data_dir, false);
  if (!store) {
    if (store.status().code() == StatusCode::kNotFound) return std::vector<Experiment>();
    return store.status();
  }
  FW_ASSIGN_OR_RETURN(auto all, (*store)->list());
  std::vector<Experiment> out;
  for (auto& e : all)
    if (e.status == "running") out.push_back(std::move(e));
  return out;
}

ResolvedDefaults resolve_defaults(
    const DefaultsProfile* profile, const std::vector<Experiment>& running, std::string_view pseudonym,
    const std::function<std::optional<std::string>(const std::string&)>& given) {
  ResolvedDefaults r;
  std::set<std::string> set_by_experiment;
  if (!pseudonym.empty())
    for (const auto& e : running) {
      if (e.status != "running" || e.arms.empty() || !set_by_experiment.insert(e.option).second) continue;
      const std::string& arm = e.arms[experiment_arm(e, pseudonym)];
      Exposure x;
      x.experiment = e.name;
      x.arm = arm_word(arm);
      if (auto v = given(e.option)) {
        x.explicit_value = true;
        x.value = arm_word(*v);
      } else {
        x.value = x.arm;
        r.defaults.emplace_back(e.option, experiment_option_value(e.option, arm));
      }
      r.exposures.push_back(std::move(x));
    }
  if (profile && profile->defaults.is_object())
    for (auto it = profile->defaults.begin(); it != profile->defaults.end(); ++it)
      if (!set_by_experiment.count(it.key()) && !given(it.key()))
        r.defaults.emplace_back(it.key(), it.value());
  return r;
}

void record_exposures(Telemetry& t, const std::vector<Exposure>& exposures, std::string_view client) {
  // A client's event does not take the thread's run by itself (it is another user's): give it.
  const std::string run = TelemetryRun::current();
  for (const auto& x : exposures) {
    const TelemetryProp props[] = {{"experiment", std::string_view(x.experiment)},
                                   {"arm", std::string_view(x.arm)},
                                   {"value", std::string_view(x.value)},
                                   {"explicit", x.explicit_value},
                                   {"run", std::string_view(run)}};
    const size_t n = run.empty() ? 4 : 5;
    if (client.empty())
      (void)t.record("experiment.exposure", std::span<const TelemetryProp>(props, n));
    else
      (void)t.record_client(client, "experiment.exposure", std::span<const TelemetryProp>(props, n));
  }
}

}  // namespace faceweave
