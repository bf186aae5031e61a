#include "swap/classic_swapper.h"

#include "core/shrink.h"
#include "swap/warp.h"

#include <algorithm>

#include <opencv2/imgproc.hpp>

namespace faceweave::swap {
namespace {
// Long side of the working resolution of the face layer.
constexpr int kWorkSide = 384;
}  // namespace
using face::extend_with_forehead;
using face::face_mask;
using face::face_region;
}  // namespace faceweave::swap

namespace faceweave::swap {

Result<std::unique_ptr<ClassicSwapper>> ClassicSwapper::create(const ClassicSwapperOptions& options) {
  if (!(options.identity_strength >= 0 && options.identity_strength <= 1))
    return invalid_argument("identity strength must be between 0 and 1 (got " +
                            std::to_string(options.identity_strength) + ")");
  FW_RETURN_IF_ERROR(face::validate(options.mask));
  auto s = std::make_unique<ClassicSwapper>();
  s->options_ = options;
  return s;
}

Result<SwapOutcome> ClassicSwapper::swap(cv::Mat& frame, const Face& target, const SourceFace& source,
                                         core::StageTimings* timings) const {
  SwapOutcome outcome;
  if (!target.has_landmarks || !source.face.has_landmarks)
    return invalid_argument("the classic swapper needs 68 landmarks on both faces");
  if (frame.type() != CV_8UC3 || source.image.type() != CV_8UC3)
    return invalid_argument("the classic swapper needs 8-bit BGR images");
  const auto tp = extend_with_forehead(target.landmarks68);
  const auto sp = extend_with_forehead(source.face.landmarks68);
  outcome.region = face_region(tp, frame.size(), 0.1f);
  if (outcome.region.width < 8 || outcome.region.height < 8) return outcome;
  const cv::Rect& region = outcome.region;
  cv::Mat target_roi = frame(region);

  // The face layer carries no more detail than the source face, so it is built at a working resolution
  // (long side kWorkSide) and only the final composite runs at full resolution.
  const double scale = std::min(1.0, double(kWorkSide) / std::max(region.width, region.height));
  const cv::Size work(std::max(8, cvRound(region.width * scale)),
                      std::max(8, cvRound(region.height * scale)));
  std::array<cv::Point2f, face::kFacePoints> tw;
  for (size_t i = 0; i < tw.size(); ++i)
    tw[i] = (tp[i] - cv::Point2f(float(region.x), float(region.y))) * float(scale);
  cv::Mat target_work = target_roi;
  if (scale < 1.0) core::shrink(target_roi, target_work, work);
  const cv::Rect work_rect(0, 0, work.width, work.height);
  const auto triangles = triangulate(tw);
  if (triangles.empty()) return outcome;

  WarpResult warped;
  {
    core::ScopedStage stage(timings, "warp");
    warped = warp_piecewise_affine(source.image, sp, tw, triangles, work_rect);
  }
  cv::Mat mask;
  {
    core::ScopedStage stage(timings, "mask");
    mask = face_mask(tw, work_rect, options_.mask);
    mask.setTo(0, warped.coverage == 0);
  }
  cv::Mat face;
  {
    core::ScopedStage stage(timings, "colour_match");
    face = match_color(warped.image, target_work, mask > 0.5f, options_.color_match);
    target_work.copyTo(face, warped.coverage == 0);
  }
  core::ScopedStage stage(timings, "blend");
  cv::Mat layer = blend_layer(face, target_work, mask, options_.blend);
  // Identity strength scales the blend weight, so 0 gives the target back exactly.
  cv::Mat weight = mask * options_.identity_strength;
  if (scale < 1.0) {
    cv::resize(layer, layer, region.size(), 0, 0, cv::INTER_LINEAR);
    cv::resize(weight, weight, region.size(), 0, 0, cv::INTER_LINEAR);
    // Upsampling must not spread the weight past the face outline.
    cv::Mat hull_full = cv::Mat::zeros(region.size(), CV_8U);
    auto hull = face::face_hull(tp);
    for (auto& p : hull) p -= region.tl();
    cv::fillConvexPoly(hull_full, hull, cv::Scalar(255));
    weight.setTo(0, hull_full == 0);
  }
  composite_in_place(layer, target_roi, weight);
  mask = weight;
  outcome.mask = mask;
  outcome.swapped = true;
  return outcome;
}

}  // namespace faceweave::swap
