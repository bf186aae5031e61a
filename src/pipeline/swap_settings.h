// Turns the user-facing SwapOptions into each stage's validated options. The CLI (and later the HTTP API)
// fill SwapOptions; this is the one place their values are checked, so errors read the same everywhere.
#pragma once

#include "face/face_selector.h"
#include "faceweave/options.h"
#include "swap/classic_swapper.h"

namespace faceweave::pipeline {

Result<swap::ClassicSwapperOptions> classic_swapper_options(const SwapOptions& o);
Result<face::FaceSelectorOptions> selector_options(const SwapOptions& o);
// Everything else (enhancer names and blends, output quality, processors): checked before any work starts.
Status validate(const SwapOptions& o);

}  // namespace faceweave::pipeline
