#include "face/onnx_landmarker.h"

#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include "face/crop.h"

namespace faceweave::face {

Result<std::unique_ptr<Landmarker>> OnnxLandmarker::create(const LandmarkerOptions& options,
                                                           const std::string& path) {
  auto lm = std::make_unique<OnnxLandmarker>();
  FW_ASSIGN_OR_RETURN(lm->model_, infer::Model::create(options.model, path, {options.provider}));
  lm->flip_average_ = options.flip_average;
  return std::unique_ptr<Landmarker>(std::move(lm));
}

Result<Points68> OnnxLandmarker::predict(const cv::Mat& grey64) const {
  cv::Mat blob = cv::dnn::blobFromImage(grey64, 1.0 / 256.0);
  FW_ASSIGN_OR_RETURN(auto out, model_->run(blob, {"output"}));
  if (out[0].total() != 136)
    return model_error("landmark model returned " + std::to_string(out[0].total()) + " values, expected 136");
  const float* v = out[0].ptr<float>();
  Points68 pts;
  for (size_t i = 0; i < 68; ++i) pts[i] = cv::Point2f(v[2 * i], v[2 * i + 1]);
  return pts;
}

Result<Points68> OnnxLandmarker::detect(const cv::Mat& bgr, const cv::Rect2f& box) const {
  const cv::Rect crop = grow_box_inside(box, 1.0f, bgr.size());
  if (crop.width < 2 || crop.height < 2) return invalid_input("face box is too small for landmarks");
  cv::Mat grey, resized;
  cv::resize(bgr(crop), resized, cv::Size(64, 64), 0, 0, cv::INTER_LINEAR);
  cv::cvtColor(resized, grey, cv::COLOR_BGR2GRAY);
  FW_ASSIGN_OR_RETURN(Points68 pts, predict(grey));
  if (flip_average_) {
    cv::Mat mirrored;
    cv::flip(grey, mirrored, 1);
    FW_ASSIGN_OR_RETURN(Points68 flipped, predict(mirrored));
    const auto& mirror = mirror_index_68();
    // Outputs are continuous coordinates over the crop (0 = its left edge, 1 = its right edge), so a
    // point at u in the mirrored crop sits at 1 - u in the original.
    for (size_t i = 0; i < 68; ++i) {
      const cv::Point2f& q = flipped[size_t(mirror[i])];
      pts[i] = (pts[i] + cv::Point2f(1.0f - q.x, q.y)) * 0.5f;
    }
  }
  for (auto& p : pts)
    p = cv::Point2f(float(crop.x) + p.x * float(crop.width), float(crop.y) + p.y * float(crop.height));
  return pts;
}

}  // namespace faceweave::face
