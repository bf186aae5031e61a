// The views: each reads only the rollup tables (rollups.cpp), filtered by day/hour range and version.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>

#include "analytics/views_common.h"
#include "telemetry/paths.h"
#include "telemetry/session.h"

namespace faceweave {

using analytics::column_text;
using analytics::Query;
using nlohmann::json;
using namespace analytics;  // view helpers (views_common.h)

namespace {

// Days from civil date (Howard Hinnant's algorithm).
int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = unsigned(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + int64_t(doe) - 719468;
}

}  // namespace

Result<int64_t> parse_iso_day(std::string_view s, std::string_view what) {
  auto bad = [&]() {
    return invalid_argument(std::string(what) + " must be a date like 2025-05-31 (YYYY-MM-DD), not '" +
                            std::string(s) + "'");
  };
  if (s.size() != 10 || s[4] != '-' || s[7] != '-') return bad();
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (s[i] < '0' || s[i] > '9') return bad();
  int y = std::stoi(std::string(s.substr(0, 4))), m = std::stoi(std::string(s.substr(5, 2))),
      d = std::stoi(std::string(s.substr(8, 2)));
  static const int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (y < 1970 || m < 1 || m > 12 || d < 1 || d > kDays[m - 1] + (m == 2 && leap)) return bad();
  return days_from_civil(y, unsigned(m), unsigned(d));
}

std::string iso_day(int64_t z) {
  z += 719468;
  const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const unsigned doe = unsigned(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const int64_t y = int64_t(yoe) + era * 400;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  const unsigned d = doy - (153 * mp + 2) / 5 + 1;
  const unsigned m = mp < 10 ? mp + 3 : mp - 9;
  char buf[48];
  std::snprintf(buf, sizeof buf, "%04d-%02u-%02u", int(y + (m <= 2)), m, d);
  return buf;
}

Analytics::~Analytics() = default;

Result<std::unique_ptr<Analytics>> Analytics::open(const std::string& data_dir) {
  auto paths = telemetry::telemetry_paths(data_dir);
  if (!telemetry::file_exists(paths.database))
    return not_found(
        "there is no telemetry database in " + data_dir +
        " yet: run some commands with telemetry on, or `faceweave telemetry simulate --users 200 "
        "--days 30` for demo data");
  return open_database(paths.database);
}

Result<std::unique_ptr<Analytics>> Analytics::open_database(const std::string& path) {
  std::unique_ptr<Analytics> a(new Analytics());
  telemetry::DatabaseOptions o;
  o.create = false;
  FW_ASSIGN_OR_RETURN(a->db_, telemetry::Database::open(path, o));
  FW_RETURN_IF_ERROR(a->install());
  return a;
}

Status Analytics::install() {
  return analytics::install_rollups(*db_);
}

Result<int64_t> Analytics::rebuild() {
  FW_RETURN_IF_ERROR(db_->exec("BEGIN IMMEDIATE"));
  auto n = analytics::rebuild_rollups(*db_);
  Status s = n.status();
  if (s.is_ok()) s = db_->exec("COMMIT");
  if (!s.is_ok()) {
    sqlite3_exec(db_->handle(), "ROLLBACK", nullptr, nullptr, nullptr);
    return s;
  }
  return *n;
}

Status Analytics::refresh() {
  return analytics::fold_rollups(*db_).status();
}

const std::vector<std::string>& Analytics::views() {
  static const std::vector<std::string> kViews = {"usage",    "heatmap", "actions",   "errors", "latency",
                                                  "defaults", "funnel",  "retention", "ab",     "users"};
  return kViews;
}

const std::vector<std::string>& Analytics::ab_metrics() {
  static const std::vector<std::string> kMetrics = [] {
    std::vector<std::string> m = {"error_rate", "download_conversion", "preview_to_run"};
    std::set<std::string> seen;
    for (const auto& d : analytics::default_switches())
      if (seen.insert(d.option).second) m.push_back(d.option + "_off");
    return m;
  }();
  return kMetrics;
}

const std::vector<std::string>& Analytics::known_platforms() {
  static const std::vector<std::string> kPlatforms = [] {
    std::vector<std::string> p = telemetry::coarse_platforms();
    p.push_back("unknown");
    return p;
  }();
  return kPlatforms;
}

Result<std::vector<std::string>> Analytics::versions() {
  FW_ASSIGN_OR_RETURN(Query q, Query::make(*db_, "SELECT DISTINCT version FROM ax_dims ORDER BY version"));
  std::vector<std::string> out;
  FW_RETURN_IF_ERROR(q.each([&](sqlite3_stmt* s) { out.push_back(column_text(s, 0)); }));
  return out;
}

Result<std::vector<std::string>> Analytics::platforms() {
  Status fold = refresh();
  if (!fold.is_ok() && !telemetry::is_busy(sqlite3_errcode(db_->handle()))) return fold;
  FW_ASSIGN_OR_RETURN(Query q,
                      Query::make(*db_,
                                  "SELECT DISTINCT CASE platform WHEN '' THEN 'unknown' ELSE platform "
                                  "END FROM ax_dims ORDER BY 1"));
  std::vector<std::string> out;
  FW_RETURN_IF_ERROR(q.each([&](sqlite3_stmt* s) { out.push_back(column_text(s, 0)); }));
  return out;
}

Result<Analytics::Range> Analytics::range(const InsightsFilter& f) {
  Range r;
  if (!f.from.empty()) {
    FW_ASSIGN_OR_RETURN(r.d0, parse_iso_day(f.from, "--from"));
  }
  if (!f.to.empty()) {
    FW_ASSIGN_OR_RETURN(r.d1, parse_iso_day(f.to, "--to"));
  }
  if (r.d0 > r.d1) return invalid_argument("--from " + f.from + " is after --to " + f.to);
  if (!f.platform.empty()) {
    const auto& known = known_platforms();
    if (std::find(known.begin(), known.end(), f.platform) == known.end()) {
      std::string list;
      for (const auto& p : known) list += (list.empty() ? "" : ", ") + p;
      return invalid_argument("unknown platform '" + f.platform + "'; choose one of: " + list);
    }
    r.platform = f.platform == "unknown" ? "" : f.platform;
    r.any_platform = false;
  }
  // Every view answers with up-to-date numbers: fold what was stored since the last fold. When another
  // process holds the write lock too long, answer from the rollups as they are (view() adds a note).
  stale_ = false;
  Status fold = refresh();
  if (!fold.is_ok()) {
    if (!telemetry::is_busy(sqlite3_errcode(db_->handle()))) return fold;
    stale_ = true;
  }
  r.version = f.version;
  FW_ASSIGN_OR_RETURN(r.versions, versions());
  if (!r.version.empty() && std::find(r.versions.begin(), r.versions.end(), r.version) == r.versions.end())
    r.version_missing = true;
  if (!r.any_platform) {
    FW_ASSIGN_OR_RETURN(Query q, Query::make(*db_, "SELECT 1 FROM ax_dims WHERE platform = :p LIMIT 1"));
    q.bind(":p", r.platform);
    bool found = false;
    FW_RETURN_IF_ERROR(q.each([&](sqlite3_stmt*) { found = true; }));
    r.platform_missing = !found;
    r.platform_name = f.platform;
  }
  return r;
}

// Per-user views count cohorts: the users whose first session falls in the range (their first session's
// version and platform), each with weight 1/sample_rate. Sums over the pre-aggregated cohort days.

Result<InsightsTable> Analytics::defaults_off(const InsightsFilter& f) {
  FW_ASSIGN_OR_RETURN(Range r, range(f));
  InsightsTable t;
  t.view = "defaults";
  t.title =
      "Defaults switched off: of the users whose first session falls in the range, the share who switched "
      "each on-by-default option away (ever), and the share who did so in their first session";
  t.columns = {
      "option", "default", "switched_to", "users", "share", "first_session_users", "first_session_share"};
  double active = 0;
  FW_ASSIGN_OR_RETURN(Query qa,
                      Query::make(*db_, std::string("SELECT coalesce(sum(users), 0) FROM ax_cohort WHERE day "
                                                    "BETWEEN :d0 AND :d1 AND ") +
                                            kCond));
  r.bind(qa);
  FW_RETURN_IF_ERROR(qa.each([&](sqlite3_stmt* s) { active = sqlite3_column_double(s, 0); }));
  FW_ASSIGN_OR_RETURN(
      Query q,
      Query::make(*db_,
                  "SELECT d.option, d.default_value, d.value, coalesce(sum(x.users), 0), "
                  "coalesce(sum(x.first_users), 0) FROM ax_defaults d LEFT JOIN ax_cohort_switch x ON "
                  "x.option = d.option AND x.value = d.value AND x.day BETWEEN :d0 AND :d1 AND " +
                      cond("x") + " GROUP BY d.option, d.value ORDER BY d.option, d.value"));
  r.bind(q);
  int hidden = 0;
  const int k = f.k;
  FW_RETURN_IF_ERROR(q.each([&](sqlite3_stmt* s) {
    double users = sqlite3_column_double(s, 3), first = sqlite3_column_double(s, 4);
    json share_all = k_hidden(users, k) ? json(nullptr) : json(share(users, active));
    json share_first = k_hidden(first, k) ? json(nullptr) : json(share(first, active));
    t.rows.push_back(
        json::array({column_text(s, 0), column_text(s, 1), column_text(s, 2), k_cell(users, k, &hidden),
                     share_all, k_cell(first, k, &hidden), share_first}));
  }));
  t.summary["cohort_users"] = k_cell(active, k, &hidden);
  t.summary["active_users"] = t.summary["cohort_users"];
  if (active <= 0 || k_hidden(active, k)) t.rows.clear();
  k_notes(t, k, hidden);
  t.notes.push_back(
      "users are counted by the day of their first session (cohort), with that session's version and "
      "platform; a switch counts whenever it happened");
  FW_EMPTY_NOTES(t, r);
  return t;
}

Result<InsightsTable> Analytics::funnel(const InsightsFilter& f) {
  FW_ASSIGN_OR_RETURN(Range r, range(f));
  InsightsTable t;
  t.view = "funnel";
  t.title =
      "Funnel (web UI): of the users whose first session falls in the range, who uploaded, then also "
      "previewed, ran and downloaded";
  t.columns = {"step", "users", "share_of_previous", "share_of_first"};
  FW_ASSIGN_OR_RETURN(
      Query q, Query::make(*db_, std::string("SELECT coalesce(sum(up), 0), coalesce(sum(up_pv), 0), "
                                             "coalesce(sum(up_pv_ru), 0), coalesce(sum(up_pv_ru_dl), 0) FROM "
                                             "ax_cohort WHERE day BETWEEN :d0 AND :d1 AND ") +
                                     kCond));
  r.bind(q);
  double steps[4] = {};
  FW_RETURN_IF_ERROR(q.each([&](sqlite3_stmt* s) {
    for (int i = 0; i < 4; ++i) steps[i] = sqlite3_column_double(s, i);
  }));
  const char* names[] = {"upload", "preview", "run", "download"};
  int hidden = 0;
  if (steps[0] > 0)
    for (int i = 0; i < 4; ++i) {
      bool h = k_hidden(steps[i], f.k) || (i && k_hidden(steps[i - 1], f.k)) || k_hidden(steps[0], f.k);
      t.rows.push_back(json::array({names[i], k_cell(steps[i], f.k, &hidden),
                                    h ? json(nullptr) : json(i ? share(steps[i], steps[i - 1]) : 1.0),
                                    h ? json(nullptr) : json(share(steps[i], steps[0]))}));
    }
  k_notes(t, f.k, hidden);
  t.notes.push_back(
      "users are counted by the day of their first session (cohort); a step counts whenever the user took "
      "it (the order of the steps is not checked)");
  if (t.rows.empty() && !r.version_missing && !r.platform_missing)
    t.notes.push_back("no ui.action upload events of users who first came in this range");
  FW_EMPTY_NOTES(t, r);
  return t;
}

Result<InsightsTable> Analytics::retention(const InsightsFilter& f, int weeks) {
  if (weeks < 1 || weeks > 52) return invalid_argument("--weeks must be between 1 and 52");
  FW_ASSIGN_OR_RETURN(Range r, range(f));
  InsightsTable t;
  t.view = "retention";
  t.title =
      "Retention: of the users whose first session falls in the range, the share active again in week "
      "k after it (week 0 = days 0-6)";
  t.columns = {"week", "active_users", "eligible_users", "retention"};
  int64_t last_day = 0;
  FW_ASSIGN_OR_RETURN(Query ql, Query::make(*db_,
                                            "SELECT coalesce(max(m), 0) FROM (SELECT max(day) AS m FROM "
                                            "ax_daily WHERE event = @RUN@ UNION ALL SELECT max(day) FROM "
                                            "ax_daily WHERE event = @UI@ UNION ALL SELECT max(day) FROM "
                                            "ax_daily WHERE event = @PAGE@ UNION ALL SELECT max(day) FROM "
                                            "ax_daily WHERE event = @OPT@)"));
  FW_RETURN_IF_ERROR(ql.each([&](sqlite3_stmt* s) { last_day = sqlite3_column_int64(s, 0); }));
  std::vector<double> active(size_t(weeks) + 1), eligible(size_t(weeks) + 1);
  FW_ASSIGN_OR_RETURN(Query qa, Query::make(*db_, std::string("SELECT week, sum(users) FROM ax_cohort_week "
                                                              "WHERE day BETWEEN :d0 AND :d1 AND week <= "
                                                              ":weeks AND ") +
                                                      kCond + " GROUP BY week"));
  r.bind(qa).bind(":weeks", int64_t(weeks));
  FW_RETURN_IF_ERROR(qa.each([&](sqlite3_stmt* s) {
    int64_t w = sqlite3_column_int64(s, 0);
    if (w >= 0 && w <= weeks) active[size_t(w)] = sqlite3_column_double(s, 1);
  }));
  FW_ASSIGN_OR_RETURN(Query qe, Query::make(*db_, std::string("SELECT min(:weeks, (:last - day) / 7), "
                                                              "sum(users) FROM ax_cohort WHERE day BETWEEN "
                                                              ":d0 AND :d1 AND day <= :last AND ") +
                                                      kCond + " GROUP BY 1"));
  r.bind(qe).bind(":weeks", int64_t(weeks)).bind(":last", last_day);
  FW_RETURN_IF_ERROR(qe.each([&](sqlite3_stmt* s) {
    int64_t mw = sqlite3_column_int64(s, 0);
    for (int64_t k = 0; k <= mw && k <= weeks; ++k) eligible[size_t(k)] += sqlite3_column_double(s, 1);
  }));
  int hidden = 0;
  if (eligible[0] > 0)
    for (int k = 0; k <= weeks; ++k) {
      if (eligible[size_t(k)] <= 0) break;
      bool h = k_hidden(active[size_t(k)], f.k) || k_hidden(eligible[size_t(k)], f.k);
      t.rows.push_back(
          json::array({k, k_cell(active[size_t(k)], f.k, &hidden), k_cell(eligible[size_t(k)], f.k, &hidden),
                       h ? json(nullptr) : json(share(active[size_t(k)], eligible[size_t(k)]))}));
    }
  t.summary["cohort_users"] =
      k_hidden(eligible[0], f.k) ? json("< " + std::to_string(f.k)) : json(round_to(eligible[0], 3));
  k_notes(t, f.k, hidden);
  t.summary["last_day"] = iso_day(last_day);
  t.notes.push_back("a week counts only users whose week has started by the last day with data (eligible)");
  FW_EMPTY_NOTES(t, r);
  return t;
}

Result<InsightsTable> Analytics::view(std::string_view name, const InsightsFilter& f,
                                      const AbOptions& ab_options, int weeks) {
  auto t = dispatch(name, f, ab_options, weeks);
  if (t && stale_)
    t->notes.push_back(
        "the newest events are not included yet: another process held the database's write lock, so the "
        "rollups could not be refreshed; try again");
  return t;
}

Result<InsightsTable> Analytics::dispatch(std::string_view name, const InsightsFilter& f,
                                          const AbOptions& ab_options, int weeks) {
  stale_ = false;
  FW_RETURN_IF_ERROR(check_k(f));
  if (name == "usage") return feature_usage(f);
  if (name == "heatmap") return heatmap(f);
  if (name == "actions") return actions(f);
  if (name == "errors") return errors(f);
  if (name == "latency") return latency(f);
  if (name == "defaults") return defaults_off(f);
  if (name == "funnel") return funnel(f);
  if (name == "retention") return retention(f, weeks);
  if (name == "ab") return ab(f, ab_options);
  if (name == "users") return active_users(f);
  std::string list;
  for (const auto& v : views()) list += (list.empty() ? "" : ", ") + v;
  return invalid_argument("unknown view '" + std::string(name) + "'; choose one of: " + list);
}

}  // namespace faceweave
