// The A/B view of an experiment on a default: its exposures joined by run id to the runs' command.run (the
// analytics rollup ax_exp_run; for an OPTION=VALUE metric on another option, command.option from the raw
// events), per arm against the control, looked at once per day with the always-valid test
// (docs/experiments.md, "Reading an experiment").
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <map>
#include <unordered_map>

#include "experiments/stats.h"
#include "faceweave/experiments.h"
#include "telemetry/database.h"

namespace faceweave {

using experiments::RatioMoments;
using nlohmann::json;

namespace {

constexpr int64_t kMsPerDay = 86'400'000;
// A look counts once every compared arm has this many users: the normal approximation and the estimated
// variance need a few users before the sequential test may reject.
constexpr int64_t kBurnInUsers = 20;

std::string text(sqlite3_stmt* s, int i) {
  const unsigned char* t = sqlite3_column_text(s, i);
  return t ? reinterpret_cast<const char*>(t) : "";
}

double round_to(double v, int digits) {
  const double f = std::pow(10.0, digits);
  return std::round(v * f) / f;
}

struct Run {
  std::string user;
  int64_t day = 0;
  size_t arm = 0;
  bool explicit_value = false, has_run = false, failed = false, hit = false;
  double ms = 0;
};

// Per arm: the metric's, the error rate's and the run time's moments, and each user's sums.
struct ArmState {
  RatioMoments metric, errors, time;
  std::unordered_map<std::string, std::array<double, 4>> per_user;  // x, errors, ms, runs
  void add(const Run& r, bool time_metric) {
    auto& u = per_user[r.user];
    const double x = time_metric ? r.ms : double(r.hit);
    metric.add_user_change(u[0], u[3], u[0] + x, u[3] + 1);
    errors.add_user_change(u[1], u[3], u[1] + r.failed, u[3] + 1);
    time.add_user_change(u[2], u[3], u[2] + r.ms, u[3] + 1);
    u[0] += x;
    u[1] += r.failed;
    u[2] += r.ms;
    u[3] += 1;
  }
};

Status step_error(telemetry::Database& db, int rc) {
  return db.error(rc, "cannot read the experiment's events");
}

}  // namespace

Result<InsightsTable> analyse_experiment(telemetry::Database& db, const Experiment& e,
                                         const ExperimentAnalysisOptions& o) {
  Experiment x = e;
  if (!o.metric.empty()) {
    x.metric = o.metric;
    x.goal.clear();
    FW_RETURN_IF_ERROR(validate_experiment(x));
  }
  const bool time_metric = x.metric == "run_time";
  const auto eq = x.metric.find('=');
  const std::string metric_option = eq == std::string::npos ? "" : x.metric.substr(0, eq);
  const std::string metric_value = eq == std::string::npos ? "" : x.metric.substr(eq + 1);
  std::map<std::string, size_t> arm_index;
  for (size_t i = 0; i < x.arms.size(); ++i) arm_index[arm_word(x.arms[i])] = i;

  // 1. The exposed runs (one per run) and their command.run's outcome and wall time, from the analytics
  // rollups (ax_exp_run, folded first like every view): the cost follows the experiment's exposed runs,
  // not the size of the events table.
  {
    FW_ASSIGN_OR_RETURN(auto a, Analytics::open_database(db.path()));
    if (Status fold = a->refresh();
        !fold.is_ok() && !telemetry::is_busy(sqlite3_errcode(a->database().handle())))
      return fold;  // busy: another process folds; answer from the rollups as they are
  }
  // Ended runs in day order (one row per run: the rollup's key); their ids only for a metric on another
  // option, which joins command.option by run id.
  const bool other_option = !metric_option.empty() && metric_option != x.option;
  std::vector<Run> runs;
  std::unordered_map<std::string, size_t> run_index;
  {
    FW_ASSIGN_OR_RETURN(telemetry::Statement st,
                        db.prepare("SELECT run, user, day, arm, explicit, value, ended, failed, ms FROM "
                                   "ax_exp_run WHERE experiment = ? AND ended ORDER BY day"));
    sqlite3_bind_text(st.get(), 1, x.name.c_str(), -1, SQLITE_TRANSIENT);
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW) {
      auto arm = arm_index.find(text(st.get(), 3));
      const std::string run = text(st.get(), 0);
      if (arm == arm_index.end() || run.empty()) continue;
      Run r;
      r.user = text(st.get(), 1);
      r.day = sqlite3_column_int64(st.get(), 2);
      r.arm = arm->second;
      r.explicit_value = sqlite3_column_int(st.get(), 4) != 0;
      if (metric_option == x.option) r.hit = text(st.get(), 5) == metric_value;
      if (x.metric == "explicit_rate") r.hit = r.explicit_value;
      r.has_run = sqlite3_column_int(st.get(), 6) != 0;
      r.failed = sqlite3_column_int(st.get(), 7) != 0;  // a cancelled run is not an error
      r.ms = sqlite3_column_double(st.get(), 8);
      if (x.metric == "error_rate") r.hit = r.failed;
      if (other_option) run_index.emplace(run, runs.size());
      runs.push_back(std::move(r));
    }
    if (rc != SQLITE_DONE) return step_error(db, rc);
  }
  int64_t first_ms = x.created_ms > 0 ? x.created_ms - kMsPerDay : 0;
  // 3. Another option's value: the runs that set it.
  if (other_option) {
    FW_ASSIGN_OR_RETURN(telemetry::Statement st,
                        db.prepare("SELECT json_extract(props, '$.run') FROM events_view WHERE event = "
                                   "'command.option' AND ts >= ? AND json_extract(props, '$.option') = ? AND "
                                   "json_extract(props, '$.value') = ?"));
    sqlite3_bind_int64(st.get(), 1, first_ms);
    sqlite3_bind_text(st.get(), 2, metric_option.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st.get(), 3, metric_value.c_str(), -1, SQLITE_TRANSIENT);
    int rc;
    while ((rc = sqlite3_step(st.get())) == SQLITE_ROW)
      if (auto it = run_index.find(text(st.get(), 0)); it != run_index.end()) runs[it->second].hit = true;
    if (rc != SQLITE_DONE) return step_error(db, rc);
  }

  // 4. Daily looks: the runs in day order, each arm against the control after every day.
  std::vector<const Run*> ordered;
  for (const Run& r : runs)
    if (r.has_run) ordered.push_back(&r);
  const size_t k = x.arms.size();
  std::vector<ArmState> arms(k);
  std::vector<AlwaysValidP> primary(k), guard_err(k), guard_time(k);
  json looks = json::array();
  const int64_t today = o.today >= 0 ? o.today : (ordered.empty() ? 0 : ordered.back()->day);
  auto look = [&](int64_t day) {
    json l{{"day", iso_day(day)},
           {"users", json::array()},
           {"always_valid_p", json::array()},
           {"z_p", json::array()}};
    const auto& c = arms[0];
    for (size_t i = 0; i < k; ++i) {
      l["users"].push_back(arms[i].metric.users);
      if (i == 0) continue;
      const auto& a = arms[i];
      json z_p = nullptr;
      if (c.metric.users >= kBurnInUsers && a.metric.users >= kBurnInUsers) {
        const double v = a.metric.variance() + c.metric.variance();
        if (v > 0) z_p = round_to(compare_arms(c.metric.ratio(), a.metric.ratio(), v, v, x.alpha).p_value, 6);
        const double tau = time_metric ? x.mde * std::max(c.metric.ratio(), 1.0) : x.mde;
        primary[i].look(a.metric.ratio() - c.metric.ratio(), a.metric.variance() + c.metric.variance(), tau);
        guard_err[i].look(a.errors.ratio() - c.errors.ratio(), a.errors.variance() + c.errors.variance(),
                          0.02);
        guard_time[i].look(a.time.ratio() - c.time.ratio(), a.time.variance() + c.time.variance(),
                           0.1 * std::max(c.time.ratio(), 1.0));
      }
      l["always_valid_p"].push_back(round_to(primary[i].p(), 6));
      l["z_p"].push_back(z_p);
    }
    looks.push_back(std::move(l));
  };
  size_t next = 0;
  if (!ordered.empty())
    for (int64_t day = ordered.front()->day; day <= today; ++day) {
      while (next < ordered.size() && ordered[next]->day <= day) {
        arms[ordered[next]->arm].add(*ordered[next], time_metric);
        ++next;
      }
      look(day);
    }

  // 5. The table: one row per arm, the control first.
  InsightsTable t;
  t.view = "experiment";
  t.title = "Experiment " + x.name + ": default of " + x.option + " per arm, metric " + x.metric + " (" +
            x.goal + " is better), control " + x.arms[0];
  t.columns = {"arm",     "value", "users",   "runs",           "metric",     "difference", "ci_low",
               "ci_high", "z",     "p_value", "always_valid_p", "error_rate", "run_ms",     "guardrail"};
  std::vector<double> users;
  bool hidden = false, enough = true;
  for (const auto& a : arms) {
    users.push_back(double(a.metric.users));
    hidden |= a.metric.users > 0 && a.metric.users < o.k;
    enough &= double(a.metric.users) >= x.min_users;
  }
  const auto [chi, srm_p] = experiments::sample_ratio_chi_square(users, x.split);
  std::string winner, breached, worse;
  double best = 0;
  for (size_t i = 0; i < k; ++i) {
    const auto& a = arms[i];
    const bool small = a.metric.users > 0 && a.metric.users < o.k;
    json row = json::array({"arm " + std::to_string(i) + (i == 0 ? " (control)" : ""), x.arms[i],
                            small ? json("< " + std::to_string(o.k)) : json(a.metric.users),
                            small ? json(nullptr) : json(a.metric.sn),
                            small || a.metric.sn <= 0 ? json(nullptr) : json(round_to(a.metric.ratio(), 6))});
    std::string guard;
    if (i == 0 || small || hidden) {
      for (int c = 0; c < 6; ++c) row.push_back(nullptr);
    } else {
      const auto& c = arms[0];
      // The same statistics as the version and profile A/B (compare_arms), with the delta-method variance.
      const double v = a.metric.variance() + c.metric.variance();
      const ArmComparison cmp = compare_arms(c.metric.ratio(), a.metric.ratio(), v, v, x.alpha);
      const double d = cmp.difference;
      row.push_back(round_to(d, 6));
      row.push_back(round_to(cmp.ci_low, 6));
      row.push_back(round_to(cmp.ci_high, 6));
      row.push_back(round_to(cmp.z, 4));
      row.push_back(cmp.p_value);
      row.push_back(round_to(primary[i].p(), 6));
      const bool better = x.goal == "increase" ? d > 0 : d < 0;
      if (primary[i].p() < x.alpha && better && (winner.empty() || std::fabs(d) > best)) {
        winner = x.arms[i];
        best = std::fabs(d);
      }
      if (primary[i].p() < x.alpha && !better && worse.empty()) worse = x.arms[i];
      const double de = a.errors.ratio() - c.errors.ratio(), dt = a.time.ratio() - c.time.ratio();
      if (guard_err[i].p() < x.alpha && de > 0)
        guard = "error rate up " + std::to_string(round_to(de, 4)).substr(0, 6);
      if (guard_time[i].p() < x.alpha && dt > 0)
        guard +=
            (guard.empty() ? "" : "; ") + std::string("run time up ") + std::to_string(int64_t(dt)) + " ms";
      if (!guard.empty() && breached.empty()) breached = x.arms[i] + " (" + guard + ")";
    }
    row.push_back(small || a.errors.sn <= 0 ? json(nullptr) : json(round_to(a.errors.ratio(), 6)));
    row.push_back(small || a.time.sn <= 0 ? json(nullptr) : json(round_to(a.time.ratio(), 1)));
    row.push_back(i == 0 ? json(nullptr) : json(guard.empty() ? "ok" : guard));
    t.rows.push_back(std::move(row));
  }
  std::string verdict, decision = "continue";
  if (ordered.empty()) {
    verdict = "no exposed runs yet";
  } else if (hidden || !enough) {
    verdict = "not enough data: each arm needs at least " + std::to_string(int64_t(x.min_users)) +
              " exposed users (k = " + std::to_string(o.k) + ")";
  } else if (srm_p < 0.001) {
    verdict =
        "sample ratio mismatch: the users per arm differ from the planned split; do not trust the comparison";
    decision = "invalid";
  } else if (!breached.empty()) {
    verdict = "guardrail breached by " + breached + ": keep " + x.arms[0];
    decision = "keep_control";
  } else if (!winner.empty()) {
    verdict = winner + " wins: " + x.metric + " " + (x.goal == "increase" ? "higher" : "lower") + " than " +
              x.arms[0] + " (always-valid p < " + std::to_string(x.alpha).substr(0, 4) + ")";
    decision = "adopt";
  } else if (!worse.empty()) {
    verdict = worse + " is worse than " + x.arms[0] + ": keep " + x.arms[0];
    decision = "keep_control";
  } else {
    verdict = e.status == "running"
                  ? "no difference yet: keep it running (the always-valid p-value may be looked at daily)"
                  : "no significant difference";
    if (e.status != "running") decision = "keep_control";
  }
  json& s = t.summary;
  s["experiment"] = e.to_json();
  s["metric"] = x.metric;
  s["goal"] = x.goal;
  s["confidence"] = 1 - x.alpha;
  s["exposed_runs"] = ordered.size();
  s["srm_chi_square"] = round_to(chi, 4);
  s["srm_p_value"] = srm_p;
  s["sample_ratio_mismatch"] = srm_p < 0.001;
  s["looks"] = looks.size();
  s["daily"] = looks;
  s["k"] = o.k;
  s["winner"] = winner.empty() ? json(nullptr) : json(winner);
  s["decision"] = decision;
  s["verdict"] = verdict;
  t.notes.push_back(
      "users are the randomised unit: rates are per run with a delta-method variance over users; the "
      "always-valid p-value (mixture SPRT) stays valid however often it is looked at");
  if (hidden) t.notes.push_back("an arm with fewer than k users shows \"< k\" and no statistics");
  return t;
}

Result<InsightsTable> experiments_overview(ExperimentStore& store, int k) {
  FW_ASSIGN_OR_RETURN(auto all, store.list());
  InsightsTable t;
  t.view = "experiments";
  t.title = "Experiments on defaults: each with its arms, exposed users and verdict";
  t.columns = {"name", "option", "arms", "metric", "status", "users", "decision", "winner", "verdict"};
  for (const auto& e : all) {
    ExperimentAnalysisOptions o;
    o.k = k;
    FW_ASSIGN_OR_RETURN(InsightsTable a, analyse_experiment(store.database(), e, o));
    std::string arms;
    for (const auto& v : e.arms) arms += (arms.empty() ? "" : ",") + v;
    json users = json::array();
    for (const auto& r : a.rows) users.push_back(r[2]);
    t.rows.push_back(json::array({e.name, e.option, arms, e.metric, e.status, users, a.summary["decision"],
                                  a.summary["winner"], a.summary["verdict"]}));
  }
  t.summary["experiments"] = all.size();
  size_t running = 0;
  for (const auto& e : all) running += e.status == "running";
  t.summary["running"] = running;
  if (all.empty())
    t.notes.push_back("no experiments yet: faceweave experiments create NAME --option OPTION --arms A,B");
  return t;
}

}  // namespace faceweave
