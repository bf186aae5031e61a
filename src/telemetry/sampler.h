// Sampling keeps a share `rate` of the events, either per event (probabilistic) or per user (cohort: the
// pseudonym decides once, so a user is always or never sampled and per-user analyses stay whole). Every
// stored row carries the rate, so analytics can re-weight counts (count / rate).
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

namespace faceweave::telemetry {

enum class SamplingMode { kProbabilistic, kCohort };

class Sampler {
 public:
  Sampler(double rate, SamplingMode mode, std::string_view pseudonym);

  // Whether to keep the next event. Lock-free, no allocation (a per-thread xorshift generator).
  bool keep() const noexcept {
    if (always_) return true;
    if (mode_ == SamplingMode::kCohort) return in_cohort_;
    return next_uniform() < rate_;
  }
  double rate() const { return rate_; }
  SamplingMode mode() const { return mode_; }
  bool in_cohort() const { return in_cohort_; }

  // The user's fixed position in [0, 1), from the first 64 bits of the pseudonym.
  static double cohort_position(std::string_view pseudonym);

 private:
  static double next_uniform() noexcept;

  double rate_;
  SamplingMode mode_;
  bool in_cohort_;
  bool always_;
};

}  // namespace faceweave::telemetry
