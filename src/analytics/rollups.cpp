// Rollups: small tables next to the telemetry events, kept up to date by a watermark fold (fold_rollups:
// the events and sessions stored since the ids in meta, folded in with grouped upserts in one BEGIN
// IMMEDIATE transaction; the telemetry writer never touches them), and recomputed from the raw events by
// rebuild_rollups (empty, reset the watermarks, fold everything). docs/analytics.md has the design.
//
//   ax_daily         per event, day, version, platform, three key properties, outcome: weighted count (sum
//                    of 1/sample_rate), stored rows, weighted sum and count of duration_ms
//                    and `users`, the cell's distinct-user set (sketch.h: exact below 32, for k-anonymity)
//   ax_hourly        the same per hour, for command.run only (the heat map)
//   ax_day_users     per day, version, platform: a HyperLogLog sketch of the active users (sketch.h)
//   ax_run_opt       the options of recent runs by run id (two days), to join their stage times
//   ax_stage         per day, version, platform, stage, resolution, input, media: weighted sum and count
//                    of stage times and the users (the latency view, by output or input resolution)
//   ax_stage_with    per day, version, platform, stage, resolution, input, media, option, value: stage time
//                    of runs that set that option value (latency --with)
//   ax_stage_hist    per day, version, platform, stage, resolution, input: weighted count of per-frame stage
//                    times in log-spaced buckets (ten per decade), so p50/p95 come from rollups
//   ax_run_end       the outcome and wall time of recent runs' command.run by run id (two days)
//   ax_profile       per day, version, platform, defaults profile ('' without one) of swap runs, and option,
//                    value ('', '': all runs; '', 'failed': the failed runs): weighted runs and the user set,
//                    for the all-runs rows a HyperLogLog of the users too (the A/B by profile)
//   ax_exp_run       per experiment and exposed run: user, day, arm, value, explicit, and its command.run's
//                    outcome and wall time once it ended (the experiment view, src/experiments)
//   ax_dims          the versions and platforms with sessions
//   ax_user          per user: first session (start, id, day, version, platform), weight, web UI steps taken
//   ax_user_week     per user: the weeks after the first day with activity
//   ax_user_switch   per user, option, value ('*': any value): switched an "on" default away; in the first
//                    session or not
//   ax_cohort*       the per-user tables summed per first day, version and platform (pseudonym-free): the
//                    per-user views read only these
//   ax_defaults      the (option, value) pairs that switch a default off, from include/faceweave/options.h
//
// The key properties of each event (k1, k2, k3), by event:
//   command.run      command, surface, provider (requested>used after a fallback)
//   command.option   option, value ('#' for a number), command
//   stage.timing     stage, resolution, media     frame.timing    stage, resolution, -
//   face.count       role, resolution, -          ui.action       control, action, value
//   error            where, surface, -            provider.fallback requested, used, model
//   model.load       model, provider, -           ui.page page;  ui.error code, where
// Option and control names have dashes turned into underscores, so the CLI's and the UI's names agree.
#include <cmath>
#include <set>

#include "analytics/internal.h"
#include "analytics/sketch.h"
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
  // command.run: the provider used, or "requested>used" when the run fell back.
  const std::string run_provider = "CASE WHEN " + j(e, "fallback") + " THEN " + j(e, "requested") +
                                   " || '>' || " + j(e, "provider") + " ELSE " + j(e, "provider") + " END";
  return "coalesce(CASE " + E + ".event WHEN @RUN@ THEN " + run_provider + " WHEN @OPT@ THEN " +
         j(e, "command") + " WHEN @STAGE@ THEN " + j(e, "media") + " WHEN @UI@ THEN " + value_or_number(e) +
         " WHEN @FALLBACK@ THEN " + j(e, "model") + " END, '')";
}

std::string bucket(std::string_view e) {
  std::string E(e);
  return "min(" + std::to_string(kMaxBucket) + ", max(" + std::to_string(kMinBucket) +
         ", CAST(floor(10 * log10(max(" + E + ".duration_ms / max(1, coalesce(" + j(e, "frames") +
         ", 1)), 1e-9))) AS INTEGER)))";
}

// stage.timing's stage, output resolution, input resolution and media ('' when not recorded).
std::string stage_keys(std::string_view e) {
  return "coalesce(" + j(e, "stage") + ", ''), coalesce(" + j(e, "resolution") + ", ''), coalesce(" +
         j(e, "input") + ", ''), coalesce(" + j(e, "media") + ", '')";
}

const char* kUserDayEvents = "(@RUN@, @UI@, @PAGE@, @OPT@)";

// The analyst's own use is not usage: the insights dashboard's page views and its controls (date, version
// and platform filters, the A/B selectors, exports) are stored like any browser event, but left out of every
// rollup, so looking at the data never changes it (docs/analytics.md). The explorer still shows them.
std::string not_analyst(std::string_view e) {
  std::string E(e);
  return " AND NOT ((" + E + ".event = @PAGE@ AND " + j(e, "page") + " = 'insights') OR (" + E +
         ".event = @UI@ AND (" + j(e, "control") + " IN ('export', 'filters', 'from', 'to', 'version', " +
         "'platform') OR " + j(e, "control") + " LIKE 'ab\\_%' ESCAPE '\\')))";
}

std::string option_join(std::string_view e) {
  std::string E(e);
  return "JOIN ax_defaults d ON d.option = replace(json_extract(" + E + ".props, CASE " + E +
         ".event WHEN @OPT@ THEN '$.option' ELSE '$.control' END), '-', '_') AND d.value = " + j(e, "value");
}

const char* kTables = R"sql(
CREATE TABLE IF NOT EXISTS ax_hourly(
  event INTEGER NOT NULL, hour INTEGER NOT NULL, version TEXT NOT NULL, platform TEXT NOT NULL,
  k1 TEXT NOT NULL, k2 TEXT NOT NULL, k3 TEXT NOT NULL, outcome INTEGER NOT NULL,
  n REAL NOT NULL, rows INTEGER NOT NULL, users BLOB,
  PRIMARY KEY(event, hour, version, platform, k1, k2, k3, outcome)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ax_daily(
  event INTEGER NOT NULL, day INTEGER NOT NULL, version TEXT NOT NULL, platform TEXT NOT NULL,
  k1 TEXT NOT NULL, k2 TEXT NOT NULL, k3 TEXT NOT NULL, outcome INTEGER NOT NULL,
  n REAL NOT NULL, rows INTEGER NOT NULL, dur_sum REAL NOT NULL, dur_n REAL NOT NULL, users BLOB,
  PRIMARY KEY(event, day, version, platform, k1, k2, k3, outcome)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ax_run_opt(
  run TEXT NOT NULL, option TEXT NOT NULL, value TEXT NOT NULL, day INTEGER NOT NULL,
  PRIMARY KEY(run, option, value)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ax_stage(
  day INTEGER NOT NULL, version TEXT NOT NULL, platform TEXT NOT NULL, stage TEXT NOT NULL,
  resolution TEXT NOT NULL, input TEXT NOT NULL, media TEXT NOT NULL,
  dur_sum REAL NOT NULL, dur_n REAL NOT NULL, users BLOB,
  PRIMARY KEY(day, version, platform, stage, resolution, input, media)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ax_stage_with(
  day INTEGER NOT NULL, version TEXT NOT NULL, platform TEXT NOT NULL, stage TEXT NOT NULL,
  resolution TEXT NOT NULL, input TEXT NOT NULL, media TEXT NOT NULL, option TEXT NOT NULL,
  value TEXT NOT NULL, dur_sum REAL NOT NULL, dur_n REAL NOT NULL, users BLOB,
  PRIMARY KEY(day, version, platform, stage, resolution, input, media, option, value)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ax_run_end(
  run TEXT PRIMARY KEY, failed INTEGER NOT NULL, ms REAL NOT NULL, day INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ax_exp_run(
  run TEXT NOT NULL, experiment TEXT NOT NULL, user TEXT NOT NULL, day INTEGER NOT NULL, arm TEXT NOT NULL,
  value TEXT NOT NULL, explicit INTEGER NOT NULL, ended INTEGER NOT NULL, failed INTEGER NOT NULL,
  ms REAL NOT NULL, PRIMARY KEY(run, experiment)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ax_profile(
  day INTEGER NOT NULL, version TEXT NOT NULL, platform TEXT NOT NULL, profile TEXT NOT NULL,
  option TEXT NOT NULL, value TEXT NOT NULL, n REAL NOT NULL, users BLOB, sketch BLOB,
  PRIMARY KEY(day, version, platform, profile, option, value)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ax_day_users(
  day INTEGER NOT NULL, version TEXT NOT NULL, platform TEXT NOT NULL, sketch BLOB NOT NULL,
  PRIMARY KEY(day, version, platform)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ax_stage_hist(
  day INTEGER NOT NULL, version TEXT NOT NULL, platform TEXT NOT NULL, stage TEXT NOT NULL,
  resolution TEXT NOT NULL, input TEXT NOT NULL, bucket INTEGER NOT NULL, n REAL NOT NULL,
  PRIMARY KEY(day, version, platform, stage, resolution, input, bucket)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ax_dims(
  version TEXT NOT NULL, platform TEXT NOT NULL, PRIMARY KEY(version, platform)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ax_user(
  user TEXT PRIMARY KEY, first_ms INTEGER NOT NULL, first_session INTEGER NOT NULL,
  first_day INTEGER NOT NULL, version TEXT NOT NULL, platform TEXT NOT NULL, weight REAL NOT NULL,
  up INTEGER NOT NULL, pv INTEGER NOT NULL, ru INTEGER NOT NULL, dl INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ax_user_week(
  user TEXT NOT NULL, week INTEGER NOT NULL, PRIMARY KEY(user, week)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ax_user_switch(
  user TEXT NOT NULL, option TEXT NOT NULL, value TEXT NOT NULL, first_session INTEGER NOT NULL,
  PRIMARY KEY(user, option, value)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ax_cohort(
  day INTEGER NOT NULL, version TEXT NOT NULL, platform TEXT NOT NULL, users REAL NOT NULL,
  up REAL NOT NULL, pv REAL NOT NULL, up_pv REAL NOT NULL, up_pv_ru REAL NOT NULL, up_pv_ru_dl REAL NOT NULL,
  up_dl REAL NOT NULL, pv_ru REAL NOT NULL,
  PRIMARY KEY(day, version, platform)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ax_cohort_week(
  day INTEGER NOT NULL, version TEXT NOT NULL, platform TEXT NOT NULL, week INTEGER NOT NULL,
  users REAL NOT NULL, PRIMARY KEY(day, version, platform, week)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ax_cohort_switch(
  day INTEGER NOT NULL, version TEXT NOT NULL, platform TEXT NOT NULL, option TEXT NOT NULL,
  value TEXT NOT NULL, users REAL NOT NULL, first_users REAL NOT NULL,
  PRIMARY KEY(day, version, platform, option, value)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ax_defaults(
  option TEXT NOT NULL, value TEXT NOT NULL, default_value TEXT NOT NULL,
  PRIMARY KEY(option, value)) WITHOUT ROWID;
INSERT INTO meta(key, value) VALUES ('analytics_event_id', 0), ('analytics_session_id', 0)
  ON CONFLICT(key) DO UPDATE SET value = 0;
)sql";

// Version 1 (trigger-maintained) and version 2 tables alike.
const char* kDropAll = R"sql(
DROP TRIGGER IF EXISTS ax_events_insert; DROP TRIGGER IF EXISTS ax_sessions_insert;
DROP TRIGGER IF EXISTS ax_sessions_delete;
DROP TABLE IF EXISTS ax_hourly; DROP TABLE IF EXISTS ax_daily; DROP TABLE IF EXISTS ax_stage_hist;
DROP TABLE IF EXISTS ax_user_first; DROP TABLE IF EXISTS ax_user_day; DROP TABLE IF EXISTS ax_user_option;
DROP TABLE IF EXISTS ax_dims; DROP TABLE IF EXISTS ax_user; DROP TABLE IF EXISTS ax_user_week;
DROP TABLE IF EXISTS ax_user_switch; DROP TABLE IF EXISTS ax_cohort; DROP TABLE IF EXISTS ax_cohort_week;
DROP TABLE IF EXISTS ax_cohort_switch; DROP TABLE IF EXISTS ax_defaults; DROP TABLE IF EXISTS ax_day_users; DROP TABLE IF EXISTS ax_run_opt; DROP TABLE IF EXISTS ax_stage_with;
DROP TABLE IF EXISTS ax_stage; DROP TABLE IF EXISTS ax_run_end; DROP TABLE IF EXISTS ax_exp_run;
DROP TABLE IF EXISTS ax_profile;
)sql";

const char* kClear = R"sql(
DELETE FROM ax_hourly; DELETE FROM ax_daily; DELETE FROM ax_stage_hist; DELETE FROM ax_dims;
DELETE FROM ax_user; DELETE FROM ax_user_week; DELETE FROM ax_user_switch; DELETE FROM ax_cohort;
DELETE FROM ax_cohort_week; DELETE FROM ax_cohort_switch; DELETE FROM ax_day_users; DELETE FROM ax_run_opt; DELETE FROM ax_stage_with;
DELETE FROM ax_stage; DELETE FROM ax_run_end; DELETE FROM ax_exp_run; DELETE FROM ax_profile;
UPDATE meta SET value = 0 WHERE key IN ('analytics_event_id', 'analytics_session_id');
)sql";

// Erasing a user's last session (telemetry forget, or retention pruning everything of theirs) erases
// their per-user rows; the pseudonym-free cohort counts keep what they had. Costs nothing on insert.
const char* kDeleteTrigger = R"sql(
CREATE TRIGGER IF NOT EXISTS ax_sessions_delete AFTER DELETE ON sessions
WHEN NOT EXISTS (SELECT 1 FROM sessions WHERE user = OLD.user) BEGIN
  DELETE FROM ax_user WHERE user = OLD.user;
  DELETE FROM ax_user_week WHERE user = OLD.user;
  DELETE FROM ax_user_switch WHERE user = OLD.user;
  DELETE FROM ax_exp_run WHERE user = OLD.user;
END;
)sql";

// New events are those with lo < id <= hi, new sessions slo < id <= shi.
std::string range_events(const std::string& join) {
  return " FROM events e JOIN sessions s ON s.id = e.session " + join + " WHERE e.id > :lo AND e.id <= :hi";
}

// The pseudonym-free cohort aggregates of the touched users' per-user rows, added (:sign = 1) or taken
// away (:sign = -1).
std::vector<std::string> cohort_delta_sql() {
  std::vector<std::string> v;
  v.push_back(
      "INSERT INTO ax_cohort(day, version, platform, users, up, pv, up_pv, up_pv_ru, up_pv_ru_dl, up_dl, "
      "pv_ru) SELECT first_day, version, platform, :sign * sum(weight), :sign * sum(weight * up), :sign * "
      "sum(weight * pv), :sign * sum(weight * (up AND pv)), :sign * sum(weight * (up AND pv AND ru)), :sign "
      "* sum(weight * (up AND pv AND ru AND dl)), :sign * sum(weight * (up AND dl)), :sign * sum(weight * "
      "(pv AND ru)) FROM ax_user WHERE weight > 0 AND user IN (SELECT user FROM temp.ax_touched) GROUP BY "
      "1, 2, 3 ON CONFLICT DO UPDATE SET users = users + excluded.users, up = up + excluded.up, pv = pv + "
      "excluded.pv, up_pv = up_pv + excluded.up_pv, up_pv_ru = up_pv_ru + excluded.up_pv_ru, up_pv_ru_dl = "
      "up_pv_ru_dl + excluded.up_pv_ru_dl, up_dl = up_dl + excluded.up_dl, pv_ru = pv_ru + excluded.pv_ru");
  v.push_back(
      "INSERT INTO ax_cohort_week(day, version, platform, week, users) SELECT u.first_day, u.version, "
      "u.platform, w.week, :sign * sum(u.weight) FROM ax_user u JOIN ax_user_week w ON w.user = u.user "
      "WHERE u.weight > 0 AND u.user IN (SELECT user FROM temp.ax_touched) GROUP BY 1, 2, 3, 4 ON CONFLICT "
      "DO UPDATE SET users = users + excluded.users");
  v.push_back(
      "INSERT INTO ax_cohort_switch(day, version, platform, option, value, users, first_users) SELECT "
      "u.first_day, u.version, u.platform, x.option, x.value, :sign * sum(u.weight), :sign * sum(u.weight * "
      "x.first_session) FROM ax_user u JOIN ax_user_switch x ON x.user = u.user WHERE u.weight > 0 AND "
      "u.user IN (SELECT user FROM temp.ax_touched) GROUP BY 1, 2, 3, 4, 5 ON CONFLICT DO UPDATE SET users "
      "= users + excluded.users, first_users = first_users + excluded.first_users");
  return v;
}

// The statements of one fold, in order; each runs with :lo/:hi (events) and :slo/:shi (sessions) bound,
// the cohort deltas also with :sign.
struct FoldStep {
  std::string sql;
  int sign = 0;
};
std::vector<FoldStep> fold_steps() {
  std::vector<FoldStep> v;
  const std::string day = std::to_string(kMsPerDay);
  const std::string user_day_events = std::string(" AND e.event IN ") + kUserDayEvents;
  v.push_back({"DELETE FROM temp.ax_touched"});
  // New sessions, and the sessions of new events (a session id can be reused after telemetry forget).
  const std::string new_sessions =
      " FROM sessions WHERE (id > :slo AND id <= :shi) OR id IN (SELECT session FROM events WHERE id > :lo "
      "AND id <= :hi)";
  v.push_back({"INSERT OR IGNORE INTO temp.ax_touched(user) SELECT user" + new_sessions});
  // 1. take the touched users' old contribution out of the cohort aggregates
  for (auto& s : cohort_delta_sql()) v.push_back({s, -1});
  // 2. per-user rows: first session, activity flags and weight, active weeks, switched-off defaults
  v.push_back({"INSERT OR IGNORE INTO ax_dims(version, platform) SELECT DISTINCT app_version, platform" +
               new_sessions});
  v.push_back(
      {"INSERT INTO ax_user(user, first_ms, first_session, first_day, version, platform, weight, up, pv, ru, "
       "dl) SELECT user, started_ms, id, started_ms / " +
       day + ", app_version, platform, 0, 0, 0, 0, 0" + new_sessions +
       " ORDER BY "
       "started_ms, id ON CONFLICT(user) DO UPDATE SET first_ms = excluded.first_ms, first_session = "
       "excluded.first_session, first_day = excluded.first_day, version = excluded.version, platform = "
       "excluded.platform WHERE excluded.first_ms < ax_user.first_ms OR (excluded.first_ms = "
       "ax_user.first_ms AND excluded.first_session < ax_user.first_session)"});
  auto ui = [&](const char* action) {
    return "max(e.event = @UI@ AND " + j("e", "action") + " = '" + action + "')";
  };
  v.push_back(
      {"UPDATE ax_user SET weight = max(ax_user.weight, x.w), up = max(ax_user.up, x.up), pv = "
       "max(ax_user.pv, x.pv), ru = max(ax_user.ru, x.ru), dl = max(ax_user.dl, x.dl) FROM (SELECT "
       "s.user AS user, max(1.0 / e.sample_rate) AS w, " +
       ui("upload") + " AS up, " + ui("preview") + " AS pv, " + ui("run") + " AS ru, " + ui("download") +
       " AS dl" + range_events("") + user_day_events + not_analyst("e") +
       " GROUP BY s.user) AS x WHERE ax_user.user = x.user"});
  v.push_back({"INSERT OR IGNORE INTO ax_user_week(user, week) SELECT DISTINCT s.user, (e.ts / " + day +
               " - u.first_day) / 7" + range_events("JOIN ax_user u ON u.user = s.user") + user_day_events +
               not_analyst("e") + " AND e.ts / " + day + " >= u.first_day"});
  v.push_back(
      {"INSERT INTO ax_user_switch(user, option, value, first_session) SELECT s.user, d.option, "
       "d.value, max(u.first_session = e.session)" +
       range_events(option_join("e") + " JOIN ax_user u ON u.user = s.user") +
       " AND e.event IN (@OPT@, @UI@) GROUP BY 1, 2, 3 ON CONFLICT DO UPDATE SET first_session = "
       "max(first_session, excluded.first_session)"});
  // A user who switched an option away to any value: value '*' (the A/B metric <option>_off).
  v.push_back(
      {"INSERT INTO ax_user_switch(user, option, value, first_session) SELECT user, option, '*', "
       "max(first_session) FROM ax_user_switch WHERE value != '*' AND user IN (SELECT user FROM "
       "temp.ax_touched) GROUP BY 1, 2 ON CONFLICT DO UPDATE SET first_session = max(first_session, "
       "excluded.first_session)"});
  // 3. put their new contribution back; drop groups that cancelled out
  for (auto& s : cohort_delta_sql()) v.push_back({s, 1});
  v.push_back({"DELETE FROM ax_cohort WHERE abs(users) < 1e-9"});
  v.push_back({"DELETE FROM ax_cohort_week WHERE abs(users) < 1e-9"});
  v.push_back({"DELETE FROM ax_cohort_switch WHERE abs(users) < 1e-9"});
  // 4. event rollups: command runs per hour (heat map), every event per day, stage-time histogram per day
  v.push_back(
      {"INSERT INTO ax_hourly(event, hour, version, platform, k1, k2, k3, outcome, n, rows, users) SELECT "
       "e.event, e.ts / " +
       std::to_string(kMsPerHour) + ", s.app_version, s.platform, " + k1("e") + ", " + k2("e") + ", " +
       k3("e") + ", e.outcome, sum(1.0 / e.sample_rate), count(*), ax_uset(s.user)" + range_events("") +
       " AND e.event = @RUN@ GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ON CONFLICT DO UPDATE SET n = n + "
       "excluded.n, rows = rows + excluded.rows, users = ax_uset_merge(users, excluded.users)"});
  v.push_back(
      {"INSERT INTO ax_daily(event, day, version, platform, k1, k2, k3, outcome, n, rows, dur_sum, dur_n, "
       "users) "
       "SELECT e.event, e.ts / " +
       day + ", s.app_version, s.platform, " + k1("e") + ", " + k2("e") + ", " + k3("e") +
       ", e.outcome, sum(1.0 / e.sample_rate), count(*), sum(coalesce(e.duration_ms, 0) / e.sample_rate), "
       "sum(CASE WHEN e.duration_ms IS NULL THEN 0 ELSE 1.0 / e.sample_rate END), ax_uset(s.user)" +
       range_events("") + not_analyst("e") +
       " GROUP BY 1, 2, 3, 4, 5, 6, 7, 8 ON CONFLICT DO UPDATE SET n = n + excluded.n, rows = rows + "
       "excluded.rows, dur_sum = dur_sum + excluded.dur_sum, dur_n = dur_n + excluded.dur_n, users = "
       "ax_uset_merge(users, excluded.users)"});
  // Stage times with the options of their run (latency --with OPTION=VALUE): the options of the new runs
  // (by run id, kept two days), then the new stage times joined with them.
  v.push_back({"INSERT OR IGNORE INTO ax_run_opt(run, option, value, day) SELECT " + j("e", "run") +
               ", replace(" + j("e", "option") + ", '-', '_'), coalesce(" + value_or_number("e") +
               ", ''), e.ts / " + day +
               " FROM events e WHERE e.id > :lo AND e.id <= :hi AND e.event = @OPT@ AND " + j("e", "run") +
               " IS NOT NULL"});
  v.push_back(
      {"INSERT INTO ax_stage_with(day, version, platform, stage, resolution, input, media, option, value, "
       "dur_sum, dur_n, users) SELECT e.ts / " +
       day + ", s.app_version, s.platform, " + stage_keys("e") +
       ", o.option, o.value, sum(e.duration_ms / e.sample_rate), sum(1.0 / e.sample_rate), "
       "ax_uset(s.user)" +
       range_events("JOIN ax_run_opt o ON o.run = " + j("e", "run")) +
       " AND e.event = @STAGE@ AND e.duration_ms IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9 ON "
       "CONFLICT DO UPDATE SET dur_sum = dur_sum + excluded.dur_sum, dur_n = dur_n + excluded.dur_n, "
       "users = ax_uset_merge(users, excluded.users)"});
  // Swap runs per defaults profile (the A/B by profile): all runs (option and value '') with a HyperLogLog
  // of their users, the failed ones (option '', value 'failed'; a cancelled run is a run, not a failure),
  // and the runs that set each option value, joined by run id through ax_run_opt like the stage times (a
  // run's options and its command.run are recorded together, so one fold sees both; a fold that falls
  // between them leaves that run's options out, the known limit docs/analytics.md states).
  const std::string swap_runs = " AND e.event = @RUN@ AND " + j("e", "command") + " = 'swap'";
  const std::string profile_keys =
      "e.ts / " + day + ", s.app_version, s.platform, coalesce(" + j("e", "profile") + ", '')";
  const std::string profile_sums = ", sum(1.0 / e.sample_rate), ax_uset(s.user)";
  const std::string profile_merge =
      " ON CONFLICT DO UPDATE SET n = n + excluded.n, users = ax_uset_merge(users, excluded.users)";
  const std::string profile_insert =
      "INSERT INTO ax_profile(day, version, platform, profile, option, value, n, users";
  v.push_back({profile_insert + ", sketch) SELECT " + profile_keys + ", '', ''" + profile_sums +
               ", ax_hll(s.user)" + range_events("") + swap_runs + " GROUP BY 1, 2, 3, 4" + profile_merge +
               ", sketch = ax_hll_merge(sketch, excluded.sketch)"});
  v.push_back({profile_insert + ") SELECT " + profile_keys + ", '', 'failed'" + profile_sums +
               range_events("") + swap_runs +
               " AND e.outcome NOT IN (@OK@, @CANCELLED@) GROUP BY 1, 2, 3, 4" + profile_merge});
  v.push_back({profile_insert + ") SELECT " + profile_keys + ", o.option, o.value" + profile_sums +
               range_events("JOIN ax_run_opt o ON o.run = " + j("e", "run")) + swap_runs +
               " GROUP BY 1, 2, 3, 4, 5, 6" + profile_merge});
  v.push_back({"DELETE FROM ax_run_opt WHERE day < (SELECT max(day) FROM ax_run_opt) - 2"});
  // Experiments (the experiment view): each exposed run with its command.run's outcome and time. A run's
  // command.run may be folded before its exposure (another process's commit) or long after it (a job that
  // waited in the queue): the ends of the last two days' runs wait in ax_run_end for a later exposure, and a
  // later command.run updates the exposed run it belongs to. The last command.run of a run wins, the first
  // exposure of a run to an experiment.
  const std::string run_of = j("e", "run");
  v.push_back({"INSERT INTO ax_run_end(run, failed, ms, day) SELECT " + run_of +
               ", e.outcome NOT IN (@OK@, @CANCELLED@), coalesce(e.duration_ms, 0), e.ts / " + day +
               " FROM events e WHERE e.id > :lo AND e.id <= :hi AND e.event = @RUN@ AND " + run_of +
               " IS NOT NULL ORDER BY e.id ON CONFLICT(run) DO UPDATE SET failed = excluded.failed, ms = "
               "excluded.ms, day = excluded.day"});
  v.push_back(
      {"INSERT INTO ax_exp_run(run, experiment, user, day, arm, value, explicit, ended, failed, ms) "
       "SELECT " +
       run_of + ", " + j("e", "experiment") + ", s.user, e.ts / " + day + ", coalesce(" + j("e", "arm") +
       ", ''), coalesce(" + j("e", "value") + ", ''), coalesce(" + j("e", "explicit") +
       ", 0), r.run IS NOT NULL, coalesce(r.failed, 0), coalesce(r.ms, 0) FROM events e JOIN sessions "
       "s ON s.id = e.session LEFT JOIN ax_run_end r ON r.run = " +
       run_of + " WHERE e.id > :lo AND e.id <= :hi AND e.event = @EXPOSURE@ AND " + run_of +
       " IS NOT NULL AND " + j("e", "experiment") + " IS NOT NULL ORDER BY e.id ON CONFLICT DO NOTHING"});
  v.push_back(
      {"UPDATE ax_exp_run SET ended = 1, failed = r.failed, ms = r.ms FROM (SELECT run, failed, ms FROM "
       "ax_run_end WHERE run IN (SELECT " +
       run_of +
       " FROM events e WHERE e.id > :lo AND e.id <= :hi AND e.event = @RUN@)) AS r WHERE "
       "ax_exp_run.run = r.run"});
  v.push_back({"DELETE FROM ax_run_end WHERE day < (SELECT max(day) FROM ax_run_end) - 2"});
  // Distinct active users per day, version and platform: a HyperLogLog sketch (sketch.h), merged.
  v.push_back({"INSERT INTO ax_day_users(day, version, platform, sketch) SELECT e.ts / " + day +
               ", s.app_version, s.platform, ax_hll(s.user)" + range_events("") + user_day_events +
               not_analyst("e") +
               " GROUP BY 1, 2, 3 ON CONFLICT DO UPDATE SET sketch = ax_hll_merge(sketch, excluded.sketch)"});
  // Stage times by output and input resolution and media (the latency view).
  v.push_back(
      {"INSERT INTO ax_stage(day, version, platform, stage, resolution, input, media, dur_sum, dur_n, users) "
       "SELECT e.ts / " +
       day + ", s.app_version, s.platform, " + stage_keys("e") +
       ", sum(e.duration_ms / e.sample_rate), sum(1.0 / e.sample_rate), ax_uset(s.user)" + range_events("") +
       " AND e.event = @STAGE@ AND e.duration_ms IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6, 7 ON CONFLICT DO "
       "UPDATE SET dur_sum = dur_sum + excluded.dur_sum, dur_n = dur_n + excluded.dur_n, users = "
       "ax_uset_merge(users, excluded.users)"});
  v.push_back(
      {"INSERT INTO ax_stage_hist(day, version, platform, stage, resolution, input, bucket, n) SELECT e.ts "
       "/ " +
       day + ", s.app_version, s.platform, coalesce(" + j("e", "stage") + ", ''), coalesce(" +
       j("e", "resolution") + ", ''), coalesce(" + j("e", "input") + ", ''), " + bucket("e") +
       ", sum(1.0 / e.sample_rate)" + range_events("") +
       " AND e.event = @STAGE@ AND e.duration_ms IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6, 7 ON CONFLICT "
       "DO UPDATE SET n = n + excluded.n"});
  return v;
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
    away("blend", d.blend, {"auto", "seamless", "affine", "laplacian"});
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
  replace_all(s, "@EXPOSURE@", id(EventKind::kExperimentExposure));
  replace_all(s, "@OK@", std::to_string(db.outcome_id(StatusCode::kOk)));
  replace_all(s, "@CANCELLED@", std::to_string(db.outcome_id(StatusCode::kCancelled)));
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

namespace {

struct Marks {
  int64_t events = 0, last_event = 0, sessions = 0, last_session = 0;
};

Result<Marks> read_marks(telemetry::Database& db) {
  FW_ASSIGN_OR_RETURN(
      Query q,
      Query::make(db,
                  "SELECT coalesce((SELECT value FROM meta WHERE key = 'analytics_event_id'), 0), "
                  "coalesce((SELECT max(id) FROM events), 0), coalesce((SELECT value FROM meta WHERE "
                  "key = 'analytics_session_id'), 0), coalesce((SELECT max(id) FROM sessions), 0)"));
  Marks m;
  FW_RETURN_IF_ERROR(q.each([&](sqlite3_stmt* s) {
    m.events = sqlite3_column_int64(s, 0);
    m.last_event = sqlite3_column_int64(s, 1);
    m.sessions = sqlite3_column_int64(s, 2);
    m.last_session = sqlite3_column_int64(s, 3);
  }));
  return m;
}

// Events folded per step: bounds the sorter's memory on a first fold of millions of events.
constexpr int64_t kFoldChunk = 1'000'000;

// Folds everything after the watermarks into the rollups; the caller holds the write transaction.
Result<int64_t> fold_locked(telemetry::Database& db) {
  FW_ASSIGN_OR_RETURN(Marks m, read_marks(db));
  if (m.events >= m.last_event && m.sessions >= m.last_session) return int64_t(0);
  FW_RETURN_IF_ERROR(
      db.exec("CREATE TEMP TABLE IF NOT EXISTS ax_touched(user TEXT PRIMARY KEY) WITHOUT ROWID"));
  std::vector<Query> steps;
  std::vector<int> signs;
  for (FoldStep& st : fold_steps()) {
    FW_ASSIGN_OR_RETURN(Query q, Query::make(db, st.sql));
    steps.push_back(std::move(q));
    signs.push_back(st.sign);
  }
  int64_t lo = m.events, slo = m.sessions;
  // Events never reuse ids (meta last_event_id); a session id can be reused after `telemetry forget`
  // erased the newest session, so sessions are also taken from the new events themselves.
  do {
    int64_t hi = std::min(m.last_event, lo + kFoldChunk);
    int64_t shi = std::max(slo, m.last_session);
    for (size_t i = 0; i < steps.size(); ++i) {
      steps[i].bind(":lo", lo).bind(":hi", hi).bind(":slo", slo).bind(":shi", shi);
      if (signs[i]) steps[i].bind(":sign", int64_t(signs[i]));
      FW_RETURN_IF_ERROR(steps[i].each([](sqlite3_stmt*) {}));
    }
    lo = hi;
    slo = shi;
  } while (lo < m.last_event);
  FW_RETURN_IF_ERROR(db.exec("UPDATE meta SET value = " + std::to_string(std::max(m.events, m.last_event)) +
                             " WHERE key = 'analytics_event_id'; UPDATE meta SET value = " +
                             std::to_string(std::max(m.sessions, m.last_session)) +
                             " WHERE key = 'analytics_session_id'"));
  return std::max<int64_t>(0, m.last_event - m.events);
}

const Status& status_of(const Status& s) {
  return s;
}
template <typename T>
const Status& status_of(const Result<T>& r) {
  return r.status();
}

template <typename F>
auto in_write_transaction(telemetry::Database& db, F&& body) -> decltype(body()) {
  FW_RETURN_IF_ERROR(db.exec("BEGIN IMMEDIATE"));
  auto r = body();
  Status s = status_of(r);
  if (s.is_ok()) s = db.exec("COMMIT");
  if (!s.is_ok()) {
    sqlite3_exec(db.handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    return s;
  }
  return r;
}

}  // namespace

Result<int64_t> fold_rollups(telemetry::Database& db) {
  // Cheap check without the write lock: nothing new is the common case for a dashboard refresh.
  FW_ASSIGN_OR_RETURN(Marks m, read_marks(db));
  if (m.events >= m.last_event && m.sessions >= m.last_session) return int64_t(0);
  // Another process may fold at the same time: the watermarks are read again under the lock.
  return in_write_transaction(db, [&] { return fold_locked(db); });
}

Result<int64_t> rebuild_rollups(telemetry::Database& db) {
  FW_RETURN_IF_ERROR(fill_defaults(db));
  FW_RETURN_IF_ERROR(db.exec(kClear));
  FW_RETURN_IF_ERROR(fold_locked(db).status());
  FW_ASSIGN_OR_RETURN(Query q, Query::make(db, "SELECT count(*) FROM events"));
  int64_t n = 0;
  FW_RETURN_IF_ERROR(q.each([&](sqlite3_stmt* s) { n = sqlite3_column_int64(s, 0); }));
  return n;
}

Status install_rollups(telemetry::Database& db) {
  FW_RETURN_IF_ERROR(register_sketch_functions(db));
  FW_ASSIGN_OR_RETURN(int version, stored_version(db));
  if (version == kRollupSchemaVersion) return Status::ok();
  if (version > kRollupSchemaVersion)
    return unsupported("the analytics rollups in " + db.path() + " have version " + std::to_string(version) +
                       ", newer than this faceweave knows (" + std::to_string(kRollupSchemaVersion) +
                       "); update faceweave");
  return in_write_transaction(db, [&]() -> Status {
    // Another process may have installed them while this one waited for the lock.
    FW_ASSIGN_OR_RETURN(int again, stored_version(db));
    if (again == kRollupSchemaVersion) return Status::ok();
    FW_RETURN_IF_ERROR(db.exec(kDropAll));
    FW_RETURN_IF_ERROR(db.exec(kTables));
    FW_RETURN_IF_ERROR(db.exec(kDeleteTrigger));
    FW_RETURN_IF_ERROR(rebuild_rollups(db).status());
    return db.exec("INSERT INTO meta(key, value) VALUES ('analytics_schema', " +
                   std::to_string(kRollupSchemaVersion) +
                   ") ON CONFLICT(key) DO UPDATE SET value = excluded.value");
  });
}

}  // namespace faceweave::analytics
