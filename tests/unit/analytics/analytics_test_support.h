// A throw-away data dir with an events database, and a small fixed event set inserted row by row, as the
// telemetry writer would (the rollups fold them in on the next view or refresh()).
#pragma once

#include <sqlite3.h>

#include <filesystem>
#include <string>

#include <gtest/gtest.h>

#include "faceweave/analytics.h"
#include "telemetry/database.h"
#include "telemetry/event.h"
#include "telemetry/paths.h"
#include "test_support.h"

namespace faceweave::analytics_test {

using faceweave::testing::TempDir;  // tests/test_support.h

inline int64_t day_of(const char* iso) {
  return *parse_iso_day(iso, "day");
}
inline int64_t at(const char* iso, int hour, int minute = 0, int second = 0) {
  return day_of(iso) * 86'400'000 + hour * 3'600'000LL + minute * 60'000LL + second * 1000LL;
}

class Db {
 public:
  explicit Db(const std::string& data_dir) {
    auto paths = telemetry::telemetry_paths(data_dir);
    EXPECT_TRUE(telemetry::make_private_dirs(paths.dir).is_ok());
    auto db = telemetry::Database::open(paths.database, {});
    EXPECT_TRUE(db.is_ok()) << db.status().to_string();
    db_ = std::move(*db);
    path = paths.database;
  }
  int64_t session(const std::string& sid, const std::string& user, const std::string& version, int64_t ms,
                  const std::string& platform = "") {
    exec("INSERT INTO sessions(session, user, app_version, started_ms, platform) VALUES ('" + sid + "', '" +
         user + "', '" + version + "', " + std::to_string(ms) + ", '" + platform + "')");
    return sqlite3_last_insert_rowid(db_->handle());
  }
  void event(int64_t session, int64_t ts, telemetry::EventKind kind, const std::string& props,
             double duration = -1, StatusCode outcome = StatusCode::kOk, double rate = 1) {
    exec("INSERT INTO events(ts, event, session, duration_ms, outcome, sample_rate, props) VALUES (" +
         std::to_string(ts) + ", " + std::to_string(db_->event_id(kind)) + ", " + std::to_string(session) +
         ", " + (duration < 0 ? std::string("NULL") : std::to_string(duration)) + ", " +
         std::to_string(db_->outcome_id(outcome)) + ", " + std::to_string(rate) + ", '" + props + "')");
  }
  void exec(const std::string& sql) {
    char* err = nullptr;
    int rc = sqlite3_exec(db_->handle(), sql.c_str(), nullptr, nullptr, &err);
    EXPECT_EQ(rc, SQLITE_OK) << (err ? err : "") << " in " << sql;
    sqlite3_free(err);
  }
  telemetry::Database& db() { return *db_; }
  std::string path;

 private:
  std::unique_ptr<telemetry::Database> db_;
};

}  // namespace faceweave::analytics_test
