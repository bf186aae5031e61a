#include "face/onnx_landmarker.h"

#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include "face/crop.h"

namespace faceweave::face {

Result<std::unique_ptr<Landmarker>> OnnxLandmarker::create(const LandmarkerOptions& options, const std::string& path) {
  auto lm = std::make_unique<OnnxLandmarker>();
  FW_ASSIGN_OR_RETURN(lm->model_, infer::Model::create(options.model, path, {options.provider}));
  return std::unique_ptr<Landmarker>(std::move(lm));
}

Result<Points68> OnnxLandmarker::detect(const cv::Mat& bgr, const cv::Rect2f& box) const {
  const cv::Rect crop = grow_box_inside(box, 1.0f, bgr.size());
  if (crop.width < 2 || crop.height < 2) return invalid_input("face box is too small for landmarks");
  cv::Mat grey, resized;
  cv::resize(bgr(crop), resized, cv::Size(64, 64), 0, 0, cv::INTER_LINEAR);
  cv::cvtColor(resized, grey, cv::COLOR_BGR2GRAY);
  cv::Mat blob = cv::dnn::blobFromImage(grey, 1.0 / 256.0);
  FW_ASSIGN_OR_RETURN(auto out, model_->run(blob, {"output"}));
  if (out[0].total() != 136) return model_error("landmark model returned " + std::to_string(out[0].total()) + " values, expected 136");
  const float* v = out[0].ptr<float>();
  Points68 pts;
  for (size_t i = 0; i < 68; ++i)
    pts[i] = cv::Point2f(float(crop.x) + v[2 * i] * float(crop.width), float(crop.y) + v[2 * i + 1] * float(crop.height));
  return pts;
}

}  // namespace faceweave::face
