#include "face/face_mask.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

namespace faceweave::face {

namespace {
constexpr float kJawInset = 0.06f;  // share of the distance from a jaw point to the nose tip
}  // namespace

std::array<cv::Point2f, kFacePoints> extend_with_forehead(std::span<const cv::Point2f, 68> lm) {
  std::array<cv::Point2f, kFacePoints> out{};
  std::copy(lm.begin(), lm.end(), out.begin());
  cv::Point2f brow(0, 0);
  for (int i = 17; i <= 26; ++i) brow += lm[size_t(i)];
  brow *= 0.1f;
  cv::Point2f up = brow - lm[8];
  const float height = std::max(1.0f, float(cv::norm(up)));
  up *= 1.0f / height;
  for (int i = 17; i <= 26; ++i) out[size_t(68 + i - 17)] = lm[size_t(i)] + up * (height / 3.0f);
  return out;
}

Status validate(const FaceMaskOptions& o) {
  if (!(o.blur >= 0 && o.blur <= 1))
    return invalid_argument("face mask blur must be between 0 and 1 (got " + std::to_string(o.blur) + ")");
  for (float p : o.padding)
    if (!(p >= 0 && p < 100))
      return invalid_argument("face mask padding must be between 0 and 100 percent per side (got " +
                              std::to_string(p) + ")");
  if (o.padding[0] + o.padding[2] >= 100 || o.padding[1] + o.padding[3] >= 100)
    return invalid_argument(
        "face mask padding leaves nothing of the face: top+bottom and left+right must stay below 100");
  return Status::ok();
}

std::vector<cv::Point> face_hull(std::span<const cv::Point2f, kFacePoints> points) {
  std::vector<cv::Point2f> outline;
  // The jaw line is pulled a little towards the nose tip: the target keeps its own face contour, which is
  // what carries its pose and the silhouette against the background.
  const cv::Point2f nose = points[30];
  for (int i = 0; i <= 16; ++i) outline.push_back(points[size_t(i)] + (nose - points[size_t(i)]) * kJawInset);
  for (size_t i = 68; i < kFacePoints; ++i) outline.push_back(points[i]);
  std::vector<cv::Point2f> hull;
  cv::convexHull(outline, hull);
  std::vector<cv::Point> out;
  for (const auto& p : hull) out.emplace_back(cvRound(p.x), cvRound(p.y));
  return out;
}

cv::Rect face_region(std::span<const cv::Point2f, kFacePoints> points, cv::Size image, float margin) {
  cv::Rect r = cv::boundingRect(face_hull(points));
  int mx = int(std::ceil(r.width * margin)), my = int(std::ceil(r.height * margin));
  r = cv::Rect(r.x - mx, r.y - my, r.width + 2 * mx, r.height + 2 * my);
  return r & cv::Rect(0, 0, image.width, image.height);
}

cv::Mat face_mask(std::span<const cv::Point2f, kFacePoints> points, const cv::Rect& roi,
                  const FaceMaskOptions& o) {
  cv::Mat hard = cv::Mat::zeros(roi.size(), CV_8U);
  auto hull = face_hull(points);
  for (auto& p : hull) p -= roi.tl();
  cv::fillConvexPoly(hard, hull, cv::Scalar(255), cv::LINE_8);
  const cv::Rect bounds = cv::boundingRect(hull);
  // Padding removes the given share of the face from each side of its bounds.
  const int top = int(bounds.height * o.padding[0] / 100), bottom = int(bounds.height * o.padding[2] / 100);
  const int left = int(bounds.width * o.padding[3] / 100), right = int(bounds.width * o.padding[1] / 100);
  auto clear_rows = [&](int y0, int y1) {
    y0 = std::clamp(y0, 0, roi.height), y1 = std::clamp(y1, 0, roi.height);
    if (y1 > y0) hard(cv::Rect(0, y0, roi.width, y1 - y0)) = 0;
  };
  auto clear_cols = [&](int x0, int x1) {
    x0 = std::clamp(x0, 0, roi.width), x1 = std::clamp(x1, 0, roi.width);
    if (x1 > x0) hard(cv::Rect(x0, 0, x1 - x0, roi.height)) = 0;
  };
  if (top > 0) clear_rows(0, bounds.y + top);
  if (bottom > 0) clear_rows(bounds.br().y - bottom, roi.height);
  if (left > 0) clear_cols(0, bounds.x + left);
  if (right > 0) clear_cols(bounds.br().x - right, roi.width);

  cv::Mat mask;
  hard.convertTo(mask, CV_32F, 1.0 / 255.0);
  const double size = std::sqrt(double(bounds.area()));
  const double radius = o.blur * 0.15 * size;
  if (radius >= 1) {
    // Feather inwards: a smoothstep of the distance to the hull's edge, 0 on the edge, 1/2 at `radius`
    // inside and 1 from twice that on, so nothing outside the hull moves. (One distance transform: cost does
    // not grow with the feather width, unlike an erosion by a disc.)
    cv::Mat dist;
    cv::distanceTransform(hard, dist, cv::DIST_L2, cv::DIST_MASK_3);
    mask.create(hard.size(), CV_32F);
    const float inv = float(1.0 / (2.0 * radius));
    for (int y = 0; y < mask.rows; ++y) {
      const float* d = dist.ptr<float>(y);
      float* m = mask.ptr<float>(y);
      for (int x = 0; x < mask.cols; ++x) {
        const float t = std::min(1.0f, d[x] * inv);
        m[x] = t * t * (3.0f - 2.0f * t);
      }
    }
  }
  if (o.keep_mouth_interior) {
    std::vector<cv::Point> mouth;
    for (size_t i = 60; i < 68; ++i)
      mouth.emplace_back(cvRound(points[i].x) - roi.x, cvRound(points[i].y) - roi.y);
    cv::Mat cut = cv::Mat::zeros(roi.size(), CV_8U);
    cv::fillPoly(cut, std::vector<std::vector<cv::Point>>{mouth}, cv::Scalar(255), cv::LINE_8);
    const int grow = std::max(1, int(std::round(0.02 * size)));
    cv::dilate(cut, cut, cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * grow + 1, 2 * grow + 1)));
    cv::Mat keep;
    cut.convertTo(keep, CV_32F, 1.0 / 255.0);
    cv::GaussianBlur(keep, keep, cv::Size(0, 0), std::max(1.0, grow / 2.0));
    mask = mask.mul(1.0f - keep);
  }
  return mask;
}

}  // namespace faceweave::face
