// The false-face gate: detectors fire on face-like objects (a camera held up to the eye, a dark sleeve, a
// patterned cushion), and the landmarker then draws a face on them. Real skin has colour: its cheeks are
// measurably red-yellow in CIE L*a*b* under any ordinary light, and at least as colourful as the scene
// around it. A detection whose cheeks are nearly colourless (chroma under kMaxObjectChroma) while its
// surroundings are clearly not (its cheeks under kMaxChromaShare of theirs) is an object, not a face.
// Greyscale images, black-and-white photos inside colour pages and very dark scenes have colourless
// surroundings too, so nothing is rejected there. Input: 8-bit BGR; 68 points of the detection.
#pragma once

#include <span>

#include <opencv2/core.hpp>

namespace faceweave::face {

inline constexpr float kMaxObjectChroma = 5.0f;  // cheek chroma (median a*, b*) an object stays under
inline constexpr float kMaxChromaShare = 0.5f;   // ... and under this share of its surroundings' chroma

struct SkinColourCheck {
  float cheek_chroma = 0;     // chroma of the median a*, b* on both cheeks
  float surround_chroma = 0;  // median chroma of the square three times the face's size around it
  bool skinless = false;      // the detection is an object (see above)
};

SkinColourCheck check_skin_colour(const cv::Mat& bgr, const cv::Rect2f& box,
                                  std::span<const cv::Point2f, 68> points);

}  // namespace faceweave::face
