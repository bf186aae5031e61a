// Sharing analytics without raw events (docs/privacy.md, "Sharing"): an install writes a share file with
// only aggregate counts whose cells count at least k distinct users (optionally with Laplace noise), plus
// its per-day HyperLogLog sketches of active users; many installs' shares merge into one view (the
// "collective defaults") without any install sending an event or a pseudonym.
//
//   auto a = Analytics::open(dir);
//   ShareOptions o; o.epsilon = 1;
//   auto share = make_share(**a, o);                  // JSON, see docs/analytics.md "Shares"
//   auto view = merge_shares({*share, other_share});  // InsightsTable "merge"
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "faceweave/analytics.h"
#include "faceweave/status.h"

namespace faceweave {

struct ShareOptions {
  std::string from, to;               // ISO days (UTC), inclusive; empty: open-ended
  int k = InsightsFilter::kDefaultK;  // cells of fewer distinct users are left out (1..1000)
  double epsilon = 0;                 // > 0: Laplace noise of scale 1/epsilon on every count; 0: none
};

inline constexpr int kShareFormatVersion = 1;

// The share of the data in `a` (refreshes the rollups first). Invalid options are invalid_argument.
Result<nlohmann::json> make_share(Analytics& a, const ShareOptions& options);

// Combines shares (each checked: format, version, fields) into one table, view "merge": collective
// defaults, option shares, error rates by requested provider and fallback, and the distinct active users
// of the union of every install's days (HyperLogLog merge: a user in several shares counts once).
Result<InsightsTable> merge_shares(const std::vector<nlohmann::json>& shares);

// One draw of Laplace(0, scale) noise from the operating system's CSPRNG (OpenSSL RAND_bytes); exposed
// for tests. Fails only when the CSPRNG does.
Result<double> laplace_noise(double scale);

}  // namespace faceweave
