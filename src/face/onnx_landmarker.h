// The default pack's fr_landmark.onnx: the detector box (shifted inside the image) resized to 64x64 grey,
// divided by 256; the 136 outputs are x,y pairs in 0..1 of that crop.
#pragma once

#include "face/landmarker.h"

namespace faceweave::face {

class OnnxLandmarker : public Landmarker {
 public:
  static Result<std::unique_ptr<Landmarker>> create(const LandmarkerOptions& options, const std::string& path);
  Result<Points68> detect(const cv::Mat& bgr, const cv::Rect2f& box) const override;

 private:
  std::shared_ptr<infer::Model> model_;
};

}  // namespace faceweave::face
