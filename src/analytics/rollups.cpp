// Rollups: small tables next to the telemetry events, kept up to date by SQLite triggers that fire inside
// the telemetry writer's own insert transaction (so a committed batch and its rollups are one atomic
// change), and recomputed from the raw events by rebuild_rollups.
//
//   ax_hourly      per hour, event, app version, three key properties, outcome: weighted count (sum of
//                  1/sample_rate), stored rows, weighted sum and count of duration_ms
//   ax_stage_hist  per day, version, stage, resolution: weighted count of per-frame stage times in
//                  log-spaced buckets (ten per decade), so p50/p95 come from rollups
//   ax_user_first  per user: first session (start, id, version); kept by a trigger on sessions
//   ax_user_day    per day, user, version: activity, swap runs, failed runs, upload/preview/run/download
//   ax_user_option per day, user, version, option, value: switches away from an "on" default, and whether
//                  it happened in the user's first session
//   ax_defaults    the (option, value) pairs that switch a default off, from include/faceweave/options.h
//
// The key properties of each event (k1, k2, k3), by event:
//   command.run      command, surface, -          command.option  option, value ('#' for a number), command
//   stage.timing     stage, resolution, media     frame.timing    stage, resolution, -
//   face.count       role, resolution, -          ui.action       control, action, value
//   error            where, surface, -            provider.fallback requested, used, model
//   model.load       model, provider, -           ui.page page;  ui.error code, where
// Option and control names have dashes turned into underscores, so the CLI's and the UI's names agree.
#include <cmath>
#include <set>

#include "analytics/internal.h"
#include "faceweave/options.h"
#include "telemetry/event.h"

namespace faceweave::analytics {
namespace {

std::string j(std::string_view e, std::string_view key) {
  return "json_extract(" + std::string(e) + ".props,'$." + std::string(key) + "')";
}

std::string k1(std::string_view e) {
  std::string E(e);
  return "coalesce(CASE " + E + ".event WHEN @RUN@ THEN " + j(e, "command") + " WHEN @OPT@ THEN replace(" +
         j(e, "option") + ",'-','_') WHEN @STAGE@ THEN " + j(e, "stage") + " WHEN @FRAME@ THEN " +
         j(e, "stage") + " WHEN @FACE@ THEN " + j(e, "role") + " WHEN @UI@ THEN replace(" + j(e, "control") +
         ",'-','_') WHEN @ERR@ THEN " + j(e, "where") + " WHEN @FALLBACK@ THEN " + j(e, "requested") +
         " WHEN @MODEL@ THEN " + j(e, "model") + " WHEN @PAGE@ THEN " + j(e, "page") + " WHEN @UIERR@ THEN " +
         j(e, "code") + " END, '')";
}

std::string value_or_number(std::string_view e) {
  return "coalesce(" + j(e, "value") + ", CASE WHEN " + j(e, "number") + " IS NOT NULL THEN '#' END)";
}

std::string k2(std::string_view e) {
  std::string E(e);
  return "coalesce(CASE " + E + ".event WHEN @RUN@ THEN " + j(e, "surface") + " WHEN @OPT@ THEN " +
         value_or_number(e) + " WHEN @STAGE@ THEN " + j(e, "resolution") + " WHEN @FRAME@ THEN " +
         j(e, "resolution") + " WHEN @FACE@ THEN " + j(e, "resolution") + " WHEN @UI@ THEN " +
         j(e, "action") + " WHEN @ERR@ THEN " + j(e, "surface") + " WHEN @FALLBACK@ THEN " + j(e, "used") +
         " WHEN @MODEL@ THEN " + j(e, "provider") + " WHEN @UIERR@ THEN " + j(e, "where") + " END, '')";
}

std::string k3(std::string_view e) {
  std::string E(e);
  return "coalesce(CASE " + E + ".event WHEN @OPT@ THEN " + j(e, "command") + " WHEN @STAGE@ THEN " +
         j(e, "media") + " WHEN @UI@ THEN " + value_or_number(e) + " WHEN @FALLBACK@ THEN " + j(e, "model") +
         " END, '')";
}

std::string bucket(std::string_view e) {
  std::string E(e);
  return "min(" + std::to_string(kMaxBucket) + ", max(" + std::to_string(kMinBucket) +
         ", CAST(floor(10 * log10(max(" + E + ".duration_ms / max(1, coalesce(" + j(e, "frames") +
         ", 1)), 1e-9))) AS INTEGER)))";
}

// Per-user-day counters of one event (0/1 each).
std::string user_day_values(std::string_view e) {
  std::string E(e);
  std::string is_swap = "(" + E + ".event = @RUN@ AND " + j(e, "command") + " = 'swap')";
  auto ui = [&](const char* action) {
    return "(" + E + ".event = @UI@ AND " + j(e, "action") + " = '" + action + "')";
  };
  return is_swap + ", (" + is_swap + " AND " + E + ".outcome != @OK@), " + ui("upload") + ", " +
         ui("preview") + ", " + ui("run") + ", " + ui("download");
}

const char* kUserDayEvents = "(@RUN@, @UI@, @PAGE@, @OPT@)";

std::string option_join(std::string_view e) {
  std::string E(e);
  return "JOIN ax_defaults d ON d.option = replace(json_extract(" + E + ".props, CASE " + E +
         ".event WHEN @OPT@ THEN '$.option' ELSE '$.control' END), '-', '_') AND d.value = " + j(e, "value");
}

const char* kTables = R"sql(
CREATE TABLE IF NOT EXISTS ax_hourly(
  hour INTEGER NOT NULL, event INTEGER NOT NULL, version TEXT NOT NULL,
  k1 TEXT NOT NULL, k2 TEXT NOT NULL, k3 TEXT NOT NULL, outcome INTEGER NOT NULL,
  n REAL NOT NULL, rows INTEGER NOT NULL, dur_sum REAL NOT NULL, dur_n REAL NOT NULL,
  PRIMARY KEY(hour, event, version, k1, k2, k3, outcome)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ax_stage_hist(
  day INTEGER NOT NULL, version TEXT NOT NULL, stage TEXT NOT NULL, resolution TEXT NOT NULL,
  bucket INTEGER NOT NULL, n REAL NOT NULL,
  PRIMARY KEY(day, version, stage, resolution, bucket)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ax_user_first(
  user TEXT PRIMARY KEY, first_ms INTEGER NOT NULL, first_session INTEGER NOT NULL,
  version TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ax_user_day(
  day INTEGER NOT NULL, user TEXT NOT NULL, version TEXT NOT NULL, events INTEGER NOT NULL,
  runs INTEGER NOT NULL, failed INTEGER NOT NULL, uploads INTEGER NOT NULL, previews INTEGER NOT NULL,
  ui_runs INTEGER NOT NULL, downloads INTEGER NOT NULL, weight REAL NOT NULL,
  PRIMARY KEY(day, user, version)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ax_user_day_user ON ax_user_day(user);
CREATE TABLE IF NOT EXISTS ax_defaults(
  option TEXT NOT NULL, value TEXT NOT NULL, default_value TEXT NOT NULL,
  PRIMARY KEY(option, value)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ax_user_option(
  day INTEGER NOT NULL, user TEXT NOT NULL, version TEXT NOT NULL, option TEXT NOT NULL, value TEXT NOT NULL,
  first_session INTEGER NOT NULL, n REAL NOT NULL, weight REAL NOT NULL,
  PRIMARY KEY(day, user, version, option, value)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS ax_user_option_user ON ax_user_option(user);
)sql";

const char* kDropAll = R"sql(
DROP TRIGGER IF EXISTS ax_events_insert; DROP TRIGGER IF EXISTS ax_sessions_insert;
DROP TRIGGER IF EXISTS ax_sessions_delete;
DROP TABLE IF EXISTS ax_hourly; DROP TABLE IF EXISTS ax_stage_hist; DROP TABLE IF EXISTS ax_user_first;
DROP TABLE IF EXISTS ax_user_day; DROP TABLE IF EXISTS ax_defaults; DROP TABLE IF EXISTS ax_user_option;
)sql";

std::string triggers_sql() {
  std::string version = "(SELECT app_version FROM sessions WHERE id = NEW.session)";
  std::string s;
  s += "CREATE TRIGGER IF NOT EXISTS ax_events_insert AFTER INSERT ON events BEGIN\n";
  // 1. hourly
  s += "INSERT INTO ax_hourly(hour, event, version, k1, k2, k3, outcome, n, rows, dur_sum, dur_n) VALUES "
       "(NEW.ts / " +
       std::to_string(kMsPerHour) + ", NEW.event, " + version + ", " + k1("NEW") + ", " + k2("NEW") + ", " +
       k3("NEW") +
       ", NEW.outcome, 1.0 / NEW.sample_rate, 1, coalesce(NEW.duration_ms, 0) / NEW.sample_rate, "
       "CASE WHEN NEW.duration_ms IS NULL THEN 0 ELSE 1.0 / NEW.sample_rate END) "
       "ON CONFLICT DO UPDATE SET n = n + excluded.n, rows = rows + 1, dur_sum = dur_sum + excluded.dur_sum, "
       "dur_n = dur_n + excluded.dur_n;\n";
  // 2. stage histogram
  s += "INSERT INTO ax_stage_hist(day, version, stage, resolution, bucket, n) SELECT NEW.ts / " +
       std::to_string(kMsPerDay) + ", " + version + ", coalesce(" + j("NEW", "stage") + ", ''), coalesce(" +
       j("NEW", "resolution") + ", ''), " + bucket("NEW") +
       ", 1.0 / NEW.sample_rate WHERE NEW.event = @STAGE@ AND NEW.duration_ms IS NOT NULL "
       "ON CONFLICT DO UPDATE SET n = n + excluded.n;\n";
  // 3. per user and day
  s += "INSERT INTO ax_user_day(day, user, version, events, runs, failed, uploads, previews, ui_runs, "
       "downloads, weight) SELECT NEW.ts / " +
       std::to_string(kMsPerDay) + ", s.user, s.app_version, 1, " + user_day_values("NEW") +
       ", 1.0 / NEW.sample_rate FROM sessions s WHERE s.id = NEW.session AND NEW.event IN " + kUserDayEvents +
       " ON CONFLICT DO UPDATE SET events = events + 1, runs = runs + excluded.runs, failed = failed + "
       "excluded.failed, uploads = uploads + excluded.uploads, previews = previews + excluded.previews, "
       "ui_runs = ui_runs + excluded.ui_runs, downloads = downloads + excluded.downloads, weight = "
       "max(weight, excluded.weight);\n";
  // 4. defaults switched off
  s +=
      "INSERT INTO ax_user_option(day, user, version, option, value, first_session, n, weight) SELECT NEW.ts "
      "/ " +
      std::to_string(kMsPerDay) +
      ", s.user, s.app_version, d.option, d.value, coalesce(f.first_session = NEW.session, 0), "
      "1.0 / NEW.sample_rate, 1.0 / NEW.sample_rate FROM sessions s " +
      option_join("NEW") +
      " LEFT JOIN ax_user_first f ON f.user = s.user WHERE s.id = NEW.session AND NEW.event IN (@OPT@, @UI@) "
      "ON CONFLICT DO UPDATE SET first_session = max(first_session, excluded.first_session), n = n + "
      "excluded.n, weight = max(weight, excluded.weight);\n";
  s += "END;\n";
  s += R"sql(
CREATE TRIGGER IF NOT EXISTS ax_sessions_insert AFTER INSERT ON sessions BEGIN
  INSERT INTO ax_user_first(user, first_ms, first_session, version)
  VALUES (NEW.user, NEW.started_ms, NEW.id, NEW.app_version)
  ON CONFLICT(user) DO UPDATE SET first_ms = excluded.first_ms, first_session = excluded.first_session,
    version = excluded.version
  WHERE excluded.first_ms < ax_user_first.first_ms
     OR (excluded.first_ms = ax_user_first.first_ms AND excluded.first_session < ax_user_first.first_session);
END;
CREATE TRIGGER IF NOT EXISTS ax_sessions_delete AFTER DELETE ON sessions
WHEN NOT EXISTS (SELECT 1 FROM sessions WHERE user = OLD.user) BEGIN
  DELETE FROM ax_user_day WHERE user = OLD.user;
  DELETE FROM ax_user_option WHERE user = OLD.user;
  DELETE FROM ax_user_first WHERE user = OLD.user;
END;
)sql";
  return s;
}

std::string rebuild_sql() {
  std::string s = R"sql(
DELETE FROM ax_hourly; DELETE FROM ax_stage_hist; DELETE FROM ax_user_first; DELETE FROM ax_user_day;
DELETE FROM ax_user_option;
INSERT INTO ax_user_first(user, first_ms, first_session, version)
  SELECT s.user, s.started_ms, s.id, s.app_version FROM sessions s
  WHERE s.id = (SELECT s2.id FROM sessions s2 WHERE s2.user = s.user ORDER BY s2.started_ms, s2.id LIMIT 1);
)sql";
  s += "INSERT INTO ax_hourly(hour, event, version, k1, k2, k3, outcome, n, rows, dur_sum, dur_n) SELECT "
       "e.ts / " +
       std::to_string(kMsPerHour) + " AS h, e.event, s.app_version AS v, " + k1("e") + " AS a, " + k2("e") +
       " AS b, " + k3("e") +
       " AS c, e.outcome, sum(1.0 / e.sample_rate), count(*), sum(coalesce(e.duration_ms, 0) / "
       "e.sample_rate), "
       "sum(CASE WHEN e.duration_ms IS NULL THEN 0 ELSE 1.0 / e.sample_rate END) FROM events e JOIN sessions "
       "s "
       "ON s.id = e.session GROUP BY h, e.event, v, a, b, c, e.outcome;\n";
  s += "INSERT INTO ax_stage_hist(day, version, stage, resolution, bucket, n) SELECT e.ts / " +
       std::to_string(kMsPerDay) + " AS d, s.app_version AS v, coalesce(" + j("e", "stage") +
       ", '') AS st, coalesce(" + j("e", "resolution") + ", '') AS r, " + bucket("e") +
       " AS b, sum(1.0 / e.sample_rate) FROM events e JOIN sessions s ON s.id = e.session WHERE e.event = "
       "@STAGE@ AND e.duration_ms IS NOT NULL GROUP BY d, v, st, r, b;\n";
  std::string vals = user_day_values("e");
  // Sum each 0/1 column: split the comma-separated list.
  std::string summed;
  size_t start = 0;
  int depth = 0;
  for (size_t i = 0; i <= vals.size(); ++i) {
    if (i < vals.size() && vals[i] == '(') ++depth;
    if (i < vals.size() && vals[i] == ')') --depth;
    if (i == vals.size() || (vals[i] == ',' && depth == 0)) {
      summed += (summed.empty() ? "" : ", ") + std::string("sum(") + vals.substr(start, i - start) + ")";
      start = i + 1;
    }
  }
  s += "INSERT INTO ax_user_day(day, user, version, events, runs, failed, uploads, previews, ui_runs, "
       "downloads, weight) SELECT e.ts / " +
       std::to_string(kMsPerDay) + " AS d, s.user, s.app_version, count(*), " + summed +
       ", max(1.0 / e.sample_rate) FROM events e JOIN sessions s ON s.id = e.session WHERE e.event IN " +
       kUserDayEvents + " GROUP BY d, s.user, s.app_version;\n";
  s += "INSERT INTO ax_user_option(day, user, version, option, value, first_session, n, weight) SELECT e.ts "
       "/ " +
       std::to_string(kMsPerDay) +
       " AS dd, s.user, s.app_version, d.option, d.value, max(coalesce(f.first_session = e.session, 0)), "
       "sum(1.0 / e.sample_rate), max(1.0 / e.sample_rate) FROM events e JOIN sessions s ON s.id = "
       "e.session " +
       option_join("e") +
       " LEFT JOIN ax_user_first f ON f.user = s.user WHERE e.event IN (@OPT@, @UI@) "
       "GROUP BY dd, s.user, s.app_version, d.option, d.value;\n";
  return s;
}

void replace_all(std::string& s, std::string_view from, const std::string& to) {
  for (size_t p = s.find(from); p != std::string::npos; p = s.find(from, p + to.size()))
    s.replace(p, from.size(), to);
}

Result<int> stored_version(telemetry::Database& db) {
  FW_ASSIGN_OR_RETURN(Query q, Query::make(db, "SELECT value FROM meta WHERE key = 'analytics_schema'"));
  int v = 0;
  FW_RETURN_IF_ERROR(q.each([&](sqlite3_stmt* s) { v = sqlite3_column_int(s, 0); }));
  return v;
}

Status fill_defaults(telemetry::Database& db) {
  FW_RETURN_IF_ERROR(db.exec("DELETE FROM ax_defaults"));
  FW_ASSIGN_OR_RETURN(Query q, Query::make(db,
                                           "INSERT INTO ax_defaults(option, value, default_value) VALUES "
                                           "(:o, :v, :d)"));
  for (const DefaultSwitch& d : default_switches()) {
    q.bind(":o", d.option).bind(":v", d.value).bind(":d", d.default_value);
    FW_RETURN_IF_ERROR(q.each([](sqlite3_stmt*) {}));
  }
  return Status::ok();
}

}  // namespace

double bucket_middle_ms(int b) {
  return std::pow(10.0, (b + 0.5) / 10.0);
}

const std::vector<DefaultSwitch>& default_switches() {
  // Every option of SwapOptions whose default turns something on, and each value that switches it away.
  static const std::vector<DefaultSwitch> kSwitches = [] {
    SwapOptions d;
    std::vector<DefaultSwitch> out;
    auto away = [&](const std::string& option, const std::string& def, std::vector<std::string> values) {
      for (auto& v : values)
        if (v != def) out.push_back({option, def, v});
    };
    away("color_match", d.color_match, {"none", "reinhard", "histogram"});
    away("keep_mouth_interior", d.keep_mouth_interior ? "true" : "false", {"true", "false"});
    away("face_selector_mode", d.face_selector_mode, {"many", "one", "reference"});
    away("blend", d.blend, {"seamless", "affine", "laplacian"});
    return out;
  }();
  return kSwitches;
}

std::string sql_with_ids(telemetry::Database& db, std::string_view sql) {
  using telemetry::EventKind;
  std::string s(sql);
  auto id = [&](EventKind k) { return std::to_string(db.event_id(k)); };
  replace_all(s, "@RUN@", id(EventKind::kCommandRun));
  replace_all(s, "@OPT@", id(EventKind::kCommandOption));
  replace_all(s, "@STAGE@", id(EventKind::kStageTiming));
  replace_all(s, "@FRAME@", id(EventKind::kFrameTiming));
  replace_all(s, "@FACE@", id(EventKind::kFaceCount));
  replace_all(s, "@UI@", id(EventKind::kUiAction));
  replace_all(s, "@ERR@", id(EventKind::kError));
  replace_all(s, "@FALLBACK@", id(EventKind::kProviderFallback));
  replace_all(s, "@MODEL@", id(EventKind::kModelLoad));
  replace_all(s, "@PAGE@", id(EventKind::kUiPage));
  replace_all(s, "@UIERR@", id(EventKind::kUiError));
  replace_all(s, "@OK@", std::to_string(db.outcome_id(StatusCode::kOk)));
  return s;
}

Result<Query> Query::make(telemetry::Database& db, std::string_view sql) {
  Query q;
  q.db_ = &db;
  FW_ASSIGN_OR_RETURN(q.stmt_, db.prepare(sql_with_ids(db, sql)));
  return q;
}

Query& Query::bind(const char* name, int64_t v) {
  int i = sqlite3_bind_parameter_index(stmt_.get(), name);
  if (i > 0) sqlite3_bind_int64(stmt_.get(), i, v);
  return *this;
}
Query& Query::bind(const char* name, double v) {
  int i = sqlite3_bind_parameter_index(stmt_.get(), name);
  if (i > 0) sqlite3_bind_double(stmt_.get(), i, v);
  return *this;
}
Query& Query::bind(const char* name, const std::string& v) {
  int i = sqlite3_bind_parameter_index(stmt_.get(), name);
  if (i > 0) sqlite3_bind_text(stmt_.get(), i, v.data(), int(v.size()), SQLITE_TRANSIENT);
  return *this;
}

std::string column_text(sqlite3_stmt* s, int i) {
  const unsigned char* t = sqlite3_column_text(s, i);
  return t ? reinterpret_cast<const char*>(t) : "";
}

Status drop_rollup_triggers(telemetry::Database& db) {
  return db.exec(
      "DROP TRIGGER IF EXISTS ax_events_insert; DROP TRIGGER IF EXISTS ax_sessions_insert; "
      "DROP TRIGGER IF EXISTS ax_sessions_delete;");
}

Status create_rollup_triggers(telemetry::Database& db) {
  return db.exec(sql_with_ids(db, triggers_sql()));
}

Result<int64_t> rebuild_rollups(telemetry::Database& db) {
  FW_RETURN_IF_ERROR(fill_defaults(db));
  FW_RETURN_IF_ERROR(db.exec(sql_with_ids(db, rebuild_sql())));
  FW_ASSIGN_OR_RETURN(Query q, Query::make(db, "SELECT count(*) FROM events"));
  int64_t n = 0;
  FW_RETURN_IF_ERROR(q.each([&](sqlite3_stmt* s) { n = sqlite3_column_int64(s, 0); }));
  return n;
}

Status install_rollups(telemetry::Database& db) {
  FW_ASSIGN_OR_RETURN(int version, stored_version(db));
  if (version == kRollupSchemaVersion) return Status::ok();
  if (version > kRollupSchemaVersion)
    return unsupported("the analytics rollups in " + db.path() + " have version " + std::to_string(version) +
                       ", newer than this faceweave knows (" + std::to_string(kRollupSchemaVersion) +
                       "); update faceweave");
  FW_RETURN_IF_ERROR(db.exec("BEGIN IMMEDIATE"));
  auto body = [&]() -> Status {
    // Another process may have installed them while this one waited for the lock.
    FW_ASSIGN_OR_RETURN(int again, stored_version(db));
    if (again == kRollupSchemaVersion) return Status::ok();
    FW_RETURN_IF_ERROR(db.exec(kDropAll));
    FW_RETURN_IF_ERROR(db.exec(kTables));
    FW_RETURN_IF_ERROR(create_rollup_triggers(db));
    FW_RETURN_IF_ERROR(rebuild_rollups(db).status());
    return db.exec("INSERT INTO meta(key, value) VALUES ('analytics_schema', " +
                   std::to_string(kRollupSchemaVersion) +
                   ") ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  };
  Status s = body();
  if (s.is_ok()) s = db.exec("COMMIT");
  if (!s.is_ok()) sqlite3_exec(db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
  return s;
}

}  // namespace faceweave::analytics
