#include "swap/sharpness.h"

#include <cmath>
#include <vector>

#include <opencv2/imgproc.hpp>

namespace faceweave::swap {
namespace {

cv::Mat grey32(const cv::Mat& bgr) {
  cv::Mat g, f;
  cv::cvtColor(bgr, g, cv::COLOR_BGR2GRAY);
  g.convertTo(f, CV_32F);
  return f;
}

double ratio_of_grey(const cv::Mat& g, const cv::Mat& in) {
  cv::Mat b1, b3;
  cv::GaussianBlur(g, b1, cv::Size(0, 0), 1.0);
  cv::GaussianBlur(b1, b3, cv::Size(0, 0), std::sqrt(3.0 * 3.0 - 1.0));
  cv::Mat fine = g - b1, mid = b1 - b3;
  const double ef = cv::mean(fine.mul(fine), in)[0], em = cv::mean(mid.mul(mid), in)[0];
  return em > 1e-6 ? std::sqrt(ef / em) : 0.0;
}

cv::Mat as_mask(const cv::Mat& region) {
  if (region.type() == CV_8U) return region;
  cv::Mat m = region > 0;
  return m;
}

}  // namespace

double detail_ratio(const cv::Mat& bgr, const cv::Mat& region) {
  return ratio_of_grey(grey32(bgr), as_mask(region));
}

cv::Mat match_sharpness(const cv::Mat& face, const cv::Mat& target, const cv::Mat& region, double* sigma_out,
                        const cv::Mat& keep) {
  if (sigma_out) *sigma_out = 0;
  const cv::Mat in = as_mask(region);
  // Too few pixels to judge: leave the face as it is.
  if (cv::countNonZero(in) < 64) return face;
  const double want = ratio_of_grey(grey32(target), in);
  const cv::Mat g = grey32(face);
  // A margin, so that noise in the two estimates does not soften a face that is as crisp as its target.
  if (ratio_of_grey(g, in) <= want * 1.1) return face;
  double chosen = 0;
  for (double sigma : {0.5, 0.7, 0.9, 1.2, 1.6, 2.1, 3.0}) {
    cv::Mat b;
    cv::GaussianBlur(g, b, cv::Size(0, 0), sigma);
    chosen = sigma;
    if (ratio_of_grey(b, in) <= want) break;
  }
  cv::Mat out;
  cv::GaussianBlur(face, out, cv::Size(0, 0), chosen);
  if (sigma_out) *sigma_out = chosen;
  if (!keep.empty()) {
    cv::Mat f, o, w3;
    face.convertTo(f, CV_32F);
    out.convertTo(o, CV_32F);
    cv::merge(std::vector<cv::Mat>{keep, keep, keep}, w3);
    cv::Mat mixed = o + (f - o).mul(w3);
    mixed.convertTo(out, CV_8U);
  }
  return out;
}

}  // namespace faceweave::swap
