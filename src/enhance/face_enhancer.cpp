#include "enhance/face_enhancer.h"

#include <algorithm>

#include <opencv2/photo.hpp>

namespace faceweave::enhance {

Result<std::unique_ptr<FaceEnhancer>> FaceEnhancer::create(const FaceEnhancerOptions& options) {
  if (!(options.blend >= 0 && options.blend <= 1))
    return invalid_argument("face enhancer blend must be between 0 and 100 percent");
  auto e = std::make_unique<FaceEnhancer>();
  e->options_ = options;
  return e;
}

Result<cv::Rect> FaceEnhancer::enhance(cv::Mat& frame, const Face& face) const {
  if (!face.has_landmarks) return invalid_argument("the face enhancer needs 68 landmarks");
  const auto pts = face::extend_with_forehead(face.landmarks68);
  const cv::Rect roi = face::face_region(pts, frame.size(), 0.05f);
  if (roi.width < 8 || roi.height < 8 || options_.blend <= 0) return cv::Rect();
  cv::Mat mask = face::face_mask(pts, roi, face::FaceMaskOptions{});
  cv::Mat region = frame(roi);
  cv::Mat enhanced;
  const float sigma_s =
      std::clamp(options_.sigma_spatial * float(std::max(roi.width, roi.height)) / 100.0f, 1.0f, 200.0f);
  cv::detailEnhance(region, enhanced, sigma_s, options_.sigma_range);
  for (int y = 0; y < roi.height; ++y) {
    const float* m = mask.ptr<float>(y);
    const cv::Vec3b* e = enhanced.ptr<cv::Vec3b>(y);
    cv::Vec3b* o = region.ptr<cv::Vec3b>(y);
    for (int x = 0; x < roi.width; ++x) {
      const float a = m[x] * options_.blend;
      if (a <= 0) continue;
      for (int c = 0; c < 3; ++c)
        o[x][c] = cv::saturate_cast<uchar>(o[x][c] + (float(e[x][c]) - o[x][c]) * a);
    }
  }
  return roi;
}

}  // namespace faceweave::enhance
