#include "swap/face_paste.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <opencv2/imgproc.hpp>

namespace faceweave::swap {

cv::Mat box_mask(int size, float blur, const std::array<float, 4>& padding) {
  const int blur_amount = int(float(size) * 0.5f * blur);
  const int blur_area = std::max(blur_amount / 2, 1);
  cv::Mat m(size, size, CV_32F, cv::Scalar(1));
  auto band = [&](float percent) {
    return std::min(size, std::max(blur_area, int(float(size) * percent / 100)));
  };
  const int top = band(padding[0]), right = band(padding[1]), bottom = band(padding[2]),
            left = band(padding[3]);
  m.rowRange(0, top).setTo(0);
  m.rowRange(size - bottom, size).setTo(0);
  m.colRange(0, left).setTo(0);
  m.colRange(size - right, size).setTo(0);
  if (blur_amount > 0) cv::GaussianBlur(m, m, cv::Size(0, 0), blur_amount * 0.25);
  return m;
}

cv::Mat area_mask(int size, std::span<const cv::Point2f> crop_points, float blur) {
  cv::Mat m = cv::Mat::zeros(size, size, CV_32F);
  std::vector<cv::Point2f> pts(crop_points.begin(), crop_points.end());
  std::vector<cv::Point2f> hull;
  cv::convexHull(pts, hull);
  std::vector<cv::Point> poly;
  for (const auto& p : hull) poly.emplace_back(int(std::lround(p.x)), int(std::lround(p.y)));
  cv::fillConvexPoly(m, poly, cv::Scalar(1), cv::LINE_AA);
  const double sigma = std::max(0.5, double(size) * 0.5 * blur * 0.25);
  cv::GaussianBlur(m, m, cv::Size(0, 0), sigma);
  // Feather inwards: the mask reaches 1 inside the hull and 0 at its edge.
  m = (m - 0.5) * 2;
  cv::max(m, 0, m);
  return m;
}

std::vector<cv::Mat> implode_pixel_boost(const cv::Mat& crop, int n) {
  const int s = crop.rows / n;
  std::vector<cv::Mat> tiles;
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      cv::Mat t(s, s, crop.type());
      for (int y = 0; y < s; ++y)
        for (int x = 0; x < s; ++x) std::memcpy(t.ptr(y, x), crop.ptr(y * n + i, x * n + j), crop.elemSize());
      tiles.push_back(t);
    }
  return tiles;
}

cv::Mat explode_pixel_boost(const std::vector<cv::Mat>& tiles, int n) {
  const int s = tiles.at(0).rows;
  cv::Mat crop(s * n, s * n, tiles[0].type());
  for (int i = 0; i < n; ++i)
    for (int j = 0; j < n; ++j) {
      const cv::Mat& t = tiles[size_t(i * n + j)];
      for (int y = 0; y < s; ++y)
        for (int x = 0; x < s; ++x) std::memcpy(crop.ptr(y * n + i, x * n + j), t.ptr(y, x), crop.elemSize());
    }
  return crop;
}

PasteResult paste_back(cv::Mat& frame, const cv::Mat& crop, const cv::Mat& crop_mask, const cv::Mat& matrix) {
  PasteResult out;
  cv::Mat inverse;
  cv::invertAffineTransform(matrix, inverse);
  std::vector<cv::Point2f> corners = {
      {0, 0}, {float(crop.cols), 0}, {float(crop.cols), float(crop.rows)}, {0, float(crop.rows)}};
  std::vector<cv::Point2f> mapped;
  cv::transform(corners, mapped, inverse);
  float x0 = mapped[0].x, y0 = mapped[0].y, x1 = x0, y1 = y0;
  for (const auto& p : mapped) {
    x0 = std::min(x0, p.x);
    y0 = std::min(y0, p.y);
    x1 = std::max(x1, p.x);
    y1 = std::max(y1, p.y);
  }
  const int left = std::clamp(int(std::floor(x0)), 0, frame.cols),
            top = std::clamp(int(std::floor(y0)), 0, frame.rows);
  const int right = std::clamp(int(std::ceil(x1)), 0, frame.cols),
            bottom = std::clamp(int(std::ceil(y1)), 0, frame.rows);
  if (right <= left || bottom <= top) return out;
  out.region = cv::Rect(left, top, right - left, bottom - top);
  cv::Mat shifted = inverse.clone();
  shifted.at<double>(0, 2) -= left;
  shifted.at<double>(1, 2) -= top;
  cv::Mat back, weight;
  cv::warpAffine(crop, back, shifted, out.region.size(), cv::INTER_LINEAR, cv::BORDER_REPLICATE);
  cv::warpAffine(crop_mask, weight, shifted, out.region.size(), cv::INTER_LINEAR, cv::BORDER_CONSTANT,
                 cv::Scalar(0));
  cv::min(cv::max(weight, 0), 1, weight);
  cv::Mat roi = frame(out.region);
  for (int y = 0; y < roi.rows; ++y) {
    const float* w = weight.ptr<float>(y);
    const cv::Vec3b* b = back.ptr<cv::Vec3b>(y);
    cv::Vec3b* o = roi.ptr<cv::Vec3b>(y);
    for (int x = 0; x < roi.cols; ++x) {
      if (w[x] <= 0) continue;
      for (int c = 0; c < 3; ++c)
        o[x][c] = cv::saturate_cast<uchar>(o[x][c] + (float(b[x][c]) - o[x][c]) * w[x]);
    }
  }
  out.mask = weight;
  return out;
}

}  // namespace faceweave::swap
