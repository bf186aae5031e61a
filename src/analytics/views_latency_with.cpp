// latency --with OPTION=VALUE: each stage's time in the runs that set the option value against the other
// runs, per output or input resolution (ax_stage and ax_stage_with, filled by the fold from stage times
// joined with their run's options).
#include <map>

#include "analytics/views_common.h"

namespace faceweave {

using analytics::column_text;
using analytics::Query;
using namespace analytics;  // view helpers (views_common.h)

namespace {

// The option value as stored: "color-match=none" -> {color_match, none}; "(number)" -> "#", "(set)" -> "".
Result<std::pair<std::string, std::string>> parse_with(const std::string& with) {
  auto bad = [&] {
    return invalid_argument("--with needs OPTION=VALUE (e.g. color_match=none), not '" + with.substr(0, 40) +
                            "'");
  };
  const size_t eq = with.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == with.size() || with.size() > 80) return bad();
  std::string option = with.substr(0, eq), value = with.substr(eq + 1);
  for (char& c : option) {
    if (c == '-') c = '_';
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return bad();
  }
  if (value == "(number)") value = "#";
  if (value == "(set)") value = "";
  if (value == "gfpgan_1.4") value = "gfpgan_1_4";
  return std::make_pair(option, value);
}

}  // namespace

Result<InsightsTable> Analytics::latency_with(const InsightsFilter& f, const Range& r) {
  FW_ASSIGN_OR_RETURN(auto ov, parse_with(f.with));
  const auto& [option, value] = ov;
  const std::string dim = f.by == "input" ? "input" : "resolution";  // the view checked it
  InsightsTable t;
  t.view = "latency";
  t.title = "Stage latency with and without " + f.with + ": mean ms per stage record and share of the " +
            (dim == "input" ? "input" : "output") +
            " resolution's stage time, in runs that set it and in the others";
  t.columns = {dim,
               "stage",
               "with_mean_ms",
               "with_share",
               "with_records",
               "without_mean_ms",
               "without_share",
               "without_records"};
  struct Cell {
    double ms = 0, n = 0;
    UserSet users;
  };
  std::map<std::pair<std::string, std::string>, std::pair<Cell, Cell>> stages;  // (all, with)
  FW_ASSIGN_OR_RETURN(Query qa, Query::make(*db_, "SELECT " + dim +
                                                      ", stage, sum(dur_sum), sum(dur_n), "
                                                      "ax_uset_union(users) FROM ax_stage WHERE day "
                                                      "BETWEEN :d0 AND :d1 AND (:media = '' OR media = "
                                                      ":media) AND " +
                                                      kCond + " GROUP BY 1, 2"));
  r.bind(qa).bind(":media", f.media);
  FW_RETURN_IF_ERROR(qa.each([&](sqlite3_stmt* s) {
    Cell& c = stages[{bucket_label(column_text(s, 0)), column_text(s, 1)}].first;
    c.ms += sqlite3_column_double(s, 2);
    c.n += sqlite3_column_double(s, 3);
    c.users.merge(users_at(s, 4));
  }));
  FW_ASSIGN_OR_RETURN(Query qw, Query::make(*db_, "SELECT " + dim +
                                                      ", stage, sum(dur_sum), sum(dur_n), "
                                                      "ax_uset_union(users) FROM ax_stage_with WHERE day "
                                                      "BETWEEN :d0 AND :d1 AND option = :o AND value = "
                                                      ":val AND (:media = '' OR media = :media) AND " +
                                                      kCond + " GROUP BY 1, 2"));
  r.bind(qw).bind(":media", f.media).bind(":o", option).bind(":val", value);
  FW_RETURN_IF_ERROR(qw.each([&](sqlite3_stmt* s) {
    Cell& c = stages[{bucket_label(column_text(s, 0)), column_text(s, 1)}].second;
    c.ms += sqlite3_column_double(s, 2);
    c.n += sqlite3_column_double(s, 3);
    c.users.merge(users_at(s, 4));
  }));
  // Per resolution: the stage time of each group, for the shares.
  std::map<std::string, std::pair<double, double>> per_res;
  double with_records = 0, without_records = 0;
  for (auto& [key, cells] : stages) {
    auto& [all, with] = cells;
    per_res[key.first].first += with.ms;
    per_res[key.first].second += std::max(0.0, all.ms - with.ms);
    with_records += with.n;
    without_records += std::max(0.0, all.n - with.n);
  }
  std::vector<std::pair<std::pair<std::string, std::string>, std::pair<Cell, Cell>*>> order;
  for (auto& [key, cells] : stages) order.push_back({key, &cells});
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    int ra = resolution_rank(a.first.first), rb = resolution_rank(b.first.first);
    if (ra != rb) return ra < rb;
    if (a.first.first != b.first.first) return a.first.first < b.first.first;
    if (a.second->first.ms != b.second->first.ms) return a.second->first.ms > b.second->first.ms;
    return a.first.second < b.first.second;
  });
  int hidden = 0;
  const std::string few = "< " + std::to_string(f.k);
  for (auto& [key, cells] : order) {
    const Cell& all = cells->first;
    const Cell& with = cells->second;
    const double out_ms = std::max(0.0, all.ms - with.ms), out_n = std::max(0.0, all.n - with.n);
    json row = json::array({key.first, key.second});
    if (with.n <= 0) {
      row.insert(row.end(), {nullptr, nullptr, 0.0});
    } else if (k_few(with.users, f.k)) {
      ++hidden;
      row.insert(row.end(), {nullptr, nullptr, few});
    } else {
      row.insert(row.end(), {round_to(with.ms / with.n, 3), share(with.ms, per_res[key.first].first),
                             round_to(with.n, 3)});
    }
    // The other runs' users are not stored apart: at least (all users - users with the option) of them,
    // which is what is compared with k (it can only hide more).
    if (out_n <= 1e-9) {
      row.insert(row.end(), {nullptr, nullptr, 0.0});
    } else if (all.users.count() - with.users.count() < f.k - 1e-9) {
      ++hidden;
      row.insert(row.end(), {nullptr, nullptr, few});
    } else {
      row.insert(row.end(),
                 {round_to(out_ms / out_n, 3), share(out_ms, per_res[key.first].second), round_to(out_n, 3)});
    }
    t.rows.push_back(std::move(row));
  }
  t.summary["with"] = f.with;
  t.summary["by"] = dim;
  t.summary["with_records"] = round_to(with_records, 3);
  t.summary["without_records"] = round_to(without_records, 3);
  if (!f.media.empty()) t.summary["media"] = f.media;
  k_notes(t, f.k, hidden);
  t.notes.push_back(
      "a run counts as with " + f.with +
      " when it recorded that option value with its run id; runs recorded before run ids existed count as "
      "without");
  if (with_records <= 0 && !stages.empty()) t.notes.push_back("no run in this range set " + f.with);
  FW_EMPTY_NOTES(t, r);
  return t;
}

}  // namespace faceweave
