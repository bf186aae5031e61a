#include "face/face_analyser.h"

#include <algorithm>
#include <cmath>

#include "face/skinless_check.h"

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
    if (options_.reject_skinless && check_skin_colour(bgr, f.box, f.landmarks68).skinless) continue;
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

Status FaceAnalyser::embed(const cv::Mat& bgr, std::vector<Face>& faces, core::StageTimings* timings) const {
  if (!recognizer_)
    return internal_error("this face analyser has no recognizer; embeddings cannot be computed");
  for (Face& f : faces) {
    if (!f.embedding.empty() || !f.has_landmarks) continue;
    core::ScopedStage stage(timings, "embed");
    FW_ASSIGN_OR_RETURN(f.embedding, recognizer_->embed(bgr, f.landmarks5));
    f.normed_embedding = l2_normalise(f.embedding);
  }
  return Status::ok();
}

namespace {

struct Extent {
  cv::Point2f centre;
  float size = 0;  // geometric mean of width and height
};

Extent extent(const std::array<cv::Point2f, 68>& pts) {
  float x0 = pts[0].x, x1 = x0, y0 = pts[0].y, y1 = y0;
  for (const auto& p : pts) {
    x0 = std::min(x0, p.x), x1 = std::max(x1, p.x);
    y0 = std::min(y0, p.y), y1 = std::max(y1, p.y);
  }
  return {{(x0 + x1) / 2, (y0 + y1) / 2}, std::sqrt(std::max(0.f, (x1 - x0) * (y1 - y0)))};
}

}  // namespace

Result<std::vector<Face>> FaceAnalyser::follow(const cv::Mat& bgr, const std::vector<Face>& previous,
                                               core::StageTimings* timings) const {
  if (bgr.empty() || bgr.type() != CV_8UC3) return invalid_input("the image must be non-empty 8-bit BGR");
  // Between two frames a face moves a fraction of its size; more than this is another face, or none.
  constexpr float kMaxShift = 0.25f, kMaxScale = 1.25f;
  // The landmarker expects the face where a detector box puts it: a face that moved more than this within
  // its old box is looked at again through the box moved with it.
  constexpr float kRecrop = 0.03f;
  // Two looks at one face through boxes a few percent apart agree closely; a wider disagreement means the
  // landmarks are not locked on a face (mean point distance, as a share of the face's size).
  constexpr float kMaxDisagreement = 0.06f;
  // The landmarker sees a face through a 64x64 crop: below about this size its answer depends too much on
  // where the box sits to follow a face without the detector.
  constexpr float kMinSide = 48;
  const cv::Rect2f frame(0, 0, float(bgr.cols), float(bgr.rows));
  auto moved_box = [](const cv::Rect2f& box, const Extent& from, const Extent& to) {
    const float scale = to.size / from.size;
    const cv::Point2f c(box.x + box.width / 2 + to.centre.x - from.centre.x,
                        box.y + box.height / 2 + to.centre.y - from.centre.y);
    return cv::Rect2f(c.x - box.width * scale / 2, c.y - box.height * scale / 2, box.width * scale,
                      box.height * scale);
  };
  std::vector<Face> faces;
  // The caller analyses the frame afresh when any face is missing: then following the others is wasted.
  for (const Face& p : previous)
    if (std::min(p.box.width, p.box.height) < kMinSide) return faces;
  faces.reserve(previous.size());
  for (const Face& p : previous) {
    if (!p.has_landmarks || (p.box & frame).area() < 0.5f * p.box.area()) continue;
    Face f = p;
    core::ScopedStage stage(timings, "landmarks");
    FW_ASSIGN_OR_RETURN(f.landmarks68, landmarker_->detect(bgr, p.box));
    const Extent before = extent(p.landmarks68);
    Extent after = extent(f.landmarks68);
    if (before.size <= 0 || after.size <= 0) continue;
    const cv::Point2f shift = after.centre - before.centre;
    const float scale = after.size / before.size;
    if (std::hypot(shift.x, shift.y) > kMaxShift * before.size || scale > kMaxScale || scale < 1 / kMaxScale)
      continue;
    f.box = moved_box(p.box, before, after);
    if (std::hypot(shift.x, shift.y) > kRecrop * before.size || std::abs(scale - 1) > kRecrop) {
      FW_ASSIGN_OR_RETURN(auto again, landmarker_->detect(bgr, f.box));
      double disagreement = 0;
      for (size_t k = 0; k < again.size(); ++k) disagreement += cv::norm(again[k] - f.landmarks68[k]);
      if (disagreement / double(again.size()) > kMaxDisagreement * after.size) continue;
      const Extent settled = extent(again);
      if (settled.size <= 0) continue;
      f.box = moved_box(f.box, after, settled);
      f.landmarks68 = again;
    }
    f.landmarks5 = five_from_68(f.landmarks68);
    f.embedding.clear();
    f.normed_embedding.clear();
    faces.push_back(std::move(f));
  }
  return faces;
}

}  // namespace faceweave::face
