// The latency view: stage time share and per-frame p50/p95 by output or input resolution (ax_stage +
// ax_stage_hist).
#include <map>
#include <set>
#include <tuple>

#include "analytics/views_common.h"

namespace faceweave {

using analytics::column_text;
using analytics::Query;
using namespace analytics;  // view helpers (views_common.h)

Result<InsightsTable> Analytics::latency(const InsightsFilter& f) {
  if (!f.by.empty() && f.by != "resolution" && f.by != "input")
    return invalid_argument("--by must be resolution (the output's) or input (the target's), not '" +
                            f.by.substr(0, 20) + "'");
  if (!f.media.empty() && f.media != "image" && f.media != "video")
    return invalid_argument("--media must be image or video, not '" + f.media.substr(0, 20) + "'");
  FW_ASSIGN_OR_RETURN(Range r, range(f));
  const bool by_input = f.by == "input";
  // The grouping column of ax_stage, ax_stage_with and ax_stage_hist.
  const std::string dim = by_input ? "input" : "resolution";
  InsightsTable t;
  t.view = "latency";
  t.title = std::string("Stage latency by ") +
            (by_input ? "input (target) resolution" : "output resolution") +
            ": share of total stage time, p50/p95 of per-frame ms (from histograms)";
  t.columns = {dim, "stage", "total_ms", "share", "runs", "p50_ms", "p95_ms"};
  if (!f.with.empty()) return latency_with(f, r);
  struct Stage {
    double ms = 0, runs = 0;
    std::map<int, double> hist;
    UserSet users;
  };
  std::map<std::pair<std::string, std::string>, Stage> stages;
  std::map<std::string, double> per_res;
  FW_ASSIGN_OR_RETURN(Query q, Query::make(*db_, "SELECT " + dim +
                                                     ", stage, sum(dur_sum), sum(dur_n), "
                                                     "ax_uset_union(users) FROM ax_stage WHERE day "
                                                     "BETWEEN :d0 AND :d1 AND (:media = '' OR media = "
                                                     ":media) AND " +
                                                     kCond + " GROUP BY 1, 2"));
  r.bind(q).bind(":media", f.media);
  FW_RETURN_IF_ERROR(q.each([&](sqlite3_stmt* s) {
    const std::string key = bucket_label(column_text(s, 0));
    Stage& st = stages[{key, column_text(s, 1)}];
    st.ms += sqlite3_column_double(s, 2);
    st.runs += sqlite3_column_double(s, 3);
    st.users.merge(users_at(s, 4));
    per_res[key] += sqlite3_column_double(s, 2);
  }));
  // Rows come in key order (day, version, platform, stage, resolution, input, bucket): summed here rather
  // than by a GROUP BY (no sort), looking the (stage, bucket) cell up only when it changes.
  FW_ASSIGN_OR_RETURN(Query qh, Query::make(*db_, "SELECT stage, " + dim +
                                                      ", bucket, n FROM ax_stage_hist WHERE day BETWEEN "
                                                      ":d0 AND :d1 AND " +
                                                      kCond));
  r.bind(qh);
  // The histograms are not split by media: with a media filter the percentiles would mix both.
  if (!f.media.empty()) {
    FW_ASSIGN_OR_RETURN(qh, Query::make(*db_, "SELECT '', '', 0, 0 WHERE 0"));
  }
  std::string last_stage, last_res;
  Stage* current = nullptr;
  FW_RETURN_IF_ERROR(qh.each([&](sqlite3_stmt* s) {
    const char* st = reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
    const char* res = reinterpret_cast<const char*>(sqlite3_column_text(s, 1));
    st = st ? st : "";
    res = res ? res : "";
    if (last_stage != st || last_res != res || (!current && last_stage.empty())) {
      last_stage = st;
      last_res = res;
      auto it = stages.find({bucket_label(last_res), last_stage});
      current = it == stages.end() ? nullptr : &it->second;
    }
    if (current) current->hist[sqlite3_column_int(s, 2)] += sqlite3_column_double(s, 3);
  }));
  auto quantile = [](const std::map<int, double>& h, double q) -> json {
    double total = 0;
    for (auto& [b, n] : h) total += n;
    if (total <= 0) return nullptr;
    double cum = 0;
    for (auto& [b, n] : h) {
      cum += n;
      if (cum >= q * total - 1e-9) return round_to(analytics::bucket_middle_ms(b), 3);
    }
    return round_to(analytics::bucket_middle_ms(h.rbegin()->first), 3);
  };
  std::vector<std::pair<std::pair<std::string, std::string>, Stage*>> order;
  for (auto& [k, st] : stages) order.push_back({k, &st});
  std::sort(order.begin(), order.end(), [](const auto& a, const auto& b) {
    int ra = resolution_rank(a.first.first), rb = resolution_rank(b.first.first);
    if (ra != rb) return ra < rb;
    if (a.first.first != b.first.first) return a.first.first < b.first.first;
    if (a.second->ms != b.second->ms) return a.second->ms > b.second->ms;
    return a.first.second < b.first.second;
  });
  int hidden = 0;
  for (auto& [key, st] : order) {
    // k-anonymity: a stage whose times come from fewer than k users shows "< k" and nothing built on them.
    if (k_few(st->users, f.k)) {
      json few = k_count(st->ms, st->users, f.k, &hidden);
      t.rows.push_back(json::array({key.first, key.second, few, nullptr, few, nullptr, nullptr}));
      continue;
    }
    t.rows.push_back(
        json::array({key.first, key.second, round_to(st->ms, 3), share(st->ms, per_res[key.first]),
                     round_to(st->runs, 3), quantile(st->hist, 0.5), quantile(st->hist, 0.95)}));
  }
  t.notes.push_back(
      "p50/p95 are per-frame times read from log-spaced histogram buckets (ten per decade): the value is the "
      "bucket's geometric middle, within about 12% of the exact quantile");
  if (!f.media.empty())
    t.notes.push_back("media " + f.media +
                      ": totals, shares and runs of that media only; p50/p95 are not split by media (null)");
  // Stage time per media (image, video) over the whole selection.
  FW_ASSIGN_OR_RETURN(
      Query qm, Query::make(*db_, std::string("SELECT media, sum(dur_sum), sum(dur_n), ax_uset_union(users) "
                                              "FROM ax_stage WHERE day BETWEEN :d0 AND :d1 AND ") +
                                      kCond + " GROUP BY 1"));
  r.bind(qm);
  json by_media = json::object();
  FW_RETURN_IF_ERROR(qm.each([&](sqlite3_stmt* s) {
    std::string m = column_text(s, 0);
    UserSet u = users_at(s, 3);
    by_media[m.empty() ? "unknown" : m] = {
        {"total_ms", k_count(sqlite3_column_double(s, 1), u, f.k, &hidden)},
        {"stages", k_count(sqlite3_column_double(s, 2), u, f.k, &hidden)}};
  }));
  t.summary["by_media"] = by_media;
  k_notes(t, f.k, hidden);
  if (!f.media.empty()) t.summary["media"] = f.media;
  t.summary["by"] = dim;
  if (by_input && per_res.count(bucket_label("")))
    t.notes.push_back(
        "not_recorded: stage times stored before stage.timing carried the input resolution have no input "
        "bucket");
  FW_EMPTY_NOTES(t, r);
  return t;
}

}  // namespace faceweave
