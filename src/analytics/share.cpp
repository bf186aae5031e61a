// Shares: aggregate counts that pass k (optionally with Laplace noise) and per-day HyperLogLog sketches,
// written by one install and merged across many (include/faceweave/analytics_share.h).
#include <openssl/rand.h>

#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include "analytics/sketch.h"
#include "analytics/views_common.h"
#include "faceweave/analytics_share.h"

namespace faceweave {

using analytics::Hll;
using analytics::Query;
using analytics::UserSet;
using nlohmann::json;

namespace {

constexpr const char* kFormat = "faceweave-share";

Result<uint64_t> random_u64() {
  unsigned char b[8];
  if (RAND_bytes(b, sizeof b) != 1) return internal_error("OpenSSL could not produce random bytes for noise");
  uint64_t r = 0;
  for (unsigned char c : b) r = r << 8 | c;
  return r;
}

std::string random_id() {
  auto r = random_u64();
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", (unsigned long long)(r ? *r : 0));
  return buf;
}

std::string blob_text(sqlite3_stmt* s, int i) {
  const void* p = sqlite3_column_blob(s, i);
  return p ? std::string(static_cast<const char*>(p), size_t(sqlite3_column_bytes(s, i))) : std::string();
}

}  // namespace

Result<double> laplace_noise(double scale) {
  FW_ASSIGN_OR_RETURN(uint64_t r, random_u64());
  // u uniform in (0, 1) from 53 random bits; inverse CDF of the Laplace distribution.
  const double u = (double(r >> 11) + 0.5) / 9007199254740992.0;
  return u < 0.5 ? scale * std::log(2 * u) : -scale * std::log(2 * (1 - u));
}

Result<json> make_share(Analytics& a, const ShareOptions& o) {
  if (o.k < 1 || o.k > 1000) return invalid_argument("--k must be a whole number from 1 to 1000");
  if (!(o.epsilon >= 0) || !std::isfinite(o.epsilon) || o.epsilon > 100)
    return invalid_argument("--epsilon must be a number above 0 (at most 100)");
  int64_t d0 = analytics::kOpenLow, d1 = analytics::kOpenHigh;
  if (!o.from.empty()) {
    FW_ASSIGN_OR_RETURN(d0, parse_iso_day(o.from, "--from"));
  }
  if (!o.to.empty()) {
    FW_ASSIGN_OR_RETURN(d1, parse_iso_day(o.to, "--to"));
  }
  if (d0 > d1) return invalid_argument("--from " + o.from + " is after --to " + o.to);
  FW_RETURN_IF_ERROR(a.refresh());
  telemetry::Database& db = a.database();
  const int k = o.k;
  int suppressed = 0;
  // A count leaves the install only when at least k distinct users made it; with epsilon, noised.
  auto count = [&](double n) -> Result<json> {
    if (o.epsilon <= 0) return json(analytics::round_to(n, 3));
    FW_ASSIGN_OR_RETURN(double noise, laplace_noise(1.0 / o.epsilon));
    return json(analytics::round_to(std::max(0.0, n + noise), 3));
  };
  auto passes = [&](const UserSet& u) {
    if (!analytics::k_few(u, k)) return true;
    ++suppressed;
    return false;
  };
  auto bind = [&](Query& q) -> Query& { return q.bind(":d0", d0).bind(":d1", d1); };

  json share = {{"format", kFormat},
                {"version", kShareFormatVersion},
                {"share_id", random_id()},
                {"from", o.from.empty() ? json(nullptr) : json(o.from)},
                {"to", o.to.empty() ? json(nullptr) : json(o.to)},
                {"k", k},
                {"epsilon", o.epsilon > 0 ? json(o.epsilon) : json(nullptr)}};

  // Swap runs per day and over the range.
  json days = json::array();
  UserSet all_runs_users;
  double all_runs = 0;
  {
    FW_ASSIGN_OR_RETURN(Query q, Query::make(db,
                                             "SELECT day, sum(n), ax_uset_union(users) FROM ax_daily WHERE "
                                             "event = @RUN@ AND k1 = 'swap' AND day BETWEEN :d0 AND :d1 "
                                             "GROUP BY day ORDER BY day"));
    std::vector<std::tuple<int64_t, double, UserSet>> rows;
    FW_RETURN_IF_ERROR(bind(q).each([&](sqlite3_stmt* s) {
      rows.emplace_back(sqlite3_column_int64(s, 0), sqlite3_column_double(s, 1), analytics::users_at(s, 2));
    }));
    for (auto& [day, n, u] : rows) {
      all_runs += n;
      all_runs_users.merge(u);
      if (!passes(u)) continue;
      FW_ASSIGN_OR_RETURN(json c, count(n));
      days.push_back({{"day", iso_day(day)}, {"runs", c}});
    }
  }
  json runs = {{"days", days}};
  if (passes(all_runs_users)) {
    FW_ASSIGN_OR_RETURN(runs["total"], count(all_runs));
  }
  share["runs"] = runs;

  // Options set on swap runs over the range.
  json options = json::array();
  {
    FW_ASSIGN_OR_RETURN(Query q, Query::make(db,
                                             "SELECT k1, k2, sum(n), ax_uset_union(users) FROM ax_daily "
                                             "WHERE event = @OPT@ AND k3 = 'swap' AND day BETWEEN :d0 AND "
                                             ":d1 GROUP BY 1, 2 ORDER BY 1, 2"));
    std::vector<std::tuple<std::string, std::string, double, UserSet>> rows;
    FW_RETURN_IF_ERROR(bind(q).each([&](sqlite3_stmt* s) {
      rows.emplace_back(analytics::column_text(s, 0), analytics::column_text(s, 1),
                        sqlite3_column_double(s, 2), analytics::users_at(s, 3));
    }));
    for (auto& [option, value, n, u] : rows) {
      if (!passes(u)) continue;
      FW_ASSIGN_OR_RETURN(json c, count(n));
      options.push_back({{"option", option}, {"value", value}, {"runs", c}});
    }
  }
  share["options"] = options;

  // Swap runs and failures by provider requested, provider used and fallback, and per error code.
  json errors = json::array();
  {
    FW_ASSIGN_OR_RETURN(Query q, Query::make(db,
                                             "SELECT h.k3, o.name, h.outcome = @OK@, sum(h.n), "
                                             "ax_uset_union(h.users) FROM ax_daily h JOIN outcomes o ON o.id "
                                             "= h.outcome WHERE h.event = @RUN@ AND h.k1 = 'swap' AND h.day "
                                             "BETWEEN :d0 AND :d1 GROUP BY 1, 2, 3"));
    struct Group {
      double runs = 0;
      UserSet runs_users;
      std::map<std::string, std::pair<double, UserSet>> codes;
    };
    std::map<std::tuple<std::string, std::string, bool>, Group> groups;
    FW_RETURN_IF_ERROR(bind(q).each([&](sqlite3_stmt* s) {
      std::string k3 = analytics::column_text(s, 0), requested = k3, used = k3;
      bool fallback = false;
      if (auto gt = k3.find('>'); gt != std::string::npos) {
        requested = k3.substr(0, gt);
        used = k3.substr(gt + 1);
        fallback = true;
      }
      if (requested.empty()) requested = "unknown";
      if (used.empty()) used = "unknown";
      Group& g = groups[{requested, used, fallback}];
      double n = sqlite3_column_double(s, 3);
      UserSet u = analytics::users_at(s, 4);
      std::string code = analytics::column_text(s, 1);
      g.runs += n;
      g.runs_users.merge(u);
      if (!sqlite3_column_int(s, 2) && code != "cancelled") {
        g.codes["all"].first += n;
        g.codes["all"].second.merge(u);
        g.codes[code].first += n;
        g.codes[code].second.merge(u);
      }
    }));
    for (auto& [key, g] : groups) {
      if (!passes(g.runs_users)) continue;
      auto& [requested, used, fallback] = key;
      json codes = json::object();
      for (auto& [code, c] : g.codes) {
        if (!passes(c.second)) continue;
        FW_ASSIGN_OR_RETURN(codes[code], count(c.first));
      }
      FW_ASSIGN_OR_RETURN(json r, count(g.runs));
      errors.push_back({{"requested", requested},
                        {"provider", used},
                        {"fallback", fallback},
                        {"runs", r},
                        {"errors", codes}});
    }
  }
  share["errors"] = errors;

  // Switched-off defaults of the cohort users (weighted user counts, as the defaults view compares with k).
  json defaults = json::object();
  {
    double cohort = 0;
    FW_ASSIGN_OR_RETURN(Query qc, Query::make(db,
                                              "SELECT coalesce(sum(users), 0) FROM ax_cohort WHERE day "
                                              "BETWEEN :d0 AND :d1"));
    FW_RETURN_IF_ERROR(bind(qc).each([&](sqlite3_stmt* s) { cohort = sqlite3_column_double(s, 0); }));
    json switches = json::array();
    if (cohort > 0 && !analytics::k_hidden(cohort, k)) {
      FW_ASSIGN_OR_RETURN(defaults["cohort_users"], count(cohort));
      FW_ASSIGN_OR_RETURN(Query q, Query::make(db,
                                               "SELECT d.option, d.default_value, d.value, "
                                               "coalesce(sum(x.users), 0), coalesce(sum(x.first_users), 0) "
                                               "FROM ax_defaults d JOIN ax_cohort_switch x ON x.option = "
                                               "d.option AND x.value = d.value AND x.day BETWEEN :d0 AND :d1 "
                                               "GROUP BY 1, 2, 3 ORDER BY 1, 3"));
      std::vector<std::tuple<std::string, std::string, std::string, double, double>> rows;
      FW_RETURN_IF_ERROR(bind(q).each([&](sqlite3_stmt* s) {
        rows.emplace_back(analytics::column_text(s, 0), analytics::column_text(s, 1),
                          analytics::column_text(s, 2), sqlite3_column_double(s, 3),
                          sqlite3_column_double(s, 4));
      }));
      for (auto& [option, def, value, users, first] : rows) {
        if (users <= 0) continue;
        if (analytics::k_hidden(users, k)) {
          ++suppressed;
          continue;
        }
        json sw = {{"option", option}, {"default", def}, {"value", value}};
        FW_ASSIGN_OR_RETURN(sw["users"], count(users));
        if (first > 0 && !analytics::k_hidden(first, k)) {
          FW_ASSIGN_OR_RETURN(sw["first_session_users"], count(first));
        } else if (first > 0) {
          ++suppressed;
        }
        switches.push_back(sw);
      }
    } else if (cohort > 0) {
      ++suppressed;
    }
    defaults["switches"] = switches;
  }
  share["defaults"] = defaults;

  // Per-day HyperLogLog sketches of the active users (all versions and platforms), for days of k or more.
  json active = json::array();
  {
    FW_ASSIGN_OR_RETURN(Query q, Query::make(db,
                                             "SELECT day, sketch FROM ax_day_users WHERE day BETWEEN :d0 AND "
                                             ":d1 ORDER BY day"));
    std::map<int64_t, Hll> per_day;
    Status bad = Status::ok();
    FW_RETURN_IF_ERROR(bind(q).each([&](sqlite3_stmt* s) {
      auto h = Hll::parse(blob_text(s, 1));
      if (!h)
        bad = h.status();
      else
        per_day[sqlite3_column_int64(s, 0)].merge(*h);
    }));
    FW_RETURN_IF_ERROR(bad);
    for (auto& [day, h] : per_day) {
      if (h.estimate() < k - 1e-9) {
        ++suppressed;
        continue;
      }
      active.push_back({{"day", iso_day(day)}, {"sketch", analytics::base64_encode(h.serialize())}});
    }
  }
  share["active_users"] = active;
  share["suppressed_cells"] = suppressed;
  return share;
}

}  // namespace faceweave
