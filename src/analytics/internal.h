// Shared pieces of the analytics module: the event ids of this database, SQL with those ids filled in,
// statement helpers, and the rollup schema (rollups.cpp).
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "faceweave/analytics.h"
#include "telemetry/database.h"

namespace faceweave::analytics {

// 3: command.run k3 records fallbacks; 4: the dashboard's own events are left out; 5: user sketches
// (ax_daily/ax_hourly.users, ax_day_users), stage times by run option (ax_run_opt, ax_stage_with);
// 6: stage times by input resolution too (ax_stage; input in ax_stage_with and ax_stage_hist); experiments'
// exposed runs (ax_run_end, ax_exp_run); 7: swap runs per defaults profile (ax_profile)
inline constexpr int kRollupSchemaVersion = 7;
inline constexpr int64_t kMsPerHour = 3'600'000;
inline constexpr int64_t kMsPerDay = 86'400'000;
// Stage-time histogram: bucket b holds per-frame times in [10^(b/10), 10^((b+1)/10)) ms (ten per decade,
// about +-12% around the bucket's geometric middle); times are clamped into [kMinBucket, kMaxBucket].
inline constexpr int kMinBucket = -20;  // 0.01 ms
inline constexpr int kMaxBucket = 70;   // 10^7 ms
double bucket_middle_ms(int bucket);

// Replaces @RUN@, @OPT@, @STAGE@, @FRAME@, @FACE@, @UI@, @ERR@, @FALLBACK@, @MODEL@, @PAGE@, @UIERR@,
// @EXPOSURE@, @OK@, @CANCELLED@ by this database's ids.
std::string sql_with_ids(telemetry::Database& db, std::string_view sql);

// One option whose default is "on" and a value that switches it away (derived from options.h).
struct DefaultSwitch {
  std::string option;         // as recorded: color_match
  std::string default_value;  // reinhard
  std::string value;          // none
};
const std::vector<DefaultSwitch>& default_switches();

Status install_rollups(telemetry::Database& db);
// Empties the rollups and folds every stored event and session in again (inside the caller's transaction).
Result<int64_t> rebuild_rollups(telemetry::Database& db);
// Folds the events and sessions after the watermarks (meta analytics_event_id / analytics_session_id)
// into the rollups in its own BEGIN IMMEDIATE transaction; returns the number of events folded.
Result<int64_t> fold_rollups(telemetry::Database& db);

// Runs `sql` (ids filled in) with `binds` applied, calling row(stmt) per row.
class Query {
 public:
  static Result<Query> make(telemetry::Database& db, std::string_view sql);
  Query& bind(const char* name, int64_t v);
  Query& bind(const char* name, double v);
  Query& bind(const char* name, const std::string& v);
  template <typename F>
  Status each(F&& row) {
    int rc;
    while ((rc = sqlite3_step(stmt_.get())) == SQLITE_ROW) row(stmt_.get());
    sqlite3_reset(stmt_.get());
    if (rc != SQLITE_DONE) return db_->error(rc, "analytics query");
    return Status::ok();
  }

 private:
  Query() = default;
  telemetry::Database* db_ = nullptr;
  telemetry::Statement stmt_;
  std::string version_;  // keeps bound text alive
};

std::string column_text(sqlite3_stmt* s, int i);

}  // namespace faceweave::analytics
