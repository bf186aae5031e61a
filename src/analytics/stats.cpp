// Experiment statistics: two-proportion z-test with a Wald interval, the sample-ratio-mismatch check and
// the sample-size formula (docs/analytics.md gives the formulas and the textbook values the tests use).
#include <algorithm>
#include <cmath>
#include <utility>

#include "faceweave/analytics.h"

namespace faceweave {

double normal_cdf(double z) {
  return 0.5 * std::erfc(-z / std::sqrt(2.0));
}

double normal_quantile(double p) {
  if (!(p > 0 && p < 1)) return p <= 0 ? -INFINITY : INFINITY;
  // Bisection on the CDF: 200 halvings of [-40, 40] are far below double precision; cheap enough here.
  double lo = -40, hi = 40;
  for (int i = 0; i < 200; ++i) {
    double mid = 0.5 * (lo + hi);
    (normal_cdf(mid) < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

ArmComparison compare_arms(double rate_a, double rate_b, double variance, double null_variance,
                           double alpha) {
  ArmComparison c;
  c.difference = rate_b - rate_a;
  const double half = normal_quantile(1 - alpha / 2) * std::sqrt(std::max(variance, 0.0));
  c.ci_low = c.difference - half;
  c.ci_high = c.difference + half;
  if (null_variance > 0) {
    c.z = c.difference / std::sqrt(null_variance);
    c.p_value = 2 * normal_cdf(-std::fabs(c.z));
  }
  return c;
}

TwoProportionResult two_proportion_test(double xa, double na, double xb, double nb, double alpha) {
  TwoProportionResult r;
  if (na <= 0 || nb <= 0) return r;
  r.rate_a = xa / na;
  r.rate_b = xb / nb;
  // Unpooled variance for the interval, pooled for the test.
  const double pooled = (xa + xb) / (na + nb);
  const ArmComparison c =
      compare_arms(r.rate_a, r.rate_b, r.rate_a * (1 - r.rate_a) / na + r.rate_b * (1 - r.rate_b) / nb,
                   pooled * (1 - pooled) * (1 / na + 1 / nb), alpha);
  r.difference = c.difference;
  r.ci_low = c.ci_low;
  r.ci_high = c.ci_high;
  r.z = c.z;
  r.p_value = c.p_value;
  return r;
}

std::pair<double, double> sample_ratio_check(double a, double b, double share_a) {
  double n = a + b;
  if (n <= 0 || share_a <= 0 || share_a >= 1) return {0, 1};
  double ea = n * share_a, eb = n * (1 - share_a);
  double chi = (a - ea) * (a - ea) / ea + (b - eb) * (b - eb) / eb;
  // One degree of freedom: P(X > chi) = erfc(sqrt(chi / 2)).
  return {chi, std::erfc(std::sqrt(chi / 2))};
}

double sample_size_per_arm(double p1, double p2, double alpha, double power) {
  if (p1 == p2) return INFINITY;
  double za = normal_quantile(1 - alpha / 2), zb = normal_quantile(power);
  double pbar = (p1 + p2) / 2;
  double num = za * std::sqrt(2 * pbar * (1 - pbar)) + zb * std::sqrt(p1 * (1 - p1) + p2 * (1 - p2));
  return std::ceil(num * num / ((p1 - p2) * (p1 - p2)));
}

}  // namespace faceweave
