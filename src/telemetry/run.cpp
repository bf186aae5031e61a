#include "telemetry/run.h"

#include <algorithm>
#include <random>
#include <string>

#include "faceweave/telemetry.h"
#include "telemetry/sampler.h"
#include "telemetry/session.h"

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

TelemetryRun::TelemetryRun(std::string_view id) : TelemetryRun(id, {}, {}) {}

TelemetryRun::TelemetryRun(std::string_view id, std::string_view user, std::string_view platform) {
  telemetry::RunContext& run = telemetry::current_run();
  previous_id_.assign(run.view());
  previous_position_ = run.position;
  previous_user_ = run.user;
  previous_platform_ = run.platform;
  id_ = telemetry::is_run_id(id) ? std::string(id) : random_run_id();
  std::copy(id_.begin(), id_.end(), run.id.begin());
  run.length = uint8_t(id_.size());
  run.position = telemetry::Sampler::cohort_position(id_);
  // Another user's run: a pseudonym is 64 hex digits (a run id's alphabet).
  const bool pseudonym = user.size() == 64 && std::all_of(user.begin(), user.end(), [](char c) {
                           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
                         });
  if (pseudonym) {
    user_ = user;
    // Only an allow-listed coarse platform is stored; anything else is a browser's ("web").
    platform_ = telemetry::is_coarse_platform(platform) ? std::string(platform)
                                                        : std::string(telemetry::kWebPlatform);
    run.user = &user_;
    run.platform = &platform_;
  } else {
    run.user = nullptr;
    run.platform = nullptr;
  }
}

TelemetryRun::~TelemetryRun() {
  telemetry::RunContext& run = telemetry::current_run();
  std::copy(previous_id_.begin(), previous_id_.end(), run.id.begin());
  run.length = uint8_t(previous_id_.size());
  run.position = previous_id_.empty() ? -1 : previous_position_;
  run.user = previous_user_;
  run.platform = previous_platform_;
}

std::string TelemetryRun::current() {
  return std::string(telemetry::current_run().view());
}

}  // namespace faceweave
