// YuNet (2022mar) through cv::FaceDetectorYN. The image is scaled so its long side is at most 640 (the
// model's accuracy drops above that and its cost grows with the area); boxes and its five points are mapped
// back. cv::FaceDetectorYN keeps its input size as state, so calls are serialised with a mutex.
#pragma once

#include <mutex>

#include <opencv2/objdetect.hpp>

#include "face/detector.h"

namespace faceweave::face {

class YuNetDetector : public FaceDetector {
 public:
  static Result<std::unique_ptr<FaceDetector>> create(const FaceDetectorOptions& options,
                                                      const std::string& path);
  Result<std::vector<Detection>> detect(const cv::Mat& bgr) const override;
  const infer::ProviderResolution& provider() const override { return provider_; }

 private:
  FaceDetectorOptions options_;
  infer::ProviderResolution provider_;
  cv::Ptr<cv::FaceDetectorYN> yunet_;
  mutable std::mutex mutex_;
  static constexpr int kMaxSide = 640;
};

}  // namespace faceweave::face
