// Frame enhancer: super-resolution of the whole frame through OpenCV's dnn_superres (FSRCNN or ESPCN at
// x2 or x4, model files from the manifest). The output is the network's upscale mixed with a bicubic
// upscale by `blend`, so 0 gives plain bicubic. cv::dnn_superres keeps a network with scratch state, so
// calls are serialised with a mutex; create one enhancer per worker for parallel frames.
#pragma once

#include <memory>
#include <mutex>
#include <string>

#include <opencv2/dnn_superres.hpp>

#include "faceweave/status.h"
#include "infer/model_registry.h"

namespace faceweave::enhance {

struct FrameEnhancerOptions {
  std::string model = "fsrcnn_x2";  // fsrcnn_x2 | fsrcnn_x4 | espcn_x2 | espcn_x4 (or a model file path)
  float blend = 0.8f;               // 0..1
};

class FrameEnhancer {
 public:
  static Result<std::unique_ptr<FrameEnhancer>> create(const FrameEnhancerOptions& options,
                                                       const infer::ModelRegistry& models);
  Result<cv::Mat> enhance(const cv::Mat& frame) const;
  int scale() const { return scale_; }

 private:
  FrameEnhancerOptions options_;
  int scale_ = 2;
  mutable std::mutex mutex_;
  mutable cv::dnn_superres::DnnSuperResImpl sr_;
};

}  // namespace faceweave::enhance
