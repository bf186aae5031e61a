// Statistics of the experiments module (sequential.cpp): per-arm moments of a per-run ratio with users as
// the randomised unit, and the sample-ratio check for any number of arms.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "faceweave/experiments.h"

namespace faceweave::experiments {

// Sums over users of x_u (metric total), n_u (runs) and their squares and product: the ratio sx / sn and its
// delta-method variance (Deng, Knoblich & Lu, "Applying the Delta Method in Metric Analytics", KDD 2018).
struct RatioMoments {
  int64_t users = 0;
  double sx = 0, sn = 0, sxx = 0, snn = 0, sxn = 0;
  // A user's sums went from (x_old, n_old) to (x_new, n_new); n_old = 0 adds the user.
  void add_user_change(double x_old, double n_old, double x_new, double n_new);
  double ratio() const;
  double variance() const;  // of ratio(); 0 with fewer than 2 users
};

// Regularised upper incomplete gamma function Q(a, x).
double gamma_q(double a, double x);
// Chi-square goodness of fit of `observed` units per arm against the planned `shares` ({chi, p}, k - 1 df).
std::pair<double, double> sample_ratio_chi_square(const std::vector<double>& observed,
                                                  const std::vector<double>& shares);

}  // namespace faceweave::experiments
