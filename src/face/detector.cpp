#include "face/detector.h"

#include <algorithm>
#include <filesystem>

#include <opencv2/dnn.hpp>

#include "face/scrfd_detector.h"
#include "face/ultraface_detector.h"
#include "face/yunet_detector.h"

namespace faceweave::face {

std::vector<Detection> finish_detections(std::vector<Detection> candidates,
                                         const FaceDetectorOptions& options, cv::Size image_size) {
  std::vector<cv::Rect2d> boxes;
  std::vector<float> scores;
  for (const auto& c : candidates) {
    boxes.emplace_back(c.box);
    scores.push_back(c.score);
  }
  std::vector<int> keep;
  cv::dnn::NMSBoxes(boxes, scores, options.score_threshold, options.nms_iou, keep);
  std::vector<Detection> out;
  const cv::Rect2f frame(0, 0, float(image_size.width), float(image_size.height));
  for (int i : keep) {
    Detection d = candidates[size_t(i)];
    d.box &= frame;
    if (d.box.width < 2 || d.box.height < 2) continue;
    out.push_back(std::move(d));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const Detection& a, const Detection& b) { return a.score > b.score; });
  if (int(out.size()) > options.max_faces) out.resize(size_t(options.max_faces));
  return out;
}

Result<std::unique_ptr<FaceDetector>> FaceDetector::create(const FaceDetectorOptions& options,
                                                           const infer::ModelRegistry& models) {
  if (!(options.score_threshold > 0 && options.score_threshold < 1))
    return invalid_argument("face detector score threshold must be between 0 and 1 (got " +
                            std::to_string(options.score_threshold) + ")");
  if (!(options.nms_iou > 0 && options.nms_iou <= 1))
    return invalid_argument("face detector NMS overlap must be in (0, 1] (got " +
                            std::to_string(options.nms_iou) + ")");
  if (options.max_faces < 1) return invalid_argument("face detector max faces must be at least 1");
  FW_ASSIGN_OR_RETURN(std::string path, models.resolve(options.model));
  // The decoder is the one the manifest declares for the model (by name, or by the file name of a manifest
  // model given as a path). A user's own file is told apart by its graph: nine outputs is SCRFD, two is
  // UltraFace; anything else is handed to cv::FaceDetectorYN, which checks it.
  const infer::ModelEntry* entry = models.find(options.model);
  if (!entry) {
    const std::string file = std::filesystem::path(path).filename().string();
    for (const auto& e : models.entries())
      if (e.role == "detector" && std::filesystem::path(e.file).filename().string() == file) entry = &e;
  }
  if (entry && entry->role != "detector")
    return invalid_argument("model " + entry->name + " is a " + entry->role +
                            ", not a face detector; `faceweave models list` shows the detectors");
  int size = 640;
  if (entry && entry->input.shape.size() == 4 && entry->input.shape[3] > 0) size = entry->input.shape[3];
  std::string kind = entry ? entry->kind : "";
  if (kind.empty()) {
    auto probe = infer::Model::create(options.model, path, {options.provider});
    if (probe && probe.value()->output_names().size() == 9)
      kind = "scrfd";
    else if (probe && probe.value()->output_names().size() == 2)
      kind = "ultraface";
    else
      kind = "yunet";
  }
  if (kind == "scrfd") return ScrfdDetector::create(options, path, size);
  if (kind == "yunet") return YuNetDetector::create(options, path);
  if (kind == "ultraface") return UltraFaceDetector::create(options, path);
  return invalid_argument("model " + options.model + " declares detector kind '" + kind +
                          "', which this build has no decoder for (ultraface, yunet, scrfd)");
}

}  // namespace faceweave::face
