// The swap options as command-line flags, shared by `faceweave swap` and `faceweave jobs submit`
// (docs/cli.md): the same names, defaults, checks and help text for both.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <vector>

#include "faceweave/options.h"

namespace faceweave::cli {

// padding receives --face-mask-padding as given (1 to 4 values; expand_padding makes the four sides).
void add_swap_flags(CLI::App* cmd, SwapOptions& o, VideoOptions& v, std::vector<float>& padding);

// The flags given on `cmd` that do not apply to a target of this kind ("image" or "video"), e.g.
// --trim-frame-end for an image or --output-image-quality for a video.
std::vector<std::string> flags_not_for(const CLI::App& cmd, const std::string& kind);

}  // namespace faceweave::cli
