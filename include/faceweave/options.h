// Options shared by the CLI, config files, environment variables and (later) HTTP JSON. Defaults live here.
#pragma once

#include <array>
#include <string>
#include <vector>

namespace faceweave {

struct AnalysisOptions {
  std::string detector_model = "fr_detect";  // or yunet_2022mar, or a model file path
  float detector_score = 0.7f;               // candidates below are dropped
  float detector_nms = 0.3f;                 // overlap above which the weaker box is dropped
  int max_faces = 64;
  std::string landmarker_model = "fr_landmark";  // or dlib_68
  std::string recognizer_model = "fr_feature";
  bool embeddings = true;
  bool attributes = true;  // age, gender, head pose
};

struct EngineOptions {
  std::string models_dir;     // empty: FACEWEAVE_MODELS_DIR, else the folder the setup script fills
  std::string manifest_path;  // empty: FACEWEAVE_MANIFEST, else the build's models/manifest.json
  std::string execution_provider = "cpu";  // cpu | cuda | openvino | opencl (falls back to cpu, logged)
  AnalysisOptions analysis;
};

// Mask padding given as 1, 2, 3 or 4 numbers, read like CSS margins (and FaceFusion's option): one for
// every side; vertical and horizontal; top, horizontal and bottom; or top, right, bottom, left. False when
// the count is not 1..4.
inline bool expand_padding(const std::vector<float>& v, std::array<float, 4>& out) {
  switch (v.size()) {
    case 1:
      out = {v[0], v[0], v[0], v[0]};
      return true;
    case 2:
      out = {v[0], v[1], v[0], v[1]};
      return true;
    case 3:
      out = {v[0], v[1], v[2], v[1]};
      return true;
    case 4:
      out = {v[0], v[1], v[2], v[3]};
      return true;
    default:
      return false;
  }
}

}  // namespace faceweave

namespace faceweave {

// Options of `faceweave swap` (flag names are the CLI's without dashes, as in the REST API).
struct SwapOptions {
  std::vector<std::string> processors = {
      "face_swapper"};  // face_swapper, face_enhancer, frame_enhancer, face_debugger
  // face_swapper: classic (geometry, no download) or an ONNX swapper (docs/models.md)
  std::string face_swapper_model = "classic";          // classic | inswapper_128 | inswapper_128_fp16
  std::string face_swapper_pixel_boost = "128x128";    // ONNX: crop size, a multiple of the model's (128)
  float face_swapper_weight = 0.5f;                    // ONNX: 0..1, FaceFusion's identity balance
  std::vector<std::string> face_mask_types = {"box"};  // ONNX: box, and optionally area (the landmark hull)
  // face_swapper (classic)
  std::string blend =
      "auto";  // auto (seamless for images, laplacian for videos) | seamless | affine | laplacian
  std::string color_match = "reinhard";                   // none | reinhard | histogram
  float identity_strength = 0.8f;                         // 0..1
  float face_mask_blur = 0.3f;                            // 0..1
  std::array<float, 4> face_mask_padding = {0, 0, 0, 0};  // top right bottom left, percent
  bool keep_mouth_interior = true;  // keep the target's open mouth and teeth (its expression), and its whole
                                    // mouth when the two faces' expressions differ
  bool skin_mask = true;            // keep the target wherever either face is not skin (bangs, frames, beard)
  float target_lighting = 1.0f;     // 0..1: share of the target's light and skin colour on the new face
  bool match_sharpness = false;     // soften the source's detail to a softer target's (video, blur, small)
  // face selection
  std::string face_selector_mode = "reference";     // many | one | reference
  std::string face_selector_order = "large-small";  // left-right | right-left | top-bottom | bottom-top |
                                                    // small-large | large-small | best-worst | worst-best
  std::string face_selector_gender;                 // "" | female | male
  int face_selector_age_start = 0;
  int face_selector_age_end = 100;
  int reference_face_position = 0;
  std::string reference_face_image;      // a photo of the person to replace
  float reference_face_distance = 0.6f;  // cosine distance; see docs/face-selection.md
  // enhancers
  // An enhancer runs when it is named in `processors` or set here to something other than none; the chain
  // always runs in the order face_swapper -> face_enhancer -> frame_enhancer -> face_debugger.
  std::string face_enhancer = "none";   // none | detail | gfpgan_1.4
  float face_enhancer_blend = 80;       // 0..100
  std::string frame_enhancer = "none";  // none | fsrcnn_x2 | fsrcnn_x4 | espcn_x2 | espcn_x4
  float frame_enhancer_blend = 80;      // 0..100
  // output
  int output_image_quality = 90;  // 0..100
  // provenance (docs/provenance.md): every output is marked as synthetic unless switched off
  bool watermark = true;   // invisible watermark in the pixels around each swapped face
  bool provenance = true;  // synthetic-media metadata (IPTC digital source type) in the output file
};

}  // namespace faceweave

namespace faceweave {

// Options of video runs (`faceweave swap` with a video target).
struct VideoOptions {
  std::string encoder = "libx264";  // libx264 | libx265 | libvpx-vp9
  std::string preset = "veryfast";  // ultrafast .. veryslow
  int quality = 64;                 // 0..100 -> CRF (docs/cli.md)
  double fps = 0;                   // 0: keep the target's timing (variable frame rate included)
  double scale = 1.0;               // output size relative to the target (0.1..4)
  int audio_volume = 100;           // 0..100; 0 drops the audio
  int trim_frame_start = 0;         // first frame kept
  int trim_frame_end = -1;          // first frame dropped; -1: to the end
  int threads = 0;                  // worker threads; 0: the number of cores
  bool smooth_landmarks = true;     // One-Euro smoothing of each tracked face's landmarks
  int face_detector_interval = 2;   // run the detector on every Nth frame (1..8); the frames between
                                    // follow the tracked faces with the landmarker alone
};

}  // namespace faceweave
