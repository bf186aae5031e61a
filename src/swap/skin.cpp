#include "swap/skin.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <opencv2/imgproc.hpp>

namespace faceweave::swap {
namespace {

cv::Mat to_lab(const cv::Mat& bgr) {
  cv::Mat f, lab;
  bgr.convertTo(f, CV_32F, 1.0 / 255);
  cv::cvtColor(f, lab, cv::COLOR_BGR2Lab);
  return lab;
}

float eye_distance(std::span<const cv::Point2f, 68> p) {
  const cv::Point2f l = (p[36] + p[39]) * 0.5f, r = (p[42] + p[45]) * 0.5f;
  return std::max(1.0f, float(cv::norm(r - l)));
}

void fill_hull(cv::Mat& m, std::span<const cv::Point2f, 68> p, int from, int to, float value, int grow = 0) {
  std::vector<cv::Point> pts, hull;
  for (int i = from; i < to; ++i) pts.emplace_back(cvRound(p[size_t(i)].x), cvRound(p[size_t(i)].y));
  cv::convexHull(pts, hull);
  cv::fillConvexPoly(m, hull, cv::Scalar(value));
  // A convex polygon dilated by a disc of radius `grow` is the polygon plus its outline drawn `grow` wide on
  // each side (thick lines have round ends): the same as cv::dilate with an elliptic element, without its
  // cost per pixel of the element's area.
  if (grow > 0) cv::polylines(m, hull, true, cv::Scalar(value), 2 * grow + 1, cv::LINE_8);
}

}  // namespace

cv::Mat smooth(const cv::Mat& m, double sigma) {
  cv::Mat out;
  // Past a few pixels of sigma a Gaussian only passes frequencies a coarser grid holds: blur there and
  // interpolate back (a large kernel at full resolution costs tens of times more for the same result).
  const int f = std::max(1, int(sigma / 3.0));
  if (f == 1 || std::min(m.cols, m.rows) < 8 * f) {
    cv::GaussianBlur(m, out, cv::Size(0, 0), sigma);
    return out;
  }
  const cv::Size small(std::max(1, cvRound(double(m.cols) / f)), std::max(1, cvRound(double(m.rows) / f)));
  cv::Mat s;
  cv::resize(m, s, small, 0, 0, cv::INTER_AREA);
  // Area averaging over f pixels already blurs by about f / sqrt(12) pixels.
  const double rest = std::sqrt(std::max(0.25, sigma * sigma - f * f / 12.0)) / f;
  cv::GaussianBlur(s, s, cv::Size(0, 0), rest, rest, cv::BORDER_REFLECT);
  cv::resize(s, out, m.size(), 0, 0, cv::INTER_LINEAR);
  return out;
}

SkinModel fit_skin(const cv::Mat& bgr, std::span<const cv::Point2f, 68> p) {
  SkinModel model;
  const float iod = eye_distance(p);
  cv::Mat sample = cv::Mat::zeros(bgr.size(), CV_8U);
  const int r = std::max(1, int(0.16f * iod));
  cv::circle(sample, (p[2] + p[31]) * 0.5f, r, cv::Scalar(255), cv::FILLED);
  cv::circle(sample, (p[14] + p[35]) * 0.5f, r, cv::Scalar(255), cv::FILLED);
  cv::circle(sample, (p[28] + p[29]) * 0.5f, std::max(1, r / 2), cv::Scalar(255), cv::FILLED);
  const cv::Rect box = cv::boundingRect(sample);
  if (box.area() == 0) return model;
  const cv::Mat lab = to_lab(bgr(box));
  const cv::Mat m = sample(box);
  std::vector<float> ch[3];
  for (int y = 0; y < lab.rows; ++y)
    for (int x = 0; x < lab.cols; ++x)
      if (m.at<uchar>(y, x)) {
        const cv::Vec3f v = lab.at<cv::Vec3f>(y, x);
        for (int c = 0; c < 3; ++c) ch[c].push_back(v[c]);
      }
  if (ch[0].size() < 8) return model;
  // Median and median absolute deviation: a stray highlight, mole or strand of hair does not shift them.
  static constexpr float kFloor[3] = {9.0f, 3.0f, 3.5f};
  for (int c = 0; c < 3; ++c) {
    auto& v = ch[c];
    std::nth_element(v.begin(), v.begin() + long(v.size() / 2), v.end());
    const float med = v[v.size() / 2];
    std::vector<float> dev(v.size());
    for (size_t i = 0; i < v.size(); ++i) dev[i] = std::abs(v[i] - med);
    std::nth_element(dev.begin(), dev.begin() + long(dev.size() / 2), dev.end());
    model.mean[c] = med;
    model.spread[c] = std::max(kFloor[c], 1.4826f * dev[dev.size() / 2]);
  }
  model.valid = true;
  return model;
}

cv::Mat skin_likelihood(const cv::Mat& bgr, const SkinModel& model) {
  cv::Mat out(bgr.size(), CV_32F, cv::Scalar(1));
  if (!model.valid) return out;
  const cv::Mat lab = to_lab(bgr);
  for (int y = 0; y < lab.rows; ++y) {
    const cv::Vec3f* p = lab.ptr<cv::Vec3f>(y);
    float* o = out.ptr<float>(y);
    for (int x = 0; x < lab.cols; ++x) {
      // Lightness varies with shading, so it counts a third as much as the chroma.
      const float dl = (p[x][0] - model.mean[0]) / model.spread[0] / 1.7f;
      const float da = (p[x][1] - model.mean[1]) / model.spread[1];
      const float db = (p[x][2] - model.mean[2]) / model.spread[2];
      const float d = std::sqrt(dl * dl + da * da + db * db);
      o[x] = std::clamp(1.0f - (d - 3.0f) / 2.0f, 0.0f, 1.0f);
    }
  }
  return out;
}

cv::Mat feature_zones(cv::Size size, std::span<const cv::Point2f, 68> p, float nose, float grow_share) {
  const float iod = eye_distance(p);
  const int grow = std::max(1, int(grow_share * iod));
  cv::Mat z = cv::Mat::zeros(size, CV_32F);
  for (auto [a, b] : {std::pair{17, 22}, {22, 27}, {36, 42}, {42, 48}, {48, 60}})
    fill_hull(z, p, a, b, 1.0f, grow);
  if (nose > 0) {
    cv::Mat n = cv::Mat::zeros(size, CV_32F);
    fill_hull(n, p, 27, 36, 1.0f, grow);
    fill_hull(n, p, 31, 36, 1.0f, grow);
    z = cv::max(z, n * nose);
  }
  // Nostrils are features too: the dark of a nostril is shape, not light.
  fill_hull(z, p, 31, 36, 1.0f);
  return smooth(z, std::max(1.0, 0.08 * iod));
}

cv::Mat own_light_zones(cv::Size size, std::span<const cv::Point2f, 68> p, float lips) {
  const float iod = eye_distance(p);
  const int grow = std::max(1, int(0.05f * iod));
  cv::Mat z = cv::Mat::zeros(size, CV_32F);
  fill_hull(z, p, 48, 60, lips, grow);
  fill_hull(z, p, 36, 42, 1.0f, grow);
  fill_hull(z, p, 42, 48, 1.0f, grow);
  return smooth(z, std::max(1.0, 0.05 * iod));
}

cv::Mat transfer_lighting(const cv::Mat& face, const cv::Mat& target, const cv::Mat& region,
                          const cv::Mat& weight_lightness, const cv::Mat& weight_colour,
                          const cv::Mat& weight_mid, double sigma) {
  cv::Mat lf = to_lab(face), lt = to_lab(target);
  cv::Mat m;
  region.convertTo(m, CV_32F, 1.0 / 255);
  // Gaussian of x normalised over the region: blur(x * m) / blur(m), per channel.
  auto lowpass = [&m](const cv::Mat& x, double sg) {
    const cv::Mat den = cv::max(smooth(m, sg), 1e-3);
    std::vector<cv::Mat> ch;
    cv::split(x, ch);
    for (auto& c : ch) c = smooth(c.mul(m), sg) / den;
    cv::Mat out;
    cv::merge(ch, out);
    return out;
  };
  const cv::Mat low_t = lowpass(lt, sigma), low_f = lowpass(lf, sigma);
  cv::Mat w3;
  cv::merge(std::vector<cv::Mat>{weight_lightness, weight_colour, weight_colour}, w3);
  cv::Mat out = lf + (low_t - low_f).mul(w3);
  if (!weight_mid.empty()) {
    // The middle band is taken for lightness only.
    std::vector<cv::Mat> t_ch, f_ch, lo_t, lo_f, o_ch;
    cv::split(lt, t_ch);
    cv::split(lf, f_ch);
    cv::split(low_t, lo_t);
    cv::split(low_f, lo_f);
    const double mid_sigma = std::max(0.7, sigma / 4);
    const cv::Mat band = (lowpass(t_ch[0], mid_sigma) - lo_t[0]) - (lowpass(f_ch[0], mid_sigma) - lo_f[0]);
    cv::split(out, o_ch);
    o_ch[0] += band.mul(weight_mid);
    cv::merge(o_ch, out);
  }
  cv::Mat bgr;
  cv::cvtColor(out, bgr, cv::COLOR_Lab2BGR);
  bgr.convertTo(bgr, CV_8UC3, 255.0);
  return bgr;
}

}  // namespace faceweave::swap
