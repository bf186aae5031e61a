#include "enhance/onnx_face_enhancer.h"

#include <opencv2/dnn.hpp>
#include <opencv2/imgproc.hpp>

#include "face/alignment.h"
#include "swap/face_paste.h"

namespace faceweave::enhance {

Result<std::unique_ptr<OnnxFaceEnhancer>> OnnxFaceEnhancer::create(const OnnxFaceEnhancerOptions& options,
                                                                   const infer::ModelRegistry& models) {
  if (!(options.blend >= 0 && options.blend <= 1))
    return invalid_argument("face enhancer blend must be between 0 and 100 percent");
  auto e = std::unique_ptr<OnnxFaceEnhancer>(new OnnxFaceEnhancer());
  e->options_ = options;
  if (const infer::ModelEntry* m = models.find(options.model)) {
    if (m->input.shape.size() == 4 && m->input.shape[3] > 0) e->size_ = m->input.shape[3];
    if (!m->input.warp_template.empty()) e->template_ = m->input.warp_template;
  }
  FW_ASSIGN_OR_RETURN(std::string path, models.resolve(options.model));
  FW_ASSIGN_OR_RETURN(e->model_, infer::Model::create(options.model, path, {options.provider}));
  return e;
}

cv::Mat OnnxFaceEnhancer::crop_matrix(const Face& face) const {
  face::Points5 tmpl;
  face::template_by_name(template_, float(size_), &tmpl);
  return face::estimate_similarity(face.landmarks5, tmpl);
}

Result<cv::Rect> OnnxFaceEnhancer::enhance(cv::Mat& frame, const Face& face) const {
  if (!face.has_landmarks || options_.blend <= 0) return cv::Rect();
  cv::Mat matrix = crop_matrix(face);
  cv::Mat crop;
  cv::warpAffine(frame, crop, matrix, cv::Size(size_, size_), cv::INTER_AREA, cv::BORDER_REPLICATE);
  cv::Mat blob = cv::dnn::blobFromImage(crop, 1.0 / 127.5, cv::Size(), cv::Scalar::all(127.5), true, false);
  FW_ASSIGN_OR_RETURN(auto out, model_->run({{"input", blob}}, {"output"}));
  // (clip(x, -1, 1) + 1) / 2 * 255, rounded
  FW_ASSIGN_OR_RETURN(cv::Mat restored,
                      infer::rgb_planes_to_bgr(out[0], size_, 127.5, 127.5, options_.model));
  cv::Mat pasted = frame.clone();
  auto r =
      swap::paste_back(pasted, restored, swap::box_mask(size_, options_.mask_blur, {0, 0, 0, 0}), matrix);
  if (r.region.empty()) return cv::Rect();
  cv::addWeighted(frame(r.region), 1.0 - options_.blend, pasted(r.region), options_.blend, 0,
                  frame(r.region));
  return r.region;
}

}  // namespace faceweave::enhance
