#include "face/recognizer.h"

#include <cmath>

#include <opencv2/dnn.hpp>

namespace faceweave::face {

std::vector<float> l2_normalise(const std::vector<float>& v) {
  double sum = 0;
  for (float x : v) sum += double(x) * x;
  std::vector<float> out(v);
  if (sum <= 0) return out;
  const float inv = float(1.0 / std::sqrt(sum));
  for (float& x : out) x *= inv;
  return out;
}

Result<std::unique_ptr<Recognizer>> Recognizer::create(const RecognizerOptions& options,
                                                       const infer::ModelRegistry& models) {
  FW_ASSIGN_OR_RETURN(std::string path, models.resolve(options.model));
  auto r = std::make_unique<Recognizer>();
  FW_ASSIGN_OR_RETURN(r->model_, infer::Model::create(options.model, path, {options.provider}));
  r->output_ = "output";
  if (const infer::ModelEntry* e = models.find(options.model)) {
    if (!e->input.mean.empty()) r->mean_ = e->input.mean[0];
    if (!e->input.std.empty()) r->std_ = e->input.std[0];
    if (e->name != "fr_feature") r->output_.clear();
  }
  return r;
}

cv::Mat Recognizer::aligned_crop(const cv::Mat& bgr, const Points5& points) const {
  return align_face(bgr, points, arcface_112_template(), 112);
}

Result<std::vector<float>> Recognizer::embed(const cv::Mat& bgr, const Points5& points) const {
  cv::Mat crop = aligned_crop(bgr, points);
  cv::Mat blob =
      cv::dnn::blobFromImage(crop, 1.0 / std_, cv::Size(112, 112), cv::Scalar::all(mean_), true, false);
  std::vector<std::string> outputs;
  if (!output_.empty()) outputs.push_back(output_);
  FW_ASSIGN_OR_RETURN(auto out, model_->run(blob, outputs));
  const cv::Mat& e = out[0];
  if (e.total() != 512)
    return model_error("recognizer returned " + std::to_string(e.total()) + " values, expected 512");
  const float* p = e.ptr<float>();
  return std::vector<float>(p, p + 512);
}

}  // namespace faceweave::face
