// UltraFace-style detector (the default pack's fr_detect.onnx): the whole image resized to 320x240, RGB,
// (x-127)/128; outputs scores [1,N,2] (background, face) and boxes [1,N,4] already decoded to x1,y1,x2,y2 in
// 0..1 of the input, which map to the original image by its width and height.
#pragma once

#include "face/detector.h"

namespace faceweave::face {

class UltraFaceDetector : public FaceDetector {
 public:
  static Result<std::unique_ptr<FaceDetector>> create(const FaceDetectorOptions& options,
                                                      const std::string& path);
  Result<std::vector<Detection>> detect(const cv::Mat& bgr) const override;
  const infer::ProviderResolution& provider() const override { return model_->provider(); }

 private:
  FaceDetectorOptions options_;
  std::shared_ptr<infer::Model> model_;
  cv::Size input_size_{320, 240};
};

}  // namespace faceweave::face
