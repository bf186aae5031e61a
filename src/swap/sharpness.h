// Detail level: a target face is often softer than the source face laid on it (a video frame with motion
// blur or compression, a face out of focus, a small face shown large), and the source's crisp pores, lashes
// and creases on a soft face look pasted on. match_sharpness() blurs the face layer just enough that its
// finest band of detail, relative to the band above it, is no stronger than the target's over the same
// skin. It never sharpens (a soft source stays soft) and changes nothing when the target is as crisp.
#pragma once

#include <opencv2/core.hpp>

namespace faceweave::swap {

// Fine-band over middle-band energy of the grey levels inside `region` (CV_8U or CV_32F, non-zero = in):
// fine = x - G(x, 1 px), middle = G(x, 1 px) - G(x, 3 px). Crisp faces score high, soft ones low.
double detail_ratio(const cv::Mat& bgr, const cv::Mat& region);

// `face` (8-bit BGR) blurred with the smallest Gaussian (of a fixed ladder up to 3 px) whose detail ratio
// inside `region` comes down to the target's; `sigma_out`, when given, gets the blur used (0: none).
// `keep` (CV_32F 0..1, optional) is where the face keeps its own detail regardless.
cv::Mat match_sharpness(const cv::Mat& face, const cv::Mat& target, const cv::Mat& region,
                        double* sigma_out = nullptr, const cv::Mat& keep = cv::Mat());

}  // namespace faceweave::swap
