// Debug drawing: boxes, scores, 68 points, the five alignment points and attributes, scaled to the image
// size so lines stay visible on large images.
#pragma once

#include <vector>

#include <opencv2/core.hpp>

#include "faceweave/face.h"

namespace faceweave::face {

void draw_faces(cv::Mat& bgr, const std::vector<Face>& faces);

}  // namespace faceweave::face
