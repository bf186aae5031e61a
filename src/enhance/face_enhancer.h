// Face enhancer "detail": edge-aware detail restoration inside the face mask. cv::detailEnhance (a
// domain-transform edge-preserving filter that boosts the detail layer) runs on the face's region only;
// the result is mixed in by the face mask times `blend`, so the background and the mask's outside never
// change. Input/output: 8-bit BGR frame, modified in place. Stateless; shareable across threads.
#pragma once

#include <memory>

#include <opencv2/core.hpp>

#include "face/face_mask.h"
#include "faceweave/face.h"
#include "faceweave/status.h"

namespace faceweave::enhance {

struct FaceEnhancerOptions {
  float blend = 0.8f;         // 0..1: share of the enhanced face mixed in
  float sigma_spatial = 10;   // edge-preserving filter's spatial extent, in pixels per 100 px of face
  float sigma_range = 0.15f;  // edge-preserving filter's range (0..1): lower keeps more edges
};

class FaceEnhancer {
 public:
  static Result<std::unique_ptr<FaceEnhancer>> create(const FaceEnhancerOptions& options);
  // Returns the region that changed.
  Result<cv::Rect> enhance(cv::Mat& frame, const Face& face) const;

 private:
  FaceEnhancerOptions options_;
};

}  // namespace faceweave::enhance
