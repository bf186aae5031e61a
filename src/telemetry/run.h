// The run an event belongs to: a thread-local run id that the engine adds (as the `run` property) to every
// event recorded on the thread while a TelemetryRun lives, and that sampling decides on, so a run's events
// are kept or dropped together (docs/telemetry.md, "Runs" and "Sampling").
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace faceweave::telemetry {

inline constexpr size_t kRunIdLength = 16;  // hex digits

struct RunContext {
  std::array<char, kRunIdLength> id{};
  uint8_t length = 0;    // 0: no run on this thread
  double position = -1;  // the run's fixed position in [0, 1) for sampling; -1 without a run
  // Whose run it is when not the host's: another user's pseudonym and platform (a job a browser submitted,
  // run by the server's job thread), owned by the TelemetryRun; null: the host's own run.
  const std::string* user = nullptr;
  const std::string* platform = nullptr;
  std::string_view view() const { return {id.data(), length}; }
};

// This thread's current run (a plain thread_local: no allocation, no TLS guard).
RunContext& current_run() noexcept;

// Whether `id` is a run id: exactly kRunIdLength digits of [0-9a-f].
bool is_run_id(std::string_view id);

}  // namespace faceweave::telemetry
