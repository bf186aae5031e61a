#include "face/skinless_check.h"

#include <algorithm>
#include <cmath>
#include <vector>

#include <opencv2/imgproc.hpp>

namespace faceweave::face {
namespace {

float median(std::vector<float>& v) {
  if (v.empty()) return 0;
  std::nth_element(v.begin(), v.begin() + long(v.size() / 2), v.end());
  return v[v.size() / 2];
}

// a* and b* of an 8-bit L*a*b* pixel.
cv::Vec2f chroma_ab(const cv::Vec3b& lab) {
  return {float(lab[1]) - 128.0f, float(lab[2]) - 128.0f};
}

}  // namespace

SkinColourCheck check_skin_colour(const cv::Mat& bgr, const cv::Rect2f& box,
                                  std::span<const cv::Point2f, 68> p) {
  SkinColourCheck out;
  const cv::Rect image(0, 0, bgr.cols, bgr.rows);
  // Cheeks: two discs between the jaw and the nose wings, as the swapper's skin model samples them.
  const float iod = std::max(1.0f, float(cv::norm((p[36] + p[39]) * 0.5f - (p[42] + p[45]) * 0.5f)));
  const int r = std::max(1, int(0.16f * iod));
  std::vector<float> a, b;
  for (const cv::Point2f c : {(p[2] + p[31]) * 0.5f, (p[14] + p[35]) * 0.5f}) {
    const cv::Rect disc = cv::Rect(cvRound(c.x) - r, cvRound(c.y) - r, 2 * r + 1, 2 * r + 1) & image;
    if (disc.empty()) continue;
    cv::Mat lab;
    cv::cvtColor(bgr(disc), lab, cv::COLOR_BGR2Lab);
    for (int y = 0; y < lab.rows; ++y)
      for (int x = 0; x < lab.cols; ++x) {
        const float dx = float(disc.x + x) - c.x, dy = float(disc.y + y) - c.y;
        if (dx * dx + dy * dy > float(r * r)) continue;
        const cv::Vec2f ab = chroma_ab(lab.at<cv::Vec3b>(y, x));
        a.push_back(ab[0]), b.push_back(ab[1]);
      }
  }
  if (a.size() < 4) return out;  // too small to tell: kept
  out.cheek_chroma = std::hypot(median(a), median(b));
  // Surroundings: a square three times the face's size, looked at no finer than 64 pixels across.
  const float side = 3.0f * std::max(box.width, box.height);
  const cv::Point2f centre(box.x + box.width / 2, box.y + box.height / 2);
  const cv::Rect around =
      cv::Rect(cvRound(centre.x - side / 2), cvRound(centre.y - side / 2), cvRound(side), cvRound(side)) &
      image;
  if (around.empty()) return out;
  cv::Mat small = bgr(around), lab;
  const double scale = std::min(1.0, 64.0 / std::max(around.width, around.height));
  if (scale < 1.0) cv::resize(small, small, cv::Size(), scale, scale, cv::INTER_AREA);
  cv::cvtColor(small, lab, cv::COLOR_BGR2Lab);
  std::vector<float> chroma;
  chroma.reserve(size_t(lab.total()));
  for (int y = 0; y < lab.rows; ++y)
    for (int x = 0; x < lab.cols; ++x) {
      const cv::Vec2f ab = chroma_ab(lab.at<cv::Vec3b>(y, x));
      chroma.push_back(std::hypot(ab[0], ab[1]));
    }
  out.surround_chroma = median(chroma);
  out.skinless =
      out.cheek_chroma < kMaxObjectChroma && out.cheek_chroma < kMaxChromaShare * out.surround_chroma;
  return out;
}

}  // namespace faceweave::face
