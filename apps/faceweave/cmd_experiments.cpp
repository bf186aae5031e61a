// faceweave experiments create | list | show | stop | simulate: experiments on defaults from the command line
// (docs/experiments.md).
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>

#include "cli.h"
#include "experiments/simulate.h"
#include "faceweave/analytics.h"
#include "faceweave/experiments.h"

namespace faceweave::cli {
namespace {

using nlohmann::json;

struct SimArgs {
  ExperimentSimOptions o;
  std::string arms;
};

struct ExperimentArgs {
  Experiment e;
  std::string arms, split;
  std::string name, adopt, profile_out, metric;
  bool json = false, csv = false;
  int k = InsightsFilter::kDefaultK;
};

void print(const InsightsTable& t, const ExperimentArgs& a) {
  if (a.json)
    std::cout << t.to_json().dump(2) << "\n";
  else if (a.csv)
    std::cout << t.to_csv();
  else
    std::cout << t.to_text();
}

std::vector<std::string> split_list(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream in(s);
  std::string item;
  while (std::getline(in, item, sep)) out.push_back(item);
  return out;
}

int run_create(const GlobalOptions& global, ExperimentArgs& a) {
  Experiment e = a.e;
  e.name = a.name;
  e.arms = split_list(a.arms, ',');
  if (!a.split.empty())
    for (const auto& part : split_list(a.split, '/')) {
      char* end = nullptr;
      double v = std::strtod(part.c_str(), &end);
      if (part.empty() || end != part.c_str() + part.size())
        return report(invalid_argument("--split takes shares like 50/50 or 20/30/50, not '" + a.split + "'"));
      e.split.push_back(v);
    }
  if (Status s = validate_experiment(e); !s.is_ok()) return report(s);  // before creating a database
  auto store = ExperimentStore::open(resolve_data_dir(global.telemetry_options.data_dir), true);
  if (!store) return report(store.status());
  if (Status s = (*store)->create(e); !s.is_ok()) return report(s);
  std::string arms;
  for (size_t i = 0; i < e.arms.size(); ++i)
    arms += (i ? ", " : "") + e.arms[i] + " " + std::to_string(int(std::lround(e.split[i] * 100))) + "%";
  std::printf("created experiment %s on %s: %s; metric %s (%s is better)\n", e.name.c_str(), e.option.c_str(),
              arms.c_str(), e.metric.c_str(), e.goal.c_str());
  return 0;
}

Result<std::unique_ptr<ExperimentStore>> open_existing(const GlobalOptions& global) {
  return ExperimentStore::open(resolve_data_dir(global.telemetry_options.data_dir), false);
}

int run_list(const GlobalOptions& global, const ExperimentArgs& a) {
  auto store = open_existing(global);
  if (!store && store.status().code() == StatusCode::kNotFound) {
    std::cout << (a.json ? "{\"rows\": []}\n" : "no experiments yet\n");
    return 0;
  }
  if (!store) return report(store.status());
  auto t = experiments_overview(**store, a.k);
  if (!t) return report(t.status());
  print(*t, a);
  return 0;
}

int run_show(const GlobalOptions& global, const ExperimentArgs& a) {
  auto store = open_existing(global);
  if (!store) return report(store.status());
  auto e = (*store)->get(a.name);
  if (!e) return report(e.status());
  ExperimentAnalysisOptions o;
  o.metric = a.metric;
  o.k = a.k;
  auto t = analyse_experiment((*store)->database(), *e, o);
  if (!t) return report(t.status());
  print(*t, a);
  return 0;
}

int run_stop(const GlobalOptions& global, const ExperimentArgs& a) {
  auto store = open_existing(global);
  if (!store) return report(store.status());
  auto e = (*store)->get(a.name);
  if (!e) return report(e.status());
  // The new profile version: the current profile (or an empty one) with the adopted arm as the default.
  DefaultsProfile next;
  std::string out = a.profile_out;
  if (!a.adopt.empty()) {
    if (global.defaults_profile) {
      next = *global.defaults_profile;
      ++next.version;
      if (out.empty()) out = global.defaults_profile_path;
    } else {
      next.id = "defaults";
      next.version = 1;
      next.defaults = json::object();
    }
    if (out.empty())
      return report(
          invalid_argument("--adopt writes a new defaults profile: give --profile-out FILE (or "
                           "--defaults-profile FILE to bump)"));
  }
  if (Status s = (*store)->stop(a.name, a.adopt); !s.is_ok()) return report(s);
  if (a.adopt.empty()) {
    std::printf("stopped experiment %s; every user gets the default again\n", a.name.c_str());
    return 0;
  }
  next.defaults[e->option] = experiment_option_value(e->option, a.adopt);
  if (Status s = save_defaults_profile(next, out); !s.is_ok()) return report(s);
  std::printf("stopped experiment %s and adopted %s = %s: wrote defaults profile %s to %s\n", a.name.c_str(),
              e->option.c_str(), a.adopt.c_str(), next.tag().c_str(), out.c_str());
  return 0;
}

int run_simulate(const GlobalOptions& global, SimArgs& a, const std::string& name) {
  a.o.data_dir = resolve_data_dir(global.telemetry_options.data_dir);
  a.o.experiment.name = name;
  a.o.experiment.arms = split_list(a.arms, ',');
  auto r = simulate_experiment(a.o);
  if (!r) return report(r.status());
  std::printf("simulated experiment %s: %lld users, %lld sessions, %lld runs, %lld events (true effect %g)\n",
              name.c_str(), (long long)r->users, (long long)r->sessions, (long long)r->runs,
              (long long)r->events, a.o.effect);
  return 0;
}

}  // namespace

void add_experiments_command(CLI::App& app, GlobalOptions& global, int& exit_code) {
  static ExperimentArgs args;
  auto* cmd = app.add_subcommand(
      "experiments", "Experiments on defaults: each user gets one arm's default for an option, then compare");
  cmd->require_subcommand(1);
  auto* create = cmd->add_subcommand("create", "Start an experiment on the default of one swap option");
  create->add_option("name", args.name, "Its name: a word of [a-z0-9_-], at most 24 characters")->required();
  create->add_option("--option", args.e.option, "The swap option, e.g. color_match")->required();
  create->add_option("--arms", args.arms, "Its default per arm, control first: reinhard,none")->required();
  create->add_option("--split", args.split, "Share of users per arm, e.g. 50/50 (default: equal)");
  create
      ->add_option("--metric", args.e.metric,
                   "error_rate | explicit_rate | run_time | OPTION=VALUE (share of runs with that value)")
      ->capture_default_str();
  create->add_option("--goal", args.e.goal,
                     "increase | decrease (default: decrease, increase for OPTION=VALUE)");
  create
      ->add_option("--mde", args.e.mde,
                   "Effect the sequential test is tuned for (absolute; run_time: relative)")
      ->capture_default_str();
  create->add_option("--alpha", args.e.alpha, "Significance level")->capture_default_str();
  create->add_option("--min-users", args.e.min_users, "Fewest exposed users per arm for a verdict")
      ->capture_default_str();
  create->callback([&global, &exit_code] { exit_code = run_create(global, args); });

  auto* list = cmd->add_subcommand("list", "Every experiment with its users per arm and verdict");
  list->add_flag("--json", args.json, "Print JSON");
  list->add_option("--k", args.k, "Arms of fewer than k users show \"< k\"")->check(CLI::Range(1, 1000));
  list->callback([&global, &exit_code] { exit_code = run_list(global, args); });

  auto* show = cmd->add_subcommand("show", "Compare an experiment's arms: tests, guardrails and the verdict");
  show->add_option("name", args.name, "The experiment")->required();
  show->add_option("--metric", args.metric, "Another metric than the experiment's own");
  show->add_option("--k", args.k, "Arms of fewer than k users show \"< k\"")->check(CLI::Range(1, 1000));
  auto* json_flag = show->add_flag("--json", args.json, "Print JSON");
  show->add_flag("--csv", args.csv, "Print CSV")->excludes(json_flag);
  show->callback([&global, &exit_code] { exit_code = run_show(global, args); });

  auto* stop =
      cmd->add_subcommand("stop", "Stop an experiment, optionally adopting an arm as the new default");
  stop->add_option("name", args.name, "The experiment")->required();
  stop->add_option("--adopt", args.adopt, "The arm to adopt: writes a new defaults profile version");
  stop->add_option("--profile-out", args.profile_out,
                   "Where the new profile goes (default: the --defaults-profile file, version + 1)");
  stop->callback([&global, &exit_code] { exit_code = run_stop(global, args); });

  static SimArgs sim;
  auto* simulate = cmd->add_subcommand(
      "simulate",
      "Create an experiment and write a synthetic history with a known true effect (demos, tests)");
  simulate->add_option("name", args.name, "The experiment")->required();
  simulate->add_option("--option", sim.o.experiment.option, "The swap option")->required();
  simulate->add_option("--arms", sim.arms, "Its default per arm, control first")->required();
  simulate->add_option("--metric", sim.o.experiment.metric, "explicit_rate | error_rate")
      ->capture_default_str();
  simulate->add_option("--users", sim.o.users, "Users")->capture_default_str();
  simulate->add_option("--days", sim.o.days, "Days, ending on --end")->capture_default_str();
  simulate->add_option("--end", sim.o.end, "Last day, YYYY-MM-DD (default: today, UTC)");
  simulate->add_option("--seed", sim.o.seed, "Random seed")->capture_default_str();
  simulate->add_option("--base-rate", sim.o.base_rate, "The metric's rate in the control arm")
      ->capture_default_str();
  simulate->add_option("--effect", sim.o.effect, "The true absolute effect in the other arms")
      ->capture_default_str();
  simulate->callback([&global, &exit_code] { exit_code = run_simulate(global, sim, args.name); });
}

}  // namespace faceweave::cli
