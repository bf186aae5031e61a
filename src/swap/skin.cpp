#include "swap/skin.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <tuple>
#include <vector>

#include <opencv2/imgproc.hpp>

namespace faceweave::swap {
namespace {

// CIE L*a*b* as floats (L in 0..100) through OpenCV's 8-bit conversion, which works from tables: several
// times faster than the float conversion (a cube root per pixel) and within its 8-bit steps of it (0.4 in
// L*, 1 in a* and b*), well under what any use below can tell.
cv::Mat to_lab(const cv::Mat& bgr) {
  cv::Mat lab8, lab(bgr.size(), CV_32FC3);
  cv::cvtColor(bgr, lab8, cv::COLOR_BGR2Lab);
  for (int y = 0; y < lab8.rows; ++y) {
    const uchar* p = lab8.ptr<uchar>(y);
    float* o = lab.ptr<float>(y);
    for (int x = 0; x < lab8.cols * 3; x += 3) {
      o[x] = float(p[x]) * (100.0f / 255.0f);
      o[x + 1] = float(p[x + 1]) - 128.0f;
      o[x + 2] = float(p[x + 2]) - 128.0f;
    }
  }
  return lab;
}

cv::Mat lab_to_bgr(const cv::Mat& lab) {
  cv::Mat lab8(lab.size(), CV_8UC3), bgr;
  for (int y = 0; y < lab.rows; ++y) {
    const float* p = lab.ptr<float>(y);
    uchar* o = lab8.ptr<uchar>(y);
    for (int x = 0; x < lab.cols * 3; x += 3) {
      o[x] = cv::saturate_cast<uchar>(p[x] * (255.0f / 100.0f));
      o[x + 1] = cv::saturate_cast<uchar>(p[x + 1] + 128.0f);
      o[x + 2] = cv::saturate_cast<uchar>(p[x + 2] + 128.0f);
    }
  }
  cv::cvtColor(lab8, bgr, cv::COLOR_Lab2BGR);
  return bgr;
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

float eye_distance(std::span<const cv::Point2f, 68> p) {
  const cv::Point2f l = (p[36] + p[39]) * 0.5f, r = (p[42] + p[45]) * 0.5f;
  return std::max(1.0f, float(cv::norm(r - l)));
}

cv::Mat smooth(const cv::Mat& m, double sigma) {
  cv::Mat out;
  // Past a few pixels of sigma a Gaussian only passes frequencies a coarser grid holds: blur there and
  // interpolate back (a large kernel at full resolution costs tens of times more for the same result).
  const int f = std::max(1, int(sigma / 2.0));
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
  cv::Mat lab8;
  cv::cvtColor(bgr, lab8, cv::COLOR_BGR2Lab);
  // The distance is a sum of one term per channel: three tables over the 8-bit values.
  // Lightness varies with shading, so it counts a third as much as the chroma.
  float term[3][256];
  for (int v = 0; v < 256; ++v) {
    const float value[3] = {float(v) * (100.0f / 255.0f), float(v) - 128.0f, float(v) - 128.0f};
    for (int c = 0; c < 3; ++c) {
      const float d = (value[c] - model.mean[c]) / model.spread[c] / (c == 0 ? 1.7f : 1.0f);
      term[c][v] = d * d;
    }
  }
  for (int y = 0; y < lab8.rows; ++y) {
    const uchar* p = lab8.ptr<uchar>(y);
    float* o = out.ptr<float>(y);
    for (int x = 0; x < lab8.cols; ++x) {
      const float d = std::sqrt(term[0][p[3 * x]] + term[1][p[3 * x + 1]] + term[2][p[3 * x + 2]]);
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

cv::Mat own_light_zones(cv::Size size, std::span<const cv::Point2f, 68> p, float lips, float grow_share) {
  const float iod = eye_distance(p);
  const int grow = grow_share > 0 ? std::max(1, int(grow_share * iod)) : 0;
  cv::Mat z = cv::Mat::zeros(size, CV_32F);
  fill_hull(z, p, 48, 60, lips, grow);
  fill_hull(z, p, 36, 42, 1.0f, grow);
  fill_hull(z, p, 42, 48, 1.0f, grow);
  return smooth(z, std::max(1.0, double(grow_share > 0 ? grow_share : 0.025f) * iod));
}

cv::Mat fold_zones(cv::Size size, std::span<const cv::Point2f, 68> p) {
  const float iod = eye_distance(p);
  cv::Mat z = cv::Mat::zeros(size, CV_32F);
  // The face's own axes: u along the eye line (towards the face's left in the image), v down the face.
  cv::Point2f u = p[45] - p[36];
  u *= 1.0f / std::max(1e-3f, float(cv::norm(u)));
  cv::Point2f v(-u.y, u.x);
  if (v.dot(p[8] - p[27]) < 0) v = -v;
  // Each side: from just outside the nose wing (a little above it, where the fold starts) out across the
  // cheek's inner part and down past the mouth corner (nasolabial fold), then on towards the jaw
  // (marionette line).
  for (auto [wing, corner, side] : {std::tuple{31, 48, -1.0f}, {35, 54, 1.0f}}) {
    const cv::Point2f out = u * (side * iod);
    const cv::Point2f w = p[size_t(wing)], c = p[size_t(corner)];
    const std::vector<cv::Point> fold = {
        w + out * 0.06f - v * (0.12f * iod), w + out * 0.45f - v * (0.08f * iod),
        c + out * 0.45f + v * (0.12f * iod), c + out * 0.30f + v * (0.45f * iod),
        c + out * 0.04f + v * (0.40f * iod), c + out * 0.06f};
    cv::fillPoly(z, std::vector<std::vector<cv::Point>>{fold}, cv::Scalar(1));
  }
  return smooth(z, std::max(1.0, 0.08 * iod));
}

cv::Mat transfer_lighting(const cv::Mat& face, const cv::Mat& target, const cv::Mat& region,
                          const cv::Mat& weight_lightness, const cv::Mat& weight_colour,
                          const cv::Mat& weight_mid, double sigma, const cv::Mat& weight_fine) {
  const cv::Mat lf = to_lab(face);
  cv::Mat m;
  region.convertTo(m, CV_32F, 1.0 / 255);
  // The normalised Gaussian blur(x * m) / blur(m) is linear in x, so lowpass(target) - lowpass(face) is the
  // low-pass of the difference: one filter per scale instead of two.
  const cv::Mat diff = to_lab(target) - lf;
  auto lowpass = [&m](const cv::Mat& x, double sg) {
    cv::Mat den = cv::max(smooth(m, sg), 1e-3);
    if (x.channels() == 1) return cv::Mat(smooth(x.mul(m), sg) / den);
    cv::Mat m3, den3;
    cv::merge(std::vector<cv::Mat>{m, m, m}, m3);
    cv::merge(std::vector<cv::Mat>{den, den, den}, den3);
    return cv::Mat(smooth(x.mul(m3), sg) / den3);
  };
  const cv::Mat low = lowpass(diff, sigma);
  cv::Mat w3;
  cv::merge(std::vector<cv::Mat>{weight_lightness, weight_colour, weight_colour}, w3);
  cv::Mat out = lf + low.mul(w3);
  if (!weight_mid.empty()) {
    // The middle band is taken for lightness only.
    cv::Mat diff_l, low_l;
    cv::extractChannel(diff, diff_l, 0);
    cv::extractChannel(low, low_l, 0);
    const double mid_sigma = std::max(0.7, sigma / 4);
    const cv::Mat mid_l = lowpass(diff_l, mid_sigma);
    cv::Mat band = (mid_l - low_l).mul(weight_mid);
    // Everything finer than the middle band, down to the pixel: a fold's sharpest edge is a line or two
    // of pixels wide, and a smile's fold that the warp pressed together is sharper still.
    if (!weight_fine.empty()) band += (diff_l - mid_l).mul(weight_fine);
    std::vector<cv::Mat> o_ch;
    cv::split(out, o_ch);
    o_ch[0] += band;
    cv::merge(o_ch, out);
  }
  return lab_to_bgr(out);
}

}  // namespace faceweave::swap
