// The A/B view: two app versions (the default) or two defaults profiles (by profile) on a rate metric, with
// one comparison (compare_arms through two_proportion_test), verdict and k-anonymity for both.
#include <algorithm>
#include <cmath>
#include <optional>
#include <set>

#include "analytics/views_common.h"

namespace faceweave {

using analytics::column_text;
using analytics::Query;
using nlohmann::json;
using namespace analytics;  // view helpers (views_common.h)

namespace {

// The arm of runs without a defaults profile (stored as '').
constexpr const char* kNoProfile = "(none)";

// One arm: successes and trials (weighted), its users for the sample-ratio check, and whether fewer than
// k distinct users stand behind its trials (hidden) or its successes (successes_hidden).
struct AbArm {
  std::string label;
  double x = 0, n = 0, users = 0;
  bool hidden = false, successes_hidden = false;
};

// A usage share metric OPTION=VALUE, as the rollups store it: dashes in the option name become
// underscores, a dot in the value too (gfpgan_1.4 is stored as gfpgan_1_4), `(number)` is '#'.
struct UsageMetric {
  std::string option, value;
};

bool is_word_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

Result<UsageMetric> parse_usage_metric(const std::string& metric) {
  const auto eq = metric.find('=');
  UsageMetric m{metric.substr(0, eq), metric.substr(eq + 1)};
  std::replace(m.option.begin(), m.option.end(), '-', '_');
  if (m.value == "(number)") m.value = "#";
  std::replace(m.value.begin(), m.value.end(), '.', '_');
  auto word = [](const std::string& w) {
    return !w.empty() && w.size() <= 40 && std::all_of(w.begin(), w.end(), is_word_char);
  };
  if (!word(m.option) || (m.value != "#" && !word(m.value)))
    return invalid_argument("--metric " + metric.substr(0, 60) +
                            ": a usage share is OPTION=VALUE with a swap option and one of its values, like "
                            "color_match=none ((number) for a numeric option)");
  return m;
}

// The comparison, its verdict and the table's rows and summary, the same for every kind of arm.
void compare(InsightsTable& t, const AbOptions& o, int k, const AbArm& A, const AbArm& B) {
  int suppressed = 0;
  for (auto [name, arm] : {std::pair{"a", &A}, std::pair{"b", &B}}) {
    const bool few = arm->hidden || arm->successes_hidden;
    json users = k_hidden(arm->users, k) ? json("< " + std::to_string(k)) : json(round_to(arm->users, 3));
    if (users.is_string()) ++suppressed;
    json x =
        arm->successes_hidden || arm->hidden ? json("< " + std::to_string(k)) : json(round_to(arm->x, 3));
    if (x.is_string()) ++suppressed;
    json n = arm->hidden ? json("< " + std::to_string(k)) : json(round_to(arm->n, 3));
    if (n.is_string()) ++suppressed;
    t.rows.push_back(json::array(
        {name, arm->label, x, n, few || arm->n <= 0 ? json(nullptr) : json(share(arm->x, arm->n)), users}));
  }
  const bool hidden = A.hidden || B.hidden || A.successes_hidden || B.successes_hidden ||
                      k_hidden(A.users, k) || k_hidden(B.users, k);
  json& s = t.summary;
  s["metric"] = o.metric;
  s["confidence"] = 1 - o.alpha;
  s["min_sample"] = o.min_sample;
  const bool enough = A.n >= o.min_sample && B.n >= o.min_sample;
  if (hidden) {
    // Nothing computed from a suppressed cell is shown: its number could be recovered from them.
    for (const char* key : {"difference", "ci_low", "ci_high", "z", "p_value", "srm_chi_square",
                            "srm_p_value", "sample_ratio_mismatch"})
      s[key] = nullptr;
    s["enough_data"] = false;
    s["verdict"] = "not enough data: an arm has fewer than k = " + std::to_string(k) +
                   " users behind a number (k-anonymity; --k to change)";
    k_notes(t, k, suppressed);
    return;
  }
  TwoProportionResult tr = two_proportion_test(A.x, A.n, B.x, B.n, o.alpha);
  auto [chi, srm_p] = sample_ratio_check(A.users, B.users, o.expected_share_a);
  s["difference"] = round_to(tr.difference, 6);
  s["ci_low"] = round_to(tr.ci_low, 6);
  s["ci_high"] = round_to(tr.ci_high, 6);
  s["z"] = round_to(tr.z, 4);
  s["p_value"] = tr.p_value;
  s["enough_data"] = enough;
  s["srm_chi_square"] = round_to(chi, 4);
  s["srm_p_value"] = srm_p;
  s["sample_ratio_mismatch"] = srm_p < 0.001;
  double base = A.n > 0 ? tr.rate_a : 0;
  double mde = o.mde > 0 ? o.mde : 0.2 * base;
  double target = std::min(0.999999, base + mde);
  if (base > 0 && base < 1 && mde > 0) {
    s["sample_size_per_arm"] = sample_size_per_arm(base, target, o.alpha, o.power);
    s["sample_size_for"] = "detect " + std::to_string(round_to(base, 4)).substr(0, 6) + " -> " +
                           std::to_string(round_to(target, 4)).substr(0, 6) + " at alpha " +
                           std::to_string(o.alpha).substr(0, 5) + ", power " +
                           std::to_string(o.power).substr(0, 4);
  }
  std::string verdict;
  if (!enough)
    verdict = "not enough data: each arm needs at least " + std::to_string(int64_t(o.min_sample)) + " trials";
  else if (srm_p < 0.001)
    verdict = "sample ratio mismatch: the split of users differs from the plan; do not trust the comparison";
  else if (tr.p_value < o.alpha)
    verdict = "significant: b differs from a";
  else
    verdict = "no significant difference";
  s["verdict"] = verdict;
  k_notes(t, k, suppressed);
}

}  // namespace

Status Analytics::check_ab_metric(const std::string& metric, const std::string& by) {
  if (!by.empty() && by != "version" && by != "profile")
    return invalid_argument("--by for ab must be version (the default) or profile, not '" + by.substr(0, 20) +
                            "'");
  if (metric.find('=') != std::string::npos) return parse_usage_metric(metric).status();
  const auto& metrics = ab_metrics();
  if (by == "profile" && metric != "error_rate")
    return invalid_argument(
        "unknown metric '" + metric.substr(0, 40) +
        "' for the A/B by profile, which compares runs: choose error_rate or OPTION=VALUE "
        "(the share of swap runs that set it, like color_match=none)");
  if (std::find(metrics.begin(), metrics.end(), metric) == metrics.end()) {
    std::string list;
    for (const auto& m : metrics) list += (list.empty() ? "" : ", ") + m;
    return invalid_argument("unknown metric '" + metric.substr(0, 40) + "'; choose one of: " + list +
                            ", or OPTION=VALUE (the share of swap runs that set it, like color_match=none)");
  }
  return Status::ok();
}

Result<std::vector<std::string>> Analytics::profiles() {
  Status fold = refresh();
  if (!fold.is_ok() && !telemetry::is_busy(sqlite3_errcode(db_->handle()))) return fold;
  FW_ASSIGN_OR_RETURN(
      Query q, Query::make(*db_, std::string("SELECT DISTINCT CASE profile WHEN '' THEN '") + kNoProfile +
                                     "' ELSE profile END FROM ax_profile WHERE option = '' "
                                     "AND value = '' ORDER BY 1"));
  std::vector<std::string> out;
  FW_RETURN_IF_ERROR(q.each([&](sqlite3_stmt* s) { out.push_back(column_text(s, 0)); }));
  return out;
}

Result<InsightsTable> Analytics::ab(const InsightsFilter& f, const AbOptions& o) {
  const bool by_profile = f.by == "profile";
  FW_RETURN_IF_ERROR(check_ab_metric(o.metric, f.by));
  if (!(o.alpha > 0 && o.alpha < 0.5)) return invalid_argument("--alpha must be in (0, 0.5)");
  if (!(o.power > 0.5 && o.power < 1)) return invalid_argument("--power must be in (0.5, 1)");
  if (!(o.expected_share_a > 0 && o.expected_share_a < 1))
    return invalid_argument("--expected-share must be in (0, 1)");
  if (!f.version.empty() && !by_profile)
    return invalid_argument("the ab view compares two versions: use --a and --b, not --version");
  std::optional<UsageMetric> usage;
  if (o.metric.find('=') != std::string::npos) {
    FW_ASSIGN_OR_RETURN(UsageMetric m, parse_usage_metric(o.metric));
    usage = m;
  }
  FW_ASSIGN_OR_RETURN(Range r, range(f));
  const std::string what = by_profile ? "profile" : "version";
  std::string a = o.a, b = o.b;
  if (a.empty() || b.empty()) {
    // The two versions (profiles) with the most swap runs, smaller (older) first.
    FW_ASSIGN_OR_RETURN(
        Query q,
        Query::make(*db_, by_profile ? std::string("SELECT CASE profile WHEN '' THEN '") + kNoProfile +
                                           "' ELSE profile END FROM ax_profile WHERE option = '' AND value "
                                           "= '' AND day BETWEEN :d0 AND :d1 AND " +
                                           kCond + " GROUP BY profile ORDER BY sum(n) DESC LIMIT 2"
                                     : std::string("SELECT version FROM ax_daily WHERE event = "
                                                   "@RUN@ AND day BETWEEN :d0 AND :d1 AND k1 = "
                                                   "'swap' AND ") +
                                           kCond + " GROUP BY version ORDER BY sum(n) DESC LIMIT 2"));
    r.bind(q);
    std::vector<std::string> top;
    FW_RETURN_IF_ERROR(q.each([&](sqlite3_stmt* s) { top.push_back(column_text(s, 0)); }));
    std::sort(top.begin(), top.end());
    if (a.empty() && b.empty() && top.size() == 2) {
      a = top[0];
      b = top[1];
    } else if (a.empty() || b.empty()) {
      return invalid_argument("the ab view needs two " + what + "s: give --a " +
                              (by_profile ? "PROFILE --b PROFILE" : "VERSION --b VERSION") + " (" + what +
                              "s with runs in this range: " + std::to_string(top.size()) + ")");
    }
  }
  if (a == b) return invalid_argument("--a and --b name the same " + what + " (" + a + ")");
  InsightsTable t;
  t.view = "ab";
  t.title = "A/B: " + o.metric + " of " + what + " " + a + " (a) against " + b + " (b)";
  t.columns = {"arm", what, "successes", "trials", "rate", "users"};
  const int k = f.k;

  // Runs of a version: command.run swap rows of ax_daily; the usage share's successes are the runs'
  // command.option events of that option value.
  auto version_runs = [&](const Range& rv, AbArm& out) -> Status {
    FW_ASSIGN_OR_RETURN(Query q, Query::make(*db_, std::string("SELECT coalesce(sum(CASE WHEN outcome NOT IN "
                                                               "(@OK@, @CANCELLED@) THEN n ELSE 0 END), 0), "
                                                               "coalesce(sum(n), 0), ax_uset_union(users), "
                                                               "ax_uset_union(CASE WHEN outcome NOT IN "
                                                               "(@OK@, @CANCELLED@) THEN users END) FROM "
                                                               "ax_daily WHERE event = @RUN@ AND day BETWEEN "
                                                               ":d0 AND :d1 AND k1 = 'swap' AND ") +
                                                       kCond));
    rv.bind(q);
    UserSet runs_users, failed_users;
    FW_RETURN_IF_ERROR(q.each([&](sqlite3_stmt* s) {
      out.x = sqlite3_column_double(s, 0);
      out.n = sqlite3_column_double(s, 1);
      runs_users = users_at(s, 2);
      failed_users = users_at(s, 3);
    }));
    out.hidden = out.n > 0 && k_few(runs_users, k);
    out.successes_hidden = out.x > 0 && k_few(failed_users, k);
    if (usage) {
      FW_ASSIGN_OR_RETURN(Query qo, Query::make(*db_, std::string("SELECT coalesce(sum(n), 0), "
                                                                  "ax_uset_union(users) FROM ax_daily WHERE "
                                                                  "event = @OPT@ AND day BETWEEN :d0 AND :d1 "
                                                                  "AND k1 = :opt AND k2 = :val AND k3 = "
                                                                  "'swap' AND ") +
                                                          kCond));
      rv.bind(qo).bind(":opt", usage->option).bind(":val", usage->value);
      UserSet set_users;
      FW_RETURN_IF_ERROR(qo.each([&](sqlite3_stmt* s) {
        out.x = sqlite3_column_double(s, 0);
        set_users = users_at(s, 1);
      }));
      out.successes_hidden = out.x > 0 && k_few(set_users, k);
    }
    return Status::ok();
  };

  auto version_arm = [&](const std::string& v) -> Result<AbArm> {
    Range rv = r;
    rv.version = v;
    AbArm out;
    out.label = v;
    double users = 0, up = 0, pv = 0, up_dl = 0, pv_ru = 0;
    FW_ASSIGN_OR_RETURN(
        Query qc,
        Query::make(*db_, std::string("SELECT coalesce(sum(users), 0), coalesce(sum(up), 0), "
                                      "coalesce(sum(pv), 0), coalesce(sum(up_dl), 0), "
                                      "coalesce(sum(pv_ru), 0) FROM ax_cohort WHERE day BETWEEN :d0 "
                                      "AND :d1 AND ") +
                              kCond));
    rv.bind(qc);
    FW_RETURN_IF_ERROR(qc.each([&](sqlite3_stmt* s) {
      users = sqlite3_column_double(s, 0);
      up = sqlite3_column_double(s, 1);
      pv = sqlite3_column_double(s, 2);
      up_dl = sqlite3_column_double(s, 3);
      pv_ru = sqlite3_column_double(s, 4);
    }));
    out.users = users;  // the cohort users of the version (sample-ratio check)
    // Cohort metrics count (weighted) users: a cell of fewer than k of them is hidden.
    auto cohort = [&](double x, double n) {
      out.x = x;
      out.n = n;
      out.hidden = k_hidden(n, k);
      out.successes_hidden = k_hidden(x, k);
    };
    if (o.metric == "error_rate" || usage) {
      FW_RETURN_IF_ERROR(version_runs(rv, out));
    } else if (o.metric == "download_conversion") {
      cohort(up_dl, up);
    } else if (o.metric == "preview_to_run") {
      cohort(pv_ru, pv);
    } else {
      // Users who switched the option away to any value ('*' rows), of the cohort.
      std::string option = o.metric.substr(0, o.metric.size() - 4);
      double x = 0;
      FW_ASSIGN_OR_RETURN(Query q,
                          Query::make(*db_, std::string("SELECT coalesce(sum(users), 0) FROM "
                                                        "ax_cohort_switch WHERE day BETWEEN :d0 AND "
                                                        ":d1 AND option = :opt AND value = '*' AND ") +
                                                kCond));
      rv.bind(q).bind(":opt", option);
      FW_RETURN_IF_ERROR(q.each([&](sqlite3_stmt* s) { x = sqlite3_column_double(s, 0); }));
      cohort(x, users);
    }
    return out;
  };

  // Runs of a defaults profile (ax_profile): all its swap runs, the failed ones, and with a usage metric
  // the runs that set the option value; users are the distinct users of its runs (HyperLogLog: exact for
  // small counts, 0.81% standard error above).
  auto profile_arm = [&](const std::string& p) -> Result<AbArm> {
    AbArm out;
    out.label = p;
    FW_ASSIGN_OR_RETURN(Query q,
                        Query::make(*db_, std::string("SELECT option, value, n, users, sketch FROM "
                                                      "ax_profile WHERE profile = :prof AND (option "
                                                      "= '' OR (option = :opt AND value = :val)) AND "
                                                      "day BETWEEN :d0 AND :d1 AND ") +
                                              kCond));
    r.bind(q).bind(":prof", p == kNoProfile ? std::string() : p);
    q.bind(":opt", usage ? usage->option : std::string("-")).bind(":val", usage ? usage->value : "");
    UserSet runs_users, hit_users;
    Hll sketch;
    Status bad = Status::ok();
    FW_RETURN_IF_ERROR(q.each([&](sqlite3_stmt* s) {
      const bool all = column_text(s, 0).empty() && column_text(s, 1).empty();
      const bool hit = usage ? !column_text(s, 0).empty() : column_text(s, 1) == "failed";
      if (all) {
        out.n += sqlite3_column_double(s, 2);
        runs_users.merge(users_at(s, 3));
        const void* b = sqlite3_column_blob(s, 4);
        auto h = Hll::parse({static_cast<const char*>(b), b ? size_t(sqlite3_column_bytes(s, 4)) : 0});
        if (h)
          sketch.merge(*h);
        else
          bad = h.status();
      } else if (hit) {
        out.x += sqlite3_column_double(s, 2);
        hit_users.merge(users_at(s, 3));
      }
    }));
    FW_RETURN_IF_ERROR(bad);
    out.users = sketch.empty() ? 0 : std::round(sketch.estimate());
    out.hidden = out.n > 0 && k_few(runs_users, k);
    out.successes_hidden = out.x > 0 && k_few(hit_users, k);
    return out;
  };

  AbArm A, B;
  if (by_profile) {
    FW_ASSIGN_OR_RETURN(A, profile_arm(a));
    FW_ASSIGN_OR_RETURN(B, profile_arm(b));
    for (const AbArm* arm : {&A, &B})
      if (arm->n <= 0) t.notes.push_back("no swap runs with profile " + arm->label + " in this range");
  } else {
    FW_ASSIGN_OR_RETURN(A, version_arm(a));
    FW_ASSIGN_OR_RETURN(B, version_arm(b));
    for (const std::string& v : {a, b})
      if (std::find(r.versions.begin(), r.versions.end(), v) == r.versions.end())
        t.notes.push_back("no events of version " + v);
  }
  compare(t, o, k, A, B);
  t.summary["by"] = what;
  if (usage)
    t.notes.push_back("successes are the swap runs that set " + usage->option + " = " +
                      (usage->value == "#" ? "(number)" : usage->value) +
                      (by_profile ? " (joined by run id)" : ""));
  if (by_profile)
    t.notes.push_back(
        "users are the distinct users of each profile's runs; runs without a profile are the arm (none)");
  t.notes.push_back(
      "counts are re-weighted by 1/sample_rate; the test treats them as counts, so with sampled "
      "rows the p-value is approximate");
  return t;
}

}  // namespace faceweave
