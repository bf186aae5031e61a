// The errors view: failed swap runs per run by day, version, provider used and requested, fallback, code.
#include <map>
#include <set>
#include <tuple>

#include "analytics/views_common.h"

namespace faceweave {

using analytics::column_text;
using analytics::Query;
using namespace analytics;  // view helpers (views_common.h)

Result<InsightsTable> Analytics::errors(const InsightsFilter& f) {
  FW_ASSIGN_OR_RETURN(Range r, range(f));
  InsightsTable t;
  t.view = "errors";
  t.title =
      "Error rate: failed swap runs per run, per day, version, execution provider used, provider requested, "
      "fallback and error code ('all' sums the codes)";
  t.columns = {"day",  "version",        "provider",  "code",    "errors",
               "runs", "errors_per_run", "requested", "fallback"};
  FW_ASSIGN_OR_RETURN(
      Query q,
      Query::make(*db_,
                  "SELECT h.day, h.version, h.k3, o.name, h.outcome = @OK@, sum(h.n), ax_uset_union(h.users) "
                  "FROM ax_daily h "
                  "JOIN outcomes o ON o.id = h.outcome WHERE h.event = @RUN@ AND h.day BETWEEN :d0 AND "
                  ":d1 AND h.k1 = 'swap' AND " +
                      cond("h") + " GROUP BY 1, 2, 3, h.outcome"));
  r.bind(q);
  // Each count keeps the distinct users who made it (k-anonymity: fewer than k shows "< k").
  struct Count {
    double n = 0;
    UserSet users;
    void add(double v, const UserSet& u) {
      n += v;
      users.merge(u);
    }
  };
  struct Day {
    Count runs, errors;
    std::map<std::string, Count> codes;
  };
  const int k = f.k;
  int hidden = 0;
  auto rate = [&](const Count& part, const Count& whole) {
    bool few = (part.n > 1e-9 && k_few(part.users, k)) || k_few(whole.users, k);
    return few ? json(nullptr) : json(share(part.n, whole.n));
  };
  struct Split {
    Count runs, errors;
    std::map<std::string, Count> codes;
    void add(double n, const UserSet& u, bool failed, const std::string& code) {
      runs.add(n, u);
      if (!failed) return;
      errors.add(n, u);
      codes[code].add(n, u);
    }
  };
  auto split_json = [&](const Split& sp) -> json {
    json c = json::object();
    for (auto& [code, n] : sp.codes) c[code] = k_count(n.n, n.users, k, &hidden);
    return {{"errors", k_count(sp.errors.n, sp.errors.users, k, &hidden)},
            {"runs", k_count(sp.runs.n, sp.runs.users, k, &hidden)},
            {"errors_per_run", rate(sp.errors, sp.runs)},
            {"codes", c}};
  };
  // Key: day, version, provider used, provider requested, fallback.
  std::map<std::tuple<int64_t, std::string, std::string, std::string, bool>, Day> days;
  std::map<std::string, Split> by_provider, by_requested, by_fallback;
  std::map<std::string, std::map<std::string, Split>> by_requested_fallback;
  Count runs, errs;
  FW_RETURN_IF_ERROR(q.each([&](sqlite3_stmt* s) {
    // k3: the provider used, or "requested>used" after a fallback; empty when the run recorded none.
    std::string k3 = column_text(s, 2), requested, provider;
    bool fallback = false;
    if (auto gt = k3.find('>'); gt != std::string::npos) {
      requested = k3.substr(0, gt);
      provider = k3.substr(gt + 1);
      fallback = true;
    } else {
      requested = provider = k3;
    }
    if (provider.empty()) provider = "unknown";
    if (requested.empty()) requested = "unknown";
    Day& d = days[{sqlite3_column_int64(s, 0), column_text(s, 1), provider, requested, fallback}];
    double n = sqlite3_column_double(s, 5);
    UserSet u = users_at(s, 6);
    std::string code = column_text(s, 3);
    // A run the user cancelled counts as a run, never as an error.
    bool failed = !sqlite3_column_int(s, 4) && code != "cancelled";
    d.runs.add(n, u);
    runs.add(n, u);
    by_provider[provider].add(n, u, failed, code);
    by_requested[requested].add(n, u, failed, code);
    by_fallback[fallback ? "true" : "false"].add(n, u, failed, code);
    by_requested_fallback[requested][fallback ? "true" : "false"].add(n, u, failed, code);
    if (failed) {
      d.errors.add(n, u);
      errs.add(n, u);
      d.codes[code].add(n, u);
    }
  }));
  for (auto& [key, d] : days) {
    auto& [day, version, provider, requested, fallback] = key;
    t.rows.push_back(json::array(
        {iso_day(day), version, provider, "all", k_count(d.errors.n, d.errors.users, k, &hidden),
         k_count(d.runs.n, d.runs.users, k, &hidden), rate(d.errors, d.runs), requested, fallback}));
    for (auto& [code, n] : d.codes)
      t.rows.push_back(
          json::array({iso_day(day), version, provider, code, k_count(n.n, n.users, k, &hidden),
                       k_count(d.runs.n, d.runs.users, k, &hidden), rate(n, d.runs), requested, fallback}));
  }
  t.summary["runs"] = k_count(runs.n, runs.users, k, &hidden);
  t.summary["errors"] = k_count(errs.n, errs.users, k, &hidden);
  t.summary["errors_per_run"] = rate(errs, runs);
  auto splits = [&](const std::map<std::string, Split>& m) {
    json o = json::object();
    for (auto& [key, sp] : m) o[key] = split_json(sp);
    return o;
  };
  t.summary["by_provider"] = splits(by_provider);
  t.summary["by_requested"] = splits(by_requested);
  t.summary["by_fallback"] = splits(by_fallback);
  json rf = json::object();
  for (auto& [req, m] : by_requested_fallback) rf[req] = splits(m);
  t.summary["by_requested_fallback"] = rf;
  if (by_provider.count("unknown"))
    t.notes.push_back("provider 'unknown': runs recorded without the command.run provider property");
  k_notes(t, k, hidden);
  FW_EMPTY_NOTES(t, r);
  return t;
}

}  // namespace faceweave
