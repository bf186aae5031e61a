// Blending a prepared face into the target over a region of interest. All images are 8-bit BGR of the
// ROI's size; `mask` is CV_32F 0..1 (1 = take the face). Pixels where the mask is 0 come back exactly as
// the target's, whatever the mode.
// - seamless: Poisson cloning (Perez et al. 2003) with the face's own gradients: the face plus the harmonic
//   membrane that matches the target along the edge of the mask's core. The membrane is smooth, so it is
//   solved (SOR) at a reduced resolution (long side 96) and upsampled; the result is then feathered in with
//   the mask. A face equal to the target gives the target back exactly.
// - affine: feathered alpha compositing with the mask.
// - laplacian: multi-band blending (Burt & Adelson): each Laplacian-pyramid band is mixed with the mask's
//   Gaussian pyramid, so low frequencies blend over wide zones and fine detail over narrow ones.
#pragma once

#include <string>

#include <opencv2/core.hpp>

#include "faceweave/status.h"

namespace faceweave::swap {

enum class BlendMode { kSeamless, kAffine, kLaplacian };
Result<BlendMode> parse_blend_mode(const std::string& s);
const char* blend_mode_name(BlendMode b);

// The layer to composite over the target: output = target * (1 - w) + layer * w, with w the mask (times
// the identity strength). Separating the two lets the layer be computed at a working resolution and the
// composite be done at full resolution.
cv::Mat blend_layer(const cv::Mat& face, const cv::Mat& target, const cv::Mat& mask, BlendMode mode);

// target * (1 - weight) + layer * weight, exact where weight is 0 or 1. 8-bit BGR, CV_32F weight.
cv::Mat composite(const cv::Mat& layer, const cv::Mat& target, const cv::Mat& weight);
// The same, written into `target` (e.g. a region of the frame) without a copy.
void composite_in_place(const cv::Mat& layer, cv::Mat& target, const cv::Mat& weight);

// blend_layer + composite at one resolution.
cv::Mat blend(const cv::Mat& face, const cv::Mat& target, const cv::Mat& mask, BlendMode mode);

}  // namespace faceweave::swap
