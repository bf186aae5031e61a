#include "telemetry/session.h"

#include <cctype>
#include <charconv>

#include "telemetry/paths.h"
#include "telemetry/pseudonymiser.h"

namespace faceweave::telemetry {

const std::vector<std::string>& coarse_platforms() {
  static const std::vector<std::string> kPlatforms = {"linux-x86_64", "linux-aarch64",  "macos-x86_64",
                                                      "macos-arm64",  "windows-x86_64", "windows-arm64",
                                                      "other",        kWebPlatform};
  return kPlatforms;
}

bool is_coarse_platform(std::string_view platform) {
  for (const auto& p : coarse_platforms())
    if (p == platform) return true;
  return false;
}

std::string build_platform() {
#if defined(__linux__)
  std::string os = "linux";
#elif defined(__APPLE__)
  std::string os = "macos";
#elif defined(_WIN32)
  std::string os = "windows";
#else
  std::string os;
#endif
#if defined(__x86_64__) || defined(_M_X64)
  std::string arch = "x86_64";
#elif defined(__aarch64__) || defined(_M_ARM64)
  std::string arch = os == "macos" ? "arm64" : "aarch64";
#else
  std::string arch;
#endif
  std::string p = os + "-" + arch;
  return is_coarse_platform(p) ? p : "other";
}

SessionState resume_or_start_session(const std::string& path, int64_t now_ms, int64_t idle_ms) {
  auto text = read_small_file(path, 256);
  if (text.is_ok()) {
    // "<32 hex digits> <last activity ms>\n"
    const std::string& s = *text;
    auto space = s.find(' ');
    if (space == 32) {
      int64_t last = 0;
      auto r = std::from_chars(s.data() + 33, s.data() + s.size(), last);
      bool hex = true;
      for (size_t i = 0; i < 32; ++i) hex = hex && std::isxdigit(static_cast<unsigned char>(s[i]));
      // A last activity in the future (clock change) also ends the session: it cannot be trusted.
      if (r.ec == std::errc() && hex && last <= now_ms && now_ms - last < idle_ms)
        return {s.substr(0, 32), last, false};
    }
  }
  return {random_hex(16), now_ms, true};
}

Status save_session(const std::string& path, const SessionState& state) {
  return write_file_atomic(path, state.id + " " + std::to_string(state.last_activity_ms) + "\n", 0600);
}

}  // namespace faceweave::telemetry
