// Skin-tone matching: recolours the warped source so its statistics inside the mask match the target's.
// - reinhard: per-channel mean and standard deviation in CIE L*a*b* (Reinhard et al. 2001);
// - histogram: per-channel cumulative-histogram matching in L*a*b*, so the whole distribution follows.
// Inputs: 8-bit BGR images of one size and a CV_8U mask; the result is 8-bit BGR.
#pragma once

#include <string>

#include <opencv2/core.hpp>

#include "faceweave/status.h"

namespace faceweave::swap {

enum class ColorMatch { kNone, kReinhard, kHistogram };
Result<ColorMatch> parse_color_match(const std::string& s);
const char* color_match_name(ColorMatch c);

// `own_chroma` (optional, CV_32F of the source's size, 0..1): where the result keeps the source's own colour
// (its chromaticity) and changes its light as an exposure would. The shift is measured on skin; moved onto
// the eyes it tints the sclera, lifts a black pupil to grey and turns a brown iris blue when the target's
// skin is lighter or cooler than the source's.
cv::Mat match_color(const cv::Mat& source, const cv::Mat& target, const cv::Mat& mask, ColorMatch mode,
                    const cv::Mat& own_chroma = cv::Mat());

}  // namespace faceweave::swap
