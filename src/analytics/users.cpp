// The users view: distinct active users per day and over the whole range, from the per-day HyperLogLog
// sketches in ax_day_users (sketch.h), so any date range is answered from rollups and a user active on
// many days counts once.
#include <map>

#include "analytics/sketch.h"
#include "analytics/views_common.h"

namespace faceweave {

using analytics::Hll;
using analytics::Query;
using namespace analytics;  // view helpers (views_common.h)

Result<InsightsTable> Analytics::active_users(const InsightsFilter& f) {
  FW_ASSIGN_OR_RETURN(Range r, range(f));
  InsightsTable t;
  t.view = "users";
  t.title =
      "Active users: distinct users with a run, option, page view or UI action per day, and over the whole "
      "range (HyperLogLog, relative standard error 0.81%)";
  t.columns = {"day", "active_users"};
  FW_ASSIGN_OR_RETURN(Query q, Query::make(*db_, std::string("SELECT day, sketch FROM ax_day_users WHERE day "
                                                             "BETWEEN :d0 AND :d1 AND ") +
                                                     kCond + " ORDER BY day"));
  r.bind(q);
  std::map<int64_t, Hll> days;
  Hll all;
  Status bad = Status::ok();
  FW_RETURN_IF_ERROR(q.each([&](sqlite3_stmt* s) {
    auto h =
        Hll::parse({static_cast<const char*>(sqlite3_column_blob(s, 1)), size_t(sqlite3_column_bytes(s, 1))});
    if (!h) {
      bad = h.status();
      return;
    }
    days[sqlite3_column_int64(s, 0)].merge(*h);
    all.merge(*h);
  }));
  FW_RETURN_IF_ERROR(bad);
  int hidden = 0;
  double sum_daily = 0;
  for (auto& [day, h] : days) {
    double n = std::round(h.estimate());
    sum_daily += n;
    t.rows.push_back(json::array({iso_day(day), k_cell(n, f.k, &hidden)}));
  }
  const double total = std::round(all.estimate());
  const double z95 = 1.96 * Hll::kStandardError;
  t.summary["active_users"] = k_cell(total, f.k, &hidden);
  if (!k_hidden(total, f.k)) {
    t.summary["ci95_low"] = std::floor(total * (1 - z95));
    t.summary["ci95_high"] = std::ceil(total * (1 + z95));
  }
  t.summary["relative_standard_error"] = Hll::kStandardError;
  t.summary["days"] = int64_t(days.size());
  // Adding the days up counts a user once per day active: the difference is why the sketch is needed.
  t.summary["sum_of_daily_active"] =
      k_hidden(sum_daily, f.k) ? json("< " + std::to_string(f.k)) : json(sum_daily);
  k_notes(t, f.k, hidden);
  t.notes.push_back(
      "distinct users are estimated from per-day HyperLogLog sketches (2^14 registers): relative standard "
      "error 0.81%, exact-looking for small counts; counts are not re-weighted by 1/sample_rate");
  FW_EMPTY_NOTES(t, r);
  return t;
}

}  // namespace faceweave
