#include "face/attributes.h"

#include <algorithm>
#include <cmath>

#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include "face/crop.h"

namespace faceweave::face {
namespace {
const char* kSsrOutputs[] = {"prob_stage_1",        "prob_stage_2",        "prob_stage_3",
                             "stage1_delta_k",      "stage2_delta_k",      "stage3_delta_k",
                             "index_offset_stage1", "index_offset_stage2", "index_offset_stage3"};

// ImageNet normalisation on RGB: (x/255 - mean) / std per channel.
cv::Mat imagenet_blob(const cv::Mat& bgr_crop) {
  cv::Mat rgb;
  cv::cvtColor(bgr_crop, rgb, cv::COLOR_BGR2RGB);
  rgb.convertTo(rgb, CV_32FC3, 1.0 / 255.0);
  cv::subtract(rgb, cv::Scalar(0.485, 0.456, 0.406), rgb);
  cv::divide(rgb, cv::Scalar(0.229, 0.224, 0.225), rgb);
  return cv::dnn::blobFromImage(rgb);
}
}  // namespace

float ssr_merge(std::span<const float, 21> x, float range) {
  // Layout: prob stage1..3 at [0,3,6], delta_k at [9,10,11], index offsets at [12,15,18].
  const int s1 = 3, s2 = 3, s3 = 3;
  const float lambda_local = 1, lambda_d = 1;
  float a = 0, b = 0, c = 0;
  for (int i = 0; i < s1; ++i) a += (float(i) + lambda_local * x[12 + size_t(i)]) * x[size_t(i)];
  a /= float(s1) * (1 + lambda_d * x[9]);
  for (int i = 0; i < s2; ++i) b += (float(i) + lambda_local * x[15 + size_t(i)]) * x[3 + size_t(i)];
  b /= float(s1) * (1 + lambda_d * x[9]);
  b /= float(s2) * (1 + lambda_d * x[10]);
  for (int i = 0; i < s3; ++i) c += (float(i) + lambda_local * x[18 + size_t(i)]) * x[6 + size_t(i)];
  c /= float(s1) * (1 + lambda_d * x[9]);
  c /= float(s2) * (1 + lambda_d * x[10]);
  c /= float(s3) * (1 + lambda_d * x[11]);
  return (a + b + c) * range;
}

float angle_from_bins(std::span<const float> logits) {
  const float peak = *std::max_element(logits.begin(), logits.end());
  double sum = 0, expect = 0;
  for (size_t i = 0; i < logits.size(); ++i) {
    double e = std::exp(double(logits[i] - peak));
    sum += e;
    expect += e * double(i);
  }
  return float(expect / sum * 3.0 - 99.0);
}

Result<std::unique_ptr<AttributeEstimator>> AttributeEstimator::create(const AttributeOptions& options,
                                                                       const infer::ModelRegistry& models) {
  auto est = std::make_unique<AttributeEstimator>();
  FW_ASSIGN_OR_RETURN(std::string age_path, models.resolve(options.age_model));
  FW_ASSIGN_OR_RETURN(std::string gender_path, models.resolve(options.gender_model));
  FW_ASSIGN_OR_RETURN(std::string pose_path, models.resolve(options.pose_model));
  FW_ASSIGN_OR_RETURN(est->age_, infer::Model::create(options.age_model, age_path, {options.provider}));
  FW_ASSIGN_OR_RETURN(est->gender_,
                      infer::Model::create(options.gender_model, gender_path, {options.provider}));
  FW_ASSIGN_OR_RETURN(est->pose_, infer::Model::create(options.pose_model, pose_path, {options.provider}));
  return est;
}

Result<float> AttributeEstimator::ssr_net(const infer::Model& model, const cv::Mat& crop64,
                                          float range) const {
  std::vector<std::string> names(std::begin(kSsrOutputs), std::end(kSsrOutputs));
  FW_ASSIGN_OR_RETURN(auto out, model.run(imagenet_blob(crop64), names));
  std::array<float, 21> x{};
  size_t k = 0;
  for (const auto& m : out) {
    const float* p = m.ptr<float>();
    for (size_t i = 0; i < m.total(); ++i) {
      if (k >= x.size())
        return model_error("model " + model.name() + " returned more values than SSR-Net has");
      x[k++] = p[i];
    }
  }
  if (k != x.size())
    return model_error("model " + model.name() + " returned " + std::to_string(k) + " values, expected 21");
  return ssr_merge(x, range);
}

Status AttributeEstimator::estimate(const cv::Mat& bgr, Face& face) const {
  cv::Rect crop = grow_box_inside(face.box, 1.4f, bgr.size());
  if (crop.width < 2 || crop.height < 2) return invalid_input("face box is too small for attributes");
  cv::Mat small;
  cv::resize(bgr(crop), small, cv::Size(64, 64), 0, 0, cv::INTER_LINEAR);
  FW_ASSIGN_OR_RETURN(float age, ssr_net(*age_, small, 101.0f));
  FW_ASSIGN_OR_RETURN(float gender, ssr_net(*gender_, small, 1.0f));
  face.age = std::max(0.0f, age);
  face.gender_score = std::clamp(gender, 0.0f, 1.0f);
  face.gender = gender >= 0.5f ? Gender::kMale : Gender::kFemale;

  cv::Rect pose_crop = expand_box_clipped(face.box, 0.25f, bgr.size());
  if (pose_crop.width < 2 || pose_crop.height < 2)
    return invalid_input("face box is too small for head pose");
  cv::Mat p224;
  cv::resize(bgr(pose_crop), p224, cv::Size(224, 224), 0, 0, cv::INTER_LINEAR);
  FW_ASSIGN_OR_RETURN(auto out, pose_->run(imagenet_blob(p224), {"output", "617", "618"}));
  for (const auto& m : out)
    if (m.total() != 66)
      return model_error("pose model returned " + std::to_string(m.total()) + " bins, expected 66");
  HeadPose pose;
  pose.yaw = angle_from_bins({out[0].ptr<float>(), 66});
  pose.pitch = angle_from_bins({out[1].ptr<float>(), 66});
  pose.roll = angle_from_bins({out[2].ptr<float>(), 66});
  face.pose = pose;
  return Status::ok();
}

}  // namespace faceweave::face
