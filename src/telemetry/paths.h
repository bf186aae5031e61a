// Where telemetry keeps its files inside the data dir, and the small file helpers they need (owner-only
// folders and files, atomic replacement).
#pragma once

#include <string>
#include <string_view>

#include "faceweave/status.h"

namespace faceweave::telemetry {

struct Paths {
  std::string data_dir;
  std::string dir;          // <data>/telemetry
  std::string database;     // <data>/telemetry/events.db (+ -wal, -shm)
  std::string secret;       // <data>/telemetry/pseudonym.key, mode 0600
  std::string session;      // <data>/telemetry/session-<first 16 hex digits of the pseudonym>
  std::string notice;       // <data>/telemetry/notice-shown
  std::string archive_dir;  // <data>/telemetry/archive
};

Paths telemetry_paths(const std::string& data_dir);

// Creates `path` and its parents; new folders get mode 0700 (only the owner may look inside).
Status make_private_dirs(const std::string& path);
// Replaces `path` with `bytes` through a temporary file and a rename, mode `mode`.
Status write_file_atomic(const std::string& path, std::string_view bytes, unsigned mode);
Result<std::string> read_small_file(const std::string& path, size_t max_bytes = 4096);
bool file_exists(const std::string& path);

// Milliseconds since the Unix epoch.
int64_t unix_ms();

}  // namespace faceweave::telemetry
