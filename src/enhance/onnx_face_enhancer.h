// ONNX face restoration in FaceFusion's GFPGAN scheme (gfpgan_1.4, or any graph with its signature: input
// "input" [1,3,512,512] RGB in -1..1, output "output" [1,3,512,512] RGB in -1..1). The face is aligned
// onto the ffhq_512 template at 512 px, restored, pasted back with a feathered box mask into its region,
// and mixed with the frame by `blend` (FaceFusion's face_enhancer_blend / 100).
// The model is loaded once; enhance() keeps no state and may run on several threads at once.
#pragma once

#include <memory>
#include <string>

#include <opencv2/core.hpp>

#include "faceweave/face.h"
#include "infer/backend.h"
#include "infer/model_registry.h"

namespace faceweave::enhance {

struct OnnxFaceEnhancerOptions {
  std::string model = "gfpgan_1.4";
  float blend = 0.8f;      // 0..1: share of the restored face in the result
  float mask_blur = 0.3f;  // 0..1: feather of the box mask
  infer::ExecutionProvider provider = infer::ExecutionProvider::kCpu;
};

class OnnxFaceEnhancer {
 public:
  static Result<std::unique_ptr<OnnxFaceEnhancer>> create(const OnnxFaceEnhancerOptions& options,
                                                          const infer::ModelRegistry& models);
  // Returns the region that changed (empty when nothing did).
  Result<cv::Rect> enhance(cv::Mat& frame, const Face& face) const;
  // Frame -> crop transform for a face (2x3 CV_64F).
  cv::Mat crop_matrix(const Face& face) const;

 private:
  OnnxFaceEnhancerOptions options_;
  std::shared_ptr<infer::Model> model_;
  int size_ = 512;
  std::string template_ = "ffhq_512";
};

}  // namespace faceweave::enhance
