// Sessions: a random id that groups one person's consecutive activity. A new session starts after 30
// minutes without activity; the current id and the time of the last activity live in a small file in the
// data dir, so consecutive CLI runs share a session.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "faceweave/status.h"

namespace faceweave::telemetry {

inline constexpr int64_t kSessionIdleMs = 30 * 60 * 1000;

struct SessionState {
  std::string id;  // 32 hex digits
  int64_t last_activity_ms = 0;
  bool is_new = false;
};

// A coarse platform, never more (no OS release, no CPU model, no browser): "<os>-<arch>" of this build
// for the CLI and the server's own sessions, "web" for browser clients. Only these values are stored.
const std::vector<std::string>& coarse_platforms();
bool is_coarse_platform(std::string_view platform);
std::string build_platform();  // this build's entry of coarse_platforms()
inline constexpr const char* kWebPlatform = "web";

// Continues the session saved in `path` when its last activity is less than `idle_ms` before `now_ms`,
// else starts a new one. A missing or unreadable file starts a new session. Writes nothing.
SessionState resume_or_start_session(const std::string& path, int64_t now_ms,
                                     int64_t idle_ms = kSessionIdleMs);
// Saves the session and its last activity (atomically, mode 0600).
Status save_session(const std::string& path, const SessionState& state);

}  // namespace faceweave::telemetry
