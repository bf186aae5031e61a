// The default pack's fr_landmark.onnx: the detector box (shifted inside the image) resized to 64x64 grey,
// divided by 256; the 136 outputs are x,y pairs in 0..1 of that crop. With flip averaging (default) the
// mirrored crop is predicted too and its points, mirrored back and re-indexed, are averaged in: the
// small network's errors are partly asymmetric, and averaging cuts them for one more 2 ms inference.
#pragma once

#include "face/landmarker.h"

namespace faceweave::face {

class OnnxLandmarker : public Landmarker {
 public:
  static Result<std::unique_ptr<Landmarker>> create(const LandmarkerOptions& options,
                                                    const std::string& path);
  Result<Points68> detect(const cv::Mat& bgr, const cv::Rect2f& box) const override;

 private:
  Result<Points68> predict(const cv::Mat& grey64) const;  // points in 0..1 of the crop
  std::shared_ptr<infer::Model> model_;
  bool flip_average_ = true;
};

}  // namespace faceweave::face
