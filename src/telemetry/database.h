// The events database: a thin RAII layer over SQLite, the schema with its version and migrations, and the
// one place where an SQLite error becomes a Status that names the file and the fix.
//
// Schema (version 1; docs/telemetry.md): events keep small integers that point into event_names, outcomes
// and sessions (the pseudonym, session id and app version are stored once per session, not per row);
// events_view joins them back into the documented fields.
//
// One Database belongs to one thread at a time (connections are opened without SQLite's own mutex).
#pragma once

#include <sqlite3.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "faceweave/status.h"
#include "telemetry/event.h"

namespace faceweave::telemetry {

inline constexpr int kSchemaVersion = 1;

class Statement {
 public:
  Statement() = default;
  explicit Statement(sqlite3_stmt* s) : stmt_(s) {}
  ~Statement() { sqlite3_finalize(stmt_); }
  Statement(Statement&& o) noexcept : stmt_(o.stmt_) { o.stmt_ = nullptr; }
  Statement& operator=(Statement&& o) noexcept {
    if (this != &o) {
      sqlite3_finalize(stmt_);
      stmt_ = o.stmt_;
      o.stmt_ = nullptr;
    }
    return *this;
  }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  sqlite3_stmt* get() const { return stmt_; }
  explicit operator bool() const { return stmt_ != nullptr; }

 private:
  sqlite3_stmt* stmt_ = nullptr;
};

struct DatabaseOptions {
  bool create = true;          // create the file and schema when missing (false: NotFound)
  int busy_timeout_ms = 2000;  // how long to wait for another connection's lock
  bool sync_full = false;      // synchronous=FULL instead of NORMAL
};

class Database {
 public:
  static Result<std::unique_ptr<Database>> open(const std::string& path, const DatabaseOptions& options);
  ~Database();
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;

  sqlite3* handle() const { return db_; }
  const std::string& path() const { return path_; }
  int schema_version() const { return schema_version_; }

  Status exec(std::string_view sql);
  Result<Statement> prepare(std::string_view sql, bool persistent = false);
  // Turns an SQLite result code into a Status: what failed, on which file, and what to do.
  Status error(int rc, std::string_view what) const;

  // The ids this database gives each event name and outcome (stable across enum reordering: they are
  // looked up by name).
  int64_t event_id(EventKind kind) const { return event_ids_[size_t(kind)]; }
  int64_t outcome_id(StatusCode code) const { return outcome_ids_[size_t(code)]; }
  // The largest event id ever given, kept across retention and erasure so ids are never reused.
  Result<int64_t> last_event_id();

 private:
  Database() = default;
  Status configure(const DatabaseOptions& options, bool is_new);
  Status migrate();
  Status load_ids();

  sqlite3* db_ = nullptr;
  std::string path_;
  int busy_timeout_ms_ = 0;
  int schema_version_ = 0;
  std::array<int64_t, kEventKindCount> event_ids_{};
  std::array<int64_t, size_t(StatusCode::kInternal) + 1> outcome_ids_{};
};

// SQLITE_BUSY or SQLITE_LOCKED, with or without an extended code.
bool is_busy(int rc);

}  // namespace faceweave::telemetry
