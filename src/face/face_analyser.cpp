#include "face/face_analyser.h"

namespace faceweave::face {

Result<std::unique_ptr<FaceAnalyser>> FaceAnalyser::create(const FaceAnalyserOptions& options,
                                                           const infer::ModelRegistry& models) {
  auto a = std::make_unique<FaceAnalyser>();
  a->options_ = options;
  FW_ASSIGN_OR_RETURN(a->detector_, FaceDetector::create(options.detector, models));
  FW_ASSIGN_OR_RETURN(a->landmarker_, Landmarker::create(options.landmarker, models));
  if (options.with_embeddings) {
    FW_ASSIGN_OR_RETURN(a->recognizer_, Recognizer::create(options.recognizer, models));
  }
  if (options.with_attributes) {
    FW_ASSIGN_OR_RETURN(a->attributes_, AttributeEstimator::create(options.attributes, models));
  }
  return a;
}

Result<std::vector<Face>> FaceAnalyser::analyse(const cv::Mat& bgr, AnalyseFlags flags,
                                                core::StageTimings* timings) const {
  if (bgr.empty()) return invalid_input("the image is empty");
  if (bgr.type() != CV_8UC3) return invalid_input("the image must be 8-bit BGR");
  if (bgr.cols < kMinSide || bgr.rows < kMinSide)
    return invalid_input("the image is " + std::to_string(bgr.cols) + "x" + std::to_string(bgr.rows) +
                         " pixels; face analysis needs at least " + std::to_string(kMinSide) + "x" +
                         std::to_string(kMinSide));
  std::vector<Detection> detections;
  {
    core::ScopedStage stage(timings, "detect");
    FW_ASSIGN_OR_RETURN(detections, detector_->detect(bgr));
  }
  std::vector<Face> faces;
  faces.reserve(detections.size());
  for (const auto& d : detections) {
    Face f;
    f.box = d.box;
    f.score = d.score;
    {
      core::ScopedStage stage(timings, "landmarks");
      FW_ASSIGN_OR_RETURN(f.landmarks68, landmarker_->detect(bgr, d.box));
    }
    f.has_landmarks = true;
    f.landmarks5 = five_from_68(f.landmarks68);
    if (recognizer_ && flags.embeddings) {
      core::ScopedStage stage(timings, "embed");
      FW_ASSIGN_OR_RETURN(f.embedding, recognizer_->embed(bgr, f.landmarks5));
      f.normed_embedding = l2_normalise(f.embedding);
    }
    if (attributes_ && flags.attributes) {
      core::ScopedStage stage(timings, "attributes");
      FW_RETURN_IF_ERROR(attributes_->estimate(bgr, f));
    }
    faces.push_back(std::move(f));
  }
  return faces;
}

}  // namespace faceweave::face
