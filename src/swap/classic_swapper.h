// The classic swapper: no swap network, just geometry, skin models and light. Per target face:
// 1. geometry (identity_geometry.h): the target's inner features move towards the source's shape (eye
//    spacing, nose, brows, mouth width), its expression stays (lid and mouth opening, smile, jaw line);
// 2. the source face (68 points extended over the forehead) is warped piecewise-affinely onto that shape;
// 3. mask: the target's face outline, without the target's open mouth (and its whole mouth when the two
//    expressions differ and either mouth is open, so lips are never stretched; two closed mouths take the
//    source's lips on the target's shape; a small face with an open mouth takes the source's lips too, around
//    its own teeth), and without whatever is not skin in either face
//    outside the eyes, brows and lips (bangs, glasses frames, beard: skin.h); its feather narrows on a small
//    face, whose rim is much of what there is to recognise;
// 4. colour match, then the target's low-frequency light on the skin under the source's detail (skin.h), less
//    of it on a small face, where that light layer holds the relief a person is recognised by;
//    on a target softer than the source the skin takes the target's finest band too (sharpness.h);
// 5. with match_sharpness, the whole face layer softened to a softer target's detail level;
// 6. blend (seamless, affine or laplacian) with the mask at full opacity: one face, never a double exposure.
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
  // How much of the source identity the face takes: the share of the source's feature geometry, and the
  // opacity (which is full from 0.5 on, so features never show through twice). 0 leaves the target as it was.
  float identity_strength = 0.8f;
  bool skin_mask = true;         // keep the target wherever either face is not skin (hair, frames, beard)
  float target_lighting = 1.0f;  // 0..1: share of the target's low-frequency light taken on the skin
  bool match_sharpness = false;  // soften the source's detail to a softer target's (sharpness.h)
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
  bool turned_away = false;  // left alone: turned further from the camera than the swapper serves
};

class ClassicSwapper {
 public:
  static Result<std::unique_ptr<ClassicSwapper>> create(const ClassicSwapperOptions& options);
  // Swaps `source` into `frame` at `target`. A face too small or degenerate to warp, or turned further from
  // the camera than face::kMaxSwapTurn, is left alone (swapped = false; turned_away says which).
  // Stage times (warp, mask, colour_match, blend) are added to `timings` when given.
  Result<SwapOutcome> swap(cv::Mat& frame, const Face& target, const SourceFace& source,
                           core::StageTimings* timings = nullptr) const;
  const ClassicSwapperOptions& options() const { return options_; }

 private:
  ClassicSwapperOptions options_;
};

}  // namespace faceweave::swap
