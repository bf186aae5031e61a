// Per-stage wall-clock accounting: each stage adds its milliseconds under a stable name (detect,
// landmarks, embed, attributes, warp, colour_match, blend, ...). Not thread-safe: one per frame or run.
#pragma once

#include <chrono>
#include <map>
#include <string>

namespace faceweave::core {

class StageTimings {
 public:
  void add(const std::string& stage, double ms) { ms_[stage] += ms; }
  void merge(const StageTimings& other) {
    for (const auto& [k, v] : other.ms_) ms_[k] += v;
  }
  const std::map<std::string, double>& stages() const { return ms_; }
  double total() const {
    double t = 0;
    for (const auto& [k, v] : ms_) t += v;
    return t;
  }

 private:
  std::map<std::string, double> ms_;
};

// Adds the time from construction to destruction to `timings` (if not null) under `stage`.
class ScopedStage {
 public:
  ScopedStage(StageTimings* timings, std::string stage)
      : timings_(timings), stage_(std::move(stage)), start_(std::chrono::steady_clock::now()) {}
  ~ScopedStage() {
    if (timings_)
      timings_->add(
          stage_,
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start_).count());
  }
  ScopedStage(const ScopedStage&) = delete;
  ScopedStage& operator=(const ScopedStage&) = delete;

 private:
  StageTimings* timings_;
  std::string stage_;
  std::chrono::steady_clock::time_point start_;
};

}  // namespace faceweave::core
