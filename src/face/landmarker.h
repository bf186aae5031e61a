// 68-point landmarkers (iBUG 300-W order). Input: the BGR image and a detector box in its pixels; output:
// 68 points in the same pixels. Landmarkers keep no per-call state; one may be shared by many threads.
#pragma once

#include <array>
#include <memory>
#include <string>

#include <opencv2/core.hpp>

#include "faceweave/status.h"
#include "infer/backend.h"
#include "infer/model_registry.h"

namespace faceweave::face {

using Points68 = std::array<cv::Point2f, 68>;

// For each of the 68 points, the index of its mirror image (left eye corner <-> right eye corner, ...).
const std::array<int, 68>& mirror_index_68();

struct LandmarkerOptions {
  std::string model = "fr_landmark";  // fr_landmark (ONNX, default) or dlib_68 (dlib's shape predictor)
  bool flip_average = true;           // ONNX landmarker: average with the mirrored crop's prediction
  infer::ExecutionProvider provider = infer::ExecutionProvider::kCpu;
};

class Landmarker {
 public:
  virtual ~Landmarker() = default;
  static Result<std::unique_ptr<Landmarker>> create(const LandmarkerOptions& options,
                                                    const infer::ModelRegistry& models);
  virtual Result<Points68> detect(const cv::Mat& bgr, const cv::Rect2f& box) const = 0;
};

}  // namespace faceweave::face
