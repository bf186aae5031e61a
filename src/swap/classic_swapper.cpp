#include "swap/classic_swapper.h"

#include "swap/warp.h"

namespace faceweave::swap {
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

Result<SwapOutcome> ClassicSwapper::swap(cv::Mat& frame, const Face& target, const SourceFace& source) const {
  SwapOutcome outcome;
  if (!target.has_landmarks || !source.face.has_landmarks)
    return invalid_argument("the classic swapper needs 68 landmarks on both faces");
  if (frame.type() != CV_8UC3 || source.image.type() != CV_8UC3)
    return invalid_argument("the classic swapper needs 8-bit BGR images");
  const auto tp = extend_with_forehead(target.landmarks68);
  const auto sp = extend_with_forehead(source.face.landmarks68);
  outcome.region = face_region(tp, frame.size(), 0.1f);
  if (outcome.region.width < 8 || outcome.region.height < 8) return outcome;
  const auto triangles = triangulate(tp);
  if (triangles.empty()) return outcome;

  WarpResult warped = warp_piecewise_affine(source.image, sp, tp, triangles, outcome.region);
  cv::Mat mask = face_mask(tp, outcome.region, options_.mask);
  mask.setTo(0, warped.coverage == 0);
  cv::Mat target_roi = frame(outcome.region);
  cv::Mat face = match_color(warped.image, target_roi, mask > 0.5f, options_.color_match);

  // Identity strength mixes the prepared face with the target before blending, so 0 gives the target back.
  const float s = options_.identity_strength;
  if (s < 1.0f) cv::addWeighted(face, s, target_roi, 1.0 - s, 0.0, face);
  target_roi.copyTo(face, warped.coverage == 0);

  cv::Mat blended = blend(face, target_roi, mask, options_.blend);
  blended.copyTo(target_roi);
  outcome.mask = mask;
  outcome.swapped = true;
  return outcome;
}

}  // namespace faceweave::swap
