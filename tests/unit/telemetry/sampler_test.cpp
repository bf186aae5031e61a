// Sampling: the kept share stays within statistical bounds, cohort sampling keeps or drops a user whole,
// and every stored row carries its rate.
#include <cmath>

#include <gtest/gtest.h>

#include "telemetry/pseudonymiser.h"
#include "telemetry/sampler.h"
#include "telemetry_test_support.h"

namespace faceweave::testing {
namespace {

using telemetry::Sampler;
using telemetry::SamplingMode;

// Six standard deviations of a binomial share: a correct sampler fails this about once in 10^9 runs.
double bound(double p, double n) {
  return 6 * std::sqrt(p * (1 - p) / n);
}

TEST(TelemetrySampler, ProbabilisticShareIsWithinBounds) {
  for (double rate : {0.01, 0.1, 0.5, 0.9}) {
    Sampler s(rate, SamplingMode::kProbabilistic, "");
    const int n = 200000;
    int kept = 0;
    for (int i = 0; i < n; ++i) kept += s.keep();
    EXPECT_NEAR(double(kept) / n, rate, bound(rate, n)) << rate;
  }
  Sampler all(1.0, SamplingMode::kProbabilistic, "");
  for (int i = 0; i < 1000; ++i) ASSERT_TRUE(all.keep());
}

TEST(TelemetrySampler, CohortKeepsOrDropsEachUserWhole) {
  std::array<uint8_t, 32> key{};
  key[0] = 7;
  telemetry::Pseudonymiser p(key);
  const double rate = 0.3;
  const int users = 20000;
  int in = 0;
  for (int u = 0; u < users; ++u) {
    std::string user = p.pseudonym("user" + std::to_string(u));
    Sampler s(rate, SamplingMode::kCohort, user);
    bool first = s.keep();
    for (int i = 0; i < 20; ++i) ASSERT_EQ(s.keep(), first) << "user " << u << " was split";
    // The decision belongs to the user, not to one sampler.
    ASSERT_EQ(Sampler(rate, SamplingMode::kCohort, user).keep(), first);
    in += first;
  }
  EXPECT_NEAR(double(in) / users, rate, bound(rate, users));
}

TEST(TelemetrySampler, StoredRowsCarryTheirRateAndTheCountReweights) {
  TempDir dir;
  auto o = telemetry_options(dir);
  o.sample_rate = 0.25;
  o.sampling = "probabilistic";  // per event (the default, run, decides per run or user)
  auto t = Telemetry::create(o);
  ASSERT_TRUE(t.is_ok());
  const int n = 40000;
  for (int i = 0; i < n; ++i) (*t)->record_frame_stage("swap", 1.0, 1920, 1080, i);
  ASSERT_TRUE((*t)->flush().is_ok());
  auto stats = (*t)->stats();
  EXPECT_EQ(stats.committed + stats.sampled_out + stats.dropped, uint64_t(n));
  int64_t stored = sql_int(events_db(dir), "SELECT count(*) FROM events");
  EXPECT_EQ(uint64_t(stored), stats.committed);
  EXPECT_NEAR(double(stored) / n, 0.25, bound(0.25, n));
  EXPECT_EQ(sql_column(events_db(dir), "SELECT DISTINCT sample_rate FROM events"),
            std::vector<std::string>{"0.25"});
  // Re-weighting (count / rate) estimates the real number of events.
  double estimate =
      double(sql_int(events_db(dir), "SELECT CAST(sum(1.0 / sample_rate) AS INTEGER) FROM events"));
  EXPECT_NEAR(estimate / n, 1.0, bound(0.25, n) / 0.25);
}

TEST(TelemetrySampler, CohortSamplingStoresAllOrNothingPerUser) {
  // Find one user inside and one outside a 50% cohort under this install's secret.
  TempDir dir;
  auto o = telemetry_options(dir);
  o.sample_rate = 0.5;
  o.sampling = "cohort";
  ASSERT_TRUE(Telemetry::create(o).is_ok());  // creates the secret
  std::string inside, outside;
  for (int u = 0; (inside.empty() || outside.empty()) && u < 1000; ++u) {
    std::string id = "user" + std::to_string(u);
    bool in = Sampler::cohort_position(*telemetry_pseudonym(dir.path(), id)) < 0.5;
    (in ? inside : outside) = id;
  }
  ASSERT_FALSE(inside.empty());
  ASSERT_FALSE(outside.empty());
  for (const auto& id : {inside, outside}) {
    o.user_id = id;
    auto t = Telemetry::create(o);
    ASSERT_TRUE(t.is_ok());
    for (int i = 0; i < 500; ++i) (*t)->record_stage("detect", 1, 1920, 1080);
    ASSERT_TRUE((*t)->flush().is_ok());
  }
  std::string db = events_db(dir);
  EXPECT_EQ(sql_int(db, "SELECT count(*) FROM events_view WHERE user = '" +
                            *telemetry_pseudonym(dir.path(), inside) + "'"),
            500);
  EXPECT_EQ(sql_int(db, "SELECT count(*) FROM events_view WHERE user = '" +
                            *telemetry_pseudonym(dir.path(), outside) + "'"),
            0);
}

}  // namespace
}  // namespace faceweave::testing
