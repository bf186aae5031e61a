// The event views: feature usage, the weekday x hour heat map, actions x options (read ax_daily/ax_hourly).
#include <map>
#include <set>
#include <tuple>

#include "analytics/views_common.h"

namespace faceweave {

using analytics::column_text;
using analytics::Query;
using namespace analytics;  // view helpers (views_common.h)

Result<InsightsTable> Analytics::feature_usage(const InsightsFilter& f) {
  FW_ASSIGN_OR_RETURN(Range r, range(f));
  InsightsTable t;
  t.view = "usage";
  t.title =
      "Feature usage: share of swap runs that set each option value, per day (weighted by 1/sample_rate)";
  t.columns = {"day", "option", "value", "runs_with", "runs", "share"};
  std::map<int64_t, double> runs;
  std::map<int64_t, UserSet> runs_users;
  FW_ASSIGN_OR_RETURN(Query qr,
                      Query::make(*db_, std::string("SELECT day, sum(n), ax_uset_union(users) FROM ax_daily "
                                                    "WHERE event = "
                                                    "@RUN@ AND day BETWEEN :d0 AND :d1 AND k1 = "
                                                    "'swap' AND ") +
                                            kCond + " GROUP BY 1"));
  r.bind(qr);
  FW_RETURN_IF_ERROR(qr.each([&](sqlite3_stmt* s) {
    runs[sqlite3_column_int64(s, 0)] = sqlite3_column_double(s, 1);
    runs_users[sqlite3_column_int64(s, 0)] = users_at(s, 2);
  }));
  FW_ASSIGN_OR_RETURN(Query q, Query::make(*db_, std::string("SELECT day, k1, k2, sum(n), "
                                                             "ax_uset_union(users) FROM ax_daily WHERE "
                                                             "event = @OPT@ AND day BETWEEN :d0 AND :d1 AND "
                                                             "k3 = 'swap' AND ") +
                                                     kCond + " GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"));
  r.bind(q);
  std::map<std::pair<std::string, std::string>, double> overall;
  std::map<std::pair<std::string, std::string>, UserSet> overall_users;
  double total_runs = 0;
  UserSet all_users;
  for (auto& [d, n] : runs) total_runs += n;
  for (auto& [d, u] : runs_users) all_users.merge(u);
  int hidden = 0;
  FW_RETURN_IF_ERROR(q.each([&](sqlite3_stmt* s) {
    int64_t day = sqlite3_column_int64(s, 0);
    std::string option = column_text(s, 1), value = column_text(s, 2);
    if (value == "#") value = "(number)";
    // An option recorded by name only (its value is never stored: it may be a path).
    if (value.empty()) value = "(set)";
    // Stored values are words ([a-z0-9_-]): the one listed value with a dot is shown as the user typed it.
    if (value == "gfpgan_1_4") value = "gfpgan_1.4";
    double n = sqlite3_column_double(s, 3);
    double all = runs.count(day) ? runs[day] : 0;
    UserSet users = users_at(s, 4);
    overall[{option, value}] += n;
    overall_users[{option, value}].merge(users);
    // k-anonymity: a count made by fewer than k users is "< k", and so is the share built on it.
    const UserSet& day_users = runs_users[day];
    bool few = k_few(users, f.k) || k_few(day_users, f.k);
    t.rows.push_back(
        json::array({iso_day(day), option, value, k_count(n, users, f.k, &hidden),
                     k_count(all, day_users, f.k, &hidden), few ? json(nullptr) : json(share(n, all))}));
  }));
  t.summary["runs"] = k_count(total_runs, all_users, f.k, &hidden);
  json o = json::object();
  for (auto& [k, n] : overall)
    o[k.first + "=" + k.second] =
        k_few(overall_users[k], f.k) || k_few(all_users, f.k) ? json(nullptr) : json(share(n, total_runs));
  t.summary["share_over_range"] = o;
  if (total_runs == 0) t.rows.clear();
  k_notes(t, f.k, hidden);
  FW_EMPTY_NOTES(t, r);
  return t;
}

Result<InsightsTable> Analytics::heatmap(const InsightsFilter& f) {
  FW_ASSIGN_OR_RETURN(Range r, range(f));
  InsightsTable t;
  t.view = "heatmap";
  t.title = "Swap runs by weekday and hour of day (UTC), weighted by 1/sample_rate";
  t.columns = {"weekday"};
  for (int h = 0; h < 24; ++h) t.columns.push_back((h < 10 ? "h0" : "h") + std::to_string(h));
  double cells[7][24] = {};
  UserSet cell_users[7][24];
  UserSet all_users;
  double total = 0;
  FW_ASSIGN_OR_RETURN(Query q,
                      Query::make(*db_, std::string("SELECT (hour / 24 + 3) % 7, hour % 24, sum(n), "
                                                    "ax_uset_union(users) FROM "
                                                    "ax_hourly WHERE event = @RUN@ AND hour BETWEEN :h0 AND "
                                                    ":h1 AND k1 = 'swap' AND ") +
                                            kCond + " GROUP BY 1, 2"));
  r.bind(q);
  FW_RETURN_IF_ERROR(q.each([&](sqlite3_stmt* s) {
    int wd = sqlite3_column_int(s, 0), h = sqlite3_column_int(s, 1);
    if (wd < 0 || wd > 6 || h < 0 || h > 23) return;
    cells[wd][h] += sqlite3_column_double(s, 2);
    total += sqlite3_column_double(s, 2);
    UserSet u = users_at(s, 3);
    cell_users[wd][h].merge(u);
    all_users.merge(u);
  }));
  int hidden = 0;
  if (total > 0)
    for (int wd = 0; wd < 7; ++wd) {
      json row = json::array({kWeekdays[wd]});
      for (int h = 0; h < 24; ++h) row.push_back(k_count(cells[wd][h], cell_users[wd][h], f.k, &hidden));
      t.rows.push_back(std::move(row));
    }
  t.summary["runs"] = k_count(total, all_users, f.k, &hidden);
  k_notes(t, f.k, hidden);
  FW_EMPTY_NOTES(t, r);
  return t;
}

Result<InsightsTable> Analytics::actions(const InsightsFilter& f) {
  FW_ASSIGN_OR_RETURN(Range r, range(f));
  InsightsTable t;
  t.view = "actions";
  t.title = "Actions x options: UI actions per control, and options set on the command line or API ('set')";
  t.columns = {"action", "option", "count"};
  FW_ASSIGN_OR_RETURN(
      Query q,
      Query::make(
          *db_, std::string("SELECT CASE event WHEN @UI@ THEN k2 ELSE 'set' END AS a, k1, "
                            "sum(n), ax_uset_union(users) FROM ax_daily WHERE event IN (@UI@, @OPT@) AND day "
                            "BETWEEN :d0 AND :d1 AND ") +
                    kCond + " GROUP BY a, k1 ORDER BY a, 3 DESC, k1"));
  r.bind(q);
  int hidden = 0;
  FW_RETURN_IF_ERROR(q.each([&](sqlite3_stmt* s) {
    t.rows.push_back(json::array({column_text(s, 0), column_text(s, 1),
                                  k_count(sqlite3_column_double(s, 2), users_at(s, 3), f.k, &hidden)}));
  }));
  k_notes(t, f.k, hidden);
  FW_EMPTY_NOTES(t, r);
  return t;
}

}  // namespace faceweave
