// The classic swapper: no swap network, just geometry and colour. The source face (68 points extended
// over the forehead) is triangulated over the target's points and warped piecewise-affinely onto the
// target's landmarks, so the target keeps its pose and expression and takes the source's features and
// skin; then the skin tone is matched inside the mask, mixed in by identity strength, and blended.
// Input: 8-bit BGR frames and faces with landmarks, in their own images' pixels. swap() changes only the
// returned region of the frame. Stateless after create(); shareable across threads.
#pragma once

#include <memory>
#include <string>

#include <opencv2/core.hpp>

#include "core/timing.h"
#include "face/face_mask.h"
#include "faceweave/face.h"
#include "swap/blend.h"
#include "swap/color_transfer.h"

namespace faceweave::swap {

struct ClassicSwapperOptions {
  BlendMode blend = BlendMode::kSeamless;
  ColorMatch color_match = ColorMatch::kReinhard;
  float identity_strength = 0.8f;  // 0 leaves the target as it was, 1 replaces it fully inside the mask
  face::FaceMaskOptions mask;
};

// A source face with the image it came from (the texture donor).
struct SourceFace {
  cv::Mat image;
  Face face;
};

struct SwapOutcome {
  cv::Rect region;  // where the frame changed (image pixels)
  cv::Mat mask;     // CV_32F 0..1 over `region`: the blend weight used
  bool swapped = false;
};

class ClassicSwapper {
 public:
  static Result<std::unique_ptr<ClassicSwapper>> create(const ClassicSwapperOptions& options);
  // Swaps `source` into `frame` at `target`. A face too small or degenerate to warp is left alone
  // (swapped = false).
  // Stage times (warp, mask, colour_match, blend) are added to `timings` when given.
  Result<SwapOutcome> swap(cv::Mat& frame, const Face& target, const SourceFace& source,
                           core::StageTimings* timings = nullptr) const;
  const ClassicSwapperOptions& options() const { return options_; }

 private:
  ClassicSwapperOptions options_;
};

}  // namespace faceweave::swap
