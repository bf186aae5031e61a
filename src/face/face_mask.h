// Face geometry for swapping and enhancing: the 68 landmarks extended over the forehead, and the face mask
// built from them. Input points are in image pixels; masks are CV_32F in 0..1 over a region of interest.
#pragma once

#include <array>
#include <span>
#include <vector>

#include <opencv2/core.hpp>

#include "faceweave/status.h"

namespace faceweave::face {

// 68 landmarks + 10 forehead points (one above each brow point, along the face's vertical axis, a third
// of the brow-to-chin height higher), so the warp and the mask cover the forehead too.
inline constexpr size_t kFacePoints = 78;
std::array<cv::Point2f, kFacePoints> extend_with_forehead(std::span<const cv::Point2f, 68> landmarks);

struct FaceMaskOptions {
  float blur = 0.3f;                            // 0..1: feather width as a share of the face size
  std::array<float, 4> padding = {0, 0, 0, 0};  // top, right, bottom, left: percent of the face cut away
  bool keep_mouth_interior = false;             // cut the inner-lip area out, so the target's teeth and
                                                // open mouth (its expression) stay
};

Status validate(const FaceMaskOptions& options);

// The face outline (jaw + forehead) as a convex hull, filled, padded, then feathered inwards, so the
// mask is 1 in the face's interior, falls smoothly to 0 at the hull and is 0 outside it.
// `roi` is the region (in image pixels) the returned mask covers.
cv::Mat face_mask(std::span<const cv::Point2f, kFacePoints> points, const cv::Rect& roi,
                  const FaceMaskOptions& options);

// The hull polygon in image pixels (for drawing and tests).
std::vector<cv::Point> face_hull(std::span<const cv::Point2f, kFacePoints> points);

// A region around the face (its hull bounds plus `margin` of its size on every side), clipped to the image.
cv::Rect face_region(std::span<const cv::Point2f, kFacePoints> points, cv::Size image, float margin);

}  // namespace faceweave::face
