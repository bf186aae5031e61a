// Experiment statistics against published values.
#include <gtest/gtest.h>

#include "faceweave/analytics.h"

namespace faceweave {
namespace {

TEST(AnalyticsStats, NormalQuantiles) {
  EXPECT_NEAR(normal_quantile(0.975), 1.959964, 1e-6);
  EXPECT_NEAR(normal_quantile(0.8), 0.841621, 1e-6);
  EXPECT_NEAR(normal_cdf(1.959964), 0.975, 1e-6);
}

// Agresti, Categorical Data Analysis (Physicians' Health Study): myocardial infarction in 189 of 11034 on
// placebo and 104 of 11037 on aspirin. Published: difference 0.0077, 95% CI (0.005, 0.011), z = 5.0.
TEST(AnalyticsStats, TwoProportionAspirin) {
  TwoProportionResult r = two_proportion_test(189, 11034, 104, 11037);
  EXPECT_NEAR(r.difference, -0.0077, 0.00005);
  EXPECT_NEAR(r.ci_low, -0.0107, 0.0001);
  EXPECT_NEAR(r.ci_high, -0.0047, 0.0001);
  EXPECT_NEAR(r.z, -5.00, 0.01);
  EXPECT_LT(r.p_value, 1e-6);
  EXPECT_GT(r.p_value, 1e-7);
}

TEST(AnalyticsStats, EqualRatesAreNotSignificant) {
  TwoProportionResult r = two_proportion_test(50, 1000, 50, 1000);
  EXPECT_DOUBLE_EQ(r.difference, 0);
  EXPECT_NEAR(r.p_value, 1.0, 1e-12);
}

// Fleiss (no continuity correction): 0.10 -> 0.15 at alpha 0.05 two-sided, power 0.8 needs 686 per group.
TEST(AnalyticsStats, SampleSize) {
  EXPECT_EQ(sample_size_per_arm(0.10, 0.15, 0.05, 0.8), 686);
  EXPECT_GT(sample_size_per_arm(0.10, 0.12), sample_size_per_arm(0.10, 0.15));
}

// 5100 vs 4900 against a 50/50 plan: chi-square 4.0, p = 0.0455.
TEST(AnalyticsStats, SampleRatioMismatch) {
  auto [chi, p] = sample_ratio_check(5100, 4900, 0.5);
  EXPECT_NEAR(chi, 4.0, 1e-9);
  EXPECT_NEAR(p, 0.0455, 0.0001);
  auto [chi2, p2] = sample_ratio_check(5000, 5000, 0.5);
  EXPECT_EQ(chi2, 0);
  EXPECT_NEAR(p2, 1, 1e-12);
}

}  // namespace
}  // namespace faceweave
