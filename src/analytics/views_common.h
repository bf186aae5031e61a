// Helpers shared by the view files (views*.cpp): rounding, the date/version/platform range of a view,
// empty states and k-anonymity of cells.
#pragma once

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "analytics/internal.h"
#include "analytics/sketch.h"

namespace faceweave {

namespace analytics {

using nlohmann::json;

inline constexpr int64_t kOpenLow = -1'000'000'000;
inline constexpr int64_t kOpenHigh = 1'000'000'000;

inline double round_to(double v, int digits) {
  double f = std::pow(10.0, digits);
  return std::round(v * f) / f;
}

inline double share(double part, double whole) {
  return whole > 0 ? round_to(part / whole, 4) : 0.0;
}

inline const char* const kWeekdays[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};

inline int resolution_rank(const std::string& r) {
  static const std::vector<std::string> kOrder = {"sd", "720p", "1080p",   "1440p",
                                                  "4k", "8k",   "unknown", "not_recorded"};
  auto it = std::find(kOrder.begin(), kOrder.end(), r);
  return int(it - kOrder.begin());
}

// A resolution bucket as the latency view shows it: '' (an event stored before the property existed, e.g.
// stage.timing's `input`) is "not_recorded".
inline std::string bucket_label(const std::string& bucket) {
  return bucket.empty() ? "not_recorded" : bucket;
}

// The empty state shared by every view.
inline void empty_notes(InsightsTable& t, const std::vector<std::string>& versions,
                        const std::string& version, bool version_missing, bool platform_missing = false,
                        const std::string& platform = "") {
  if (!t.rows.empty()) return;
  if (version_missing) {
    std::string list;
    for (const auto& v : versions) list += (list.empty() ? "" : ", ") + v;
    t.notes.push_back("no events of version " + version +
                      " (versions with data: " + (list.empty() ? "none" : list) + ")");
  } else if (platform_missing) {
    t.notes.push_back("no sessions of platform " + platform + " (see the platforms with data)");
  } else {
    t.notes.push_back("no matching events in this date range");
  }
}

// Version and platform of a rollup row (columns `version`, `platform`).
inline const char* const kCond = "(:v = '' OR version = :v) AND (:pany = 1 OR platform = :p)";

inline std::string cond(const char* alias) {
  std::string a(alias);
  return "(:v = '' OR " + a + ".version = :v) AND (:pany = 1 OR " + a + ".platform = :p)";
}

// k-anonymity: the value of a cell that counts `users`, or "< k" when it counts fewer than k (but some).
inline json k_cell(double users, int k, int* suppressed) {
  if (users > 1e-9 && users < k - 1e-9) {
    ++*suppressed;
    return "< " + std::to_string(k);
  }
  return round_to(users, 3);
}
inline bool k_hidden(double users, int k) {
  return users > 1e-9 && users < k - 1e-9;
}
inline void k_notes(InsightsTable& t, int k, int suppressed) {
  t.summary["k"] = k;
  t.summary["suppressed_cells"] = suppressed;
  if (suppressed > 0)
    t.notes.push_back(std::to_string(suppressed) + " cell(s) counting fewer than k = " + std::to_string(k) +
                      " users are shown as \"< " + std::to_string(k) + "\" (k-anonymity; --k to change)");
}
// The distinct-user set of a rollup cell (a users column, or ax_uset_union of it) at column i.
inline UserSet users_at(sqlite3_stmt* s, int i) {
  const void* p = sqlite3_column_blob(s, i);
  UserSet u;
  u.merge_bytes({static_cast<const char*>(p), p ? size_t(sqlite3_column_bytes(s, i)) : 0});
  return u;
}
// k-anonymity of the event views: a cell whose events come from fewer than k distinct users (stored users,
// not re-weighted; exact below UserSet::kCapacity) is hidden.
inline bool k_few(const UserSet& users, int k) {
  return users.count() < k - 1e-9;
}
// A count shown in a cell of the event views: the number, or "< k" when fewer than k users made it.
inline json k_count(double n, const UserSet& users, int k, int* suppressed) {
  if (n > 1e-9 && k_few(users, k)) {
    ++*suppressed;
    return "< " + std::to_string(k);
  }
  return round_to(n, 3);
}
inline Status check_k(const InsightsFilter& f) {
  if (f.k < 1 || f.k > 1000) return invalid_argument("--k must be a whole number from 1 to 1000");
  return Status::ok();
}

}  // namespace analytics

struct Analytics::Range {
  int64_t d0 = analytics::kOpenLow, d1 = analytics::kOpenHigh;  // days, inclusive
  std::string version;
  bool version_missing = false;
  std::string platform;  // as stored ('' for "unknown")
  bool any_platform = true, platform_missing = false;
  std::string platform_name;
  std::vector<std::string> versions;
  int64_t h0() const { return d0 <= analytics::kOpenLow ? int64_t(analytics::kOpenLow) * 24 : d0 * 24; }
  int64_t h1() const {
    return d1 >= analytics::kOpenHigh ? int64_t(analytics::kOpenHigh) * 24 : d1 * 24 + 23;
  }
  template <typename Q>
  Q& bind(Q& q) const {
    return q.bind(":d0", d0)
        .bind(":d1", d1)
        .bind(":h0", h0())
        .bind(":h1", h1())
        .bind(":v", version)
        .bind(":p", platform)
        .bind(":pany", int64_t(any_platform ? 1 : 0));
  }
};

}  // namespace faceweave

#define FW_EMPTY_NOTES(t, r)                                                                           \
  ::faceweave::analytics::empty_notes(t, r.versions, r.version, r.version_missing, r.platform_missing, \
                                      r.platform_name)
