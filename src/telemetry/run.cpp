#include "telemetry/run.h"

#include <random>
#include <string>

#include "faceweave/telemetry.h"
#include "telemetry/sampler.h"

namespace faceweave::telemetry {

RunContext& current_run() noexcept {
  thread_local RunContext run;
  return run;
}

bool is_run_id(std::string_view id) {
  if (id.size() != kRunIdLength) return false;
  for (char c : id)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

}  // namespace faceweave::telemetry

namespace faceweave {

namespace {

std::string random_run_id() {
  std::random_device rd;
  uint64_t v = (uint64_t(rd()) << 32) ^ uint64_t(rd());
  static const char* kHex = "0123456789abcdef";
  std::string id(telemetry::kRunIdLength, '0');
  for (size_t i = 0; i < id.size(); ++i) id[i] = kHex[(v >> (4 * (id.size() - 1 - i))) & 15];
  return id;
}

}  // namespace

TelemetryRun::TelemetryRun() : TelemetryRun(random_run_id()) {}

TelemetryRun::TelemetryRun(std::string_view id) {
  telemetry::RunContext& run = telemetry::current_run();
  previous_id_.assign(run.view());
  previous_position_ = run.position;
  id_ = telemetry::is_run_id(id) ? std::string(id) : random_run_id();
  std::copy(id_.begin(), id_.end(), run.id.begin());
  run.length = uint8_t(id_.size());
  run.position = telemetry::Sampler::cohort_position(id_);
}

TelemetryRun::~TelemetryRun() {
  telemetry::RunContext& run = telemetry::current_run();
  std::copy(previous_id_.begin(), previous_id_.end(), run.id.begin());
  run.length = uint8_t(previous_id_.size());
  run.position = previous_id_.empty() ? -1 : previous_position_;
}

std::string TelemetryRun::current() {
  return std::string(telemetry::current_run().view());
}

}  // namespace faceweave
