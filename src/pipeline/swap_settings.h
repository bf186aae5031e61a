// Turns the user-facing SwapOptions into each stage's validated options. The CLI (and later the HTTP API)
// fill SwapOptions; this is the one place their values are checked, so errors read the same everywhere.
#pragma once

#include "face/face_selector.h"
#include "faceweave/options.h"
#include "swap/classic_swapper.h"
#include "swap/onnx_swapper.h"

namespace faceweave::pipeline {

// The blend "auto" (the default) is seamless for an image and laplacian for a video: the Poisson correction
// keeps more of the source's own tone, which carries identity in a photo, but its boundary follows whatever
// the face's outline crosses (a fringe, a collar, the background), so in a video it pumps the whole face's
// shading from frame to frame; the multi-band blend does not (docs/quality.md, "Flicker").
inline constexpr const char* kImageBlend = "seamless";
inline constexpr const char* kVideoBlend = "laplacian";
// `o` with an "auto" blend made the video's (run_video_swap).
SwapOptions for_video(SwapOptions o);
Result<swap::ClassicSwapperOptions> classic_swapper_options(const SwapOptions& o);
Result<face::FaceSelectorOptions> selector_options(const SwapOptions& o);
// The ONNX swapper's options (face_swapper_model other than classic).
Result<swap::OnnxSwapperOptions> onnx_swapper_options(const SwapOptions& o);
// Everything else (enhancer names and blends, output quality, processors): checked before any work starts.
Status validate(const SwapOptions& o);
// Video options: encoder, preset, quality, fps, scale, volume, trim, threads.
Status validate_video(const VideoOptions& v);

}  // namespace faceweave::pipeline
