#include "pipeline/swap_settings.h"

#include <algorithm>

namespace faceweave::pipeline {

namespace {
Result<swap::BlendMode> blend_mode(const std::string& blend) {
  return swap::parse_blend_mode(blend == "auto" ? kImageBlend : blend);
}
}  // namespace

SwapOptions for_video(SwapOptions o) {
  if (o.blend == "auto") o.blend = kVideoBlend;
  return o;
}

Result<swap::ClassicSwapperOptions> classic_swapper_options(const SwapOptions& o) {
  swap::ClassicSwapperOptions c;
  FW_ASSIGN_OR_RETURN(c.blend, blend_mode(o.blend));
  FW_ASSIGN_OR_RETURN(c.color_match, swap::parse_color_match(o.color_match));
  c.identity_strength = o.identity_strength;
  c.mask.blur = o.face_mask_blur;
  c.mask.padding = o.face_mask_padding;
  c.mask.keep_mouth_interior = o.keep_mouth_interior;
  c.skin_mask = o.skin_mask;
  c.target_lighting = o.target_lighting;
  c.match_sharpness = o.match_sharpness;
  if (!(o.target_lighting >= 0 && o.target_lighting <= 1))
    return invalid_argument("target_lighting must be between 0 and 1 (got " +
                            std::to_string(o.target_lighting) + ")");
  if (!(o.identity_strength >= 0 && o.identity_strength <= 1))
    return invalid_argument("identity_strength must be between 0 and 1 (got " +
                            std::to_string(o.identity_strength) + ")");
  FW_RETURN_IF_ERROR(face::validate(c.mask));
  return c;
}

Result<face::FaceSelectorOptions> selector_options(const SwapOptions& o) {
  face::FaceSelectorOptions s;
  FW_ASSIGN_OR_RETURN(s.mode, face::parse_selector_mode(o.face_selector_mode));
  FW_ASSIGN_OR_RETURN(s.order, face::parse_selector_order(o.face_selector_order));
  if (o.face_selector_gender == "female")
    s.gender = Gender::kFemale;
  else if (o.face_selector_gender == "male")
    s.gender = Gender::kMale;
  else if (!o.face_selector_gender.empty())
    return invalid_argument("face_selector_gender must be female or male (got '" + o.face_selector_gender +
                            "')");
  s.age_start = o.face_selector_age_start;
  s.age_end = o.face_selector_age_end;
  s.reference_position = o.reference_face_position;
  s.reference_distance = o.reference_face_distance;
  FW_RETURN_IF_ERROR(face::FaceSelector::create(s).status());
  return s;
}

Result<swap::OnnxSwapperOptions> onnx_swapper_options(const SwapOptions& o) {
  swap::OnnxSwapperOptions s;
  if (o.face_swapper_model != "inswapper_128" && o.face_swapper_model != "inswapper_128_fp16")
    return invalid_argument("face_swapper_model must be classic, inswapper_128 or inswapper_128_fp16 (got '" +
                            o.face_swapper_model + "')");
  s.model = o.face_swapper_model;
  static const char* kBoosts[] = {"128x128", "256x256", "384x384", "512x512", "768x768", "1024x1024"};
  if (std::find(std::begin(kBoosts), std::end(kBoosts), o.face_swapper_pixel_boost) == std::end(kBoosts))
    return invalid_argument(
        "face_swapper_pixel_boost must be one of 128x128, 256x256, 384x384, 512x512, 768x768, 1024x1024 (got "
        "'" +
        o.face_swapper_pixel_boost + "')");
  s.pixel_boost = std::stoi(o.face_swapper_pixel_boost);
  if (!(o.face_swapper_weight >= 0 && o.face_swapper_weight <= 1))
    return invalid_argument("face_swapper_weight must be between 0 and 1 (got " +
                            std::to_string(o.face_swapper_weight) + ")");
  s.weight = o.face_swapper_weight;
  // The finishing options mean the same for every swapper (applied after the network, in crop space).
  FW_ASSIGN_OR_RETURN(s.blend, blend_mode(o.blend));
  FW_ASSIGN_OR_RETURN(s.color_match, swap::parse_color_match(o.color_match));
  if (!(o.identity_strength >= 0 && o.identity_strength <= 1))
    return invalid_argument("identity_strength must be between 0 and 1 (got " +
                            std::to_string(o.identity_strength) + ")");
  s.identity_strength = o.identity_strength;
  s.keep_mouth_interior = o.keep_mouth_interior;
  if (!(o.face_mask_blur >= 0 && o.face_mask_blur <= 1))
    return invalid_argument("face_mask_blur must be between 0 and 1");
  s.mask_blur = o.face_mask_blur;
  for (float p : o.face_mask_padding)
    if (!(p >= 0 && p <= 100)) return invalid_argument("face_mask_padding values must be between 0 and 100");
  s.mask_padding = o.face_mask_padding;
  if (o.face_mask_types.empty()) return invalid_argument("face_mask_types needs box, area or both");
  s.area_mask = false;
  bool box = false;
  for (const auto& t : o.face_mask_types) {
    if (t == "area") {
      s.area_mask = true;
    } else if (t == "box") {
      box = true;
    } else {
      return invalid_argument("face_mask_types must be box and/or area (got '" + t + "')");
    }
  }
  (void)box;  // the box mask always applies: it keeps the paste inside the crop
  return s;
}

Status validate(const SwapOptions& o) {
  FW_RETURN_IF_ERROR(classic_swapper_options(o).status());
  if (o.face_swapper_model != "classic") FW_RETURN_IF_ERROR(onnx_swapper_options(o).status());
  FW_RETURN_IF_ERROR(selector_options(o).status());
  if (o.face_enhancer != "none" && o.face_enhancer != "detail" && o.face_enhancer != "gfpgan_1.4")
    return invalid_argument("face_enhancer must be none, detail or gfpgan_1.4 (got '" + o.face_enhancer +
                            "')");
  static const char* kFrame[] = {"none", "fsrcnn_x2", "fsrcnn_x4", "espcn_x2", "espcn_x4"};
  const bool is_path = o.frame_enhancer.find('/') != std::string::npos;
  if (!is_path && std::find(std::begin(kFrame), std::end(kFrame), o.frame_enhancer) == std::end(kFrame))
    return invalid_argument(
        "frame_enhancer must be none, fsrcnn_x2, fsrcnn_x4, espcn_x2, espcn_x4 or a model file path (got '" +
        o.frame_enhancer + "')");
  for (float b : {o.face_enhancer_blend, o.frame_enhancer_blend})
    if (!(b >= 0 && b <= 100)) return invalid_argument("enhancer blends must be between 0 and 100");
  if (o.output_image_quality < 0 || o.output_image_quality > 100)
    return invalid_argument("output_image_quality must be between 0 and 100");
  return Status::ok();
}

Status validate_video(const VideoOptions& v) {
  static const char* kEncoders[] = {"libx264", "libx265", "libvpx-vp9"};
  if (std::find(std::begin(kEncoders), std::end(kEncoders), v.encoder) == std::end(kEncoders))
    return invalid_argument("output_video_encoder must be libx264, libx265 or libvpx-vp9 (got '" + v.encoder +
                            "')");
  static const char* kPresets[] = {"ultrafast", "superfast", "veryfast", "faster",  "fast",
                                   "medium",    "slow",      "slower",   "veryslow"};
  if (std::find(std::begin(kPresets), std::end(kPresets), v.preset) == std::end(kPresets))
    return invalid_argument(
        "output_video_preset must be one of ultrafast, superfast, veryfast, faster, fast, medium, slow, "
        "slower, "
        "veryslow (got '" +
        v.preset + "')");
  if (!(v.scale >= 0.1 && v.scale <= 4))
    return invalid_argument("output_video_scale must be between 0.1 and 4");
  if (!(v.fps >= 0 && v.fps <= 240))
    return invalid_argument("output_video_fps must be between 1 and 240 (0 keeps the target's)");
  if (v.audio_volume < 0 || v.audio_volume > 100)
    return invalid_argument("output_audio_volume must be between 0 and 100");
  if (v.trim_frame_start < 0) return invalid_argument("trim_frame_start must be 0 or more");
  if (v.trim_frame_end >= 0 && v.trim_frame_end <= v.trim_frame_start)
    return invalid_argument("trim_frame_end must be after trim_frame_start");
  if (v.quality < 0 || v.quality > 100)
    return invalid_argument("output_video_quality must be between 0 and 100");
  if (v.face_detector_interval < 1 || v.face_detector_interval > 8)
    return invalid_argument("face_detector_interval must be between 1 (every frame) and 8");
  if (v.threads < 0 || v.threads > 256)
    return invalid_argument("execution_thread_count must be between 0 and 256");
  return Status::ok();
}

}  // namespace faceweave::pipeline
