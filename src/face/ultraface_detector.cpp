#include "face/ultraface_detector.h"

#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

namespace faceweave::face {

Result<std::unique_ptr<FaceDetector>> UltraFaceDetector::create(const FaceDetectorOptions& options,
                                                                const std::string& path) {
  auto det = std::make_unique<UltraFaceDetector>();
  det->options_ = options;
  FW_ASSIGN_OR_RETURN(det->model_, infer::Model::create(options.model, path, {options.provider}));
  return std::unique_ptr<FaceDetector>(std::move(det));
}

Result<std::vector<Detection>> UltraFaceDetector::detect(const cv::Mat& bgr) const {
  if (bgr.empty() || bgr.type() != CV_8UC3) return invalid_argument("face detector needs an 8-bit BGR image");
  cv::Mat resized;
  cv::resize(bgr, resized, input_size_, 0, 0, cv::INTER_LINEAR);
  cv::Mat blob =
      cv::dnn::blobFromImage(resized, 1.0 / 128.0, input_size_, cv::Scalar(127, 127, 127), true, false);
  FW_ASSIGN_OR_RETURN(auto out, model_->run(blob, {"scores", "boxes"}));
  const cv::Mat& scores = out[0];
  const cv::Mat& boxes = out[1];
  if (scores.dims != 3 || boxes.dims != 3 || scores.size[1] != boxes.size[1] || scores.size[2] != 2 ||
      boxes.size[2] != 4)
    return model_error("model " + options_.model +
                       " returned outputs of an unexpected shape; is it an UltraFace-style detector?");
  const int n = scores.size[1];
  const float* s = scores.ptr<float>();
  const float* b = boxes.ptr<float>();
  const float w = float(bgr.cols), h = float(bgr.rows);
  std::vector<Detection> candidates;
  for (int i = 0; i < n; ++i) {
    float score = s[2 * i + 1];
    if (score < options_.score_threshold) continue;
    const float* r = b + 4 * i;
    Detection d;
    d.box = cv::Rect2f(cv::Point2f(r[0] * w, r[1] * h), cv::Point2f(r[2] * w, r[3] * h));
    d.score = score;
    candidates.push_back(std::move(d));
  }
  return finish_detections(std::move(candidates), options_, bgr.size());
}

}  // namespace faceweave::face
