#include "face/head_turn.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numbers>
#include <vector>

#include <opencv2/calib3d.hpp>
#include <opencv2/imgproc.hpp>

namespace faceweave::face {

float landmark_turn(std::span<const cv::Point2f, 68> p) {
  // A generic adult head in millimetres-like units (x to the image's right, y up, z towards the camera),
  // for the nose tip, chin, outer eye corners and mouth corners.
  static const std::vector<cv::Point3f> model = {{0.0f, 0.0f, 0.0f},          {0.0f, -330.0f, -65.0f},
                                                 {-225.0f, 170.0f, -135.0f},  {225.0f, 170.0f, -135.0f},
                                                 {-150.0f, -150.0f, -125.0f}, {150.0f, -150.0f, -125.0f}};
  const std::vector<cv::Point2f> image = {p[30], p[8], p[36], p[45], p[48], p[54]};
  const cv::Rect2f box = cv::boundingRect(std::vector<cv::Point2f>(p.begin(), p.end()));
  const float size = std::max(box.width, box.height);
  if (!(size > 1.0f)) return 0.0f;
  // A normal lens: the focal length a few face sizes (the result depends little on it).
  const double f = 4.0 * size;
  const cv::Point2f c(box.x + box.width / 2, box.y + box.height / 2);
  const cv::Matx33d camera(f, 0, c.x, 0, f, c.y, 0, 0, 1);
  cv::Mat rvec, tvec;
  if (!cv::solvePnP(model, image, camera, cv::noArray(), rvec, tvec, false, cv::SOLVEPNP_ITERATIVE))
    return 0.0f;
  cv::Matx33d r;
  cv::Rodrigues(rvec, r);
  // Yaw as the turn about the head's own vertical axis: how far the ear-to-ear axis (the model's x) leans
  // towards the camera against the forward axis (the model's z), both read off their depth components,
  // which a roll of the head about the camera's axis does not change.
  const double ex = r(2, 0), fz = r(2, 2);
  const double yaw = std::atan2(std::abs(ex), std::abs(fz)) * 180.0 / std::numbers::pi;
  return float(yaw);
}

float head_turn(const Face& face) {
  if (face.pose) return std::abs(face.pose->yaw);
  if (face.has_landmarks) return landmark_turn(face.landmarks68);
  return 0.0f;
}

}  // namespace faceweave::face
