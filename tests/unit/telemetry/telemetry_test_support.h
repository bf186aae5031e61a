// Helpers shared by the telemetry tests: options for a temporary data dir, direct SQL on the events
// database (so tests check what is really stored, not what the library says), and log capture.
#pragma once

#include <sqlite3.h>

#include <filesystem>
#include <mutex>
#include <string>
#include <vector>

#include "faceweave/log.h"
#include "faceweave/telemetry.h"
#include "test_support.h"

namespace faceweave::testing {

inline TelemetryOptions telemetry_options(const TempDir& dir, const std::string& consent = "all") {
  TelemetryOptions o;
  o.data_dir = dir.path();
  o.consent = consent;
  o.flush_interval_ms = 5;
  return o;
}

inline std::string events_db(const TempDir& dir) {
  return dir.file("telemetry/events.db");
}

// Opens the database read-only, runs `sql`, returns the first column of every row as text.
inline std::vector<std::string> sql_column(const std::string& db_path, const std::string& sql) {
  std::vector<std::string> out;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << "cannot open " << db_path;
    sqlite3_close(db);
    return out;
  }
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &s, nullptr) != SQLITE_OK) {
    ADD_FAILURE() << sql << ": " << sqlite3_errmsg(db);
  } else {
    while (sqlite3_step(s) == SQLITE_ROW) {
      const unsigned char* t = sqlite3_column_text(s, 0);
      out.emplace_back(t ? reinterpret_cast<const char*>(t) : "NULL");
    }
  }
  sqlite3_finalize(s);
  sqlite3_close(db);
  return out;
}

inline int64_t sql_int(const std::string& db_path, const std::string& sql) {
  auto rows = sql_column(db_path, sql);
  return rows.empty() ? -1 : std::stoll(rows.front());
}

// Every byte of every file under `dir` (database, write-ahead log, archives, session, secret...).
inline std::string all_bytes_under(const std::string& dir) {
  std::string all;
  std::error_code ec;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir, ec))
    if (e.is_regular_file()) all += read_all(e.path().string());
  return all;
}

// Collects log messages while alive.
class LogCapture {
 public:
  LogCapture() {
    previous_ = set_log_sink([this](LogLevel level, std::string_view m) {
      std::lock_guard lock(mutex_);
      messages_.push_back(std::string(log_level_name(level)) + ": " + std::string(m));
    });
  }
  ~LogCapture() { set_log_sink(previous_); }
  std::vector<std::string> messages() const {
    std::lock_guard lock(mutex_);
    return messages_;
  }
  size_t count(const std::string& needle) const {
    size_t n = 0;
    for (const auto& m : messages())
      if (m.find(needle) != std::string::npos) ++n;
    return n;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<std::string> messages_;
  LogSink previous_;
};

}  // namespace faceweave::testing
