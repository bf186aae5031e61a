#include "swap/onnx_swapper.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include "face/alignment.h"
#include "infer/onnx_initializer.h"
#include "swap/face_paste.h"

namespace faceweave::swap {
namespace {

double norm(const std::vector<float>& v) {
  double s = 0;
  for (float x : v) s += double(x) * x;
  return std::sqrt(s);
}

}  // namespace

Result<std::unique_ptr<OnnxSwapper>> OnnxSwapper::create(const OnnxSwapperOptions& options,
                                                         const infer::ModelRegistry& models) {
  if (!(options.identity_strength >= 0 && options.identity_strength <= 1))
    return invalid_argument("identity_strength must be between 0 and 1 (got " +
                            std::to_string(options.identity_strength) + ")");
  if (!(options.weight >= 0 && options.weight <= 1))
    return invalid_argument("face_swapper_weight must be between 0 and 1 (got " +
                            std::to_string(options.weight) + ")");
  auto s = std::unique_ptr<OnnxSwapper>(new OnnxSwapper());
  s->options_ = options;
  if (const infer::ModelEntry* e = models.find(options.model)) {
    if (e->input.shape.size() == 4 && e->input.shape[3] > 0) s->size_ = e->input.shape[3];
    if (!e->input.warp_template.empty()) s->template_ = e->input.warp_template;
  }
  if (options.pixel_boost < s->size_ || options.pixel_boost % s->size_ != 0)
    return invalid_argument("face_swapper_pixel_boost must be a multiple of the model size " +
                            std::to_string(s->size_) + " (got " + std::to_string(options.pixel_boost) + ")");
  FW_ASSIGN_OR_RETURN(std::string path, models.resolve(options.model));
  auto model = infer::Model::create(options.model, path, {options.provider});
  if (!model && model.status().message().find("FLOAT16") != std::string::npos)
    return unsupported("model " + options.model +
                       " stores its weights as float16, which this build's OpenCV " +
                       "DNN (4.6) cannot read; use --face-swapper-model inswapper_128 (the float32 graph)");
  if (!model) return model.status();
  s->model_ = std::move(model).value();
  FW_ASSIGN_OR_RETURN(auto map, infer::read_last_initializer(path));
  if (map.values.rows != 512 || map.values.cols != 512)
    return model_error("model " + options.model + " at " + path +
                       " is not an inswapper graph: its last initializer '" + map.name + "' is " +
                       std::to_string(map.values.rows) + "x" + std::to_string(map.values.cols) +
                       ", expected the 512x512 embedding map");
  s->map_ = map.values;
  face::RecognizerOptions r;
  r.model = options.recognizer;
  r.provider = options.provider;
  FW_ASSIGN_OR_RETURN(s->recognizer_, face::Recognizer::create(r, models));
  return s;
}

Result<std::vector<float>> OnnxSwapper::source_embedding(const std::vector<cv::Mat>& images,
                                                         const std::vector<Face>& faces) const {
  std::vector<double> sum(512, 0.0);
  if (faces.empty()) return no_face("no source face to take the identity from");
  for (size_t i = 0; i < faces.size() && i < images.size(); ++i) {
    FW_ASSIGN_OR_RETURN(auto e, recognizer_->embed(images[i], faces[i].landmarks5));
    for (size_t k = 0; k < 512; ++k) sum[k] += e[k];
  }
  std::vector<float> out(512);
  for (size_t k = 0; k < 512; ++k) out[k] = float(sum[k] / double(faces.size()));
  return out;
}

std::vector<float> OnnxSwapper::model_source(const std::vector<float>& raw,
                                             const std::vector<float>& target) const {
  const double n = norm(raw);
  std::vector<float> out(512, 0.f);
  if (n <= 0) return out;
  cv::Mat row(1, 512, CV_32F, const_cast<float*>(raw.data()));
  cv::Mat mapped = row * map_;
  const float* m = mapped.ptr<float>();
  // FaceFusion's balance: weight 0..1 maps linearly to a target share of 0.35..-0.35.
  const float w = 0.35f - 0.7f * options_.weight;
  const double tn = norm(target);
  for (size_t k = 0; k < 512; ++k) {
    const float src = float(m[k] / n);
    const float tgt = (tn > 0 && target.size() == 512) ? float(target[k] / tn) : 0.f;
    out[k] = src * (1 - w) + tgt * w;
  }
  return out;
}

cv::Mat OnnxSwapper::crop_matrix(const Face& face) const {
  face::Points5 tmpl;
  face::template_by_name(template_, float(options_.pixel_boost), &tmpl);
  return face::estimate_similarity(face.landmarks5, tmpl);
}

Result<cv::Mat> OnnxSwapper::run_crop(const cv::Mat& crop_bgr, const std::vector<float>& source) const {
  cv::Mat blob = cv::dnn::blobFromImage(crop_bgr, 1.0 / 255.0, cv::Size(), cv::Scalar(), true, false);
  cv::Mat src(std::vector<int>{1, 512}, CV_32F);
  std::memcpy(src.ptr<float>(), source.data(), 512 * sizeof(float));
  FW_ASSIGN_OR_RETURN(auto out, model_->run({{"target", blob}, {"source", src}}, {"output"}));
  // NCHW RGB 0..1 -> HWC BGR 0..255; saturating clips to 0..1 first, as FaceFusion does
  return infer::rgb_planes_to_bgr(out[0], size_, 255.0, 0.0, options_.model);
}

cv::Mat OnnxSwapper::crop_mask(const Face& target, const cv::Mat& matrix) const {
  const int boost = options_.pixel_boost;
  cv::Mat mask = box_mask(boost, options_.mask_blur, options_.mask_padding);
  if (options_.area_mask || options_.keep_mouth_interior) {
    std::vector<cv::Point2f> pts;
    cv::transform(std::vector<cv::Point2f>(target.landmarks68.begin(), target.landmarks68.end()), pts,
                  matrix);
    if (options_.area_mask) cv::min(mask, area_mask(boost, pts, options_.mask_blur), mask);
    if (options_.keep_mouth_interior) {
      // The inner lips (60..67), grown and feathered by 2% of the crop as the classic face mask does.
      std::vector<cv::Point> mouth;
      for (size_t i = 60; i < 68; ++i) mouth.emplace_back(cvRound(pts[i].x), cvRound(pts[i].y));
      cv::Mat cut = cv::Mat::zeros(boost, boost, CV_8U);
      cv::fillPoly(cut, std::vector<std::vector<cv::Point>>{mouth}, cv::Scalar(255), cv::LINE_8);
      const int grow = std::max(1, int(std::round(0.02 * boost)));
      cv::dilate(cut, cut,
                 cv::getStructuringElement(cv::MORPH_ELLIPSE, cv::Size(2 * grow + 1, 2 * grow + 1)));
      cv::Mat keep;
      cut.convertTo(keep, CV_32F, 1.0 / 255.0);
      cv::GaussianBlur(keep, keep, cv::Size(0, 0), std::max(1.0, grow / 2.0));
      mask = mask.mul(1.0f - keep);
    }
  }
  const float opacity = std::min(1.0f, 2.0f * options_.identity_strength);
  if (opacity < 1.0f) mask *= opacity;
  return mask;
}

Result<SwapOutcome> OnnxSwapper::swap(cv::Mat& frame, const Face& target,
                                      const std::vector<float>& raw_source,
                                      core::StageTimings* timings) const {
  SwapOutcome outcome;
  if (!target.has_landmarks || options_.identity_strength <= 0) return outcome;
  std::vector<float> target_embedding;
  if (std::abs(options_.weight - 0.5f) > 1e-6f) {
    core::ScopedStage stage(timings, "swap_embed");
    FW_ASSIGN_OR_RETURN(target_embedding, recognizer_->embed(frame, target.landmarks5));
  }
  const std::vector<float> source = model_source(raw_source, target_embedding);
  const int boost = options_.pixel_boost;
  const int n = boost / size_;
  cv::Mat matrix = crop_matrix(target);
  cv::Mat crop;
  {
    core::ScopedStage stage(timings, "swap_warp");
    cv::warpAffine(frame, crop, matrix, cv::Size(boost, boost), cv::INTER_AREA, cv::BORDER_REPLICATE);
  }
  cv::Mat swapped;
  {
    core::ScopedStage stage(timings, "swap_model");
    std::vector<cv::Mat> tiles = n == 1 ? std::vector<cv::Mat>{crop} : implode_pixel_boost(crop, n);
    for (auto& t : tiles) {
      FW_ASSIGN_OR_RETURN(t, run_crop(t, source));
    }
    swapped = n == 1 ? tiles[0] : explode_pixel_boost(tiles, n);
  }
  if (options_.color_match != ColorMatch::kNone) {
    core::ScopedStage stage(timings, "colour_match");
    cv::Mat inside;
    cv::compare(box_mask(boost, options_.mask_blur, options_.mask_padding), 0.5, inside, cv::CMP_GT);
    swapped = match_color(swapped, crop, inside, options_.color_match);
  }
  core::ScopedStage stage(timings, "swap_paste");
  cv::Mat mask = crop_mask(target, matrix);
  if (options_.blend != BlendMode::kAffine) swapped = blend_layer(swapped, crop, mask, options_.blend);
  auto pasted = paste_back(frame, swapped, mask, matrix);
  outcome.region = pasted.region;
  outcome.mask = pasted.mask;
  outcome.swapped = !pasted.region.empty();
  return outcome;
}

}  // namespace faceweave::swap
