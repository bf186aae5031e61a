// faceweave swap -s SOURCE [-s SOURCE2 ...] -t TARGET -o OUTPUT [options]
#include <cstdio>
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli.h"
#include "faceweave/engine.h"

namespace faceweave::cli {
namespace {

struct SwapArgs {
  SwapRequest request;
  bool json = false;
};

int run(const GlobalOptions& global, const SwapArgs& args) {
  EngineOptions engine_options = global.engine;
  auto engine = Engine::create(engine_options);
  if (!engine) return report(engine.status());
  auto result = (*engine)->swap(args.request);
  if (!result) return report(result.status());
  const SwapReport& r = *result;
  if (args.json) {
    nlohmann::json j;
    j["output"] = args.request.output;
    j["faces_found"] = r.faces_found;
    j["faces_selected"] = r.faces_selected;
    j["faces_swapped"] = r.faces_swapped;
    j["processors"] = r.processors;
    for (const auto& [stage, ms] : r.stage_ms) j["stage_ms"][stage] = ms;
    std::cout << j.dump(2) << "\n";
    return 0;
  }
  std::printf("swapped %d of %d face(s) into %s (%dx%d)\n", r.faces_swapped, r.faces_found,
              args.request.output.c_str(), r.output_width, r.output_height);
  return 0;
}

}  // namespace

void add_swap_command(CLI::App& app, GlobalOptions& global, int& exit_code) {
  static SwapArgs args;
  SwapOptions& o = args.request.options;
  auto* cmd = app.add_subcommand("swap", "Swap the source face(s) into the target image");
  cmd->add_option("-s,--source", args.request.sources,
                  "Photo of the identity to use (repeat to average several)")
      ->required();
  cmd->add_option("-t,--target", args.request.target, "Image to change (jpg, png, webp, bmp)")->required();
  cmd->add_option("-o,--output", args.request.output, "Output image; the format follows the extension")
      ->required();
  cmd->add_flag("--json", args.json, "Print a JSON report");
  cmd->add_option("--processors", o.processors, "face_swapper face_enhancer frame_enhancer face_debugger")
      ->capture_default_str();
  cmd->add_option("--blend", o.blend, "seamless | affine | laplacian")->capture_default_str();
  cmd->add_option("--color-match", o.color_match, "none | reinhard | histogram")->capture_default_str();
  cmd->add_option("--identity-strength", o.identity_strength,
                  "0..1: how much of the source replaces the target")
      ->capture_default_str();
  cmd->add_option("--face-mask-blur", o.face_mask_blur, "0..1: feather of the mask edge")
      ->capture_default_str();
  cmd->add_option("--face-mask-padding", o.face_mask_padding,
                  "top right bottom left, percent of the face cut away")
      ->expected(4);
  cmd->add_option("--keep-mouth-interior", o.keep_mouth_interior,
                  "true: the target's open mouth and teeth stay (its expression); false: swap them too")
      ->capture_default_str();
  cmd->add_option("--face-selector-mode", o.face_selector_mode, "many | one | reference")
      ->capture_default_str();
  cmd->add_option("--face-selector-order", o.face_selector_order,
                  "left-right | right-left | top-bottom | bottom-top | small-large | large-small | "
                  "best-worst | worst-best")
      ->capture_default_str();
  cmd->add_option("--face-selector-gender", o.face_selector_gender, "female | male");
  cmd->add_option("--face-selector-age-start", o.face_selector_age_start, "Youngest age to swap")
      ->capture_default_str();
  cmd->add_option("--face-selector-age-end", o.face_selector_age_end, "Oldest age to swap")
      ->capture_default_str();
  cmd->add_option("--reference-face-position", o.reference_face_position,
                  "Which target face (in the selector order) is the reference")
      ->capture_default_str();
  cmd->add_option("--reference-face-image", o.reference_face_image, "A photo of the person to replace");
  cmd->add_option("--reference-face-distance", o.reference_face_distance,
                  "Cosine distance under which a face counts as the reference person")
      ->capture_default_str();
  cmd->add_option("--face-enhancer", o.face_enhancer, "none | detail")->capture_default_str();
  cmd->add_option("--face-enhancer-blend", o.face_enhancer_blend, "0..100")->capture_default_str();
  cmd->add_option("--frame-enhancer", o.frame_enhancer, "none | fsrcnn_x2 | fsrcnn_x4 | espcn_x2 | espcn_x4")
      ->capture_default_str();
  cmd->add_option("--frame-enhancer-blend", o.frame_enhancer_blend, "0..100")->capture_default_str();
  cmd->add_option("--output-image-quality", o.output_image_quality, "0..100 (jpg, webp)")
      ->capture_default_str();
  cmd->callback([&global, &exit_code] { exit_code = run(global, args); });
}

}  // namespace faceweave::cli
