#include "pipeline/provenance_marks.h"

#include <algorithm>
#include <cmath>

#include "core/image_io.h"

#ifndef FACEWEAVE_VERSION
#define FACEWEAVE_VERSION "0.1.0"
#endif

namespace faceweave::pipeline {

provenance::Payload new_run_payload() {
  return {provenance::kPayloadVersion, true, provenance::new_run_id()};
}

provenance::ProvenanceInfo provenance_info(const std::vector<std::string>& processors) {
  return {std::string("faceweave ") + FACEWEAVE_VERSION, processors};
}

int watermark_frame(FrameContext& ctx, cv::Size analysed, const SwapOptions& options,
                    const provenance::Payload& payload, const std::vector<cv::Rect2f>* given) {
  if (!options.watermark || ctx.selected.empty() || analysed.width <= 0) return 0;
  const float sx = float(ctx.frame.cols) / float(analysed.width);
  const float sy = float(ctx.frame.rows) / float(analysed.height);
  std::vector<cv::Rect2f> boxes;
  for (size_t k = 0; k < ctx.selected.size(); ++k) {
    const cv::Rect2f& b = given && k < given->size() ? (*given)[k] : ctx.faces[ctx.selected[k]].box;
    boxes.emplace_back(b.x * sx, b.y * sy, b.width * sx, b.height * sy);
  }
  core::ScopedStage stage(ctx.timings, "watermark");
  return provenance::embed_watermark_faces(ctx.frame, boxes, payload);
}

cv::Rect2f steady_mark_box(const cv::Rect2f& previous, const cv::Rect2f& face_box) {
  if (previous.area() <= 0) return face_box;
  const float side = std::max(previous.width, previous.height);
  const cv::Point2f shift = (face_box.tl() + face_box.br() - previous.tl() - previous.br()) * 0.5f;
  const float scale = std::max(face_box.width, face_box.height) / side;
  const bool steady =
      std::hypot(shift.x, shift.y) <= kSteadyShift * side && std::abs(scale - 1.0f) <= kSteadyScale;
  return steady ? previous : face_box;
}

std::shared_ptr<const provenance::WatermarkStamp> VideoMarks::stamp(cv::Size frame, const cv::Rect2f& box) {
  const Key key{frame.width, frame.height, box.x, box.y, box.width, box.height};
  {
    std::lock_guard lock(mutex_);
    if (auto it = stamps_.find(key); it != stamps_.end()) return it->second;
  }
  // Made outside the lock: two frames that need the same new stamp at once make the same one twice.
  auto made = provenance::make_watermark_stamp(frame, box, payload_, provenance::kVideoWatermark);
  auto stamp = made ? std::make_shared<const provenance::WatermarkStamp>(std::move(*made)) : nullptr;
  std::lock_guard lock(mutex_);
  auto [it, inserted] = stamps_.emplace(key, stamp);
  if (inserted) {
    order_.push_back(key);
    if (order_.size() > kKept) {
      stamps_.erase(order_.front());
      order_.pop_front();
    }
  }
  return it->second;
}

int VideoMarks::mark(FrameContext& ctx, cv::Size analysed, const SwapOptions& options,
                     const std::vector<cv::Rect2f>& given) {
  if (!options.watermark || given.empty() || analysed.width <= 0) return 0;
  core::ScopedStage stage(ctx.timings, "watermark");
  const float sx = float(ctx.frame.cols) / float(analysed.width);
  const float sy = float(ctx.frame.rows) / float(analysed.height);
  std::vector<cv::Rect2f> boxes;
  for (const auto& b : given) boxes.emplace_back(b.x * sx, b.y * sy, b.width * sx, b.height * sy);
  std::sort(boxes.begin(), boxes.end(), [](const auto& a, const auto& b) { return a.area() > b.area(); });
  std::vector<cv::Rect> marked;
  for (const auto& box : boxes) {
    const cv::Rect square = provenance::watermark_square(box);
    if (std::any_of(marked.begin(), marked.end(), [&](const cv::Rect& m) { return (m & square).area() > 0; }))
      continue;
    const auto s = stamp(ctx.frame.size(), box);
    if (s && provenance::apply_watermark_stamp(ctx.frame, *s)) marked.push_back(square);
  }
  return int(marked.size());
}

Status save_image_output(const std::string& path, const cv::Mat& image, const SwapOptions& options,
                         const std::vector<std::string>& processors) {
  if (!options.provenance) return core::save_image(path, image, options.output_image_quality);
  const auto info = provenance_info(processors);
  return core::save_image(path, image, options.output_image_quality, [&info](std::vector<uint8_t>& bytes) {
    Status s = provenance::add_image_metadata(bytes, info);
    return s.code() == StatusCode::kUnsupported ? Status::ok() : s;
  });
}

}  // namespace faceweave::pipeline
