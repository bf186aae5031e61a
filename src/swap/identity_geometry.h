// Where the source's features go on the target face. Warping the source texture onto the target's own
// landmarks keeps the target's pose and expression but also its face geometry, which carries much of a
// person's identity (eye spacing, nose length and width, philtrum, mouth width). This moves the target's
// inner features towards the source's shape, measured in the target's face frame after a similarity
// alignment on points that expressions do not move (eye corners, nose), while the parts that carry the
// expression stay the target's: eye openness (lid offsets), mouth opening and lip curve, and the jaw line.
// Input and output: 68 iBUG points in the target image's pixels. Pure function.
#pragma once

#include <array>
#include <span>

#include <opencv2/core.hpp>

namespace faceweave::swap {

// How far each part moves towards the source (0 = the target's own geometry, 1 = the source's).
struct GeometryTransfer {
  float features = 0.7f;  // eyes and brows: position and width
  float nose = 0.8f;      // nose: full shape
  float mouth = 0.5f;     // mouth: position and width (its opening and curve stay the target's)
};

std::array<cv::Point2f, 68> identity_geometry(std::span<const cv::Point2f, 68> target,
                                              std::span<const cv::Point2f, 68> source,
                                              const GeometryTransfer& amount);

// Inner-lip gap over mouth width (0 closed, ~0.3 wide open).
float mouth_openness(std::span<const cv::Point2f, 68> points);
// Mouth width over the eye-corner span (expression: a smile widens it).
float mouth_width_ratio(std::span<const cv::Point2f, 68> points);

}  // namespace faceweave::swap
