// Sampling keeps a share `rate` of the runs (run, the default: a run's id decides once, so all events of a
// run are kept or dropped together and per-run ratios stay unbiased; events outside a run are decided by
// the user), of the users (cohort: the pseudonym decides once, so a user is always or never sampled and
// per-user analyses stay whole), or of the events one by one (probabilistic: cheap for per-frame
// diagnostics, but a run may lose some of its events, which biases per-run shares). Every stored row
// carries the rate, so analytics can re-weight counts (count / rate).
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

namespace faceweave::telemetry {

enum class SamplingMode { kRun, kCohort, kProbabilistic };

class Sampler {
 public:
  Sampler(double rate, SamplingMode mode, std::string_view pseudonym);

  // Whether to keep the next event; `run_position` is the position of the event's run in [0, 1) (see
  // cohort_position), negative outside a run. Lock-free, no allocation (a per-thread xorshift generator).
  bool keep(double run_position = -1) const noexcept {
    if (always_) return true;
    if (mode_ == SamplingMode::kProbabilistic) return next_uniform() < rate_;
    if (mode_ == SamplingMode::kRun && run_position >= 0) return run_position < rate_;
    return in_cohort_;
  }
  // The same decision for an event of another user (a browser client), by that user's pseudonym.
  bool keep_for(std::string_view pseudonym) const noexcept {
    if (always_) return true;
    if (mode_ == SamplingMode::kProbabilistic) return next_uniform() < rate_;
    return cohort_position(pseudonym) < rate_;
  }
  // The decision for an event of another user's run (a job a browser submitted): by the run like the
  // host's runs, by that user in cohort sampling.
  bool keep_run_of(double run_position, std::string_view pseudonym) const noexcept {
    if (mode_ == SamplingMode::kCohort) return keep_for(pseudonym);
    return keep(run_position);
  }
  double rate() const { return rate_; }
  SamplingMode mode() const { return mode_; }
  bool in_cohort() const { return in_cohort_; }

  // The fixed position in [0, 1) of a user (pseudonym) or run (run id), from its first 64 bits of hex.
  static double cohort_position(std::string_view pseudonym);

 private:
  static double next_uniform() noexcept;

  double rate_;
  SamplingMode mode_;
  bool in_cohort_;
  bool always_;
};

}  // namespace faceweave::telemetry
