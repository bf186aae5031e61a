// Merging shares from many installs (analytics_share.h): counts add up key by key, the per-day HyperLogLog
// sketches merge register by register, so a user present in several shares counts once among the active
// users.
#include <cmath>
#include <map>
#include <set>
#include <tuple>

#include "analytics/sketch.h"
#include "analytics/views_common.h"
#include "faceweave/analytics_share.h"

namespace faceweave {

using analytics::Hll;
using analytics::round_to;
using analytics::share;
using nlohmann::json;

namespace {

Status bad_share(size_t i, const std::string& why) {
  return invalid_argument("share " + std::to_string(i + 1) + " is not a faceweave share: " + why);
}

double number(const json& j) {
  return j.is_number() ? j.get<double>() : 0.0;
}

// How a stored option value is shown (as the usage view does).
std::string shown_value(const std::string& v) {
  if (v == "#") return "(number)";
  if (v.empty()) return "(set)";
  if (v == "gfpgan_1_4") return "gfpgan_1.4";
  return v;
}

Status check(const json& s, size_t i) {
  if (!s.is_object()) return bad_share(i, "not a JSON object");
  if (s.value("format", "") != "faceweave-share") return bad_share(i, "its format is not faceweave-share");
  if (!s.contains("version") || !s["version"].is_number_integer() || s["version"] != kShareFormatVersion)
    return bad_share(i, "share format version " + (s.contains("version") ? s["version"].dump() : "missing") +
                            " (this faceweave reads version " + std::to_string(kShareFormatVersion) + ")");
  for (const char* key : {"share_id"})
    if (!s.contains(key) || !s[key].is_string()) return bad_share(i, std::string(key) + " is missing");
  for (const char* key : {"options", "errors", "active_users"})
    if (!s.contains(key) || !s[key].is_array()) return bad_share(i, std::string(key) + " must be an array");
  for (const char* key : {"runs", "defaults"})
    if (!s.contains(key) || !s[key].is_object()) return bad_share(i, std::string(key) + " must be an object");
  return Status::ok();
}

}  // namespace

Result<InsightsTable> merge_shares(const std::vector<json>& shares) {
  if (shares.empty()) return invalid_argument("insights merge needs at least one share file");
  std::set<std::string> ids;
  double runs_total = 0, cohort = 0;
  std::map<std::pair<std::string, std::string>, double> options;
  std::map<std::tuple<std::string, std::string, std::string>, std::pair<double, double>> switches;
  struct Errors {
    double runs = 0;
    std::map<std::string, double> codes;
  };
  std::map<std::tuple<std::string, std::string, bool>, Errors> errors;
  std::map<std::string, Hll> days;
  Hll all;
  double summed_installs = 0;  // each share's own distinct users, added up (what counting would give)
  int k = 1;
  json epsilons = json::array();
  try {
    for (size_t i = 0; i < shares.size(); ++i) {
      const json& s = shares[i];
      FW_RETURN_IF_ERROR(check(s, i));
      if (!ids.insert(s["share_id"].get<std::string>()).second)
        return invalid_argument("share " + std::to_string(i + 1) + " was given twice (share_id " +
                                s["share_id"].get<std::string>() + "): its counts would be added twice");
      k = std::max(k, s.value("k", 1));
      epsilons.push_back(s.contains("epsilon") ? s["epsilon"] : json(nullptr));
      runs_total += number(s["runs"].value("total", json(0)));
      for (const json& o : s["options"])
        options[{o.at("option").get<std::string>(), o.at("value").get<std::string>()}] +=
            number(o.at("runs"));
      for (const json& e : s["errors"]) {
        Errors& g = errors[{e.at("requested").get<std::string>(), e.at("provider").get<std::string>(),
                            e.at("fallback").get<bool>()}];
        g.runs += number(e.at("runs"));
        for (auto& [code, n] : e.at("errors").items()) g.codes[code] += number(n);
      }
      const json& d = s["defaults"];
      cohort += number(d.value("cohort_users", json(0)));
      if (d.contains("switches"))
        for (const json& sw : d["switches"]) {
          auto& [users, first] =
              switches[{sw.at("option").get<std::string>(), sw.at("default").get<std::string>(),
                        sw.at("value").get<std::string>()}];
          users += number(sw.at("users"));
          first += number(sw.value("first_session_users", json(0)));
        }
      Hll mine;
      for (const json& a : s["active_users"]) {
        FW_ASSIGN_OR_RETURN(std::string bytes, analytics::base64_decode(a.at("sketch").get<std::string>()));
        auto h = Hll::parse(bytes);
        if (!h) return bad_share(i, h.status().message());
        std::string day = a.at("day").get<std::string>();
        FW_RETURN_IF_ERROR(parse_iso_day(day, "day").status());
        days[day].merge(*h);
        mine.merge(*h);
      }
      summed_installs += std::round(mine.estimate());
      all.merge(mine);
    }
  } catch (const json::exception& e) {
    return invalid_argument(std::string("a share has a missing or mistyped field: ") + e.what());
  }

  InsightsTable t;
  t.view = "merge";
  t.title = "Merged shares of " + std::to_string(shares.size()) +
            " install(s): collective defaults, option use, errors by provider, distinct active users";
  t.columns = {"metric", "key", "count", "of", "share"};
  for (auto& [key, c] : switches) {
    auto& [option, def, value] = key;
    t.rows.push_back(json::array({"defaults", option + "=" + value + " (default " + def + ")",
                                  round_to(c.first, 3), round_to(cohort, 3),
                                  cohort > 0 ? json(std::min(1.0, share(c.first, cohort))) : json(nullptr)}));
    t.rows.push_back(json::array(
        {"defaults_first_session", option + "=" + value, round_to(c.second, 3), round_to(cohort, 3),
         cohort > 0 ? json(std::min(1.0, share(c.second, cohort))) : json(nullptr)}));
  }
  for (auto& [key, n] : options)
    t.rows.push_back(json::array(
        {"usage", key.first + "=" + shown_value(key.second), round_to(n, 3), round_to(runs_total, 3),
         runs_total > 0 ? json(std::min(1.0, share(n, runs_total))) : json(nullptr)}));
  for (auto& [key, g] : errors) {
    auto& [requested, used, fallback] = key;
    std::string name =
        "requested=" + requested + " used=" + used + " fallback=" + (fallback ? "true" : "false");
    for (auto& [code, n] : g.codes)
      t.rows.push_back(
          json::array({code == "all" ? "errors" : "errors_by_code",
                       code == "all" ? name : name + " code=" + code, round_to(n, 3), round_to(g.runs, 3),
                       g.runs > 0 ? json(std::min(1.0, share(n, g.runs))) : json(nullptr)}));
    if (!g.codes.count("all")) t.rows.push_back(json::array({"errors", name, 0, round_to(g.runs, 3), 0.0}));
  }
  for (auto& [day, h] : days)
    t.rows.push_back(json::array({"active_users", day, std::round(h.estimate()), nullptr, nullptr}));
  const double total = std::round(all.estimate());
  const double z95 = 1.96 * Hll::kStandardError;
  t.summary = {{"installs", shares.size()},
               {"runs", round_to(runs_total, 3)},
               {"cohort_users", round_to(cohort, 3)},
               {"active_users", total},
               {"active_users_ci95_low", std::floor(total * (1 - z95))},
               {"active_users_ci95_high", std::ceil(total * (1 + z95))},
               {"active_users_summed_per_install", summed_installs},
               {"relative_standard_error", Hll::kStandardError},
               {"k", k},
               {"epsilon", epsilons}};
  t.notes.push_back(
      "each install left out the cells of fewer than k users before sharing, so a merged count is a lower "
      "bound where some installs had too few users for it");
  t.notes.push_back(
      "active_users merges the per-day HyperLogLog sketches (a user seen in several shares or on several "
      "days counts once; relative standard error 0.81%); active_users_summed_per_install adds each "
      "share's own count");
  bool noisy = false;
  for (const json& e : epsilons) noisy = noisy || !e.is_null();
  if (noisy)
    t.notes.push_back(
        "some shares carry Laplace noise (epsilon): their counts are unbiased but noisy, shares may be "
        "slightly off and are clamped to [0, 1]");
  return t;
}

}  // namespace faceweave
