#include "face/fan_landmarker.h"

#include <algorithm>

#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

namespace faceweave::face {

Result<std::unique_ptr<Landmarker>> FanLandmarker::create(const LandmarkerOptions& options,
                                                          const std::string& path) {
  auto lm = std::make_unique<FanLandmarker>();
  lm->name_ = options.model;
  FW_ASSIGN_OR_RETURN(lm->model_, infer::Model::create(options.model, path, {options.provider}));
  return std::unique_ptr<Landmarker>(std::move(lm));
}

cv::Mat FanLandmarker::crop_matrix(const cv::Rect2f& box) {
  const double scale = 195.0 / std::max(box.width, box.height);
  const double tx = (kSize - (2.0 * box.x + box.width) * scale) * 0.5;
  const double ty = (kSize - (2.0 * box.y + box.height) * scale) * 0.5;
  return (cv::Mat_<double>(2, 3) << scale, 0, tx, 0, scale, ty);
}

Result<Points68> FanLandmarker::detect(const cv::Mat& bgr, const cv::Rect2f& box) const {
  if (box.width < 2 || box.height < 2) return invalid_input("face box is too small for landmarks");
  const cv::Mat m = crop_matrix(box);
  cv::Mat crop;
  cv::warpAffine(bgr, crop, m, cv::Size(kSize, kSize));
  cv::Mat blob = cv::dnn::blobFromImage(crop, 1.0 / 255.0, cv::Size(), cv::Scalar(), true, false);
  FW_ASSIGN_OR_RETURN(auto out, model_->run(blob, model_->output_names()));
  Points68 pts;
  bool found = false;
  for (const auto& o : out) {  // the in-graph decoding: [1,68,3] x, y, score in heatmap units
    if (o.type() == CV_32F && o.total() == 68 * 3 && o.dims == 3 && o.size[2] == 3) {
      const float* v = o.ptr<float>();
      for (size_t i = 0; i < 68; ++i) pts[i] = cv::Point2f(v[3 * i], v[3 * i + 1]);
      found = true;
      break;
    }
  }
  int grid = 64;
  if (!found) {
    for (const auto& o : out) {  // only heatmaps: each one's arg-max
      if (o.type() != CV_32F || o.dims != 4 || o.size[1] != 68 || o.size[2] != o.size[3]) continue;
      grid = o.size[3];
      for (int i = 0; i < 68; ++i) {
        cv::Mat heat(grid, grid, CV_32F, const_cast<float*>(o.ptr<float>(0, i)));
        cv::Point peak;
        cv::minMaxLoc(heat, nullptr, nullptr, nullptr, &peak);
        pts[size_t(i)] = cv::Point2f(float(peak.x), float(peak.y));
      }
      found = true;
      break;
    }
  }
  if (!found)
    return model_error("model " + name_ +
                       " returned neither landmarks [1,68,3] nor heatmaps [1,68,H,H]; is it a 2DFAN4 graph?");
  const double to_crop = double(kSize) / grid;
  const double s = m.at<double>(0, 0), tx = m.at<double>(0, 2), ty = m.at<double>(1, 2);
  for (auto& p : pts) p = cv::Point2f(float((p.x * to_crop - tx) / s), float((p.y * to_crop - ty) / s));
  return pts;
}

}  // namespace faceweave::face
