#include "face/yunet_detector.h"

#include <algorithm>
#include <cmath>

#include <opencv2/imgproc.hpp>

namespace faceweave::face {

Result<std::unique_ptr<FaceDetector>> YuNetDetector::create(const FaceDetectorOptions& options,
                                                            const std::string& path) {
  auto det = std::make_unique<YuNetDetector>();
  det->options_ = options;
  det->provider_ = infer::resolve_provider(options.provider);
  try {
    // Candidates below a low floor are dropped inside; our own threshold and NMS run afterwards so every
    // detector applies options the same way.
    det->yunet_ = cv::FaceDetectorYN::create(path, "", cv::Size(320, 320),
                                             std::min(options.score_threshold, 0.5f), options.nms_iou, 5000);
  } catch (const cv::Exception& e) {
    return model_error("YuNet model " + path + " could not be loaded: " + e.what() +
                       " (only the 2022mar release works with OpenCV 4.6)");
  }
  if (!det->yunet_) return model_error("YuNet model " + path + " could not be loaded");
  return std::unique_ptr<FaceDetector>(std::move(det));
}

Result<std::vector<Detection>> YuNetDetector::detect(const cv::Mat& bgr) const {
  if (bgr.empty() || bgr.type() != CV_8UC3) return invalid_argument("face detector needs an 8-bit BGR image");
  const double scale = std::min(1.0, double(kMaxSide) / std::max(bgr.cols, bgr.rows));
  cv::Mat input = bgr;
  if (scale < 1.0) cv::resize(bgr, input, cv::Size(), scale, scale, cv::INTER_AREA);
  cv::Mat faces;
  try {
    std::lock_guard lock(mutex_);
    yunet_->setInputSize(input.size());
    yunet_->detect(input, faces);
  } catch (const cv::Exception& e) {
    return model_error(std::string("YuNet detection failed: ") + e.what());
  }
  std::vector<Detection> candidates;
  const float inv = float(1.0 / scale);
  for (int i = 0; i < faces.rows; ++i) {
    const float* r = faces.ptr<float>(i);
    Detection d;
    d.box = cv::Rect2f(r[0] * inv, r[1] * inv, r[2] * inv, r[3] * inv);
    d.score = r[14];
    for (int k = 0; k < 5; ++k) d.points5.emplace_back(r[4 + 2 * k] * inv, r[5 + 2 * k] * inv);
    candidates.push_back(std::move(d));
  }
  return finish_detections(std::move(candidates), options_, bgr.size());
}

}  // namespace faceweave::face
