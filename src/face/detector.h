// Finds faces in a BGR image. Boxes and points come back in the input image's pixel coordinates, whatever
// size the network runs at (large images are scaled for detection only). Detectors keep no state between
// calls; one detector may be shared by many threads.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

#include "faceweave/status.h"
#include "infer/backend.h"
#include "infer/model_registry.h"

namespace faceweave::face {

struct Detection {
  cv::Rect2f box;
  float score = 0;
  std::vector<cv::Point2f> points5;  // filled by detectors that predict them (YuNet); empty otherwise
};

struct FaceDetectorOptions {
  std::string model = "fr_detect";  // manifest name or a model file path (fr_detect, yunet_2022mar, ...)
  float score_threshold = 0.7f;     // below this a candidate is dropped
  float nms_iou = 0.3f;             // overlap above which the weaker box is dropped
  int max_faces = 64;               // strongest faces kept
  infer::ExecutionProvider provider = infer::ExecutionProvider::kCpu;
};

class FaceDetector {
 public:
  virtual ~FaceDetector() = default;
  // Picks the implementation from the model (UltraFace-style fr_detect or YuNet) and validates options.
  static Result<std::unique_ptr<FaceDetector>> create(const FaceDetectorOptions& options,
                                                      const infer::ModelRegistry& models);
  // Sorted by score, strongest first.
  virtual Result<std::vector<Detection>> detect(const cv::Mat& bgr) const = 0;
  virtual const infer::ProviderResolution& provider() const = 0;
};

// Shared post-processing: drops low scores, runs NMS, clips to the image, keeps the strongest max_faces.
std::vector<Detection> finish_detections(std::vector<Detection> candidates,
                                         const FaceDetectorOptions& options, cv::Size image_size);

}  // namespace faceweave::face
