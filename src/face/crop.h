// Face crops the pack's models were trained on, shared by the landmarker and the attribute models.
#pragma once

#include <opencv2/core.hpp>

namespace faceweave::face {

// The box grown by `factor` around its centre (less when the image is too small for it) and then shifted,
// not clipped, to lie inside the image, as the default pack's own crops are made. Integer pixels.
cv::Rect grow_box_inside(const cv::Rect2f& box, float factor, cv::Size image);

// The box with `margin` x its size added on every side, clipped to the image. Integer pixels.
cv::Rect expand_box_clipped(const cv::Rect2f& box, float margin, cv::Size image);

}  // namespace faceweave::face
