#include "swap_flags.h"

namespace faceweave::cli {

void add_swap_flags(CLI::App* cmd, SwapOptions& o, VideoOptions& v, std::vector<float>& padding) {
  cmd->add_option("--processors", o.processors, "face_swapper face_enhancer frame_enhancer face_debugger")
      ->capture_default_str();
  cmd->add_option("--face-swapper-model", o.face_swapper_model,
                  "classic (no download) | inswapper_128 (`faceweave models download NAME`)")
      ->capture_default_str();
  cmd->add_option("--face-swapper-pixel-boost", o.face_swapper_pixel_boost,
                  "ONNX swappers: 128x128 | 256x256 | 384x384 | 512x512 | 768x768 | 1024x1024")
      ->capture_default_str();
  cmd->add_option("--face-swapper-weight", o.face_swapper_weight,
                  "ONNX swappers: 0..1, more of the source identity above 0.5, more of the target below")
      ->capture_default_str();
  cmd->add_option("--face-mask-types", o.face_mask_types, "ONNX swappers: box, and optionally area")
      ->capture_default_str();
  cmd->add_option("--blend", o.blend,
                  "auto (seamless for images, laplacian for videos) | seamless | affine | laplacian")
      ->capture_default_str();
  cmd->add_option("--color-match", o.color_match, "none | reinhard | histogram")->capture_default_str();
  cmd->add_option("--identity-strength", o.identity_strength,
                  "0..1: share of the source's feature geometry; the face is fully opaque from 0.5 on")
      ->capture_default_str();
  cmd->add_option("--face-mask-blur", o.face_mask_blur, "0..1: feather of the mask edge")
      ->capture_default_str();
  cmd->add_option("--face-mask-padding", padding,
                  "percent of the face cut away: 1 value (every side), 2 (vertical horizontal), 3 (top "
                  "horizontal bottom) or 4 (top right bottom left), like CSS margins")
      ->expected(1, 4)
      ->check(CLI::Range(0.0f, 100.0f));
  cmd->add_option("--keep-mouth-interior", o.keep_mouth_interior,
                  "true: the target's open mouth and teeth stay (its expression); false: swap them too")
      ->capture_default_str();
  cmd->add_flag("--watermark,!--no-watermark", o.watermark,
                "Invisible watermark around each swapped face (default on; docs/provenance.md)");
  cmd->add_flag("--provenance,!--no-provenance", o.provenance,
                "Synthetic-media metadata in the output file (default on; docs/provenance.md)");
  cmd->add_option("--skin-mask", o.skin_mask,
                  "true: keep the target wherever either face is not skin (bangs, glasses frames, beard)")
      ->capture_default_str();
  cmd->add_option("--target-lighting", o.target_lighting,
                  "0..1: share of the target's light, shading and skin colour kept on the new face")
      ->check(CLI::Range(0.0f, 1.0f))
      ->capture_default_str();
  cmd->add_option(
         "--match-sharpness", o.match_sharpness,
         "true: soften the source's detail to a softer target's (video frames, motion or focus blur, "
         "small faces); false: keep the source's detail as it is")
      ->capture_default_str();
  cmd->add_option("--face-selector-mode", o.face_selector_mode, "many | one | reference")
      ->capture_default_str();
  cmd->add_option("--face-selector-order", o.face_selector_order,
                  "left-right | right-left | top-bottom | bottom-top | small-large | large-small | "
                  "best-worst | worst-best")
      ->capture_default_str();
  cmd->add_option("--face-selector-gender", o.face_selector_gender,
                  "female | male. Unreliable with the default pack: its gender model called 2 of the 3 women "
                  "in the test photos male; prefer --reference-face-image");
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
  cmd->add_option("--face-enhancer", o.face_enhancer,
                  "none | detail (gfpgan_1.4 cannot run on this build: docs/models.md)")
      ->capture_default_str();
  cmd->add_option("--face-enhancer-blend", o.face_enhancer_blend, "0..100")->capture_default_str();
  cmd->add_option("--frame-enhancer", o.frame_enhancer, "none | fsrcnn_x2 | fsrcnn_x4 | espcn_x2 | espcn_x4")
      ->capture_default_str();
  cmd->add_option("--frame-enhancer-blend", o.frame_enhancer_blend, "0..100")->capture_default_str();
  cmd->add_option("--output-video-encoder", v.encoder, "libx264 | libx265 | libvpx-vp9")
      ->capture_default_str();
  cmd->add_option("--output-video-preset", v.preset, "ultrafast .. veryslow")->capture_default_str();
  cmd->add_option("--output-video-quality", v.quality, "0..100, mapped to CRF (docs/cli.md)")
      ->capture_default_str();
  cmd->add_option("--output-video-fps", v.fps, "Output frame rate (default: keep the target's timing)");
  cmd->add_option("--output-video-scale", v.scale, "Output size relative to the target")
      ->capture_default_str();
  cmd->add_option("--output-audio-volume", v.audio_volume, "0..100; 0 drops the audio")
      ->capture_default_str();
  cmd->add_option("--trim-frame-start", v.trim_frame_start, "First frame kept")->capture_default_str();
  cmd->add_option("--trim-frame-end", v.trim_frame_end, "First frame dropped (default: to the end)");
  cmd->add_option("--face-detector-interval", v.face_detector_interval,
                  "Videos: run the detector on every Nth frame (1..8); frames between follow the faces")
      ->capture_default_str();
  cmd->add_option("--execution-thread-count", v.threads, "Worker threads (default: the number of cores)");
  cmd->add_option("--output-image-quality", o.output_image_quality, "0..100 (jpg, webp)")
      ->capture_default_str();
}

std::vector<std::string> flags_not_for(const CLI::App& cmd, const std::string& kind) {
  static const char* kVideoOnly[] = {
      "--output-video-encoder", "--output-video-preset", "--output-video-quality",
      "--output-video-fps",     "--output-video-scale",  "--output-audio-volume",
      "--trim-frame-start",     "--trim-frame-end",      "--face-detector-interval"};
  static const char* kImageOnly[] = {"--output-image-quality"};
  std::vector<std::string> out;
  auto given = [&](const char* name) {
    const CLI::Option* opt = cmd.get_option_no_throw(name);
    if (opt && opt->count() > 0) out.emplace_back(name);
  };
  if (kind == "image")
    for (const char* f : kVideoOnly) given(f);
  if (kind == "video")
    for (const char* f : kImageOnly) given(f);
  return out;
}

}  // namespace faceweave::cli
