#include "swap/warp.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include <opencv2/imgproc.hpp>

namespace faceweave::swap {

std::vector<Triangle> triangulate(std::span<const cv::Point2f> points) {
  std::vector<Triangle> out;
  if (points.size() < 3) return out;
  float min_x = std::numeric_limits<float>::max(), min_y = min_x, max_x = -min_x, max_y = -min_x;
  for (const auto& p : points) {
    min_x = std::min(min_x, p.x), min_y = std::min(min_y, p.y);
    max_x = std::max(max_x, p.x), max_y = std::max(max_y, p.y);
  }
  const cv::Rect rect(int(std::floor(min_x)) - 2, int(std::floor(min_y)) - 2,
                      int(std::ceil(max_x - min_x)) + 5, int(std::ceil(max_y - min_y)) + 5);
  cv::Subdiv2D subdiv(rect);
  for (const auto& p : points) subdiv.insert(p);
  std::vector<cv::Vec6f> tris;
  subdiv.getTriangleList(tris);
  auto index_of = [&](float x, float y) {
    int best = -1;
    float best_d = 0.5f;  // a vertex must be one of our points, not a virtual outer vertex
    for (size_t i = 0; i < points.size(); ++i) {
      float d = std::abs(points[i].x - x) + std::abs(points[i].y - y);
      if (d < best_d) best_d = d, best = int(i);
    }
    return best;
  };
  for (const auto& t : tris) {
    Triangle tri = {index_of(t[0], t[1]), index_of(t[2], t[3]), index_of(t[4], t[5])};
    if (tri[0] < 0 || tri[1] < 0 || tri[2] < 0) continue;
    if (tri[0] == tri[1] || tri[1] == tri[2] || tri[0] == tri[2]) continue;
    out.push_back(tri);
  }
  return out;
}

WarpResult warp_piecewise_affine(const cv::Mat& source, std::span<const cv::Point2f> sp,
                                 std::span<const cv::Point2f> tp, const std::vector<Triangle>& triangles,
                                 const cv::Rect& roi) {
  cv::Mat map_x(roi.size(), CV_32F, cv::Scalar(-1)), map_y(roi.size(), CV_32F, cv::Scalar(-1));
  cv::Mat coverage = cv::Mat::zeros(roi.size(), CV_8U);
  cv::Mat tri_mask;
  for (const auto& t : triangles) {
    cv::Point2f dst[3], src[3];
    for (int k = 0; k < 3; ++k) {
      dst[k] = tp[size_t(t[size_t(k)])] - cv::Point2f(float(roi.x), float(roi.y));
      src[k] = sp[size_t(t[size_t(k)])];
    }
    const double area = (dst[1] - dst[0]).cross(dst[2] - dst[0]);
    if (std::abs(area) < 1e-3) continue;
    cv::Mat inv = cv::getAffineTransform(dst, src);  // target pixel -> source pixel
    std::vector<cv::Point> poly;
    for (const auto& d : dst) poly.emplace_back(cvRound(d.x * 16), cvRound(d.y * 16));
    cv::Rect box = cv::boundingRect(std::vector<cv::Point2f>(dst, dst + 3));
    box =
        cv::Rect(box.x - 1, box.y - 1, box.width + 2, box.height + 2) & cv::Rect(0, 0, roi.width, roi.height);
    if (box.empty()) continue;
    tri_mask.create(box.size(), CV_8U);
    tri_mask = 0;
    for (auto& p : poly) p -= cv::Point(box.x * 16, box.y * 16);
    cv::fillConvexPoly(tri_mask, poly, cv::Scalar(255), cv::LINE_8, 4);
    const double* a = inv.ptr<double>(0);
    const double* b = inv.ptr<double>(1);
    for (int y = 0; y < box.height; ++y) {
      const uchar* m = tri_mask.ptr<uchar>(y);
      float* mx = map_x.ptr<float>(box.y + y) + box.x;
      float* my = map_y.ptr<float>(box.y + y) + box.x;
      uchar* cov = coverage.ptr<uchar>(box.y + y) + box.x;
      const double gy = box.y + y;
      for (int x = 0; x < box.width; ++x) {
        if (!m[x]) continue;
        const double gx = box.x + x;
        mx[x] = float(a[0] * gx + a[1] * gy + a[2]);
        my[x] = float(b[0] * gx + b[1] * gy + b[2]);
        cov[x] = 255;
      }
    }
  }
  WarpResult r;
  cv::remap(source, r.image, map_x, map_y, cv::INTER_LINEAR, cv::BORDER_CONSTANT, cv::Scalar::all(0));
  r.coverage = coverage;
  return r;
}

}  // namespace faceweave::swap
