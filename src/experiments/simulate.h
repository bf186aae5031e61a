// A synthetic experiment with a known true effect (simulate.cpp, `faceweave experiments simulate`).
#pragma once

#include <cstdint>
#include <string>

#include "faceweave/experiments.h"

namespace faceweave {

struct ExperimentSimOptions {
  std::string data_dir;
  Experiment experiment;  // created in the data dir (metric explicit_rate or error_rate)
  int users = 2000;
  int days = 14;    // the experiment's first day is the first simulated day
  std::string end;  // last day, YYYY-MM-DD (UTC); empty: today
  uint64_t seed = 1;
  double base_rate = 0.3;     // the metric's rate in the control arm
  double effect = 0;          // its absolute change in every other arm (the true effect)
  double user_spread = 0.15;  // sd of a user's own rate around the arm's (runs of a user are correlated)
  double return_rate = 0.3;   // chance a user comes back on a later day
  double error_rate = 0.05;   // failed runs when the metric is not error_rate
  double run_ms = 900;
  std::string app_version;  // empty: users alternate between 0.1.0 and 0.2.0, as `telemetry simulate`
};
struct ExperimentSimReport {
  int64_t users = 0, sessions = 0, runs = 0, events = 0;
};
Result<ExperimentSimReport> simulate_experiment(const ExperimentSimOptions& options);

}  // namespace faceweave
