// SCRFD (InsightFace; FaceFusion's scrfd_2.5g): the image is letterboxed into the model's square input
// (scaled to fit, kept at the top left, the rest black), fed as RGB (x - 127.5) / 128. The graph has nine
// outputs, a score [N,1], box distances [N,4] and five key points [N,10] for each of the strides 8, 16 and
// 32, with A anchors per cell (N = (size / stride)^2 x A; rows run over cells in raster order, anchors
// within a cell). Outputs are told apart by their shapes, not their names (exports name them by number).
// A box is its anchor centre minus/plus the distances times the stride; key points are the centre plus
// the offsets times the stride; both are mapped back by the letterbox scale. Scores are already sigmoids.
#pragma once

#include "face/detector.h"

namespace faceweave::face {

class ScrfdDetector : public FaceDetector {
 public:
  // `input_size`: the square side the model runs at (the manifest's input shape; 640 for scrfd_2.5g).
  static Result<std::unique_ptr<FaceDetector>> create(const FaceDetectorOptions& options,
                                                      const std::string& path, int input_size);
  Result<std::vector<Detection>> detect(const cv::Mat& bgr) const override;
  const infer::ProviderResolution& provider() const override { return model_->provider(); }

 private:
  FaceDetectorOptions options_;
  std::shared_ptr<infer::Model> model_;
  int size_ = 640;
};

}  // namespace faceweave::face
