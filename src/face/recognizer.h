// Identity embeddings (fr_feature.onnx, 512-d): the face is similarity-aligned from its five points onto the
// ArcFace 112x112 template, fed as RGB (x-127)/128. Returns the raw embedding; callers L2-normalise it for
// cosine comparison. Stateless; shareable across threads.
#pragma once

#include <memory>
#include <vector>

#include "face/alignment.h"
#include "infer/backend.h"
#include "infer/model_registry.h"

namespace faceweave::face {

struct RecognizerOptions {
  std::string model = "fr_feature";
  // Normalisation (x - mean) / std on RGB, and the output read; the manifest's input spec overrides these
  // (arcface_w600k_r50 takes (x - 127.5) / 127.5 and its only output).
  infer::ExecutionProvider provider = infer::ExecutionProvider::kCpu;
};

class Recognizer {
 public:
  static Result<std::unique_ptr<Recognizer>> create(const RecognizerOptions& options,
                                                    const infer::ModelRegistry& models);
  Result<std::vector<float>> embed(const cv::Mat& bgr, const Points5& points) const;
  // The aligned 112x112 BGR crop embed() runs on (for debugging and tests).
  cv::Mat aligned_crop(const cv::Mat& bgr, const Points5& points) const;

 private:
  std::shared_ptr<infer::Model> model_;
  double mean_ = 127;
  double std_ = 128;
  std::string input_;   // empty: the network's first input
  std::string output_;  // empty: the network's first output
};

std::vector<float> l2_normalise(const std::vector<float>& v);

}  // namespace faceweave::face
