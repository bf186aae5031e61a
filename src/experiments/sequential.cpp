// The statistics of experiments beyond stats.cpp's: the mixture SPRT and its always-valid p-value, the
// delta-method variance of a per-run ratio when users are randomised, and the chi-square survival function
// for the sample-ratio check with more than two arms (docs/experiments.md gives the formulas and sources).
#include "experiments/stats.h"

#include <algorithm>
#include <cmath>

namespace faceweave {

double msprt_likelihood_ratio(double d, double v, double tau) {
  if (!(v > 0) || !(tau > 0)) return 1;
  const double t2 = tau * tau;
  const double log_lambda = 0.5 * std::log(v / (v + t2)) + d * d * t2 / (2 * v * (v + t2));
  return std::exp(std::min(log_lambda, 700.0));
}

void AlwaysValidP::look(double d, double v, double tau) {
  const double lambda = msprt_likelihood_ratio(d, v, tau);
  if (lambda > 0) p_ = std::min(p_, std::min(1.0, 1.0 / lambda));
}

namespace experiments {

void RatioMoments::add_user_change(double x_old, double n_old, double x_new, double n_new) {
  if (n_old == 0) ++users;
  sx += x_new - x_old;
  sn += n_new - n_old;
  sxx += x_new * x_new - x_old * x_old;
  snn += n_new * n_new - n_old * n_old;
  sxn += x_new * n_new - x_old * n_old;
}

double RatioMoments::ratio() const {
  return sn > 0 ? sx / sn : 0;
}

double RatioMoments::variance() const {
  const double n = double(users);
  if (n < 2 || sn <= 0) return 0;
  const double mx = sx / n, mn = sn / n;
  // Sample (co)variances of the per-user sums.
  const double vx = (sxx - n * mx * mx) / (n - 1), vn = (snn - n * mn * mn) / (n - 1),
               cxn = (sxn - n * mx * mn) / (n - 1);
  const double v = (vx / (mn * mn) - 2 * mx * cxn / (mn * mn * mn) + mx * mx * vn / (mn * mn * mn * mn)) / n;
  return v > 0 ? v : 0;
}

// Regularised upper incomplete gamma Q(a, x): a series below a + 1, a continued fraction above (Lentz).
double gamma_q(double a, double x) {
  if (x <= 0) return 1;
  const double log_front = a * std::log(x) - x - std::lgamma(a);
  if (x < a + 1) {
    double term = 1 / a, sum = term;
    for (int k = 1; k < 500; ++k) {
      term *= x / (a + k);
      sum += term;
      if (std::fabs(term) < std::fabs(sum) * 1e-15) break;
    }
    return std::max(0.0, 1 - sum * std::exp(log_front));
  }
  const double tiny = 1e-300;
  double b = x + 1 - a, c = 1 / tiny, d = 1 / b, h = d;
  for (int i = 1; i < 500; ++i) {
    const double an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (std::fabs(d) < tiny) d = tiny;
    c = b + an / c;
    if (std::fabs(c) < tiny) c = tiny;
    d = 1 / d;
    const double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1) < 1e-15) break;
  }
  return std::min(1.0, std::exp(log_front) * h);
}

std::pair<double, double> sample_ratio_chi_square(const std::vector<double>& observed,
                                                  const std::vector<double>& shares) {
  double n = 0;
  for (double o : observed) n += o;
  if (n <= 0 || observed.size() < 2 || observed.size() != shares.size()) return {0, 1};
  double chi = 0;
  for (size_t i = 0; i < observed.size(); ++i) {
    const double e = n * shares[i];
    if (e > 0) chi += (observed[i] - e) * (observed[i] - e) / e;
  }
  return {chi, gamma_q(0.5 * double(observed.size() - 1), 0.5 * chi)};
}

}  // namespace experiments
}  // namespace faceweave
