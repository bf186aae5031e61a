// The swap options as command-line flags, shared by `faceweave swap` and `faceweave jobs submit`
// (docs/cli.md): the same names, defaults, checks and help text for both.
#pragma once

#include <CLI/CLI.hpp>
#include <vector>

#include "faceweave/options.h"

namespace faceweave::cli {

// padding receives --face-mask-padding as given (1 to 4 values; expand_padding makes the four sides).
void add_swap_flags(CLI::App* cmd, SwapOptions& o, VideoOptions& v, std::vector<float>& padding);

}  // namespace faceweave::cli
