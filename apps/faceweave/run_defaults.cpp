// A swap run's defaults on the command line: the defaults profile (--defaults-profile, FACEWEAVE_DEFAULTS)
// and each running experiment's arm for this user replace the built-in defaults of the flags the user did
// not give; `faceweave insights recommend` (docs/experiments.md).
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>

#include "cli.h"
#include "faceweave/analytics.h"
#include "faceweave/experiments.h"

namespace faceweave::cli {

using nlohmann::json;

namespace {

std::string flag_of(const std::string& option) {
  std::string f = "--" + option;
  for (char& c : f)
    if (c == '_') c = '-';
  return f;
}

std::string joined(const CLI::Option* opt) {
  std::string v;
  for (const auto& r : opt->results()) v += (v.empty() ? "" : " ") + r;
  return v;
}

}  // namespace

void add_defaults_profile_flag(CLI::App& app, GlobalOptions& global) {
  app.add_option("--defaults-profile", global.defaults_profile_path,
                 "Defaults profile (JSON: id, version, defaults) replacing built-in swap defaults (env "
                 "FACEWEAVE_DEFAULTS; docs/experiments.md)")
      ->envname("FACEWEAVE_DEFAULTS")
      ->each([&global](const std::string& path) {
        auto p = load_defaults_profile(path);
        if (!p) throw CLI::ValidationError(p.status().message());  // CLI11 prefixes the flag
        global.telemetry_options.defaults_profile = p->tag();
        global.defaults_profile = std::move(*p);
      });
}

Status apply_run_defaults(CLI::App* cmd, const GlobalOptions& global) {
  auto given = [cmd](const std::string& option) -> std::optional<std::string> {
    const CLI::Option* opt = cmd->get_option_no_throw(flag_of(option));
    if (!opt || opt->count() == 0) return std::nullopt;
    return joined(opt);
  };
  Telemetry* t = global.telemetry.get();
  // Experiments need a pseudonym and the exposure event: without usage telemetry nobody is assigned.
  const bool measured = t && t->enabled() && t->consent() >= TelemetryConsent::kUsage;
  std::vector<Experiment> running;
  if (measured) {
    auto r = running_experiments(resolve_data_dir(global.telemetry_options.data_dir));
    if (r) running = std::move(*r);  // an unreadable experiments table must not stop the swap
  }
  const DefaultsProfile* profile = global.defaults_profile ? &*global.defaults_profile : nullptr;
  ResolvedDefaults resolved = resolve_defaults(profile, running, measured ? t->user() : "", given);
  for (const auto& [option, value] : resolved.defaults) {
    CLI::Option* opt = cmd->get_option_no_throw(flag_of(option));
    if (!opt) continue;
    try {
      // Sets the bound variable through the flag's own checks, then forgets the flag was "given", so
      // telemetry does not count a default as the user's choice.
      opt->add_result(default_value_text(value));
      opt->run_callback();
      opt->clear();
    } catch (const CLI::Error& e) {
      opt->clear();
      return invalid_argument("the default " + option + " = " + default_value_text(value) +
                              " is refused: " + e.what());
    }
  }
  if (t && measured) {
    record_exposures(*t, resolved.exposures);
    // The user's own flag is recorded as such, also when it equals the built-in default (which telemetry
    // otherwise leaves out) but not the profile's.
    if (profile)
      for (auto it = profile->defaults.begin(); it != profile->defaults.end(); ++it) {
        const CLI::Option* opt = cmd->get_option_no_throw(flag_of(it.key()));
        auto v = given(it.key());
        if (opt && v && *v == opt->get_default_str() && *v != default_value_text(it.value()))
          t->record_option("swap", it.key(), arm_word(*v));
      }
  }
  return Status::ok();
}

int run_recommend(const std::string& data_dir, int k, bool as_json) {
  auto a = Analytics::open(data_dir);
  if (!a) return report(a.status());
  InsightsFilter f;
  f.k = k;
  auto d = (*a)->view("defaults", f);
  if (!d) return report(d.status());
  InsightsTable t;
  t.view = "recommend";
  t.title = "Recommended default changes: defaults most users switch away, and experiments with a verdict";
  t.columns = {"kind",   "option",  "current", "proposed", "share",
               "ci_low", "ci_high", "users",   "evidence", "next"};
  const double n = d->summary["cohort_users"].is_number() ? d->summary["cohort_users"].get<double>() : 0;
  const double z = normal_quantile(0.975);
  for (const auto& r : d->rows) {
    // option, default, switched_to, users, share, first_session_users, first_session_share
    if (r[4].is_null() || !r[3].is_number() || r[2] == "*") continue;
    const double p = r[4].get<double>(), users = r[3].get<double>();
    if (p <= 0.5 || users < k) continue;
    // Wilson score interval of the share of cohort users.
    const double den = 1 + z * z / n, mid = (p + z * z / (2 * n)) / den,
                 half = z * std::sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / den;
    const std::string opt = r[0].get<std::string>(), cur = r[1].get<std::string>(),
                      to = r[2].get<std::string>();
    char evidence[200];
    std::snprintf(evidence, sizeof evidence, "%.0f%% of %.0f users switch %s to %s (95%% CI %.0f%%-%.0f%%)",
                  100 * p, n, opt.c_str(), to.c_str(), 100 * (mid - half), 100 * (mid + half));
    std::string name = opt + "-" + to;
    std::replace(name.begin(), name.end(), '.', '_');
    if (name.size() > 24) name.resize(24);
    t.rows.push_back(json::array(
        {"switched_off", opt, cur, to, p, mid - half, mid + half, users, evidence,
         "faceweave experiments create " + name + " --option " + opt + " --arms " + cur + "," + to}));
  }
  // Experiments that reached a verdict.
  if (auto store = ExperimentStore::open(data_dir, false); store) {
    auto all = (*store)->list();
    if (!all) return report(all.status());
    for (const auto& e : *all) {
      ExperimentAnalysisOptions o;
      o.k = k;
      auto x = analyse_experiment((*store)->database(), e, o);
      if (!x) return report(x.status());
      const std::string decision = x->summary["decision"].get<std::string>();
      if (decision != "adopt" || e.status != "running") continue;
      const std::string win = x->summary["winner"].get<std::string>();
      t.rows.push_back(
          json::array({"experiment", e.option, e.arms[0], win, nullptr, nullptr, nullptr, nullptr,
                       x->summary["verdict"], "faceweave experiments stop " + e.name + " --adopt " + win}));
    }
  }
  t.summary["k"] = k;
  t.summary["cohort_users"] = d->summary["cohort_users"];
  t.summary["recommendations"] = t.rows.size();
  if (t.rows.empty())
    t.notes.push_back("nothing to recommend: no default is switched away by most of at least k = " +
                      std::to_string(k) + " users, and no experiment has a winner");
  std::cout << (as_json ? t.to_json().dump(2) + "\n" : t.to_text());
  return 0;
}

}  // namespace faceweave::cli
