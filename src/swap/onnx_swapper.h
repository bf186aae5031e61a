// ONNX face swappers in FaceFusion's inswapper scheme (inswapper_128, inswapper_128_fp16, or any graph with
// the same signature: inputs "target" [1,3,128,128] RGB in 0..1 and "source" [1,512], output "output"
// [1,3,128,128] RGB in 0..1, and a 512x512 embedding map as the graph's last initializer).
//
// Per face: the target's five points are similarity-aligned onto the arcface_128 template at the
// pixel-boost size (128, 256, ... ; sampled into 128 px sub-images that run one by one and are put back
// together); the source identity is the ArcFace (arcface_w600k_r50) embedding of the sources, averaged,
// multiplied by the embedding map and divided by its own norm, then balanced against the target's identity
// by `weight` (FaceFusion's face_swapper_weight: 0.5 = the source alone); the result is pasted back with a
// feathered box mask (and optionally the landmark area) into only the face's region of the frame.
// The classic swapper's finishing options apply here too, in crop space, after the network: the colour
// match (the model's face recoloured to the target crop's statistics inside the mask), the mouth cut
// (keep_mouth_interior: the target's inner-lip area stays), the identity strength (opacity min(1, 2 x
// strength), as in the classic swapper: full from 0.5 on, the target alone at 0) and the blend mode
// (seamless, affine or laplacian layer, composited with the mask when pasted back).
// Models are loaded once; swap() keeps no state and may run on several threads at once.
#pragma once

#include <array>
#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "core/timing.h"
#include "face/recognizer.h"
#include "faceweave/face.h"
#include "infer/backend.h"
#include "infer/model_registry.h"
#include "swap/blend.h"
#include "swap/classic_swapper.h"
#include "swap/color_transfer.h"

namespace faceweave::swap {

struct OnnxSwapperOptions {
  std::string model = "inswapper_128";
  std::string recognizer = "arcface_w600k_r50";      // the identity space inswapper was trained in
  int pixel_boost = 128;                             // crop size: the model size times 1, 2, 3, ...
  float weight = 0.5f;                               // 0..1 (0.5: the source identity as it is)
  float mask_blur = 0.3f;                            // 0..1
  std::array<float, 4> mask_padding = {0, 0, 0, 0};  // top right bottom left, percent of the crop
  bool area_mask = false;                            // also limit the paste to the landmarks' hull
  ColorMatch color_match = ColorMatch::kNone;        // recolour the model's face to the target crop's
  BlendMode blend = BlendMode::kAffine;              // how the face is composited into the target
  float identity_strength = 1.0f;                    // 0..1: opacity min(1, 2 x strength)
  bool keep_mouth_interior = false;                  // keep the target's inner-lip area (teeth, open mouth)
  infer::ExecutionProvider provider = infer::ExecutionProvider::kCpu;
};

class OnnxSwapper {
 public:
  static Result<std::unique_ptr<OnnxSwapper>> create(const OnnxSwapperOptions& options,
                                                     const infer::ModelRegistry& models);

  // The raw (not normalised) ArcFace embedding of each (image, face), averaged.
  Result<std::vector<float>> source_embedding(const std::vector<cv::Mat>& images,
                                              const std::vector<Face>& faces) const;
  // The "source" input: raw · map / |raw|, balanced with the target's normalised embedding by the weight
  // (target may be empty when weight is 0.5).
  std::vector<float> model_source(const std::vector<float>& raw_source,
                                  const std::vector<float>& target) const;
  // Frame -> crop transform for a face (2x3 CV_64F) at the pixel-boost size.
  cv::Mat crop_matrix(const Face& face) const;

  // The network on one model-size crop (8-bit BGR) with a prepared `source` (model_source): its output as
  // 8-bit BGR, the same pre- and post-processing swap() uses.
  Result<cv::Mat> run_crop(const cv::Mat& crop_bgr, const std::vector<float>& source) const;
  // The blend weight over the crop (CV_32F 0..1): box mask, optional area and mouth cuts, times the opacity.
  cv::Mat crop_mask(const Face& target, const cv::Mat& matrix) const;

  // Swaps `raw_source` (from source_embedding) into `frame` at `target`; changes only the returned region.
  Result<SwapOutcome> swap(cv::Mat& frame, const Face& target, const std::vector<float>& raw_source,
                           core::StageTimings* timings = nullptr) const;

  const cv::Mat& embedding_map() const { return map_; }
  const OnnxSwapperOptions& options() const { return options_; }

 private:
  OnnxSwapperOptions options_;
  std::shared_ptr<infer::Model> model_;
  std::unique_ptr<face::Recognizer> recognizer_;
  cv::Mat map_;  // 512x512 CV_32F
  int size_ = 128;
  std::string template_ = "arcface_128";
};

}  // namespace faceweave::swap
