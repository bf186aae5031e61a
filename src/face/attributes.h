// Face attributes from the default pack.
// - Age and gender (fr_age, fr_gender; SSR-Net): the box grown 1.4x and shifted inside the image, 64x64, RGB
//   with ImageNet mean/std. Three stages of 3 bins with offsets and dynamic range are merged into years
//   (V = 101) or a 0..1 gender score (V = 1; above 0.5 is male).
// - Head pose (fr_pose; 66 bins of 3 degrees per angle, Hopenet-style): the box with a quarter of its size
//   added on every side, clipped, 224x224, RGB with ImageNet mean/std; degrees = 3 * E[bin] - 99.
// Stateless; shareable across threads.
#pragma once

#include <memory>
#include <span>

#include "faceweave/face.h"
#include "infer/backend.h"
#include "infer/model_registry.h"

namespace faceweave::face {

struct AttributeOptions {
  std::string age_model = "fr_age";
  std::string gender_model = "fr_gender";
  std::string pose_model = "fr_pose";
  infer::ExecutionProvider provider = infer::ExecutionProvider::kCpu;
};

class AttributeEstimator {
 public:
  static Result<std::unique_ptr<AttributeEstimator>> create(const AttributeOptions& options,
                                                            const infer::ModelRegistry& models);
  // Fills face.age, face.gender, face.gender_score and face.pose from the face's box.
  Status estimate(const cv::Mat& bgr, Face& face) const;

 private:
  Result<float> ssr_net(const infer::Model& model, const cv::Mat& crop64, float range) const;
  std::shared_ptr<infer::Model> age_, gender_, pose_;
};

// SSR-Net's soft stagewise regression: 9 stage probabilities, 3 dynamic-range deltas and 9 index offsets,
// in the network's output order, merged into one value scaled by `range`.
float ssr_merge(std::span<const float, 21> x, float range);
// Expected angle in degrees from 66 logits of 3-degree bins starting at -99.
float angle_from_bins(std::span<const float> logits);

}  // namespace faceweave::face
